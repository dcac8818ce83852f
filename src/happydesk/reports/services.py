"""Actions that change report state: share links, the business volume and support cost, the settings.
The rollup's own writes are in reports.rollup, the mails to the company in reports.digest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from django.core import signing
from django.db import transaction
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.audit import services as audit
from happydesk.audit.models import Action
from happydesk.reports.models import BusinessVolume, ReportSettings, ReportShare, SupportCost

SHARE_SALT = "happydesk.reports.share"
METRIC_MAX = 50


class BadShareLink(Exception):
    """The link's token is malformed, forged or unknown."""


class RevokedShareLink(Exception):
    """The link was real but has been revoked."""


def share_link_token(share: ReportShare) -> str:
    """The token in a share link: the random token signed with the site's key, so a guessed or altered
    link is refused before any lookup, and rotating the key retires every link."""
    return signing.Signer(salt=SHARE_SALT).sign(share.token)


def share_from_link(link_token: str) -> ReportShare:
    """The share a link opens; BadShareLink if forged or unknown, RevokedShareLink once revoked."""
    try:
        token = signing.Signer(salt=SHARE_SALT).unsign(link_token)
    except signing.BadSignature as exc:
        raise BadShareLink(link_token) from exc
    share = ReportShare.objects.filter(token=token).first()
    if share is None:
        raise BadShareLink(link_token)
    if share.revoked_at is not None:
        raise RevokedShareLink(link_token)
    return share


def _share_target(share: ReportShare) -> audit.Target:
    return audit.Target("report_share", share.pk, str(share))


@transaction.atomic
def share_create(*, params: Mapping[str, str], name: str, created_by: User, ip: str = "") -> ReportShare:
    """A read-only link to the report with these filters (a rolling period keeps rolling); audited
    without the link's token."""
    share = ReportShare.objects.create(name=name.strip()[:200], filters=dict(params), created_by=created_by)
    audit.record(
        Action.SHARE_LINK_CREATED,
        actor=created_by,
        target=_share_target(share),
        ip=ip,
        details={"filters": dict(params)},
    )
    return share


@transaction.atomic
def share_revoke(*, share: ReportShare, by: User | None = None, ip: str = "") -> ReportShare:
    """Retire a share link: from now on it answers 410 Gone."""
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
        audit.record(Action.SHARE_LINK_REVOKED, actor=by, target=_share_target(share), ip=ip)
    return share


def report_exported(
    *,
    table: str,
    params: Mapping[str, str],
    by: User | None = None,
    share: ReportShare | None = None,
    ip: str = "",
) -> None:
    """Record that a report table left as CSV: downloaded by an agent, or through a share link by
    whoever holds it (no agent then; the link is the target)."""
    target = _share_target(share) if share is not None else audit.Target("report", table, "Happiness report")
    details = {"table": table, "filters": dict(params), **({"via": "share link"} if share else {})}
    audit.record(Action.REPORT_EXPORTED, actor=by, target=target, ip=ip, details=details)


def share_viewed(*, share: ReportShare) -> None:
    """Note when a link was last opened (shown beside it, so unused links can be revoked)."""
    ReportShare.objects.filter(pk=share.pk).update(last_viewed_at=timezone.now())


def normalise_metric(metric: str) -> str:
    return "-".join(metric.strip().lower().split())[:METRIC_MAX]


@transaction.atomic
def business_volume_record(*, day: date, metric: str, value: int, source: str = "form") -> BusinessVolume:
    """Set a business figure for a day (posting the same day and metric again replaces it)."""
    metric = normalise_metric(metric)
    if not metric:
        raise ValueError("metric is empty")
    if value < 0:
        raise ValueError("value must not be negative")
    row, _ = BusinessVolume.objects.update_or_create(
        date=day, metric=metric, defaults={"value": value, "source": source, "updated_at": timezone.now()}
    )
    return row


@transaction.atomic
def support_cost_set(*, month: date, amount: Decimal) -> SupportCost:
    """Set what support cost in a month (the first of the month is kept)."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    row, _ = SupportCost.objects.update_or_create(
        month=month.replace(day=1), defaults={"amount": amount, "updated_at": timezone.now()}
    )
    return row


@transaction.atomic
def report_settings_save(**fields: object) -> ReportSettings:
    """Change the digest list, masking, baselines, currency or send hour."""
    row, _ = ReportSettings.objects.get_or_create(pk=1)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row
