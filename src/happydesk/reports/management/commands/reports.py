"""`happydesk reports rebuild|refresh|digest|conversation-of-the-day`: the report's jobs by hand."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from happydesk.reports import digest, rollup, selectors
from happydesk.reports.models import ReportSend


class Command(BaseCommand):
    help = "Rebuild or refresh the report rollup; show or send the weekly digest and the conversation of the day."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("rebuild", help="recompute the whole daily rollup from the raw rows")
        refresh = sub.add_parser("refresh", help="recompute the days that changed (what the worker does)")
        refresh.add_argument("--days", type=int, help="recompute the last N days instead")
        for name, what in (
            ("digest", "last week's digest"),
            ("conversation-of-the-day", "today's conversation"),
        ):
            p = sub.add_parser(name, help=f"print {what}; --send queues it to the list")
            p.add_argument("--send", action="store_true", help="queue it to the list in the report settings")
            p.add_argument("--force", action="store_true", help="send even if it already went")
            p.add_argument("--today", type=date.fromisoformat, help="pretend today is this date (YYYY-MM-DD)")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, "_" + opts["action"].replace("-", "_"))(opts)

    def _rebuild(self, opts: dict[str, Any]) -> None:
        started = time.perf_counter()
        days = rollup.rollup_rebuild()
        self.stdout.write(f"rebuilt {days} mailbox-days in {time.perf_counter() - started:.1f}s")

    def _refresh(self, opts: dict[str, Any]) -> None:
        started = time.perf_counter()
        days = rollup.rollup_recent(days=opts["days"]) if opts["days"] else rollup.rollup_refresh()
        self.stdout.write(f"recomputed {days} mailbox-days in {time.perf_counter() - started:.1f}s")

    def _today(self, opts: dict[str, Any]) -> date:
        return opts["today"] or digest.local_now(selectors.report_settings()).date()

    def _digest(self, opts: dict[str, Any]) -> None:
        today = self._today(opts)
        if opts["send"]:
            self._sent(digest.digest_send(today=today, force=opts["force"]), ReportSend.Kind.DIGEST)
            return
        start, end = digest.digest_week(today)
        mail = digest.digest_compose(start=start, end=end, mask=selectors.report_settings().mask_customers)
        self.stdout.write(f"Subject: {mail.subject}\n\n{mail.text}")

    def _conversation_of_the_day(self, opts: dict[str, Any]) -> None:
        today = self._today(opts)
        if opts["send"]:
            send = digest.conversation_of_the_day_send(today=today, force=opts["force"])
            self._sent(send, ReportSend.Kind.CONVERSATION)
            return
        conversation = digest.conversation_of_the_day_pick(today=today)
        if conversation is None:
            raise CommandError("no resolved conversation with a great rating in the last 30 days")
        mail = digest.conversation_of_the_day_compose(
            conversation=conversation, mask=selectors.report_settings().mask_customers
        )
        self.stdout.write(f"Subject: {mail.subject}\n\n{mail.text}")

    def _sent(self, send: ReportSend | None, kind: str) -> None:
        if send is None:
            if not selectors.report_settings().recipients:
                raise CommandError("no recipients: add addresses on /reports/settings/")
            raise CommandError(
                "not sent: it already went for this period (--force sends again), or there is nothing to send"
            )
        label = ReportSend.Kind(kind).label.lower()
        self.stdout.write(f"queued the {label} {send.key} to the outbox (mail {send.outbound_id})")
