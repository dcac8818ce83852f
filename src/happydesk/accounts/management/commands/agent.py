"""`happydesk agent add EMAIL --name NAME [--role admin|agent|light] [--admin] [--password ...]`,
`agent role EMAIL ROLE`, `agent deactivate EMAIL`, `agent activate EMAIL`, `agent list`."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from happydesk.accounts.models import User
from happydesk.accounts.selectors import agent_by_email, agents_list
from happydesk.accounts.services import (
    AgentChangeRefused,
    agent_activate,
    agent_create,
    agent_deactivate,
    agent_set_role,
)


class Command(BaseCommand):
    help = "Add, list, change, deactivate and reactivate agents."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add an agent (or update the one with this email)")
        add.add_argument("email")
        add.add_argument("--name", required=True)
        add.add_argument("--role", choices=User.Role.values)
        add.add_argument("--admin", action="store_true", help="the same as --role admin")
        add.add_argument("--password")
        role = sub.add_parser("role", help="change an agent's role")
        role.add_argument("email")
        role.add_argument("role", choices=User.Role.values)
        for name, text in (
            ("deactivate", "stop an agent: no sign-in, sessions and API tokens stop working"),
            ("activate", "let a deactivated agent work again"),
        ):
            sub.add_parser(name, help=text).add_argument("email")
        sub.add_parser("list", help="every agent with role and state")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "list":
            for a in agents_list():
                state = "active" if a.is_active else "deactivated"
                self.stdout.write(f"{a.email}\t{a.name}\t{a.role}\t{state}")
            return
        try:
            if action == "add":
                if opts["admin"] and opts["role"] not in (None, User.Role.ADMIN):
                    raise CommandError("--admin and --role disagree")
                added = agent_create(
                    email=opts["email"],
                    name=opts["name"],
                    password=opts["password"],
                    admin=opts["admin"],
                    role=opts["role"],
                )
                self.stdout.write(f"agent {added.email} ({added.get_role_display()}) ready")
                return
            user = agent_by_email(opts["email"])
            if user is None:
                raise CommandError(f"no agent {opts['email']}")
            if action == "role":
                user = agent_set_role(agent=user, role=opts["role"])
                self.stdout.write(f"agent {user.email} is now {user.get_role_display()}")
            elif action == "deactivate":
                agent_deactivate(agent=user)
                self.stdout.write(f"agent {user.email} deactivated")
            elif action == "activate":
                agent_activate(agent=user)
                self.stdout.write(f"agent {user.email} active")
        except AgentChangeRefused as exc:
            raise CommandError(str(exc)) from exc
