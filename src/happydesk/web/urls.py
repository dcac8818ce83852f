from django.contrib.auth import views as auth_views
from django.urls import path

from happydesk.web import admin_views, portal_views, replies_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/bulk/", views.bulk, name="bulk"),
    path("c/<int:number>/", views.conversation, name="conversation"),
    path("c/<int:number>/reply/", views.reply, name="reply"),
    path("c/<int:number>/note/", views.note, name="note"),
    path("c/<int:number>/status/", views.status, name="status"),
    path("c/<int:number>/tags/", views.tag_add, name="tag_add"),
    path("c/<int:number>/draft/", views.draft, name="draft"),
    path("c/<int:number>/merge/", views.merge, name="merge"),
    path("c/<int:number>/messages/<int:message_id>/split/", views.split, name="split"),
    path("c/<int:number>/tags/<str:name>/remove/", views.tag_remove, name="tag_remove"),
    path("c/<int:number>/snooze/", views.snooze, name="snooze"),
    path("c/<int:number>/saved-replies/<int:reply_id>/", views.saved_reply_insert, name="saved_reply_insert"),
    path("replies/", replies_views.saved_replies, name="saved_replies"),
    path("replies/new/", replies_views.saved_reply_edit, name="saved_reply_new"),
    path("replies/<int:reply_id>/", replies_views.saved_reply_edit, name="saved_reply_edit"),
    path("c/<int:number>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("admin/mailboxes/", admin_views.mailboxes, name="admin_mailboxes"),
    path("admin/mailboxes/new/", admin_views.mailbox_edit, name="admin_mailbox_new"),
    path("admin/mailboxes/<int:mailbox_id>/", admin_views.mailbox_edit, name="admin_mailbox_edit"),
    path("admin/agents/", admin_views.agents, name="admin_agents"),
    path("admin/agents/new/", admin_views.agent_add, name="admin_agent_new"),
    path("contact/<int:mailbox_id>/", portal_views.contact, name="contact"),
    path("portal/", portal_views.portal, name="portal"),
    path("portal/login/<str:token>/", portal_views.portal_login, name="portal_login"),
    path("portal/logout/", portal_views.portal_logout, name="portal_logout"),
    path("portal/c/<str:token>/", portal_views.portal_conversation, name="portal_conversation"),
    path(
        "portal/c/<str:token>/attachments/<int:attachment_id>/",
        portal_views.portal_attachment,
        name="portal_attachment",
    ),
    path("admin/quarantine/", views.quarantine, name="quarantine"),
    path("admin/quarantine/<int:raw_id>/reprocess/", views.quarantine_reprocess, name="quarantine_reprocess"),
]
