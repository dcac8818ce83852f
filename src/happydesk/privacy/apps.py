from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """A customer's data under their control: export, erasure and retention (docs/security.md)."""

    name = "happydesk.privacy"
    label = "privacy"
