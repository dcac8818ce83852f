"""State changes for agents and API tokens."""

from __future__ import annotations

import secrets

from django.db import transaction

from happydesk.accounts.models import ApiToken, User


@transaction.atomic
def agent_create(*, email: str, name: str, password: str | None = None, admin: bool = False) -> User:
    """Create an agent (or update name/role/password of an existing one with that email)."""
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email)
    user.name = name
    user.role = User.Role.ADMIN if admin else (user.role or User.Role.AGENT)
    user.is_staff = user.is_staff or admin
    user.is_superuser = user.is_superuser or admin
    if password:
        user.set_password(password)
    elif not user.pk:
        user.set_unusable_password()
    user.save()
    return user


def token_create(*, user: User, name: str = "") -> str:
    """Create an API token for the agent and return it; only its hash is kept."""
    token = "hd_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, digest=ApiToken.digest_of(token), prefix=token[:8])
    return token


def token_authenticate(token: str) -> User | None:
    """The active agent a token belongs to, or None."""
    from django.utils import timezone

    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user
