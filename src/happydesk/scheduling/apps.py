from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "happydesk.scheduling"
    label = "scheduling"
    verbose_name = "Schedules"
