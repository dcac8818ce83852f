from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "happydesk.community"
    label = "community"
    verbose_name = "Community"
