"""Security reports: recognise them (the contact form's topic, or words a reporter uses), flag the
conversation, and escalate it to the on-call list at once, at any hour, once.

A flagged conversation is hidden from light agents by `inbox.access.conversations_for_agent` (lists,
search, the conversation page and the API all fetch through it), never matched or linked by the incident
plan, and never counted by the early warning.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation
from happydesk.mail.outbound import notice_enqueue
from happydesk.status.models import IncidentSettings, SecurityFlag

# Words and phrases people use when they report a vulnerability, each with the name shown to agents.
# Deliberately specific: "security" alone ("security settings") or "password" would flag half the inbox.
SECURITY_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), name)
    for pattern, name in (
        (r"\bvulnerabilit(?:y|ies)\b|\bvulnerable to\b", "vulnerability"),
        (r"\bexploit(?:s|ed|able|ing)?\b", "exploit"),
        (r"\bxss\b|\bcross[- ]site scripting\b", "XSS"),
        (r"\bsql[- ]?injection\b|\bsqli\b", "SQL injection"),
        (r"\bcsrf\b|\bcross[- ]site request forgery\b", "CSRF"),
        (r"\bssrf\b|\bserver[- ]side request forgery\b", "SSRF"),
        (r"\bcve-\d{4}-\d{4,}\b|\bcve\b", "CVE"),
        (
            r"\bsecurity (?:issue|hole|flaw|bug|problem|vulnerability|report|incident|breach|concern)s?\b",
            "security issue",
        ),
        (r"\b(?:data|security) breach(?:es)?\b|\bbreached\b|\bdata leak\b", "data breach"),
        (r"\bremote code execution\b|\brce\b", "remote code execution"),
        (r"\bprivilege escalation\b", "privilege escalation"),
        (r"\baccount takeover\b|\b(?:was|been|got|were) hacked\b", "account takeover"),
        (
            r"\bauthentication bypass\b|\bbypass(?:es|ed)? (?:the )?(?:authentication|login|2fa)\b",
            "auth bypass",
        ),
        (r"\bidor\b|\binsecure direct object reference", "IDOR"),
        (r"\b(?:responsible|coordinated) disclosure\b|\bbug bounty\b", "disclosure"),
    )
)
SECURITY_TOPIC = re.compile(r"security|vulnerab|exploit", re.IGNORECASE)


def security_words(text: str) -> list[str]:
    """The names of the security patterns found in the text, in pattern order."""
    return [name for pattern, name in SECURITY_PATTERNS if pattern.search(text)]


def security_reason(*, subject: str, text: str, topic: str = "") -> str | None:
    """Why this reads as a security report, or None. Pure: no database."""
    if topic and SECURITY_TOPIC.search(topic):
        return f"contact form topic “{topic[:80]}”"
    found = security_words(f"{subject}\n{text}")
    if found:
        return "mentions " + ", ".join(found)
    return None


def on_call_addresses() -> list[str]:
    """Who is told about security reports: the on-call list, or every active admin when it is empty."""
    addresses = [a for a in IncidentSettings.current().on_call if a]
    if addresses:
        return addresses
    admins = User.objects.filter(Q(role=User.Role.ADMIN) | Q(is_superuser=True), is_active=True)
    return sorted(set(admins.values_list("email", flat=True)))


@transaction.atomic(savepoint=False)
def security_check(*, conversation: Conversation, subject: str, text: str) -> SecurityFlag | None:
    """Flag the conversation when this customer message (or its form topic) reports a security problem."""
    reason = security_reason(subject=subject, text=text, topic=conversation.topic)
    if reason is None:
        return None
    return security_flag_set(conversation=conversation, reason=reason)


@transaction.atomic
def security_flag_set(*, conversation: Conversation, reason: str, actor: User | None = None) -> SecurityFlag:
    """Flag a conversation as a security report and escalate it to on-call, once per conversation.
    A flag an agent cleared (a false alarm) stays cleared; flagging by hand sets it again."""
    flag, created = SecurityFlag.objects.get_or_create(
        conversation=conversation, defaults={"reason": reason[:300]}
    )
    if not created:
        if actor is not None and not flag.active:
            flag.active, flag.cleared_at, flag.cleared_by = True, None, None
            flag.reason = reason[:300]
            flag.save(update_fields=["active", "cleared_at", "cleared_by", "reason"])
        return flag
    _escalate(conversation, flag)
    return flag


def _escalate(conversation: Conversation, flag: SecurityFlag) -> None:
    """Email on-call now (nights and weekends too). The report itself is left out on purpose: it may
    describe a working attack, and the link needs a sign-in."""
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


@transaction.atomic
def security_flag_clear(*, flag: SecurityFlag, actor: User) -> SecurityFlag:
    """A false alarm: light agents may see the conversation again; the record of the flag is kept."""
    flag.active, flag.cleared_at, flag.cleared_by = False, timezone.now(), actor
    flag.save(update_fields=["active", "cleared_at", "cleared_by"])
    return flag
