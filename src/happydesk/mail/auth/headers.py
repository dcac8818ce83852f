"""Believing a trusted server's Authentication-Results header (RFC 8601), and nothing else.

Receiving servers prepend their header, so for mail that came through a server we trust the topmost
header carrying that server's authserv-id is its own; every other one (and anything below it) may have
been written by the sender. A trusted server must strip incoming headers with its own authserv-id
(RFC 8601 section 5); that is the one assumption this rests on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import authres
import authres.core

from .message import domain_of, from_domain, header_values, headers_too_large
from .results import AuthVerdict

__all__ = ["ParsedResults", "parse_results", "verdict_from_headers"]

MAX_HEADERS = 50  # Authentication-Results headers looked at, from the top
MAX_VALUE = 8000  # characters of one header parsed; longer ones are refused
_AUTHSERV_RE = re.compile(r"\s*(?:\([^()]*\)\s*)*([^\s;()]+)")
_HEADER_FROM_RE = re.compile(r"\bheader\.from\s*=", re.IGNORECASE)
_POLICY_RE = re.compile(r"\bp\s*=\s*(none|quarantine|reject)\b", re.IGNORECASE)
_DMARC_COMMENT_RE = re.compile(r"\bdmarc\s*=\s*[a-z]+\s*\(([^()]*)\)", re.IGNORECASE)


@dataclass
class ParsedResults:
    """The parts of one Authentication-Results (or ARC-Authentication-Results) value we act on."""

    authserv_id: str
    dmarc: list[str] = field(default_factory=list)
    header_from: list[str] = field(default_factory=list)  # header.from of the dmarc results
    policy: str = ""
    spf: str = ""
    dkim: list[tuple[str, str]] = field(default_factory=list)  # (result, header.d)
    arc: str = ""


def unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", "")


def authserv_id_of(value: str) -> str:
    """The authserv-id an A-R value starts with (lowercased), read cheaply before a full parse."""
    match = _AUTHSERV_RE.match(value[:2000])
    return match.group(1).lower().rstrip(".") if match else ""


def _prop(result: object, ptype: str, name: str) -> str | None:
    """The value of the ptype.name property (None when absent; "" when present but empty)."""
    for prop in getattr(result, "properties", None) or ():
        if str(prop.type).lower() == ptype and str(prop.name).lower() == name:
            return str(prop.value or "")
    return None


def parse_results(value: str) -> ParsedResults:
    """Parse an RFC 8601 header value with authres; raises ValueError when it is not one."""
    value = unfold(value).strip()
    if len(value) > MAX_VALUE:
        raise ValueError(f"Authentication-Results over {MAX_VALUE} characters")
    try:
        header = authres.all_features().parse_value(value)
    except (authres.core.AuthResError, IndexError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"unparseable Authentication-Results ({type(exc).__name__})") from exc
    out = ParsedResults(authserv_id=str(header.authserv_id or "").lower().rstrip("."))
    seen_from = 0
    for result in header.results:
        seen_from += _prop(result, "header", "from") is not None
        method = str(getattr(result, "method", "") or "").lower()
        outcome = str(getattr(result, "result", "") or "").lower()
        if method == "dmarc":
            out.dmarc.append(outcome)
            hfrom = _prop(result, "header", "from")
            if hfrom is not None:  # present but empty or odd: kept, so it can never match a From
                out.header_from.append(domain_of(hfrom) or hfrom.lower() or "(empty)")
            policy = (_prop(result, "policy", "dmarc") or "").lower()
            # Many servers say it in a comment, "dmarc=fail (p=reject ...)", which authres drops.
            if not policy:
                comment = _DMARC_COMMENT_RE.search(value)
                match = _POLICY_RE.search(comment.group(1)) if comment else None
                policy = match.group(1).lower() if match else ""
            out.policy = out.policy or policy
        elif method == "spf" and not out.spf:
            out.spf = outcome
        elif method == "dkim":
            out.dkim.append((outcome, (_prop(result, "header", "d") or "").lower()))
        elif method == "arc" and not out.arc:
            out.arc = outcome
    if len(_HEADER_FROM_RE.findall(value)) > seen_from:
        # authres silently drops a property it cannot read; a header.from we cannot see is not absent.
        raise ValueError("a header.from property could not be read")
    return out


def dmarc_claim(parsed: ParsedResults, domain: str) -> tuple[bool, str, str]:
    """(passes, dmarc result, reason) for what a parsed header says about the From domain."""
    if not parsed.dmarc:
        return False, "none", f"{parsed.authserv_id} gave no DMARC result"
    failing = [r for r in parsed.dmarc if r != "pass"]
    if failing:
        policy = f", p={parsed.policy}" if parsed.policy else ""
        return False, failing[0], f"DMARC {failing[0]} for {domain} (per {parsed.authserv_id}{policy})"
    if not parsed.header_from:
        # A pass "for the message" without saying for which From proves nothing about this one.
        return False, "pass", f"{parsed.authserv_id} says DMARC pass but not for which From (no header.from)"
    wrong = [d for d in parsed.header_from if d != domain]
    if wrong:
        return (
            False,
            "pass",
            f"{parsed.authserv_id} says DMARC pass for {wrong[0]}, but the message is From {domain}",
        )
    return True, "pass", ""


def summarize(parsed: ParsedResults) -> str:
    parts = [f"spf={parsed.spf}"] if parsed.spf else []
    if parsed.dkim:
        passed = sorted({d for r, d in parsed.dkim if r == "pass" and d})
        result = "pass" if any(r == "pass" for r, _ in parsed.dkim) else parsed.dkim[0][0]
        parts.append(f"dkim={result}" + (f" ({', '.join(passed)})" if passed else ""))
    if parsed.dmarc:
        parts.append(f"dmarc={parsed.dmarc[0] if len(set(parsed.dmarc)) == 1 else ','.join(parsed.dmarc)}")
    if parsed.arc:
        parts.append(f"arc={parsed.arc}")
    return " ".join(parts) + f" (per {parsed.authserv_id})"


def verdict_from_headers(data: bytes, *, trusted_ids: Iterable[str]) -> AuthVerdict:
    """For mail that reached us through another server: believe only the topmost Authentication-Results
    whose authserv-id is trusted; verified only when it says dmarc=pass for the message's From domain."""
    try:
        return _verdict_from_headers(data, trusted_ids)
    except Exception as exc:  # hostile input must never break processing
        return AuthVerdict.unverified(reason=f"could not read the message headers ({type(exc).__name__})")


