from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    """The top layer: the serve, worker and demo commands, the job registry and the event receivers."""

    name = "happydesk.runtime"

    def ready(self) -> None:
        from happydesk.inbox import events
        from happydesk.runtime.receivers import RECEIVERS

        events.receivers_install(RECEIVERS)
