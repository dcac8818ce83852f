"""`happydesk openapi --check|--write`: compare or refresh the checked-in OpenAPI snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from happydesk.api import snapshot


class Command(BaseCommand):
    help = "Check docs/api/openapi.json against the schema the API serves (--check), or refresh it (--write)."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument(
            "--check", action="store_true", help="fail with a diff when the snapshot is out of date"
        )
        mode.add_argument("--write", action="store_true", help="write the served schema to the snapshot")
        parser.add_argument(
            "--snapshot",
            dest="path",
            type=Path,
            default=snapshot.SNAPSHOT,
            help="the snapshot file (default: docs/api/openapi.json in the source tree)",
        )

    def handle(self, *args: Any, write: bool, path: Path, **options: Any) -> None:
        served = snapshot.render()
        path = _shown(path)
        if write:
            if path.exists() and path.read_text(encoding="utf-8") == served:
                self.stdout.write(f"{path} is up to date")
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(served, encoding="utf-8")
            self.stdout.write(f"wrote {path}")
            return
        if not path.exists():
            raise CommandError(f"no OpenAPI snapshot at {path}; create it with `{snapshot.REFRESH}`")
        lines = snapshot.diff(path.read_text(encoding="utf-8"), served, name=str(path))
        if lines:
            self.stderr.write("\n".join(lines))
            raise CommandError(
                f"the API's OpenAPI schema differs from {path} (diff above). If the change is meant, "
                f"refresh the snapshot with `{snapshot.REFRESH}` and commit it with the change."
            )
        self.stdout.write(f"{path} matches the served schema")


def _shown(path: Path) -> Path:
    """The path relative to the working directory when it is below it (shorter messages and diffs)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path
