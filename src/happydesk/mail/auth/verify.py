"""Our own check of mail that reached our SMTP listener: SPF, every DKIM signature, DMARC, ARC.

dkimpy verifies DKIM signatures and ARC chains, pyspf evaluates SPF; both look up DNS only through the
per-message `Lookups` (resolver.py). DMARC policy discovery and alignment are in dmarc.py.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dkim
import dkim.util
import dns.resolver
import spf

from . import dmarc as dmarc_mod
from .headers import dmarc_claim, parse_results
from .message import domain_of, from_domain, header_values, headers_too_large
from .resolver import DnsTempError, Lookups, dns_resolver
from .results import AuthVerdict

__all__ = ["verify_received"]

log = logging.getLogger(__name__)


# dkimpy logs every bad key or DNS timeout at ERROR; for hostile mail that is noise (and each reason ends
# up in the verdict), so its messages go to happydesk.mail.auth.lib at DEBUG.
class _AtDebug(logging.LoggerAdapter):
    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        # LoggerAdapter.log's keywords (exc_info, stacklevel...) are passed through unchanged.
        super().log(logging.DEBUG, msg, *args, **kwargs)


_lib_log = _AtDebug(logging.getLogger("happydesk.mail.auth.lib"), {})

MAX_SIGNATURES = 5  # DKIM signatures checked per message (each costs a lookup and an RSA verify)
ARC_HEADERS = ("arc-seal", "arc-message-signature", "arc-authentication-results")
MIN_KEY_BITS = 1024


@dataclass
class SpfResult:
    result: str = ""
    domain: str = ""  # the MAIL FROM domain (or HELO for a null sender) the result is about
    detail: str = ""


@dataclass
class DkimResult:
    result: str
    domain: str
    selector: str = ""
    detail: str = ""


@dataclass
class ArcResult:
    result: str = ""  # pass|fail|none
    sealer: str = ""
    detail: str = ""
    aar: str = ""  # the newest ARC-Authentication-Results value (without i=)
    signs_from: bool = False


@dataclass
class DmarcResult:
    result: str
    policy: str = ""
    detail: str = ""
    aligned_by: list[str] = field(default_factory=list)


# --- SPF ---------------------------------------------------------------------------------------


def check_spf(ip: str | None, helo: str, mail_from: str, lookups: Lookups) -> SpfResult:
    """SPF (RFC 7208) for the MAIL FROM identity, or the HELO identity for a null sender."""
    if not ip:
        return SpfResult(detail="no client IP address")
    sender = (mail_from or "").strip().strip("<>").strip()
    helo = (helo or "").strip().strip("[]")
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return SpfResult("permerror", detail=f"client IP {ip!r} is not an IP address")
    try:
        query = spf.query(i=ip, s=sender, h=helo, timeout=lookups.timeout)
        result, _code, explanation = query.check()
        domain = domain_of(str(query.o or ""))
    except Exception as exc:  # pyspf on hostile names
        return SpfResult("permerror", detail=f"SPF could not be evaluated ({type(exc).__name__})")
    return SpfResult(str(result), domain, str(explanation or ""))


# --- DKIM --------------------------------------------------------------------------------------


def _tags(value: bytes) -> dict[bytes, bytes]:
    try:
        return dkim.util.parse_tag_value(re.sub(rb"\s+", b" ", value).strip())
    except Exception:
        return {}


def check_dkim(data: bytes, lookups: Lookups) -> tuple[list[DkimResult], list[str] | None]:
    """Verify every DKIM-Signature (up to MAX_SIGNATURES). Also returns the From values as dkimpy sees
    them (None when it cannot read the header), so a parser differential cannot lend a signature to
    another From."""
    try:
        checker = dkim.DKIM(data, logger=_lib_log, minkey=MIN_KEY_BITS, timeout=lookups.timeout)
    except Exception as exc:  # MessageFormatError: header lines dkimpy refuses
        if re.search(rb"(?im)^dkim-signature[ \t]*:", data[:1_000_000]):
            return [DkimResult("permerror", "", detail=f"message format: {exc}"[:200])], None
        return [], None
    dkim_from = [v.decode("utf-8", "replace") for k, v in checker.headers if k.lower() == b"from"]
    signatures = [v for k, v in checker.headers if k.lower() == b"dkim-signature"]
    results = []
    for idx, value in enumerate(signatures[:MAX_SIGNATURES]):
        tags = _tags(value)
        domain = domain_of(tags.get(b"d", b"").decode("ascii", "replace"))
        selector = tags.get(b"s", b"").decode("ascii", "replace")
        lookups.events = []
        try:
            ok = checker.verify(idx=idx, dnsfunc=lookups.dkim_txt)
        except dkim.ValidationError as exc:
            text = str(exc)
            if "body hash mismatch" in text:
                results.append(DkimResult("fail", domain, selector, "body changed after signing"))
            else:
                results.append(DkimResult("permerror", domain, selector, text[:200]))
            continue
        except dkim.KeyFormatError as exc:
            results.append(DkimResult("permerror", domain, selector, f"bad key: {exc}"[:200]))
            continue
        except Exception as exc:  # DKIMException and library bugs on hostile signatures
            results.append(DkimResult("permerror", domain, selector, f"{type(exc).__name__}: {exc}"[:200]))
            continue
        if ok:
            results.append(DkimResult("pass", domain, selector))
            continue
        kinds = {kind: detail for kind, detail in lookups.events}
        if "temp" in kinds:
            results.append(DkimResult("temperror", domain, selector, kinds["temp"]))
        elif "nokey" in kinds:
            results.append(DkimResult("permerror", domain, selector, f"no key published at {kinds['nokey']}"))
        else:
            results.append(DkimResult("fail", domain, selector, "signature did not verify"))
    return results, dkim_from


def dkim_summary(results: list[DkimResult]) -> str:
    outcomes = {r.result for r in results}
    for outcome in ("pass", "temperror", "fail", "permerror"):
        if outcome in outcomes:
            return outcome
    return "none"


# --- ARC ---------------------------------------------------------------------------------------


def check_arc(data: bytes, lookups: Lookups) -> ArcResult:
    """Validate the ARC chain (RFC 8617); on pass, report the newest set's sealer and its AAR."""
    try:
        arc = dkim.ARC(data, logger=_lib_log, minkey=MIN_KEY_BITS, timeout=lookups.timeout)
        lookups.events = []
        cv, sets, comment = arc.verify(dnsfunc=lookups.dkim_txt)
    except Exception as exc:
        return ArcResult("fail", detail=f"ARC chain could not be validated ({type(exc).__name__})")
    temp = [d for kind, d in lookups.events if kind == "temp"]
    if cv != dkim.CV_Pass or not sets:
        if cv == dkim.CV_None:
            return ArcResult("none", detail=str(comment))
        return ArcResult("fail", detail=(temp[0] if temp else str(comment))[:200])
    newest = sets[0]
    sealer = domain_of(newest.get("as-domain", b"").decode("ascii", "replace"))
    aar = newest.get("aar-value", b"").decode("utf-8", "replace")
    aar = re.sub(r"^\s*i\s*=\s*\d+\s*;", "", aar, count=1)
    signs_from = False
    for name, value in arc.headers:
        if name.lower() == b"arc-message-signature":
            tags = _tags(value)
            if tags.get(b"i", b"").strip() == str(newest["instance"]).encode():
                signed = [h.strip().lower() for h in tags.get(b"h", b"").split(b":")]
                signs_from = b"from" in signed
    return ArcResult("pass", sealer=sealer, detail="", aar=aar, signs_from=signs_from)


