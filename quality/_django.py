"""What every quality script starts with: Django set up on the throwaway data folder `make quality`
gives it (HAPPYDESK_DATA_DIR), with the schema migrated, so the script can build its fixture through
our own services and measure the real code."""

from __future__ import annotations

import os


def setup() -> None:
    """Configure Django and migrate the script's own database (quietly)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happydesk.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--no-input", verbosity=0)
