"""`happydesk backup PATH`: a consistent copy of the database and the data folder, while the desk runs."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from happydesk.runtime.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database and the data folder into a new folder PATH (owner-only), while Happydesk runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="a folder that does not exist yet (or is empty)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            manifest = backup_create(target=opts["path"], say=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        db = manifest["database"]
        self.stdout.write(
            f"backup at {opts['path']}: {db['engine']} database ({db['size']} bytes), "
            f"{len(manifest['files'])} files; the database copy began {db['copy_started_at']}"
        )
        if manifest["not_backed_up"]:
            self.stdout.write(f"not in the backup: {', '.join(manifest['not_backed_up'])}")
