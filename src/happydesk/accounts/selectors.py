"""Reads about agents and their API tokens, shared by the admin pages and the CLI."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from happydesk.accounts.models import ApiToken, User


def agents_list() -> QuerySet[User]:
    """Every agent, active ones first, by name."""
    return User.objects.order_by("-is_active", "name", "email")


def agent_by_email(email: str) -> User | None:
    return User.objects.filter(email=email.strip().lower()).first()


def tokens_for(agent: User | None = None) -> QuerySet[ApiToken]:
    """API tokens, newest first; one agent's when given (never the secret: only its prefix)."""
    qs = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    return qs.filter(user=agent) if agent is not None else qs


def tokens_matching(prefix_or_id: str) -> list[ApiToken]:
    """Tokens whose id is this number or whose prefix (the first 8 characters shown) is this text."""
    text = prefix_or_id.strip()
    match = Q(prefix=text) if text else Q(pk__in=[])
    if text.isdigit():
        match |= Q(pk=int(text))
    return list(ApiToken.objects.select_related("user").filter(match).order_by("id"))
