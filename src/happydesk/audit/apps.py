from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit log. A base-layer app: it imports no other app of ours, so every app above it (accounts,
    inbox, reports ...) records into it directly with `audit.services.record`."""

    name = "happydesk.audit"
    label = "audit"
