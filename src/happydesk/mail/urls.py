from django.urls import path

from happydesk.mail import views

urlpatterns = [
    path("admin/quarantine/", views.quarantine, name="quarantine"),
    path("admin/quarantine/<int:raw_id>/reprocess/", views.quarantine_reprocess, name="quarantine_reprocess"),
    path("c/<int:number>/replies/<int:message_id>/undo/", views.reply_undo, name="reply_undo"),
    path("c/<int:number>/forward/", views.forward, name="forward"),
]