def sealer_trusted(sealer: str, trusted: Iterable[str]) -> bool:
    sealer = sealer.lower().rstrip(".")
    for entry in trusted:
        entry = entry.strip().lower().rstrip(".")
        if entry and (sealer == entry or sealer.endswith("." + entry)):
            return True
    return False


def arc_vouches(arc: ArcResult, domain: str, trusted: Iterable[str]) -> tuple[bool, str]:
    """Whether a validated chain's newest sealer is trusted and its sealed results say DMARC pass for
    this From domain; else why not."""
    if arc.result != "pass":
        return False, ""
    if not sealer_trusted(arc.sealer, trusted):
        return False, f"ARC chain sealed by {arc.sealer or '?'}, not a trusted forwarder"
    if not arc.signs_from:
        return False, f"ARC seal by {arc.sealer} does not sign the From header"
    try:
        parsed = parse_results(f"{arc.sealer}; none" if not arc.aar.strip() else arc.aar)
    except ValueError as exc:
        return False, f"ARC results of {arc.sealer} could not be read ({exc})"
    passes, _, why = dmarc_claim(parsed, domain)
    return passes, ("" if passes else f"ARC seal by {arc.sealer}: {why}")


# --- DMARC -------------------------------------------------------------------------------------


def evaluate_dmarc(
    domain: str, spf_result: SpfResult, dkims: list[DkimResult], lookups: Lookups, dkim_counts: bool
) -> DmarcResult:
    """DMARC pass when an SPF pass or a DKIM pass is aligned with the From domain (RFC 7489 3.1, 4.2)."""
    try:
        record = dmarc_mod.find_record(domain, lookups)
    except DnsTempError as exc:
        return DmarcResult("temperror", detail=str(exc))
    if record is None:
        return DmarcResult("none")
    policy = record.p if record.domain == domain else record.sp
    by = []
    if spf_result.result == "pass" and dmarc_mod.aligned(spf_result.domain, domain, record.aspf):
        by.append(f"SPF ({spf_result.domain})")
    if dkim_counts:
        by += [
            f"DKIM ({r.domain})"
            for r in dkims
            if r.result == "pass" and dmarc_mod.aligned(r.domain, domain, record.adkim)
        ]
    if by:
        return DmarcResult("pass", policy, aligned_by=by)
    if spf_result.result == "temperror" or any(r.result == "temperror" for r in dkims):
        return DmarcResult("temperror", policy, detail="a DNS lookup failed")
    return DmarcResult("fail", policy)


