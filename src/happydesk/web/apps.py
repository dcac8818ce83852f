from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "happydesk.web"
    label = "web"
