"""The inbox's websockets: presence and live changes for the list and for one conversation."""

from django.urls import path

from happydesk.inbox.consumers import ConversationPresenceConsumer, InboxPresenceConsumer

websocket_urlpatterns: list = [
    path("ws/conversations/<int:number>/", ConversationPresenceConsumer.as_asgi()),
    path("ws/inbox/", InboxPresenceConsumer.as_asgi()),
]
