from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "happydesk.api"
    label = "api"
