from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "happydesk.reports"
    label = "reports"