def _why_not_aligned(domain: str, spf_result: SpfResult, dkims: list[DkimResult], dkim_counts: bool) -> str:
    """Agent-readable detail for a DMARC fail or none."""
    bits = []
    if spf_result.result == "pass":
        if spf_result.domain and dmarc_mod.org_domain(spf_result.domain) != dmarc_mod.org_domain(domain):
            bits.append(f"SPF passed for {spf_result.domain}, not {domain}")
        else:
            bits.append("SPF pass")
    elif spf_result.result:
        bits.append(f"SPF {spf_result.result}" + (f" for {spf_result.domain}" if spf_result.domain else ""))
    if not dkims:
        bits.append("no DKIM signature")
    for r in dkims[:3]:
        if r.result == "pass" and not dkim_counts:
            bits.append(f"DKIM signature by {r.domain} does not sign the From we read")
        elif r.result == "pass" and dmarc_mod.org_domain(r.domain) != dmarc_mod.org_domain(domain):
            bits.append(f"DKIM signature by {r.domain} is not aligned with {domain}")
        elif r.result == "pass":
            bits.append(f"DKIM pass ({r.domain})")
        else:
            bits.append(f"DKIM {r.result} ({r.domain or '?'}{': ' + r.detail if r.detail else ''})")
    return "; ".join(bits)


# --- the whole check ---------------------------------------------------------------------------


def verify_received(
    data: bytes,
    *,
    ip: str | None,
    helo: str,
    mail_from: str,
    trusted_sealers: Iterable[str] | None = None,
    resolver: dns.resolver.Resolver | None = None,
) -> AuthVerdict:
    """Our own SPF/DKIM/DMARC/ARC check of mail our SMTP listener received from `ip`. Never raises: a
    library failure becomes permerror/temperror with a reason; DNS time is bounded (resolver.Lookups)."""
    try:
        resolver = resolver or dns_resolver()
    except ValueError as exc:
        log.error("HAPPYDESK_DNS_RESOLVER is invalid: %s", exc)
        return AuthVerdict.unverified(
            reason=f"the DNS resolver setting is invalid ({exc})", source="listener", dmarc="temperror"
        )
    if trusted_sealers is None:
        from django.conf import settings

        trusted_sealers = settings.HAPPYDESK_TRUSTED_ARC_SEALERS
    try:
        lookups = Lookups(resolver)
        with lookups.active():
            return _verify(bytes(data), ip, helo, mail_from, list(trusted_sealers), lookups)
    except Exception as exc:  # the last line: hostile input must never break processing
        log.exception("sender check failed")
        return AuthVerdict.unverified(
            reason=f"the sender check failed with an internal error ({type(exc).__name__})",
            source="listener",
            dmarc="permerror",
        )


