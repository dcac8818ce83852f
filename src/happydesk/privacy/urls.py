"""The admin's privacy actions on one customer (privacy/views.py)."""

from django.urls import path

from happydesk.privacy import views

urlpatterns = [
    path("admin/customers/<int:customer_id>/export/", views.export, name="privacy_export"),
    path("admin/customers/<int:customer_id>/erase/", views.erase, name="privacy_erase"),
]
