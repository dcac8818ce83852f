"""Telling the company: the weekly digest (the biggest issues with examples, the response goals against the
week before, the happiness score and a few comments) and the conversation of the day (a resolved
conversation a customer rated great, picked at random). Both go through the outbox to the list in the
report settings, customer details masked when asked, and each is recorded so it never goes twice."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from happydesk.feedback.models import Rating
from happydesk.inbox.models import Conversation, Message
from happydesk.mail.outbound import notice_enqueue
from happydesk.reports import selectors
from happydesk.reports.filters import Filters
from happydesk.reports.hours import zone
from happydesk.reports.masking import mask_text
from happydesk.reports.models import ReportSend, ReportSettings
from happydesk.reports.report import build_report


@dataclass
class Mail:
    subject: str
    text: str
    html: str


def digest_week(today: date) -> tuple[date, date]:
    """The last complete week (Monday to Sunday) before `today`."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def week_key(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _masker(mask: bool) -> Callable[[str, tuple[str, ...]], str]:
    def apply(text: str, names: tuple[str, ...] = ()) -> str:
        return mask_text(text, names) if mask else text

    return apply


def digest_compose(*, start: date, end: date, mask: bool) -> Mail:
    """The digest for the week start..end, compared with the week before."""
    f = Filters(start=start, end=end, period=None)
    report = build_report(f)
    masked = _masker(mask)
    bounds = selectors.day_bounds(start, end)
    issues = []
    for issue in selectors.top_issues(f, limit=10):
        examples = (
            selectors.visible_conversations(None)  # the digest's readers include light agents
            .filter(
                tags__name=issue.tag,
                created_at__gte=bounds[0],
                created_at__lt=bounds[1],
                merged_into__isnull=True,
            )
            .exclude(status=Conversation.Status.SPAM)
            .order_by("-created_at")
            .values_list("subject", "customer__name")[:12]
        )
        distinct: list[str] = []
        for subject, name in examples:
            text = masked(subject or "(no subject)", (name,))
            if text not in distinct and len(distinct) < 3:
                distinct.append(text)
        issues.append(
            {
                "tag": issue.tag,
                "count": issue.current,
                "change": issue.current - issue.previous,
                "examples": distinct,
            }
        )
    goals = [
        {"label": f"{row[0]} ({row[1]} hours)", "now": _pct(row[2]), "before": _pct(row[3]), "change": row[4]}
        for row in report.tables["goals"].rows
    ]
    score = next(fig for fig in report.headline if fig.key == "score")
    conversations = next(fig for fig in report.headline if fig.key == "conversations")
    comments = [
        {
            "value": c["value"].replace("_", " "),
            "comment": masked(c["comment"], (c.get("customer_name") or "",)),
        }
        for c in selectors.recent_comments(f, limit=3)
    ]
    link = settings.BASE_URL + reverse("reports") + "?" + f.query()
    context = {
        "start": start,
        "end": end,
        "issues": issues,
        "goals": goals,
        "score": score,
        "conversations": conversations,
        "comments": comments,
        "link": link,
        "masked": mask,
    }
    subject = (
        f"Support last week: {conversations.shown} conversations, happiness {score.shown} "
        f"({start:%b} {start.day} to {end:%b} {end.day})"
    )
    return Mail(
        subject=subject,
        text=render_to_string("reports/mail/digest.txt", context),
        html=render_to_string("reports/mail/digest.html", context),
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _record(
    kind: str, key: str, mail: Mail, recipients: list[str], conversation_id: int | None, force: bool
) -> ReportSend | None:
    """Write the send record and queue the mail in one transaction; None if this one already went."""
    try:
        with transaction.atomic():
            send = ReportSend.objects.filter(kind=kind, key=key).select_for_update().first()
            if send is not None and not force:
                return None
            if send is None:
                send = ReportSend.objects.create(kind=kind, key=key)
            send.outbound = notice_enqueue(
                to=recipients,
                subject=mail.subject,
                text=mail.text,
                html=mail.html,
                kind=f"report-{kind}",
                dedupe_key=None if force else f"report-{kind}-{key}",  # the outbox's own once-only guard too
            )
            send.sent_at, send.conversation_id = timezone.now(), conversation_id
            send.save()
            return send
    except IntegrityError:  # another worker recorded it first
        return None


def local_now(row: ReportSettings, now: datetime | None = None) -> datetime:
    return (now or timezone.now()).astimezone(zone(row.timezone))


def digest_send(*, today: date | None = None, force: bool = False) -> ReportSend | None:
    """Queue last week's digest to the list unless it already went (or `force`); None when nothing went."""
    row = selectors.report_settings()
    if not row.recipients:
        return None
    today = today or local_now(row).date()
    start, end = digest_week(today)
    key = week_key(start)
    if not force and ReportSend.objects.filter(kind=ReportSend.Kind.DIGEST, key=key).exists():
        return None
    mail = digest_compose(start=start, end=end, mask=row.mask_customers)
    return _record(ReportSend.Kind.DIGEST, key, mail, row.recipients, None, force)


def digest_due(now: datetime | None = None) -> bool:
    """Time for last week's digest: it is Monday at or after the send hour, or later in the week."""
    row = selectors.report_settings()
    if not (row.digest_enabled and row.recipients):
        return False
    local = local_now(row, now)
    start, _ = digest_week(local.date())
    if ReportSend.objects.filter(kind=ReportSend.Kind.DIGEST, key=week_key(start)).exists():
        return False
    return local.weekday() > 0 or local.hour >= row.send_hour


# -- conversation of the day ---------------------------------------------------------------------------


def conversation_of_the_day_pick(*, today: date, rng: random.Random | None = None) -> Conversation | None:
    """A resolved conversation rated great in the last week (else month), not sent before, at random."""
    rng = rng or random.Random()  # noqa: S311 - a fair pick, not a secret
    sent = ReportSend.objects.filter(kind=ReportSend.Kind.CONVERSATION, conversation__isnull=False).values(
        "conversation_id"
    )
    end = selectors.day_bounds(today, today)[1]
    for days in (7, 30):
        candidates = (
            Rating.objects.filter(
                value=Rating.Value.GREAT,
                created_at__gte=end - timedelta(days=days),
                created_at__lt=end,
                conversation__status=Conversation.Status.CLOSED,
                conversation__merged_into__isnull=True,
            )
            .exclude(conversation_id__in=sent)
            .filter(conversation__in=selectors.visible_conversations(None).values("pk"))
            .order_by("pk")
            .values_list("conversation_id", flat=True)
        )
        n = candidates.count()
        if n:
            return Conversation.objects.select_related("customer", "mailbox").get(
                pk=candidates[rng.randrange(n)]
            )
    return None


def conversation_of_the_day_compose(*, conversation: Conversation, mask: bool) -> Mail:
    """The thread (customer messages and replies, no notes), the rating and its comment."""
    masked = _masker(mask)
    names = (conversation.customer.name,)
    customer_label = "The customer" if mask else (conversation.customer.name or "The customer")
    lines = []
    for m in conversation.messages.filter(
        kind__in=[Message.Kind.CUSTOMER, Message.Kind.REPLY]
    ).select_related("author"):
        who = (
            customer_label if m.kind == Message.Kind.CUSTOMER else (m.author.name if m.author else "The team")
        )
        lines.append(
            {
                "who": who,
                "customer": m.kind == Message.Kind.CUSTOMER,
                "at": m.created_at,
                "text": masked(m.text.strip(), names),
            }
        )
    rating = Rating.objects.filter(conversation=conversation).first()
    subject = masked(conversation.subject or "(no subject)", names)
    context = {
        "c": conversation,
        "subject": subject,
        "lines": lines,
        "comment": masked(rating.comment, names) if rating and rating.comment else "",
        "link": settings.BASE_URL + reverse("conversation", args=[conversation.pk]),
        "masked": mask,
    }
    return Mail(
        subject=f"Conversation of the day: {subject}",
        text=render_to_string("reports/mail/conversation_of_the_day.txt", context),
        html=render_to_string("reports/mail/conversation_of_the_day.html", context),
    )


def conversation_of_the_day_send(
    *, today: date | None = None, force: bool = False, rng: random.Random | None = None
) -> ReportSend | None:
    """Queue today's conversation of the day to the list unless one already went today (or `force`)."""
    row = selectors.report_settings()
    if not row.recipients:
        return None
    today = today or local_now(row).date()
    key = today.isoformat()
    if not force and ReportSend.objects.filter(kind=ReportSend.Kind.CONVERSATION, key=key).exists():
        return None
    conversation = conversation_of_the_day_pick(today=today, rng=rng)
    if conversation is None:
        return None
    mail = conversation_of_the_day_compose(conversation=conversation, mask=row.mask_customers)
    return _record(ReportSend.Kind.CONVERSATION, key, mail, row.recipients, conversation.pk, force)


def conversation_of_the_day_due(now: datetime | None = None) -> bool:
    """Time for today's conversation of the day (at or after the send hour, not sent yet today)."""
    row = selectors.report_settings()
    if not (row.conversation_of_the_day and row.recipients):
        return False
    local = local_now(row, now)
    if ReportSend.objects.filter(kind=ReportSend.Kind.CONVERSATION, key=local.date().isoformat()).exists():
        return False
    return local.hour >= row.send_hour