def _verify(
    data: bytes, ip: str | None, helo: str, mail_from: str, trusted: list[str], lookups: Lookups
) -> AuthVerdict:
    too_large = headers_too_large(data)
    if too_large:
        reason = f"sender not checked: {too_large}"
        return AuthVerdict.unverified(reason=reason, source="listener", dkim="permerror", dmarc="permerror")
    try:
        hdrs = header_values(data)
    except Exception:  # the stdlib parser on hostile bytes
        hdrs = {}
    domain, problem = from_domain(hdrs.get("from", []))

    spf_result = check_spf(ip, helo, mail_from, lookups)
    dkims, dkim_from = check_dkim(data, lookups)
    # A DKIM pass counts for DMARC only if dkimpy saw exactly the From we read (no parser differential).
    dkim_counts = bool(domain) and dkim_from is not None and [from_domain(dkim_from)[0]] == [domain]
    arc = check_arc(data, lookups) if any(h in hdrs for h in ARC_HEADERS) else ArcResult()

    if problem:
        result = DmarcResult("permerror", detail=problem)
    else:
        result = evaluate_dmarc(domain, spf_result, dkims, lookups, dkim_counts)

    verified = result.result == "pass"
    reason = ""
    arc_ok, arc_why = (False, "")
    if not verified and domain:
        arc_ok, arc_why = arc_vouches(arc, domain, trusted)
        verified = arc_ok
    if not verified:
        reason = _reason(domain, problem, result, spf_result, dkims, dkim_counts, lookups)
        if arc_why:
            reason += f"; {arc_why}"

    passed = tuple(dict.fromkeys(r.domain for r in dkims if r.result == "pass" and r.domain))
    parts = []
    if result.result == "none" and domain:
        parts.append(f"no DMARC record for {domain};")
    if spf_result.result:
        parts.append(f"spf={spf_result.result}")
    parts.append(f"dkim={dkim_summary(dkims)}" + (f" ({', '.join(passed)})" if passed else ""))
    parts.append(f"dmarc={result.result}" + (f" (p={result.policy})" if result.policy else ""))
    if arc.result:
        parts.append(f"arc={arc.result}" + (f" ({arc.sealer})" if arc.sealer else ""))
    if arc_ok:
        parts.append(f"trusted ARC sealer {arc.sealer} vouches for DMARC pass")
    return AuthVerdict(
        verified=verified,
        from_domain=domain,
        spf=spf_result.result,
        dkim=dkim_summary(dkims),
        dmarc=result.result,
        policy=result.policy,
        arc=arc.result,
        source="listener",
        summary=" ".join(parts),
        reason=reason,
        dkim_domains=passed,
        arc_sealer=arc.sealer if arc.result == "pass" else "",
    )


def _reason(
    domain: str,
    problem: str,
    result: DmarcResult,
    spf_result: SpfResult,
    dkims: list[DkimResult],
    dkim_counts: bool,
    lookups: Lookups,
) -> str:
    if problem:
        return f"sender not checked: {problem}"
    detail = _why_not_aligned(domain, spf_result, dkims, dkim_counts)
    if result.result == "temperror":
        dns_error = lookups.errors[0] if lookups.errors else result.detail
        return f"the sender could not be checked now: DNS lookups failed ({dns_error})"
    if result.result == "none":
        return f"no DMARC record for {domain}, so its mail cannot be verified ({detail})"
    policy = f", p={result.policy}" if result.policy else ""
    return f"DMARC fail for {domain}{policy} ({detail})"
