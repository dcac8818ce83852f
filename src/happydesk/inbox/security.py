"""Security reports: recognise them (the contact form's topic, or words a reporter uses) and flag the
conversation in the same transaction that received the message, so no light agent can list it first.

A flagged conversation is hidden from light agents by `access.conversations_for_agent` (lists, search,
the conversation page and the API all fetch through it). Flagging announces `SecurityFlagged`; the
status app's receiver escalates it to the on-call list, once (status/security.py), and the incident plan
never links or counts a flagged conversation.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox import events
from happydesk.inbox.models import Conversation, SecurityFlag

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


@transaction.atomic(savepoint=False)
def security_check(*, conversation: Conversation, subject: str, text: str) -> SecurityFlag | None:
    """Flag the conversation when this customer message (or its form topic) reports a security problem."""
    reason = security_reason(subject=subject, text=text, topic=conversation.topic)
    if reason is None:
        return None
    return security_flag_set(conversation=conversation, reason=reason)


@transaction.atomic
def security_flag_set(*, conversation: Conversation, reason: str, actor: User | None = None) -> SecurityFlag:
    """Flag a conversation as a security report (on-call is told, once per conversation).
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
    events.announce(events.SecurityFlagged(conversation_id=conversation.pk, flag_id=flag.pk))
    return flag


@transaction.atomic
def security_flag_clear(*, flag: SecurityFlag, actor: User) -> SecurityFlag:
    """A false alarm: light agents may see the conversation again; the record of the flag is kept."""
    flag.active, flag.cleared_at, flag.cleared_by = False, timezone.now(), actor
    flag.save(update_fields=["active", "cleared_at", "cleared_by"])
    return flag
