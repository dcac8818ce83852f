"""Security reports reach the on-call list at once, at any hour, once (the inbox flags them:
inbox/security.py, and announces SecurityFlagged)."""

from __future__ import annotations

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


def security_escalate(event: events.SecurityFlagged) -> None:
    """Email on-call now (nights and weekends too). The report itself is left out on purpose: it may
    describe a working attack, and the link needs a sign-in."""
    flag = SecurityFlag.objects.select_related("conversation__customer").get(pk=event.flag_id)
    conversation = flag.conversation
    to = on_call_addresses()
    if not to:
        return
    customer = conversation.customer
    link = settings.BASE_URL + reverse("conversation", args=[conversation.number])
    arrived = timezone.localtime(flag.created_at)
    text = (
        f"Conversation #{conversation.number} looks like a security report ({flag.reason}).\n\n"
        f"From: {customer.name} <{customer.primary_email}>\n"
        f"Subject: {conversation.subject}\n"
        f"Arrived: {arrived:%a %b %-d, %H:%M %Z}\n\n"
        f"Open it (sign-in needed): {link}\n\n"
        "It is hidden from light agents. The report's text is not in this email on purpose.\n"
    )
    notice_enqueue(
        to=to,
        subject=f"[Security report] #{conversation.number}: {conversation.subject}"[:300],
        text=text,
        headers={"Importance": "high", "X-Priority": "1"},
        kind="status-security",
        dedupe_key=f"status-security:{conversation.pk}",
    )


def escalations_missing_send(*, within: timedelta = timedelta(days=1)) -> int:
    """Tell on-call of every recent active flag they were not told of (the receiver did not run: the
    process ended between the commit and the dispatch). Returns how many it sent."""
    from happydesk.mail.models import OutboundMail

    sent = 0
    for flag in SecurityFlag.objects.filter(active=True, created_at__gte=timezone.now() - within):
        if not OutboundMail.objects.filter(dedupe_key=f"status-security:{flag.conversation_id}").exists():
            security_escalate(events.SecurityFlagged(conversation_id=flag.conversation_id, flag_id=flag.pk))
            sent += 1
    return sent