def _verdict_from_headers(data: bytes, trusted_ids: Iterable[str]) -> AuthVerdict:
    trusted = {t.strip().lower().rstrip(".") for t in trusted_ids if t and t.strip()}
    too_large = headers_too_large(bytes(data))
    if too_large:
        return AuthVerdict.unverified(reason=f"sender not checked: {too_large}")
    hdrs = header_values(bytes(data))
    domain, problem = from_domain(hdrs.get("from", []))
    none = "no Authentication-Results from a server we trust"
    chosen = next(
        (
            v
            for v in hdrs.get("authentication-results", [])[:MAX_HEADERS]
            if authserv_id_of(unfold(v)) in trusted
        ),
        None,
    )
    if chosen is None:
        return AuthVerdict.unverified(reason=none, from_domain=domain)
    authserv = authserv_id_of(unfold(chosen))
    source = f"header:{authserv}"
    try:
        parsed = parse_results(chosen)
    except ValueError as exc:
        return AuthVerdict.unverified(
            reason=f"the Authentication-Results of {authserv} could not be read: {exc}",
            source=source,
            from_domain=domain,
        )
    if parsed.authserv_id != authserv:
        return AuthVerdict.unverified(
            reason=f"the Authentication-Results of {authserv} could not be read unambiguously",
            source=source,
            from_domain=domain,
        )
    dkim = "pass" if any(r == "pass" for r, _ in parsed.dkim) else (parsed.dkim[0][0] if parsed.dkim else "")
    passes, dmarc, reason = dmarc_claim(parsed, domain or "?")
    if problem:
        passes, reason = False, problem
    return AuthVerdict(
        verified=passes,
        from_domain=domain,
        spf=parsed.spf,
        dkim=dkim,
        dmarc=dmarc,
        policy=parsed.policy,
        arc=parsed.arc,
        source=source,
        summary=summarize(parsed),
        reason=reason,
        dkim_domains=tuple(sorted({d for r, d in parsed.dkim if r == "pass" and d})),
    )
