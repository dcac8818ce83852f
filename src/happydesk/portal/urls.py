from django.urls import path

from happydesk.portal import views

urlpatterns = [
    path("contact/<int:mailbox_id>/", views.contact, name="contact"),
    path("contact/confirm/<str:value>/", views.contact_confirm, name="contact_confirm"),
    path("sso/jwt", views.sso_jwt, name="sso_jwt"),
    path("portal/", views.portal, name="portal"),
    path("portal/login/<str:token>/", views.portal_login, name="portal_login"),
    path("portal/logout/", views.portal_logout, name="portal_logout"),
    path("portal/l/<str:value>/", views.portal_link, name="portal_link"),
    path("portal/c/<str:token>/", views.portal_conversation, name="portal_conversation"),
    path(
        "portal/c/<str:token>/attachments/<int:attachment_id>/",
        views.portal_attachment,
        name="portal_attachment",
    ),
]
