"""Split a plain-text reply into the new text and the quoted history + signature.

Rules cover the classic reply headers (Gmail/Apple "On … wrote:" in many languages, Yahoo's and
Zoho's variants, Outlook "-----Original Message-----" and "From:/Sent:/To:/Subject:" blocks, GMX's
"Gesendet:/Von:" order), "> " quote blocks and signatures: "-- " blocks, mobile and webmail footers,
legal disclaimers, and the contact block under "Best regards, / Name". Forwarded mail is never treated
as history. Interleaved and bottom-posted replies fall back to the full text so that new text is never
lost. Measured on tests/fixtures/quality/quotes/ by quality/quotes.py.
"""

from __future__ import annotations

import re

import quotequail

__all__ = ["is_forward_subject", "split_reply"]

MAX_SCAN_LINES = 5000
MAX_INTRO_CHARS = 400

_SP = r"[\s\u00a0\u202f]?"
_INTRO_RES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^On\b.{3,350}\b(wrote|writes|said)" + _SP + r":$",
        r"^Am\b.{3,350}\b(schrieb|geschrieben)\b.{0,350}:$",
        r"^Le\b.{3,350}\ba" + _SP + r"écrit" + _SP + r":$",
        r"^El\b.{3,350}\bescribió" + _SP + r":$",
        r"^Em\b.{3,350}\bescreveu" + _SP + r":$",
        r"^Op\b.{3,350}\b(schreef|geschreven)\b.{0,200}:$",
        r"^Il\b.{3,350}\bha scritto" + _SP + r":$",
        r"^.{3,350}\bskrev\b.{0,200}:$",
        r"^.{3,350}\b(написал|написала|написал\(а\))" + _SP + r":$",
        r"^.{3,350}\bnapisał\(?a?\)?" + _SP + r":$",
        r"^\d{4}[/.-]\d{1,2}[/.-]\d{1,2}\b.{0,200}<[^<>\s]+@[^<>\s]+>" + _SP + r":?$",
        r"^在.{3,350}写道" + _SP + r"[:：]$",  # QQ Mail, Foxmail, Chinese Gmail
        r"^-{2,}" + _SP + r"On\b.{3,350}\bwrote" + _SP + r"-{2,}$",  # Zoho: "---- On … wrote ----"
    )
]
# Yahoo's mobile apps put the quoted text on the intro's own line: "On …, Name<a@b> wrote:   Hi …".
_INLINE_INTRO_RE = re.compile(r"^On\b.{3,300}<[^<>\s]+@[^<>\s]+>,?" + _SP + r"wrote:\s", re.IGNORECASE)
_INTRO_OPENERS = re.compile(r"^(On|Am|Le|El|Em|Op|Il|Den|\d{4}[/.-])\b", re.IGNORECASE)
_ORIGINAL_RE = re.compile(
    r"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Originalnachricht|Message d'origine|"
    r"Mensaje original|Messaggio originale|Oorspronkelijk bericht|Mensagem original|"
    r"Ursprungligt meddelande|Opprinnelig melding|Oprindelig meddelelse)\s*-*$",
    re.IGNORECASE,
)
_FORWARD_RE = re.compile(
    r"^(-{2,}\s*(Forwarded message|Weitergeleitete Nachricht|Message transféré|Mensaje reenviado|"
    r"Mensagem encaminhada|Messaggio inoltrato|Doorgestuurd bericht|Vidarebefordrat meddelande|"
    r"Videresendt melding|Пересылаемое сообщение)\s*-*|"
    r"(Begin forwarded message|Anfang der weitergeleiteten (E-Mail|Nachricht)|Début du message réexpédié|"
    r"Inicio del mensaje reenviado|Início da mensagem reencaminhada|Inizio messaggio inoltrato)"
    + _SP
    + r":)$",
    re.IGNORECASE,
)
_UNDERSCORE_RE = re.compile(r"^_{10,}\s*$")
_HEADER_LINE_RE = re.compile(r"^\*?([^\W\d][\w .'\-]{0,24}?)\*?" + _SP + r":\*?\s*(.*)$")
_FROM_LABELS = {"from", "von", "de", "van", "da", "från", "fra", "od", "от", "kimden", "lähettäjä", "feladó"}
_OTHER_LABELS = {
    "sent", "date", "to", "subject", "cc", "bcc", "reply-to", "gesendet", "datum", "an", "betreff",
    "envoyé", "envoyé le", "date d'envoi", "à", "objet", "enviado", "enviado el", "para", "asunto",
    "fecha", "inviato", "a", "oggetto", "data", "verzonden", "aan", "onderwerp", "skickat", "till",
    "ämne", "sendt", "til", "emne", "cco", "kopie", "отправлено", "кому", "тема", "assunto",
    "gönderildi", "gönderilme tarihi", "kime", "konu", "tarih", "bilgi", "dátum", "wysłano", "do",
    "temat", "data wysłania", "lähetetty", "vastaanottaja", "aihe",
}  # fmt: skip
_SENT_LABELS = {"sent", "date", "gesendet", "datum", "envoyé", "enviado", "inviato", "verzonden", "sendt"}
_SIG_DELIM_RE = re.compile(r"^--[ \t]?$")
_MOBILE_SIG_RE = re.compile(
    r"^(Sent from my \S.{0,40}|Sent from (Mail|Outlook|Yahoo Mail|Samsung|my)\b.{0,40}|"
    r"Sent via \S.{0,40}|Get Outlook for (iOS|Android)|Von meinem \S.{0,30} gesendet|"
    r"Gesendet (von|mit|via) (meinem |der )?\S.{0,30}|Envoyé de mon \S.{0,30}|"
    r"Enviado desde mi \S.{0,30}|Enviado do meu \S.{0,30}|Inviato da(l mio)? \S.{0,30}|"
    r"(Verstuurd|Verzonden) (vanaf|met|via) (mijn )?\S.{0,30}|Skickat från min \S.{0,30}|"
    r"Sent with Proton ?Mail( \(\S{1,200}\))? secure email|"
    r"(Télécharger|Obtenir) Outlook pour (iOS|Android)|Outlook für (iOS|Android) herunterladen|"
    r"(Descargar|Obtener) Outlook para (iOS|Android)|Download Outlook voor (iOS|Android))"
    r"\.?(\s*<[^<>\s]{1,200}>|\s*\(https?://[^()\s]{1,200}\))?$",
    re.IGNORECASE,
)
# A legal disclaimer paragraph at the end of the new text is signature, not words for the agent.
_DISCLAIMER_RE = re.compile(
    r"^(\W{0,3}(confidentiality|disclaimer|legal notice|privileged|vertraulichkeit|haftungsausschluss|"
    r"avis de confidentialit|aviso de confidencialidad|avviso di riservatezza)\b|"
    r"this (e-?mail|message|communication)\b.{0,120}\b(confidential|privileged|intended solely|"
    r"intended only)\b|diese (e-?mail|nachricht)\b.{0,120}\bvertraulich)",
    re.IGNORECASE,
)
_SEPARATOR_RE = re.compile(r"^[-_=*~\s]{5,}$")
# Sign-offs after which a name and then a contact block (title, company, phone, web) may follow.
_SIGN_OFF_RE = re.compile(
    r"^(best|kind|warm|many thanks and|with)?\s*(regards|wishes)\b.{0,20}$|^(thanks|thank you|cheers|"
    r"best|sincerely|yours( truly| sincerely)?|mit freundlichen grüßen|(viele|beste|liebe) grüße|gruß|"
    r"cordialement|bien à vous|salutations|(un )?saludos?( cordiales)?|atentamente|met vriendelijke groet(en)?|"
    r"(hartelijke )?groet(en)?|cordiali saluti|distinti saluti|atenciosamente|abraços|venlig hilsen|"
    r"med vänliga hälsningar|hälsningar|pozdrawiam|saygılarımla)\b[\s,.!]*$",
    re.IGNORECASE,
)
_CONTACT_RE = re.compile(
    r"(\+?\d[\d ()./-]{6,}\d|\bwww\.|https?://|\S+@\S+\.\w+|\s\|\s|^(tel|phone|mobile|mob|fax|"
    r"direct|office|t|m|f)\b\.?\s*:?\s*\+?\d)",
    re.IGNORECASE,
)
_FORWARD_SUBJECT_RE = re.compile(r"^\s*(fwd?|fw|wg|tr|rv|vs|i|doorst|enc)\s*:", re.IGNORECASE)


