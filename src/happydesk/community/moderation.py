"""Spam heuristics and posting limits for the community: pure functions, no database, no outside services.

A post that trips a heuristic is not refused: it is held for an agent, who sees the reason in the
moderation queue. Limits that protect the site (posts per hour) refuse outright, with a message.
Agents' posts are never checked.
"""

from __future__ import annotations

import re

from django.conf import settings

DEFAULT_POSTS_PER_HOUR = 6
DEFAULT_MAX_LINKS = 2

# Words that are almost never in a real question about the product. Matched as whole words.
SPAM_WORDS = (
    "casino",
    "viagra",
    "cialis",
    "porn",
    "escort",
    "payday loan",
    "loan offer",
    "forex signals",
    "crypto giveaway",
    "bitcoin doubler",
    "seo services",
    "backlinks",
    "replica watches",
    "weight loss pills",
    "work from home and earn",
)
_SPAM = re.compile(r"\b(" + "|".join(re.escape(w) for w in SPAM_WORDS) + r")\b", re.IGNORECASE)
_LINK = re.compile(r"(?:https?://|www\.)[^\s)\]>]+", re.IGNORECASE)


def posts_per_hour() -> int:
    """The most posts (topics and answers together) one customer may write in an hour."""
    return int(getattr(settings, "HAPPYDESK_COMMUNITY_POSTS_PER_HOUR", DEFAULT_POSTS_PER_HOUR))


def max_links() -> int:
    """More links than this in one post hold it for a moderator."""
    return int(getattr(settings, "HAPPYDESK_COMMUNITY_MAX_LINKS", DEFAULT_MAX_LINKS))


def count_links(text: str) -> int:
    """Web addresses in the text, bare or as Markdown links (each address once per occurrence)."""
    return len(_LINK.findall(text or ""))


def hold_reasons(text: str, *, first_post: bool = False) -> list[str]:
    """Why this text should wait for a moderator; empty when it can go live at once."""
    reasons: list[str] = []
    links = count_links(text)
    limit = max_links()
    if links > limit:
        reasons.append(f"{links} links (more than {limit})")
    elif links and first_post:
        reasons.append("a link in the author's first post")
    words = sorted({m.group(1).lower() for m in _SPAM.finditer(text or "")})
    if words:
        reasons.append("spam words: " + ", ".join(f"“{w}”" for w in words))
    letters = [c for c in text or "" if c.isalpha()]
    if len(letters) >= 30 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        reasons.append("mostly capital letters")
    return reasons


def normalise(text: str) -> str:
    """The text with case and spacing folded, to spot the same post written twice."""
    return " ".join((text or "").lower().split())
