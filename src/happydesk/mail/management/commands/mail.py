"""`happydesk mail import|fetch|quarantine|reprocess`: mail handling without the browser."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from happydesk.config import current_database_url
from happydesk.inbox.models import Mailbox
from happydesk.mail import inbound
from happydesk.mail.models import RawMessage
from happydesk.mail.selectors import inbound_held
from happydesk.mail.store import MessageTooLarge, store_raw
from happydesk.mail.transports.files import count_messages, iter_messages


class Command(BaseCommand):
    help = "Import mail files, fetch IMAP mailboxes, list or reprocess quarantined mail."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import .eml files, mbox files and maildirs")
        imp.add_argument("paths", nargs="+", type=Path)
        imp.add_argument(
            "--mailbox", help="address of the mailbox to import into (default: from the headers)"
        )
        imp.add_argument(
            "--no-process", action="store_true", help="only store; leave processing to the worker"
        )
        imp.add_argument(
            "--jobs",
            type=int,
            default=os.cpu_count() or 1,
            help="processes that work on the import (default: CPUs)",
        )
        sub.add_parser("fetch", help="poll every mailbox that has IMAP settings once")
        sub.add_parser("quarantine", help="list quarantined messages with their reasons")
        rep = sub.add_parser("reprocess", help="put quarantined messages back in the queue")
        rep.add_argument("ids", nargs="*", type=int, help="raw message ids (default: all quarantined)")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, "_" + opts["action"])(opts)

    def _import(self, opts: dict[str, Any]) -> None:
        mailbox = None
        if opts["mailbox"]:
            mailbox = Mailbox.objects.filter(address=opts["mailbox"].lower()).first()
            if mailbox is None:
                raise CommandError(f"no mailbox {opts['mailbox']}")
        paths = opts["paths"]
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path} does not exist")
        total = count_messages(paths)
        stored: list[int] = []
        too_large = 0
        with tqdm(total=total, unit="msg", desc="storing", disable=total < 2) as bar:
            for origin, data in iter_messages(paths):
                try:
                    stored.append(
                        store_raw(data, source=RawMessage.Source.IMPORT, mailbox=mailbox, origin=origin).pk
                    )
                except MessageTooLarge as exc:
                    too_large += 1
                    self.stderr.write(f"skipped {origin}: {exc}")
                bar.update(1)
        if not opts["no_process"] and stored:
            self._process(stored, opts["jobs"])
        states = dict.fromkeys(RawMessage.State.values, 0)
        for state in RawMessage.objects.filter(pk__in=stored).values_list("state", flat=True):
            states[state] += 1
        summary = ", ".join(f"{n} {s}" for s, n in states.items() if n)
        self.stdout.write(
            f"imported {len(stored)} messages ({summary or 'none'})"
            + (f", {too_large} too large" if too_large else "")
        )

    def _process(self, stored: list[int], jobs: int) -> None:
        """Process what was stored, with `jobs - 1` helper workers leasing batches beside this process."""
        helpers = [
            subprocess.Popen(
                [sys.executable, "-m", "happydesk.cli", "worker", "--drain", "--inbound-only"],
                env={**os.environ, "DATABASE_URL": current_database_url()},
            )
            for _ in range(max(0, jobs - 1))
        ]
        lo, hi = min(stored), max(stored)
        pending = RawMessage.objects.filter(pk__gte=lo, pk__lte=hi, state=RawMessage.State.PENDING)
        with tqdm(total=len(stored), unit="msg", desc="processing", disable=len(stored) < 2) as bar:
            while True:
                done = inbound.process_pending(limit=20)
                left = pending.count()
                bar.n = len(stored) - left
                bar.refresh()
                if not left:
                    break
                if not done:
                    time.sleep(0.05)  # the rest is leased by helpers, or deferred by a passing fault
        for helper in helpers:
            helper.wait()

    def _fetch(self, opts: dict[str, Any]) -> None:
        from happydesk.mail.transports import imap

        stored = imap.poll_all(progress=True)
        self.stdout.write(f"fetched {stored} new messages")

    def _quarantine(self, opts: dict[str, Any]) -> None:
        rows = RawMessage.objects.filter(state=RawMessage.State.QUARANTINED).order_by("-id")
        for raw in rows:
            self.stdout.write(f"{raw.pk}\t{raw.received_at:%Y-%m-%d %H:%M}\t{raw.source}\t{raw.reason}")
        self.stdout.write(f"{rows.count()} quarantined")
        held = inbound_held()
        if held is not None:
            self.stdout.write(
                f"{held.sentence()} (oldest since {held.since:%Y-%m-%d %H:%M}); not quarantined"
            )

    def _reprocess(self, opts: dict[str, Any]) -> None:
        rows = RawMessage.objects.filter(state=RawMessage.State.QUARANTINED)
        if opts["ids"]:
            rows = rows.filter(pk__in=opts["ids"])
        count = 0
        for raw in rows:
            inbound.raw_reprocess(raw=raw)
            inbound.process_raw(raw.pk)
            count += 1
        self.stdout.write(f"reprocessed {count}")
