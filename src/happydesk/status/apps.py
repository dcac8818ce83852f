from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "happydesk.status"
    label = "status"
    verbose_name = "Status page"
