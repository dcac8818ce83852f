from django.urls import path

from happydesk.inbox import admin_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/bulk/", views.bulk, name="bulk"),
    path("inbox/bulk/undo/", views.bulk_undo, name="bulk_undo"),
    path("inbox/views/", views.view_save, name="view_save"),
    path("inbox/views/<int:view_id>/", views.view_change, name="view_change"),
    path("inbox/new/", views.conversation_new, name="conversation_new"),
    path("c/<int:number>/", views.conversation, name="conversation"),
    path("c/<int:number>/reply/", views.reply, name="reply"),
    path("c/<int:number>/note/", views.note, name="note"),
    path("c/<int:number>/status/", views.status, name="status"),
    path("c/<int:number>/assign/", views.assign, name="assign"),
    path("c/<int:number>/tags/", views.tag_add, name="tag_add"),
    path("c/<int:number>/draft/", views.draft, name="draft"),
    path("c/<int:number>/merge/", views.merge, name="merge"),
    path("c/<int:number>/merge/<int:line_id>/undo/", views.merge_undo, name="merge_undo"),
    path("c/<int:number>/messages/<int:message_id>/split/", views.split, name="split"),
    path("c/<int:number>/tags/<str:name>/remove/", views.tag_remove, name="tag_remove"),
    path("c/<int:number>/snooze/", views.snooze, name="snooze"),
    path("c/<int:number>/customer/", views.customer_edit, name="customer_edit"),
    path("c/<int:number>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("admin/mailboxes/", admin_views.mailboxes, name="admin_mailboxes"),
    path("admin/mailboxes/new/", admin_views.mailbox_edit, name="admin_mailbox_new"),
    path("admin/mailboxes/<int:mailbox_id>/", admin_views.mailbox_edit, name="admin_mailbox_edit"),
]