def is_forward_subject(subject: str) -> bool:
    """True if the subject's first prefix marks a forward (Fwd:/FW:/WG:/TR:/RV:…)."""
    return bool(_FORWARD_SUBJECT_RE.match(subject or ""))


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _join(lines: list[str]) -> str:
    out = lines[0].strip()
    for line in lines[1:]:
        line = line.strip()
        out = out + line if out.endswith(("<", "(", "[", '"')) else f"{out} {line}"
    return out


def _match_intro(lines: list[str], i: int) -> int | None:
    """If an "On … wrote:" style intro starts at line i, return the index of its last line."""
    first = lines[i].strip()
    if not first or len(first) > MAX_INTRO_CHARS or _quoted(first):
        return None
    for span in (1, 2, 3):
        if span > 1 and (not _INTRO_OPENERS.match(first) or i + span > len(lines)):
            break
        chunk = lines[i : i + span]
        if span > 1 and not chunk[-1].strip():
            break
        candidate = _join(chunk)
        if len(candidate) > MAX_INTRO_CHARS:
            break
        if any(r.match(candidate) for r in _INTRO_RES):
            return i + span - 1
    return None


def _header_label(line: str) -> str | None:
    m = _HEADER_LINE_RE.match(line.strip())
    if not m or not m.group(2).strip():
        return None
    return m.group(1).strip().lower()


