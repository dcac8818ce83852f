"""`happydesk demo [--once] [--seed N] [--conversations N]`: load a demo workspace to try Happydesk with."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from happydesk.runtime.demo import (
    DEFAULT_CONVERSATIONS,
    DEMO_ADMIN_EMAIL,
    DEMO_PASSWORD,
    demo_exists,
    load_demo,
)


class Command(BaseCommand):
    help = (
        "Load a demo workspace: 2 mailboxes, 5 agents, about 200 customers and 1,000 conversations from the "
        "last 90 days. Nothing is sent: the history is stored as already delivered."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="succeed quietly if the demo is already loaded (for container start-up scripts)",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed; the same seed gives the same data"
        )
        parser.add_argument(
            "--conversations",
            type=int,
            default=DEFAULT_CONVERSATIONS,
            help=f"how many conversations (default {DEFAULT_CONVERSATIONS}); customers scale with it",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if not 1 <= opts["conversations"] <= 100_000:
            raise CommandError("--conversations must be between 1 and 100000")
        if demo_exists():
            self._already_loaded(once=opts["once"])
            return
        try:
            summary = load_demo(seed=opts["seed"], conversations=opts["conversations"])
        except IntegrityError:
            if not demo_exists():  # a real conflict, not a concurrent `demo --once`
                raise
            self._already_loaded(once=opts["once"])
            return
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(summary.statuses.items()))
        self.stdout.write(
            self.style.SUCCESS(f"Demo workspace loaded in {summary.seconds:.1f} s:")
            + f"\n  {summary.mailboxes} mailboxes, {summary.agents} agents, {summary.customers} customers"
            + f"\n  {summary.conversations} conversations ({statuses})"
            + f"\n  {summary.messages} messages and {summary.notes} private notes"
            + f"\nSign in as {DEMO_ADMIN_EMAIL} with password {DEMO_PASSWORD}"
        )

    def _already_loaded(self, *, once: bool) -> None:
        if once:
            self.stdout.write("demo data already loaded")
            return
        raise CommandError(
            f"demo data already loaded (sign in as {DEMO_ADMIN_EMAIL}); "
            "use --once to treat that as success, or a fresh data directory to load it again"
        )
