"""`happydesk token create --agent EMAIL`: prints a new API token."""

from django.core.management.base import BaseCommand, CommandError

from happydesk.accounts.models import User
from happydesk.accounts.services import token_create


class Command(BaseCommand):
    help = "Create API tokens."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it (shown once)")
        create.add_argument("--agent", required=True)
        create.add_argument("--name", default="")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        user = User.objects.filter(email=opts["agent"].lower()).first()
        if user is None:
            raise CommandError(f"no agent {opts['agent']}")
        self.stdout.write(token_create(user=user, name=opts["name"]))
