"""The auto-reply that sets expectations, and the rules that keep it from starting mail loops.

Sent only for a new conversation, never to automated mail (RFC 3834 Auto-Submitted, Precedence
bulk/list/junk, mailing lists, mailer-daemons), never to our own addresses, and at most once per sender
per mailbox in the mailbox's window.

The auto-reply waits in the outbox for `hold()` seconds before the worker may send it. A feature that
answers the same first message at once (the incident plan's reply to a conversation it links as it
arrives) withdraws it in that time (`auto_reply_withdraw`), so the customer gets one message, not an
auto-reply and, seconds later, the incident reply. The core does not know who withdraws it.
"""

from __future__ import annotations

import statistics
import time as _time
from datetime import UTC, datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.mail.models import AutoReplyLog, OutboundMail
from happydesk.mail.store import split_plus

NO_REPLY_LOCALS = (
    "mailer-daemon",
    "postmaster",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "bounce",
)
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def skip_reason(
    *,
    mailbox: Mailbox,
    sender: str,
    own_addresses: set[str],
    automated: str | None = None,
    unverified: bool = False,
) -> str | None:
    """Why no auto-reply may go to this message, or None if one may. `automated` is why the message
    itself is automated (Auto-Submitted, list headers...), for mail; None for a person's form post."""
    if not mailbox.auto_reply_enabled:
        return "auto-reply is off for this mailbox"
    if unverified:
        return "sender not verified"
    if automated:
        return f"automated mail ({automated})"
    local = sender.split("@", 1)[0]
    if any(local.startswith(prefix) for prefix in NO_REPLY_LOCALS):
        return "sender is a no-reply or daemon address"
    if split_plus(sender)[0] in own_addresses:
        return "sender is one of our addresses"
    since = timezone.now() - timedelta(minutes=mailbox.auto_reply_window_minutes)
    if AutoReplyLog.objects.filter(mailbox=mailbox, address=sender, sent_at__gte=since).exists():
        return "already auto-replied to this sender within the window"
    return None


def typical_first_response(mailbox: Mailbox, *, days: int = 30) -> timedelta | None:
    """Median first-response time over the last `days` days, or None with too little data to be honest."""
    since = timezone.now() - timedelta(days=days)
    rows = Conversation.objects.filter(
        mailbox=mailbox, created_at__gte=since, first_response_at__isnull=False
    ).values_list("created_at", "first_response_at")
    waits = [
        (answered - opened).total_seconds()
        for opened, answered in rows
        if answered is not None and answered >= opened
    ]
    if len(waits) < 5:
        return None
    return timedelta(seconds=statistics.median(waits))


_WAIT_CACHE: dict[tuple[int, datetime], tuple[float, timedelta | None]] = {}
WAIT_CACHE_SECONDS = 300


def typical_first_response_cached(mailbox: Mailbox) -> timedelta | None:
    """typical_first_response, recomputed at most every five minutes per mailbox (it scans 30 days)."""
    key = (mailbox.pk, mailbox.created_at)
    hit = _WAIT_CACHE.get(key)
    if hit is not None and _time.monotonic() - hit[0] < WAIT_CACHE_SECONDS:
        return hit[1]
    value = typical_first_response(mailbox)
    _WAIT_CACHE[key] = (_time.monotonic(), value)
    return value


def describe_wait(wait: timedelta | None) -> str:
    if wait is None:
        return "We'll get back to you as soon as we can."
    minutes = wait.total_seconds() / 60
    if minutes < 60:
        text = f"{max(5, round(minutes / 5) * 5)} minutes"
    elif minutes < 48 * 60:
        hours = round(minutes / 60)
        text = "1 hour" if hours == 1 else f"{hours} hours"
    else:
        text = f"{round(minutes / 1440)} days"
    return f"Over the last 30 days we usually replied within about {text}."


