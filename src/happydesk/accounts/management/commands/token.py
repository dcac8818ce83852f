"""`happydesk token create --agent EMAIL [--mta] [--name ...]` (prints a new token, shown once),
`token list [--agent EMAIL]`, `token revoke PREFIX_OR_ID`."""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from happydesk.accounts.models import ApiToken, User
from happydesk.accounts.selectors import agent_by_email, tokens_for, tokens_matching
from happydesk.accounts.services import AgentChangeRefused, token_create, token_revoke


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it (shown once)")
        create.add_argument("--agent", required=True)
        create.add_argument("--name", default="")
        create.add_argument(
            "--mta", action="store_true", help="a token for a mail server: it may only post raw mail"
        )
        listing = sub.add_parser("list", help="tokens (prefix, name, kind, created, last used, revoked)")
        listing.add_argument("--agent")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix or id")
        revoke.add_argument("token")

    def _agent(self, email: str) -> User:
        user = agent_by_email(email)
        if user is None:
            raise CommandError(f"no agent {email}")
        return user

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "create":
            kind = ApiToken.Kind.MTA if opts["mta"] else ApiToken.Kind.API
            try:
                token = token_create(user=self._agent(opts["agent"]), name=opts["name"], kind=kind)
            except AgentChangeRefused as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(token)
        elif action == "list":
            agent = self._agent(opts["agent"]) if opts["agent"] else None
            self.stdout.write("id\tprefix\tagent\tname\tkind\tcreated\tlast used\trevoked")
            for t in tokens_for(agent):
                self.stdout.write(
                    f"{t.pk}\t{t.prefix}\t{t.user.email}\t{t.name or '-'}\t{t.kind}\t"
                    f"{_when(t.created_at)}\t{_when(t.last_used_at)}\t{_when(t.revoked_at)}"
                )
        elif action == "revoke":
            found = tokens_matching(opts["token"])
            if not found:
                raise CommandError(f"no token {opts['token']}")
            if len(found) > 1:
                ids = ", ".join(str(t.pk) for t in found)
                raise CommandError(f"{opts['token']} matches several tokens ({ids}): give the id")
            t = token_revoke(token=found[0])
            self.stdout.write(f"token {t.prefix} (id {t.pk}, {t.user.email}) revoked")
