"""`happydesk worker`: process inbound mail, send the outbox, poll IMAP, run background tasks."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from happydesk.runtime.worker import run_forever, run_once


class Command(BaseCommand):
    help = "Run a task worker (several may run, on one host or many)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=0.2, help="seconds to sleep when idle")
        parser.add_argument("--drain", action="store_true", help="work until the queues are empty, then exit")
        parser.add_argument(
            "--inbound-only", action="store_true", help="with --drain: only process inbound mail"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["drain"]:
            from happydesk.mail.inbound import process_pending

            step = process_pending if opts["inbound_only"] else run_once
            total = 0
            while done := step():
                total += done
            self.stdout.write(f"drained {total} jobs")
            return
        run_forever(interval=opts["interval"])
