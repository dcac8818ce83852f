"""`happydesk agent add EMAIL --name NAME [--admin] [--password ...]`."""

from django.core.management.base import BaseCommand

from happydesk.accounts.services import agent_create


class Command(BaseCommand):
    help = "Add agents."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add an agent (or update the one with this email)")
        add.add_argument("email")
        add.add_argument("--name", required=True)
        add.add_argument("--admin", action="store_true")
        add.add_argument("--password")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        user = agent_create(
            email=opts["email"], name=opts["name"], password=opts["password"], admin=opts["admin"]
        )
        self.stdout.write(f"agent {user.email} ({user.get_role_display()}) ready")
