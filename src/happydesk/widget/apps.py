from django.apps import AppConfig


class WidgetConfig(AppConfig):
    """The help widget a customer's site embeds with one script tag, and the JSON it talks to."""

    name = "happydesk.widget"