def _match_header_block(lines: list[str], i: int) -> bool:
    """An Outlook-style "From: … / Sent: … / To: … / Subject: …" block starts at line i.

    Most clients put From first; GMX and WEB.DE start with "Gesendet:" and name the sender second.
    """
    first = _header_label(lines[i])
    if first not in _FROM_LABELS and first not in _SENT_LABELS:
        return False
    seen: set[str] = set()
    has_from = first in _FROM_LABELS
    for line in lines[i + 1 : i + 10]:
        if not line.strip():
            if seen:
                break
            continue
        label = _header_label(line)
        if label in _FROM_LABELS and not has_from:
            has_from = True
        elif label in _OTHER_LABELS:
            seen.add(label)
    return has_from and len(seen | ({first} - _FROM_LABELS)) >= 2


def _signature_start(lines: list[str]) -> int | None:
    """Index where a trailing signature begins in `lines` (the new-text part), or None."""
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if len(nonblank) < 2:
        return None
    for k, i in enumerate(nonblank):
        if _SIG_DELIM_RE.match(lines[i]) and len(nonblank) - k - 1 <= 20:
            return i if k > 0 else None
    # Mobile signatures: a run of "Sent from my iPhone"-style lines at the very end.
    k = len(nonblank)
    while k > 0 and _MOBILE_SIG_RE.match(lines[nonblank[k - 1]].strip()):
        k -= 1
    if k == 0:
        return None
    if k < len(nonblank):
        inner = _signature_start(lines[: nonblank[k]])  # a disclaimer or contact block above it
        return inner if inner is not None else nonblank[k]
    return _disclaimer_start(lines, nonblank) or _contact_block_start(lines, nonblank)


def _disclaimer_start(lines: list[str], nonblank: list[int]) -> int | None:
    """Start of a trailing legal-disclaimer paragraph (at most 12 lines, after some new text)."""
    for k in range(max(1, len(nonblank) - 12), len(nonblank)):
        i = nonblank[k]
        if not lines[i - 1].strip() and _DISCLAIMER_RE.match(lines[i].strip()):
            return i
    return None


def _contact_block_start(lines: list[str], nonblank: list[int]) -> int | None:
    """Start of the contact block under "Best regards, / Name": title, company, phone, web address.

    The sign-off and the name stay in the new text (they are the customer's words); the block goes
    with the history only if it really looks like contact details (a phone number, a web or mail
    address, "a | b" separators), so a short closing sentence after a name is never taken.
    """
    tail_start = max(1, len(nonblank) - 10)
    for k in range(len(nonblank) - 3, tail_start - 1, -1):
        if not _SIGN_OFF_RE.match(lines[nonblank[k]].strip()):
            continue
        name = lines[nonblank[k + 1]].strip()
        block = [lines[i].strip() for i in nonblank[k + 2 :]]
        if len(block) > 7 or len(name) > 40 or len(name.split()) > 5 or _CONTACT_RE.search(name):
            return None
        if any(
            len(line) > 100
            or len(line.split()) > 10  # a sentence, not a title or an address
            or line.endswith("?")
            or line.lower().startswith(("p.s", "ps:", "ps "))
            or _header_label(line) in _FROM_LABELS | _OTHER_LABELS  # a forwarded header, not contacts
            for line in block
        ):
            return None
        if any(_CONTACT_RE.search(line) for line in block):
            return nonblank[k + 2]
        return None
    return None


def _tail_is_signature(lines: list[str]) -> bool:
    """True if the lines are blank or only a signature (used after the last quoted line)."""
    nonblank = [line for line in lines if line.strip()]
    if not nonblank:
        return True
    first = nonblank[0]
    return bool(_SIG_DELIM_RE.match(first) or _MOBILE_SIG_RE.match(first.strip())) and len(nonblank) <= 20


