from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "happydesk.search"
    label = "search"
