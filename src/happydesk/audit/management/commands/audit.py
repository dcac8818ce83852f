"""`happydesk audit verify`: check that no audit entry was changed, removed or slipped in outside the app."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from happydesk.audit.services import chain_verify


class Command(BaseCommand):
    help = "Check the audit log."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "verify",
            help="recompute the hash chain and check the append-only triggers; exit 1 on any problem",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        report = chain_verify()
        for problem in report.problems or []:
            self.stderr.write(problem)
        if not report.intact:
            raise CommandError(
                f"audit log: {len(report.problems or [])} problems in {report.entries} entries"
            )
        # The head is worth keeping somewhere else: entries cut off the end leave no gap behind them.
        self.stdout.write(
            f"audit log intact: {report.entries} entries; newest #{report.head_seq} {report.head_hash or '-'}"
        )