def _find_quote_start(lines: list[str], forward: bool) -> tuple[int, int, str] | None:
    """Return (start, end_of_intro, kind) of the quoted history, or None if there is none."""
    limit = min(len(lines), MAX_SCAN_LINES)
    quote_block_seen = False
    for i in range(limit):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            continue
        if _FORWARD_RE.match(stripped):
            return None
        end = _match_intro(lines, i)
        if end is not None:
            return i, end, "intro"
        if _INLINE_INTRO_RE.match(stripped):
            return i, i, "intro"
        if _ORIGINAL_RE.match(stripped):
            return i, i, "outlook"
        if not forward:
            if _UNDERSCORE_RE.match(stripped):
                following = [j for j in range(i + 1, min(i + 5, len(lines))) if lines[j].strip()]
                if following and _match_header_block(lines, following[0]):
                    return i, i, "outlook"
            if _match_header_block(lines, i):
                return i, i, "outlook"
        if _quoted(line) and not quote_block_seen:
            quote_block_seen = True
            rest = lines[i:]
            last_quoted = max(j for j, candidate in enumerate(rest) if _quoted(candidate))
            tail = rest[last_quoted + 1 :]
            interleaved = any(
                candidate.strip() and not _quoted(candidate) for candidate in rest[:last_quoted]
            )
            if interleaved or not _tail_is_signature(tail):
                continue  # inline answers: keep them, but still look for a history marker further down
            start = i
            prev = [j for j in range(max(0, i - 3), i) if lines[j].strip()]
            if prev:
                intro = lines[prev[-1]].strip()
                if (
                    intro.endswith((":", "："))
                    and len(intro) < 300
                    and ("@" in intro or re.search(r"\d", intro))
                ):
                    start = prev[-1]
            return start, start, "quote"
    return None


def _quotequail_split(text: str) -> int | None:
    """Second opinion from quotequail for reply intros our rules missed; returns the split line."""
    if len(text) > 50_000:
        return None
    text = "\n".join(text.split("\n", 500)[:500])  # reply intros sit near the top; bound the cost
    try:
        info = quotequail.unwrap(text)
        if not info or info.get("type") != "reply" or not info.get("text_top"):
            return None
        parts = quotequail.quote(text, quote_intro_line=True, limit=MAX_SCAN_LINES)
    except Exception:  # a third-party heuristic must never break parsing
        return None
    if len(parts) != 2:
        return None
    return parts[0][1].count("\n") + (1 if parts[0][1] else 0)


def split_reply(text: str, *, forward: bool = False) -> tuple[str, str]:
    """Return (new_text, quoted) for a plain-text body; new_text is never empty if text isn't."""
    if not text.strip():
        return text, ""
    lines = text.split("\n")
    found = _find_quote_start(lines, forward)
    if (
        found is None
        and not forward
        and not any(_FORWARD_RE.match(line.strip()) for line in lines[:MAX_SCAN_LINES])
    ):
        split_at = _quotequail_split(text)
        if split_at is not None and 0 < split_at < len(lines):
            found = (split_at, split_at, "quotequail")
    if found is not None:
        start, intro_end, kind = found
        if kind == "intro":
            rest = lines[intro_end + 1 :]
            quoted_idx = [j for j, line in enumerate(rest) if _quoted(line)]
            if quoted_idx:
                first_q = quoted_idx[0]
                between = rest[first_q : quoted_idx[-1] + 1]
                if any(line.strip() and not _quoted(line) for line in between) or not _tail_is_signature(
                    rest[quoted_idx[-1] + 1 :]
                ):
                    return text, ""  # interleaved or bottom-posted: keep everything
        new_lines, quoted_lines = lines[:start], lines[start:]
        # The rule Outlook and others draw above the header (an <hr> becomes a line of dashes).
        while new_lines and (not new_lines[-1].strip() or _SEPARATOR_RE.match(new_lines[-1])):
            quoted_lines.insert(0, new_lines.pop())
    else:
        new_lines, quoted_lines = lines, []
    if not "\n".join(new_lines).strip():
        return text, ""
    sig = None if any(_FORWARD_RE.match(line.strip()) for line in new_lines) else _signature_start(new_lines)
    if sig is not None:
        quoted_lines = new_lines[sig:] + quoted_lines
        new_lines = new_lines[:sig]
    new_text = "\n".join(new_lines).strip("\n").rstrip()
    quoted = "\n".join(quoted_lines).strip("\n").rstrip()
    if not new_text.strip():
        return text, ""
    return new_text, quoted
