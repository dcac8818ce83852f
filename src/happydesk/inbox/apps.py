from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "happydesk.inbox"
    label = "inbox"
