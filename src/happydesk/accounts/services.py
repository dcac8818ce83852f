"""State changes for agents and API tokens: who may work here, in which role, with which tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from happydesk.accounts.models import ApiToken, User


class AgentChangeRefused(ValueError):
    """The change would leave the team without an active admin, or is otherwise not allowed."""


class PasswordRefused(AgentChangeRefused):
    """A new password the validators refuse (too short, too common): `messages` says why, each a line."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


def _active_admins() -> QuerySet[User]:
    return User.objects.filter(Q(role=User.Role.ADMIN) | Q(is_superuser=True), is_active=True)


def _keep_an_admin(agent: User) -> None:
    """Refuse when `agent` is the last active admin. The admins' rows are locked first (PostgreSQL), so
    two admins demoting each other at the same moment cannot both succeed."""
    admins = list(_active_admins().select_for_update().order_by("pk").values_list("pk", flat=True))
    if admins == [agent.pk]:
        raise AgentChangeRefused(f"{agent.email} is the last active admin; make another admin first")


def _apply_role(user: User, role: str) -> None:
    if role not in User.Role.values:
        raise AgentChangeRefused(f"role must be one of {', '.join(User.Role.values)}")
    user.role = role
    # Django's superuser flag would make `is_admin` true whatever the role says: it follows the role.
    user.is_staff = user.is_superuser = role == User.Role.ADMIN


@transaction.atomic
def agent_create(
    *,
    email: str,
    name: str,
    password: str | None = None,
    admin: bool = False,
    role: str | None = None,
) -> User:
    """Create an agent (or update name/role/password of an existing one with that email). `admin=True`
    is the same as role "admin"; without a role a new agent is a full agent and an existing one keeps
    theirs. A new password must pass AUTH_PASSWORD_VALIDATORS (PasswordRefused, nothing saved)."""
    email = email.strip().lower()
    role = User.Role.ADMIN if admin else role
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email)
        _apply_role(user, role or User.Role.AGENT)
    elif role and role != user.role:
        if user.is_admin and role != User.Role.ADMIN and user.is_active:
            _keep_an_admin(user)
        _apply_role(user, role)
    user.name = name
    if password:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise PasswordRefused(list(exc.messages)) from exc
        user.set_password(password)
    elif not user.pk:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def agent_set_role(*, agent: User, role: str) -> User:
    """Change an agent's role (admin, agent, light); the last active admin cannot be demoted."""
    user = User.objects.select_for_update().get(pk=agent.pk)
    if role == user.role and user.is_superuser == (role == User.Role.ADMIN):
        return user
    if user.is_admin and role != User.Role.ADMIN and user.is_active:
        _keep_an_admin(user)
    _apply_role(user, role)
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    return user


@transaction.atomic
def agent_deactivate(*, agent: User) -> User:
    """Stop an agent: they cannot sign in, their open sessions end at their next request (the auth
    backend refuses inactive users) and their API tokens stop working. Their work stays."""
    user = User.objects.select_for_update().get(pk=agent.pk)
    if not user.is_active:
        return user
    if user.is_admin:
        _keep_an_admin(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def agent_activate(*, agent: User) -> User:
    """Let a deactivated agent work again, in the role they had; tokens revoked meanwhile stay revoked."""
    user = User.objects.select_for_update().get(pk=agent.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


def token_create(*, user: User, name: str = "", kind: str = ApiToken.Kind.API) -> str:
    """Create a token for the agent and return it; only its hash is kept. An MTA token (kind "mta")
    may only post raw mail, and only a full agent or admin may hold one."""
    if kind not in ApiToken.Kind.values:
        raise AgentChangeRefused(f"kind must be one of {', '.join(ApiToken.Kind.values)}")
    if kind == ApiToken.Kind.MTA and (user.role == User.Role.LIGHT or not user.is_active):
        raise AgentChangeRefused("an MTA token needs an active agent who is not a light agent")
    token = "hd_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, name=name, kind=kind, digest=ApiToken.digest_of(token), prefix=token[:8]
    )
    return token


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token: it is refused from the next request on. Revoking twice keeps the first time."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def token_authenticate(token: str, *, kind: str = ApiToken.Kind.API) -> User | None:
    """The active agent a token of this kind belongs to, or None. An MTA token also needs an owner who
    is not a light agent (their role may have changed since the token was made)."""
    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(token), kind=kind, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None or (kind == ApiToken.Kind.MTA and row.user.role == User.Role.LIGHT):
        return None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user


def agent_unlock(*, agent: User, by: User | None = None) -> int:
    """Lift the sign-in lockout of the agent's account at once (every failed attempt naming their email
    is forgotten); returns how many attempt records went. The lockout of a client address is left."""
    from axes.utils import reset

    from happydesk.accounts.signin import SignInEvent, signin_record

    count = reset(username=agent.email)
    signin_record(SignInEvent.UNLOCKED, agent=agent, by=by, detail=f"{count} attempt records cleared")
    return count
