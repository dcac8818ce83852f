from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "happydesk.kb"
    label = "kb"
    verbose_name = "Knowledge base"
