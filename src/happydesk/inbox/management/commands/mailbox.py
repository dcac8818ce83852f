"""`happydesk mailbox add ADDRESS --name NAME [IMAP options]`."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from happydesk.inbox.models import Mailbox
from happydesk.inbox.services import mailbox_create


class Command(BaseCommand):
    help = "Add or list mailboxes."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a mailbox (or update the one with this address)")
        add.add_argument("address")
        add.add_argument("--name", required=True)
        add.add_argument("--imap-host", default="")
        add.add_argument("--imap-port", type=int, default=993)
        add.add_argument("--imap-security", choices=["ssl", "starttls", "none"], default="ssl")
        add.add_argument("--imap-username", default="")
        add.add_argument("--imap-password", default="")
        add.add_argument("--imap-folder", action="append", default=[], help="folder to fetch (repeatable)")
        add.add_argument("--no-auto-reply", action="store_true")
        sub.add_parser("list", help="list mailboxes")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "list":
            for m in Mailbox.objects.order_by("id"):
                self.stdout.write(f"{m.address}\t{m.name}\t{'IMAP ' + m.imap_host if m.imap_host else ''}")
            return
        fields = {
            "imap_host": opts["imap_host"],
            "imap_port": opts["imap_port"],
            "imap_security": opts["imap_security"],
            "imap_username": opts["imap_username"],
            "imap_password": opts["imap_password"],
            "imap_folders": opts["imap_folder"],
            "auto_reply_enabled": not opts["no_auto_reply"],
        }
        mailbox = mailbox_create(address=opts["address"], name=opts["name"], **fields)
        self.stdout.write(f"mailbox {mailbox.address} ({mailbox.name}) ready")
