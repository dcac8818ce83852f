from django.apps import AppConfig


class WebConfig(AppConfig):
    """The page shell every app's pages share: base templates, the stylesheet, htmx, generic template
    filters and the site context. No views, no URLs, and no import of any other app."""

    name = "happydesk.web"
    label = "web"
