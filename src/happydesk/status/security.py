"""Security reports reach the on-call list at once, at any hour, once (the inbox flags them:
inbox/security.py, and announces SecurityFlagged)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox import events
from happydesk.inbox.models import SecurityFlag
from happydesk.mail.outbound import notice_enqueue
from happydesk.status.models import IncidentSettings


def on_call_addresses() -> list[str]:
    """Who is told about security reports: the on-call list, or every active admin when it is empty."""
    addresses = [a for a in IncidentSettings.current().on_call if a]
    if addresses:
        return addresses
    admins = User.objects.filter(Q(role=User.Role.ADMIN) | Q(is_superuser=True), is_active=True)
    return sorted(set(admins.values_list("email", flat=True)))


REPORT_CHARS = 6000  # of the report's text in the email to on-call agents


def _defanged(text: str) -> str:
    """The report's words with its links made unclickable (hxxp://, [.]) in the on-call email: the
    report may carry a working exploit or a phishing link, and agents read this on their phones."""
    text = re.sub(r"(?i)\bhttp(s?)://", r"hxxp\1://", text)
    return re.sub(r"(?i)\b(hxxps?://[^\s/]+?)\.", lambda m: m.group(0)[:-1] + "[.]", text)


def _report_text(conversation_id: int) -> str:
    """The customer's first message in the conversation: the report as it came in."""
    from happydesk.inbox.models import Message

    first = (
        Message.objects.filter(conversation_id=conversation_id, kind=Message.Kind.CUSTOMER)
        .order_by("created_at", "id")
        .values_list("text", flat=True)
        .first()
    )
    return (first or "").strip()


def security_escalate(event: events.SecurityFlagged) -> None:
    """Email on-call now (nights and weekends too). On-call addresses that belong to active full agents
    get the report's text (links defanged); any other address on the list (a pager, a light agent)
    gets the notice without it, since the report may describe a working attack."""
    flag = SecurityFlag.objects.select_related("conversation__customer").get(pk=event.flag_id)
    conversation = flag.conversation
    to = on_call_addresses()
    if not to:
        return
    customer = conversation.customer
    link = settings.BASE_URL + reverse("conversation", args=[conversation.number])
    arrived = timezone.localtime(flag.created_at)
    head = (
        f"Conversation #{conversation.number} looks like a security report ({flag.reason}).\n\n"
        f"From: {customer.name} <{customer.primary_email}>\n"
        f"Subject: {conversation.subject}\n"
        f"Arrived: {arrived:%a %b %-d, %H:%M %Z}\n\n"
        f"Open it (sign-in needed): {link}\n\n"
        "It is hidden from light agents.\n"
    )
    full_agents = {
        e.lower()
        for e in User.objects.filter(is_active=True, email__in=to)
        .exclude(role=User.Role.LIGHT)
        .values_list("email", flat=True)
    }
    report = _defanged(_report_text(conversation.pk))
    if len(report) > REPORT_CHARS:
        report = report[:REPORT_CHARS] + "\n[… the rest is in the conversation]"
    with_text = sorted(a for a in to if a.lower() in full_agents)
    without = sorted(a for a in to if a.lower() not in full_agents)
    subject = f"[Security report] #{conversation.number}: {conversation.subject}"[:300]
    for group, text, key in (
        (with_text, head + "\nThe report, as it came in (links defanged):\n\n" + report + "\n", ""),
        (without, head + "The report's text is only in the conversation, for full agents.\n", ":notice"),
    ):
        if group:
            notice_enqueue(
                to=group,
                subject=subject,
                text=text,
                headers={"Importance": "high", "X-Priority": "1"},
                kind="status-security",
                dedupe_key=f"status-security:{conversation.pk}{key}",
            )


def escalations_missing_send(*, within: timedelta = timedelta(days=1)) -> int:
    """Tell on-call of every recent active flag they were not told of (the receiver did not run: the
    process ended between the commit and the dispatch). Returns how many it sent."""
    from happydesk.mail.models import OutboundMail

    sent = 0
    for flag in SecurityFlag.objects.filter(active=True, created_at__gte=timezone.now() - within):
        key = f"status-security:{flag.conversation_id}"
        if not OutboundMail.objects.filter(dedupe_key__in=[key, key + ":notice"]).exists():
            security_escalate(events.SecurityFlagged(conversation_id=flag.conversation_id, flag_id=flag.pk))
            sent += 1
    return sent
