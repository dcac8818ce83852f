"""Turn one agent's reply into text anyone may read: what is personal is replaced, exactly, and listed.

Pure functions (no database), so the rules are tested on plain strings. `redaction()` finds each personal
item (a known name, an email address, a phone, card or IBAN number, a street address, a token in a link)
as a span of the text with the placeholder that replaces it; the agent sees the list and may keep any
item as written (`Redaction.text(keep=...)`). Only what is known or matched with confidence goes:
names come from the conversation (the customer, the names they signed with, the agents), never from
"any capitalised word"; numbers are phones only when shaped like phones, so invoice and order numbers,
dates, versions, prices and IP-like strings stay.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

CUSTOMER_NAME = "[customer name]"
AGENT_NAME = "[agent name]"
COMPANY = "[company name]"
EMAIL_WORDS = "[email address]"
PHONE_WORDS = "[phone number]"
CARD_WORDS = "[card number]"
IBAN_WORDS = "[IBAN]"
STREET_WORDS = "[street address]"
TOKEN_WORDS = "[token]"  # noqa: S105 - the placeholder that replaces a secret, not one

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"https?://[^\s<>\"'()\[\]]+")
# Query parameters whose values open a door: sign-in and reset links, API keys, sessions, signatures.
SECRET_PARAM = re.compile(
    r"[?&](?:token|access_token|refresh_token|id_token|auth|key|api_key|apikey|session|session_id|sessionid|"
    r"sid|sig|signature|secret|password|reset_token|code)=([^&#\s]+)",
    re.IGNORECASE,
)
# Phone-shaped: an optional + or 00, then digits with the usual separators. Checked in _is_phone.
PHONE = re.compile(r"(?<![\w.,/#+:-])(?:\+|00)?\(?\d[\d ()./-]*\d(?![\w@]|[.,]\d|-\w)")
DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}")
NANP = re.compile(r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}")
FR_DOTTED = re.compile(r"0\d(?:\.\d\d){4}")
# Words just before a number that say it is a reference, not a phone ("order 0412 3345 88").
REFERENCE_BEFORE = re.compile(
    r"(?:order|invoice|ticket|case|ref|reference|tracking|account|customer|id|no\.?|nr\.?|n°|#|"
    r"bestellung|bestellnummer|rechnung|rechnungsnummer|sendungsnummer|kundennummer|auftrag|"
    r"commande|facture|suivi|dossier)\s*[:#]?\s*$",
    re.IGNORECASE,
)
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
CARD_GROUPED = re.compile(r"\d{4}(?:[ -]\d{4}){2}[ -]\d{1,7}|\d{4}[ -]\d{6}[ -]\d{5}")
CARD_CONTEXT = re.compile(r"(?:card|visa|mastercard|amex|karte|carte|cb)\b[^.\n]{0,40}$", re.IGNORECASE)
# Documented test cards of the payment providers: an article about the sandbox keeps them.
TEST_CARDS = frozenset(
    {
        "4242424242424242",
        "4111111111111111",
        "4000056655665556",
        "5555555555554444",
        "5105105105105100",
        "378282246310005",
        "371449635398431",
        "6011111111111117",
        "4012888888881881",
        "4000000000000002",
    }
)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")

_CAP = r"[A-ZÄÖÜÀÂÉÈÊÎÔÛÇ][\w'’-]*"
_EN_SUFFIX = (
    r"(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Boulevard|Blvd\.?|Terrace|Way|Court|"
    r"Ct\.?|Place|Crescent|Square|Gardens|Parkway|Highway)"
)
_US_STATE_ZIP = r"(?:,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)"
_UK_POSTCODE = r"(?:,?\s+[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})"
_CITY_WORD = r"[A-ZÄÖÜÀÂÉÈÊÎÔÛÇ][a-zäöüßàâéèêîôûçë'’-]+"
_CITY = rf"(?:,\s*{_CITY_WORD}(?:\s{_CITY_WORD})?)"
STREET = re.compile(
    # 742 Evergreen Terrace, Springfield, OR 97403 / 10 Downing Street, London SW1A 2AA
    rf"\b\d{{1,5}}[A-Za-z]?\s+(?:{_CAP}\s+){{1,3}}{_EN_SUFFIX}(?![\w])"
    rf"(?:,\s*(?:Apt|Suite|Unit|Flat)\.?\s*\w+)?(?:{_CITY}(?:{_US_STATE_ZIP}|{_UK_POSTCODE})?)?"
    # Lindenstraße 14, 10969 Berlin / Berliner Straße 5a
    r"|\b(?:[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer)"
    r"|[A-ZÄÖÜ][\wäöüß]+\s(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm))"
    r"\s\d{1,4}\s?[a-z]?\b(?:,\s*\d{5}\s[A-ZÄÖÜ][\wäöüß-]+)?"
    # 18 rue des Lilas, 69003 Lyon
    r"|\b\d{1,4}(?:\s?(?:bis|ter))?,?\s(?:rue|avenue|av\.|boulevard|bd|place|allée|impasse|chemin|quai|"
    r"route|cours)\s(?:(?:de la|de l['’]|du|des|de|d['’]|la|le|les)\s?)?"
    rf"{_CAP}(?:\s{_CAP})*(?:,\s*\d{{5}}\s{_CAP})?"
)
TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Madame|Monsieur|M)\.?"
GREETING_WORD = (
    r"(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings|hallo|guten (?:tag|morgen|abend)|"
    r"liebe[rs]?|sehr geehrte[rs]?|moin|servus|bonjour|bonsoir|salut|cher|chère|coucou)"
)
GREETING = re.compile(rf"^\s*{GREETING_WORD}(?:\s+[\w'’.-]+){{0,3}}\s*[,!:]?\s*$", re.IGNORECASE)
GREETING_BEFORE = re.compile(rf"(?:^|\n)[ \t]*{GREETING_WORD}(?:[ \t]+{TITLES})?[ \t]+$", re.IGNORECASE)
CLOSING = re.compile(
    r"^\s*[—–-]?\s*(?:best|cheers|thanks|thank you|thanks again|many thanks|kind regards|regards|best regards|"
    r"warm regards|all the best|best wishes|talk soon|speak soon|have a (?:great|good|nice) (?:day|week|weekend)|"
    r"viele grüße|beste grüße|liebe grüße|schöne grüße|freundliche grüße|mit freundlichen grüßen|"
    r"mit besten grüßen|gruß|danke|vielen dank|cordialement|bien cordialement|bien à vous|bonne journée|"
    r"bonne soirée|à bientôt|merci|merci beaucoup)"
    r"(?: again| so much| a lot| and best)?\s*[,!.]?\s*$",
    re.IGNORECASE,
)
# A UI label the agent quotes ("click **Mark as paid**"): a first name inside one is the label's word.
LABEL = re.compile(r"\*\*[^*\n]+\*\*|`[^`\n]+`|“[^”\n]+”|\"[^\"\n]+\"|«[^»\n]+»|‘[^’\n]+’")
SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|sv|tr|wg)\s*:\s*)+", re.IGNORECASE)
SUBJECT_REF = re.compile(r"\s*\[#\d+\]\s*")


@dataclass(frozen=True)
class Person:
    """What the conversation knows identifies people in it: the customer (their name, the names they
    signed with, addresses, company), the agents who wrote, and our own mail domains (which stay)."""

    name: str = ""
    emails: tuple[str, ...] = ()
    company: str = ""
    agent_names: tuple[str, ...] = field(default_factory=tuple)
    other_names: tuple[str, ...] = ()
    own_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Replacement:
    """One personal item found at text[start:end]; `original` is the personal value itself (for the
    list), `placeholder` what the span becomes ("" when the words read better without it: "Hi Emma,")."""

    start: int
    end: int
    original: str
    placeholder: str
    kind: str


@dataclass(frozen=True)
class Item:
    """One distinct personal value as the agent sees it in the list, with how often it occurs."""

    key: str
    original: str
    placeholder: str
    kind: str
    count: int


@dataclass(frozen=True)
class Redaction:
    """A reply (greeting and sign-off already trimmed) and every replacement found in it."""

    source: str
    replacements: tuple[Replacement, ...]

    @staticmethod
    def key_of(original: str) -> str:
        """An item's key in the review form: from its value, not its position, so an item that appears
        between opening the page and saving it (the thread changed) cannot take another item's key."""
        return hashlib.sha256(original.encode()).hexdigest()[:16]

    def items(self) -> list[Item]:
        """The distinct personal values, in the order they first appear."""
        grouped: dict[str, list[Replacement]] = {}
        for r in self.replacements:
            grouped.setdefault(r.original, []).append(r)
        out = []
        for original, group in grouped.items():
            shown = next((r.placeholder for r in group if r.placeholder), "")
            out.append(Item(self.key_of(original), original, shown, group[0].kind, len(group)))
        return out

    def _segments(self, keep: Collection[str]) -> Iterator[tuple[str, str]]:
        """The text in pieces: ("", plain), ("redacted", placeholder) or ("kept", original)."""
        pos = 0
        for r in self.replacements:
            yield "", self.source[pos : r.start]
            if self.key_of(r.original) in keep:
                yield "kept", self.source[r.start : r.end]
            else:
                yield "redacted", r.placeholder
            pos = r.end
        yield "", self.source[pos:]

    def text(self, keep: Collection[str] = ()) -> str:
        """The redacted text; items whose key is in `keep` stay as written."""
        return "".join(piece for _, piece in self._segments(keep)).strip()

    def preview_html(self, keep: Collection[str] = ()) -> SafeString:
        """The text as escaped HTML with each replacement marked, for the agent to check before saving."""
        parts = []
        for kind, piece in self._segments(keep):
            if kind == "redacted" and piece:
                parts.append(f'<mark class="kb-redacted">{escape(piece)}</mark>')
            elif kind == "kept":
                parts.append(f'<mark class="kb-kept">{escape(piece)}</mark>')
            else:
                parts.append(str(escape(piece)))
        return mark_safe("".join(parts).strip())  # noqa: S308 - every piece is escaped above


