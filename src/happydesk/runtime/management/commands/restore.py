"""`happydesk restore PATH`: check a backup's hashes, then restore it into this data folder and database."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from happydesk.runtime.backup import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = (
        "Restore a backup made by `happydesk backup` into HAPPYDESK_DATA_DIR and DATABASE_URL (stop "
        "Happydesk first). Every file is checked against the manifest before anything is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the backup's folder")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore over a data folder or database in use (files not in the backup stay)",
        )
        parser.add_argument("--check", action="store_true", help="only check the backup's hashes")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["check"]:
                manifest = backup_verify(opts["path"].resolve())
                self.stdout.write(f"backup is intact: {len(manifest['files']) + 1} files match the manifest")
                return
            manifest = backup_restore(source=opts["path"], force=opts["force"], say=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"restored the backup of {manifest['created_at']}; now run `happydesk migrate` and start Happydesk"
        )
