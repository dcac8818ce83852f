from django.urls import path

from happydesk.widget import views

urlpatterns = [
    path("widget.js", views.widget_js, name="widget_js"),
    path("widget/<int:mailbox_id>/config.json", views.widget_config, name="widget_config"),
    path("widget/<int:mailbox_id>/contact.json", views.widget_contact, name="widget_contact"),
    path("widget/<int:mailbox_id>/events.json", views.suggestion_events, name="suggestion_events"),
    path("widget/<int:mailbox_id>/identify.json", views.widget_identify, name="widget_identify"),
    path(
        "widget/<int:mailbox_id>/conversations.json", views.widget_conversations, name="widget_conversations"
    ),
    path(
        "widget/<int:mailbox_id>/conversations/<int:number>.json",
        views.widget_conversation,
        name="widget_conversation",
    ),
    path("search/suggest.json", views.suggest, name="suggest"),
    path("help/articles/<int:article_id>.json", views.article_json, name="article_json"),
]
