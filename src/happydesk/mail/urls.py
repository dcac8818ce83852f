from django.urls import path

from happydesk.mail import views

urlpatterns = [
    path("admin/quarantine/", views.quarantine, name="quarantine"),
    path("admin/quarantine/<int:raw_id>/reprocess/", views.quarantine_reprocess, name="quarantine_reprocess"),
]