# --- finding ---------------------------------------------------------------------------------------------


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_valid(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _is_phone(text: str, before: str) -> bool:
    """A phone by its shape: international (+, 00), a trunk 0 with 9+ digits, (415) 555-0132, or French
    dotted pairs. Dates, versions, IP-like strings and numbers after "order"/"invoice" are not."""
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15 or DATE.fullmatch(text):
        return False
    international = text.startswith("+") or re.match(r"00[1-9]", text) is not None
    if not international and REFERENCE_BEFORE.search(before):
        return False
    separators = set(re.sub(r"[\d]", "", text))
    if separators <= {"."}:  # 10.0.3.17, 22631.3155, 03.03.2026: dotted numbers are versions and dates
        return FR_DOTTED.fullmatch(text) is not None
    if "/" in separators and not international and not text.startswith("0"):  # 12/03/2026, 3/4
        return False
    if international or NANP.fullmatch(text):
        return True
    return text.startswith(("0", "(0")) and len(digits) >= 9


def _emails(text: str, person: Person) -> Iterator[tuple[int, int, str, str]]:
    own = tuple(d.lower() for d in person.own_domains)
    known = {e.lower() for e in person.emails}
    for m in EMAIL.finditer(text):
        address = m.group(0).lower()
        domain = address.rsplit("@", 1)[1]
        if address not in known and any(domain == d or domain.endswith("." + d) for d in own):
            continue  # support@acme.test is ours: an article may tell readers to write to it
        yield m.start(), m.end(), m.group(0), "email"


def _tokens(text: str) -> Iterator[tuple[int, int, str, str]]:
    for url in URL.finditer(text):
        for m in SECRET_PARAM.finditer(url.group(0)):
            value = m.group(1).rstrip(".,;:!?")
            if value:
                start = url.start() + m.start(1)
                yield start, start + len(value), value, "token"


def _numbers(text: str) -> Iterator[tuple[int, int, str, str]]:
    for m in IBAN.finditer(text):
        if _iban_valid(m.group(0)):
            yield m.start(), m.end(), m.group(0), "iban"
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if not 13 <= len(digits) <= 19 or digits in TEST_CARDS or not _luhn(digits):
            continue
        if CARD_GROUPED.fullmatch(m.group(0)) or CARD_CONTEXT.search(text[: m.start()]):
            yield m.start(), m.end(), m.group(0), "card"
    for m in STREET.finditer(text):
        yield m.start(), m.end(), m.group(0), "street"
    for m in PHONE.finditer(text):
        candidate = m.group(0)
        start = m.start()
        if candidate.startswith("(") and ")" not in candidate:
            candidate, start = candidate[1:], start + 1
        if _is_phone(candidate, text[max(0, start - 30) : start]):
            yield start, start + len(candidate), candidate, "phone"


def _name_forms(names: Iterable[str]) -> list[str]:
    """Full names, then each part that reads as a name (capitalised, not an initial or a title)."""
    full: list[str] = []
    parts: list[str] = []
    for name in names:
        words = [w for w in re.split(r"\s+", name.strip()) if w]
        if not words or "@" in name:
            continue
        if len(words) > 1:
            full.append(" ".join(words))
        for w in words:
            w = w.strip(",;()")
            if len(w) >= 2 and w[:1].isupper() and not w.endswith(".") and not re.fullmatch(TITLES, w):
                parts.append(w)
    return full + parts


def _names(text: str, forms: list[str], kind: str) -> Iterator[tuple[int, int, str, str, bool]]:
    labels = [m.span() for m in LABEL.finditer(text)]
    for form in sorted(set(forms), key=len, reverse=True):
        variants = {form, form.upper()}
        for variant in variants:
            word = re.sub(r"['’]", "['’]", re.escape(variant))
            pattern = rf"(?<![\w@.'’-])(?:{TITLES}\s+)?{word}(?![\w@-]|\.\w|['’](?!s\b))"
            for m in re.finditer(pattern, text):
                single = " " not in form
                if single and any(a <= m.start() and m.end() <= b for a, b in labels):
                    continue  # **Mark as paid** is a button, not Mark
                yield m.start(), m.end(), form, kind, single


def _name_replacement(text: str, start: int, end: int, form: str, kind: str) -> Replacement:
    """The name's placeholder, or nothing where the sentence reads better without it."""
    placeholder = CUSTOMER_NAME if kind == "customer" else AGENT_NAME
    after = text[end:]
    if GREETING_BEFORE.search(text[:start]) and re.match(r"\s*[,!:]", after):
        # "Hi Emma, thanks" -> "Hi, thanks"
        space = len(text[:start]) - len(text[:start].rstrip(" \t"))
        return Replacement(start - space, end, form, "", kind)
    if re.search(r",[ \t]*$", text[:start]) and re.match(r"[ \t]*(?:[.!?]|$)", after):
        # "Thanks for your patience, Ethan." -> "Thanks for your patience."
        lead = re.search(r",[ \t]*$", text[:start])
        assert lead is not None
        return Replacement(lead.start(), end, form, "", kind)
    return Replacement(start, end, form, placeholder, kind)


def find_replacements(text: str, person: Person) -> tuple[Replacement, ...]:
    """Every personal item in `text`, earliest first; where two overlap, the first rule to claim it wins
    (an address beats the name inside it, a street address the number in it)."""
    taken: list[Replacement] = []

    def free(start: int, end: int) -> bool:
        return all(end <= r.start or start >= r.end for r in taken)

    for start, end, original, kind in [*_tokens(text), *_emails(text, person), *_numbers(text)]:
        if free(start, end):
            placeholder = {
                "token": TOKEN_WORDS,
                "email": EMAIL_WORDS,
                "iban": IBAN_WORDS,
                "card": CARD_WORDS,
                "street": STREET_WORDS,
                "phone": PHONE_WORDS,
            }[kind]
            taken.append(Replacement(start, end, original, placeholder, kind))
    company = person.company.strip()
    if company:
        taken.extend(
            Replacement(m.start(), m.end(), company, COMPANY, "company")
            for m in re.finditer(rf"(?<![\w-]){re.escape(company)}(?![\w-])", text)
            if free(m.start(), m.end())
        )
    customer_forms = _name_forms([person.name, *person.other_names])
    agent_forms = [f for f in _name_forms(person.agent_names) if f not in customer_forms]
    found = [*_names(text, customer_forms, "customer"), *_names(text, agent_forms, "agent")]
    # Full names first, wherever they are, so "Kate Moore" is one item and not "Kate" and "Moore".
    for start, end, form, kind, _single in sorted(found, key=lambda f: (f[4], f[0])):
        if free(start, end):
            taken.append(_name_replacement(text, start, end, form, kind))
    taken.sort(key=lambda r: r.start)
    return _number_emails(taken)


def _number_emails(found: list[Replacement]) -> tuple[Replacement, ...]:
    """Two different addresses get [email address 1] and [email address 2], so "from one to the other"
    still reads; a single address stays [email address]."""
    order: dict[str, int] = {}
    for r in found:
        if r.kind == "email":
            order.setdefault(r.original.lower(), len(order) + 1)
    if len(order) < 2:
        return tuple(found)
    return tuple(
        Replacement(r.start, r.end, r.original, f"[email address {order[r.original.lower()]}]", r.kind)
        if r.kind == "email"
        else r
        for r in found
    )


# --- greeting and sign-off -------------------------------------------------------------------------------


def _short(line: str) -> bool:
    """A signature line: a name, a team, a title; not a sentence."""
    words = line.split()
    return 0 < len(words) <= 4 and not re.search(r"[.?:;]$", line.strip())


def _trim_greeting_and_signoff(lines: list[str], agent_names: Iterable[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and GREETING.match(lines[0]):
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    names = {n.strip().lower() for n in agent_names if n.strip()}
    tail = [i for i, line in enumerate(lines) if line.strip()][-4:]
    for n, i in enumerate(tail):
        if i > 0 and CLOSING.match(lines[i]) and all(_short(lines[j]) for j in tail[n + 1 :]):
            lines = lines[:i]  # "Best,\nSam" and "Kind regards,\nPriya Natarajan\nAcme Support"
            break
    else:
        if len(lines) >= 2 and lines[-1].strip().strip("—–- ").lower() in names:
            lines = lines[:-1]  # a lone "Sam" at the end
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines


def redaction(text: str, person: Person) -> Redaction:
    """The reply without greeting line and sign-off, with every personal item found in what is left."""
    lines = _trim_greeting_and_signoff(text.replace("\r\n", "\n").split("\n"), person.agent_names)
    source = "\n".join(lines)
    return Redaction(source=source, replacements=find_replacements(source, person))


def redact(text: str, person: Person) -> str:
    """The text with greeting and sign-off removed and every personal item replaced."""
    return redaction(text, person).text()


def redact_details(text: str, person: Person) -> str:
    """Personal items replaced; nothing trimmed (for a subject line)."""
    return Redaction(source=text, replacements=find_replacements(text, person)).text()


def clean_subject(subject: str, person: Person) -> str:
    """A title from a conversation subject: no "Re:", no [#123], no customer details."""
    title = SUBJECT_REF.sub(" ", SUBJECT_PREFIX.sub("", subject or "")).strip()
    title = redact_details(title, person)
    return title[:1].upper() + title[1:]
