"""Reads about agents and their API tokens, shared by the admin pages and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

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


@dataclass(frozen=True)
class Lockout:
    """An account's failed sign-ins that still count, and until when it is locked (None: it is not)."""

    failures: int
    locked_until: datetime | None


def _recent_attempts() -> QuerySet:
    """django-axes' failed-attempt rows still inside the lockout window: the ones that count."""
    from axes.models import AccessAttempt

    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)


def signin_lockout(agent: User) -> Lockout:
    """The lockout state of the agent's account (django-axes' attempts for their email, from any address;
    a lockout of the client address alone is not shown here)."""
    row = (
        _recent_attempts()
        .filter(username=agent.email)
        .aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    )
    failures = row["failures"] or 0
    locked = failures >= settings.AXES_FAILURE_LIMIT and row["last"] is not None
    return Lockout(failures, row["last"] + settings.AXES_COOLOFF_TIME if locked else None)


def locked_out_emails() -> set[str]:
    """The emails whose accounts are locked now (for the agents list)."""
    rows = (
        _recent_attempts()
        .filter(username__isnull=False)
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    return {row["username"] for row in rows}


def two_factor_users() -> set[int]:
    """The ids of agents with two-factor sign-in on (for the agents list)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
