from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    """The top layer: the serve, worker and demo commands, the job registry, the event receivers and
    the conversation page's panels."""

    name = "happydesk.runtime"

    def ready(self) -> None:
        from happydesk.inbox import events, panels
        from happydesk.runtime.panels import PANELS
        from happydesk.runtime.receivers import RECEIVERS

        events.receivers_install(RECEIVERS)
        panels.panels_install(PANELS)