def _zone(name: str) -> dt_timezone | ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def describe_hours(mailbox: Mailbox, customer_offset: timedelta | None) -> str:
    """Support hours, shown in the customer's own UTC offset when their mail told us what it is."""
    zone = _zone(mailbox.timezone)
    target = dt_timezone(customer_offset) if customer_offset is not None else zone
    today = timezone.now().astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    lines = []
    for day in range(7):
        spans = mailbox.business_hours.get(str(day)) or []
        parts = []
        for start, end in spans:
            d = monday + timedelta(days=day)
            s = datetime.combine(d, _hhmm(start), tzinfo=zone).astimezone(target)
            e = datetime.combine(d, _hhmm(end), tzinfo=zone).astimezone(target)
            parts.append((s, e))
        if parts:
            lines.append((DAYS[parts[0][0].weekday()], ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in parts)))
    if not lines:
        return ""
    label = _offset_label(customer_offset) if customer_offset is not None else mailbox.timezone
    grouped = _group_days(lines)
    return f"Our support hours ({label}): " + "; ".join(grouped) + "."


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _offset_label(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"your time, UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _group_days(lines: list[tuple[str, str]]) -> list[str]:
    groups: list[list] = []
    for day, hours in lines:
        if groups and groups[-1][2] == hours and DAYS.index(day) == DAYS.index(groups[-1][1]) + 1:
            groups[-1][1] = day
        else:
            groups.append([day, day, hours])
    return [f"{a}{'' if a == b else '-' + b} {h}" for a, b, h in groups]


HELP_LINKS = 3  # help articles matched to the customer's message, at most


def matching_help(*, subject: str, text: str) -> list[dict[str, str]]:
    """Public help articles and FAQ that match what the customer wrote, best first: {title, url}. An
    article counts only if its title shares a meaningful word with the message, so a long message that
    touches every article through one common word suggests nothing rather than nonsense."""
    from django.conf import settings

    from happydesk.search.content import content_search, content_words
    from happydesk.search.models import ContentDocument

    query = f"{subject} {text[:600]}"
    words = set(content_words(query))
    if not words:
        return []
    found = content_search(
        query, kinds=[ContentDocument.Kind.ARTICLE, ContentDocument.Kind.FAQ], limit=HELP_LINKS * 3
    ).results
    picks = [r for r in found if words & set(content_words(r.title))][:HELP_LINKS]
    return [{"title": r.title, "url": r.url if "://" in r.url else settings.BASE_URL + r.url} for r in picks]


def compose_text(
    *,
    mailbox: Mailbox,
    conversation: Conversation,
    customer_offset: timedelta | None,
    greeting: bool = True,
    text: str = "",
) -> str:
    """The auto-reply: what happens next, how long it usually takes, the hours, self-help links: the
    help articles that match the customer's message (`text`), else the mailbox's configured links.
    `greeting=False` leaves out "Hi <name>," for an email that has greeted already."""
    name = conversation.customer.first_name
    offset = customer_offset
    lines = [f"Hi {name}," if name else "Hi,", ""] if greeting else []
    lines.append(
        f"Thanks for writing to {mailbox.name}. "
        f"We've got your message (#{conversation.number}) and a person will answer it."
    )
    lines += ["", describe_wait(typical_first_response_cached(mailbox))]
    hours = describe_hours(mailbox, offset)
    if hours:
        lines += [hours]
    if mailbox.auto_reply_text.strip():
        lines += ["", mailbox.auto_reply_text.strip()]
    links = matching_help(subject=conversation.subject, text=text) if text else []
    if not links:
        links = [link for link in mailbox.self_help_links if isinstance(link, dict) and link.get("url")]
    if links:
        lines += ["", "While you wait, these may help:"]
        lines += [f"- {link.get('title') or link['url']}: {link['url']}" for link in links]
    lines += ["", "Just reply to this email if you want to add anything."]
    return "\n".join(lines)


def send(*, conversation: Conversation, message: Message, customer_offset: timedelta | None) -> Message:
    """Queue the auto-reply to `message`, the first of a new conversation (skip_reason said it may go)."""
    from happydesk.inbox.services import reply_message_build
    from happydesk.mail import outbound

    mailbox = conversation.mailbox
    now = timezone.now()
    reply = reply_message_build(
        conversation=conversation,
        author=None,
        text=compose_text(
            mailbox=mailbox, conversation=conversation, customer_offset=customer_offset, text=message.text
        ),
        at=now,
        kind=Message.Kind.AUTO_REPLY,
        parent=message,
    )
    outbound.outbox_enqueue(message=reply, not_before=now + hold())
    AutoReplyLog.objects.create(mailbox=mailbox, address=message.from_address, sent_at=now)
    return reply


def hold() -> timedelta:
    """How long an auto-reply waits in the outbox, so a feature answering at once can replace it."""
    return timedelta(seconds=settings.HAPPYDESK_AUTO_REPLY_HOLD_SECONDS)


@transaction.atomic
def auto_reply_withdraw(*, conversation: Conversation, reason: str) -> int:
    """Take back the conversation's auto-reply while it is still held in the outbox (the customer is
    being answered by another message right now). Returns how many were withdrawn: 0 when it has gone
    already, or a worker has claimed it (a claim moves `next_attempt_at` a lease ahead, past the hold,
    so the conditional UPDATE below never races a send). The message stays in the thread, marked not
    sent, with the reason."""
    now = timezone.now()
    rows = OutboundMail.objects.filter(
        message__conversation=conversation,
        message__kind=Message.Kind.AUTO_REPLY,
        state=OutboundMail.State.QUEUED,
        attempts=0,
        next_attempt_at__gt=now,
        next_attempt_at__lte=now + hold(),
    )
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return 0
    withdrawn = rows.filter(pk__in=ids).update(state=OutboundMail.State.CANCELLED, last_error=reason[:500])
    Message.objects.filter(outbound__pk__in=ids, outbound__state=OutboundMail.State.CANCELLED).update(
        delivery=Message.Delivery.NONE, delivery_error=reason[:500]
    )
    return withdrawn
