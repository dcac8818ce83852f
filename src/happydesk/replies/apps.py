from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "happydesk.replies"
    label = "replies"
