"""Turn one customer's answer into text anyone may read: no names, addresses or phone numbers.

Pure functions (no database), so the rules are tested on plain strings. The agent still reads the draft
before publishing; this removes what is certainly personal, not everything that might be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits with the usual phone separators; checked below for 7-15 digits so versions, amounts,
# order numbers and dates stay.
PHONE = re.compile(r"(?<![\w.])(?:\+|00)?\(?\d[\d ().\-/]{5,}\d(?![\w])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)(?:\s+[\w'’.-]+){0,3}\s*[,!:]?\s*$",
    re.IGNORECASE,
)
CLOSING = re.compile(
    r"^\s*(?:best|cheers|thanks|thank you|thanks again|many thanks|kind regards|regards|best regards|"
    r"warm regards|all the best|best wishes|talk soon|have a (?:great|good|nice) (?:day|week|weekend))"
    r"(?: again| so much| a lot| and best)?[,!.]?\s*$",
    re.IGNORECASE,
)
SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|sv)\s*:\s*)+", re.IGNORECASE)
SUBJECT_REF = re.compile(r"\s*\[#\d+\]\s*")

EMAIL_WORDS = "your email address"
PHONE_WORDS = "your phone number"


@dataclass(frozen=True)
class Person:
    """What we know identifies the customer (and the agent, whose sign-off goes too)."""

    name: str = ""
    emails: tuple[str, ...] = ()
    company: str = ""
    agent_names: tuple[str, ...] = field(default_factory=tuple)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15 or ISO_DATE.fullmatch(text.strip()):
        return text
    if "/" in text and not text.startswith("+"):  # 12/03/2025 and the like are dates
        return text
    return PHONE_WORDS


def _name_patterns(name: str) -> list[str]:
    parts = [p for p in re.split(r"\s+", name.strip()) if len(p) >= 2]
    full = " ".join(parts)
    out = [full] if len(parts) > 1 else []
    return out + [p for p in parts if p[:1].isupper()]


def _replace_name(text: str, name: str) -> str:
    """Address the reader instead of the customer: "Casey's account" -> "your account"."""
    for part in _name_patterns(name):
        word = re.escape(part)
        text = re.sub(rf",\s*{word}\s*([!.?])", r"\1", text)  # "Thanks, Casey!" -> "Thanks!"
        text = re.sub(rf"(^|\n)\s*{word},\s*", r"\1", text)  # "Casey, try this" -> "try this"
        text = re.sub(rf"\b{word}['’]s\b", "your", text)
        text = re.sub(rf"\b{word}\b", "you", text)
    return text


def _trim_greeting_and_signoff(lines: list[str], agent_names: Iterable[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and GREETING.match(lines[0]):
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    names = {n.strip().lower() for n in agent_names if n.strip()}
    if lines and (lines[-1].strip().lower() in names or len(lines[-1].split()) <= 3) and len(lines) >= 2:
        if CLOSING.match(lines[-2]):
            lines = lines[:-2]
        elif lines[-1].strip().lower() in names:
            lines = lines[:-1]
    if lines and CLOSING.match(lines[-1]):
        lines = lines[:-1]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines


def redact(text: str, person: Person) -> str:
    """The text with greeting and sign-off removed and the customer's details replaced by neutral words."""
    lines = _trim_greeting_and_signoff(text.replace("\r\n", "\n").split("\n"), person.agent_names)
    return redact_details("\n".join(lines), person)


def redact_details(text: str, person: Person) -> str:
    """Email addresses, phone numbers, the customer's company and name replaced by neutral words."""
    out = text
    for address in sorted(person.emails, key=len, reverse=True):
        out = re.sub(re.escape(address), EMAIL_WORDS, out, flags=re.IGNORECASE)
    out = EMAIL.sub(EMAIL_WORDS, out)
    out = PHONE.sub(_phone, out)
    if person.company.strip():
        out = re.sub(rf"\b{re.escape(person.company.strip())}\b", "your company", out)
    if person.name.strip():
        out = _replace_name(out, person.name)
    return out.strip()


def clean_subject(subject: str, person: Person) -> str:
    """A title from a conversation subject: no "Re:", no [#123], no customer details."""
    title = SUBJECT_REF.sub(" ", SUBJECT_PREFIX.sub("", subject or "")).strip()
    title = redact_details(title, person)
    return title[:1].upper() + title[1:]
