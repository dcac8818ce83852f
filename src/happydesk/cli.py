"""The `happydesk` command: Django's management commands under one name (serve, worker, demo, mail ...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.umask(0o077)  # every file and folder this process creates is its owner's alone (docs/security.md)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happydesk.settings")
    from django.core.management import execute_from_command_line

    from happydesk.config import MissingExtra

    args = list(sys.argv if argv is None else ["happydesk", *argv])
    args[0] = "happydesk"
    try:
        execute_from_command_line(args)
    except MissingExtra as exc:  # a setting needs an extra that is not installed: say what to install
        sys.exit(f"happydesk: {exc}")


if __name__ == "__main__":
    main()
