"""`happydesk customers export EMAIL [--output PATH]` and `happydesk customers erase EMAIL [--yes]`."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from happydesk.customers.models import Customer, CustomerEmail
from happydesk.privacy.erasure import customer_erase
from happydesk.privacy.export import customer_export


def _customer(address: str) -> Customer:
    row = CustomerEmail.objects.select_related("customer").filter(address=address.strip().lower()).first()
    if row is None:
        raise CommandError(f"no customer writes from {address}")
    return row.customer


class Command(BaseCommand):
    help = "Export or erase one customer's data."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser(
            "export", help="write every piece of data about the customer to a zip archive"
        )
        export.add_argument("email")
        export.add_argument("--output", "-o", help="the archive's path (default: customer-<id>.zip)")
        erase = sub.add_parser("erase", help="erase the customer (community posts are kept, anonymous)")
        erase.add_argument("email")
        erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **opts: Any) -> None:
        customer = _customer(opts["email"])
        if opts["action"] == "export":
            path = opts["output"] or f"customer-{customer.pk}.zip"
            data = customer_export(customer=customer)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data: owner only
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self.stdout.write(f"exported customer {customer.pk} to {path} ({len(data)} bytes)")
            return
        if not opts["yes"]:
            count = customer.conversations.count()
            answer = input(
                f"Erase customer {customer.pk} ({opts['email']}) and {count} conversation(s)? "
                "This cannot be undone. Type 'erase' to go on: "
            )
            if answer.strip().lower() != "erase":
                raise CommandError("nothing erased")
        counts = customer_erase(customer=customer)
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if n)
        self.stdout.write(f"erased customer {customer.pk}: {summary or 'nothing else held'}")
