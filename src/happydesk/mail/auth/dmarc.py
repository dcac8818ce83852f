"""DMARC (RFC 7489): policy discovery, organizational domains (public suffix list) and alignment.

authheaders has DMARC helpers, but they re-read the suffix list on every call, check only the first DKIM
signature and take SPF straight from the system resolver, so the small part we need is here.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass

from publicsuffix2 import PublicSuffixList

from .resolver import Lookups

__all__ = ["DmarcRecord", "aligned", "find_record", "org_domain", "parse_record"]

POLICIES = ("none", "quarantine", "reject")


@functools.lru_cache(maxsize=1)
def _suffix_list() -> PublicSuffixList:
    """The public suffix list shipped with authheaders (newer than publicsuffix2's own copy)."""
    try:
        ref = importlib.resources.files("authheaders") / "public_suffix_list.txt"
        with importlib.resources.as_file(ref) as path, open(path, encoding="utf-8") as handle:
            return PublicSuffixList(handle)
    except (OSError, ModuleNotFoundError):
        return PublicSuffixList()


@functools.lru_cache(maxsize=4096)
def org_domain(domain: str) -> str:
    """The organizational domain: one label below the public suffix ('mail.example.co.uk' -> 'example.co.uk')."""
    domain = domain.lower().rstrip(".")
    try:
        # get_tld applies the list's default rule "*" to unknown TLDs (example.test -> test); get_sld
        # does not (it would say the org domain of example.test is "test"), so count labels ourselves.
        suffix = (_suffix_list().get_tld(domain, wildcard=True) or "").lower()
    except Exception:  # the library on odd input
        suffix = domain.rpartition(".")[2]
    labels = domain.split(".")
    keep = suffix.count(".") + 2 if suffix else 1
    return ".".join(labels[-keep:]) if len(labels) >= keep else domain


def aligned(domain: str, from_domain: str, mode: str) -> bool:
    """Identifier alignment: strict = same domain, relaxed = same organizational domain."""
    domain, from_domain = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    if not domain or not from_domain:
        return False
    if mode == "s":
        return domain == from_domain
    return org_domain(domain) == org_domain(from_domain)


@dataclass(frozen=True)
class DmarcRecord:
    domain: str  # where the record was found (the From domain or its organizational domain)
    p: str
    sp: str
    adkim: str
    aspf: str


def parse_record(domain: str, texts: list[str]) -> DmarcRecord | None:
    """The one DMARC record among the TXT texts at _dmarc.domain, or None (none, several, or invalid)."""
    records = [t.strip() for t in texts if t.strip().startswith("v=DMARC1")]
    records = [t for t in records if t[8:9] in ("", ";", " ", "\t")]
    if len(records) != 1:  # RFC 7489 6.6.3: several records count as none
        return None
    tags: dict[str, str] = {}
    for part in records[0].split(";")[1:]:
        key, sep, value = part.partition("=")
        if sep and key.strip():
            tags.setdefault(key.strip().lower(), value.strip())
    p = tags.get("p", "").lower()
    if p not in POLICIES:
        if "rua" not in tags:
            return None  # RFC 7489 6.6.3: no valid p= and no rua= -> as if there were no record
        p = "none"
    sp = tags.get("sp", "").lower()
    adkim = tags.get("adkim", "r").lower()
    aspf = tags.get("aspf", "r").lower()
    return DmarcRecord(
        domain=domain,
        p=p,
        sp=sp if sp in POLICIES else p,
        adkim=adkim if adkim in ("r", "s") else "r",
        aspf=aspf if aspf in ("r", "s") else "r",
    )


def find_record(from_domain: str, lookups: Lookups) -> DmarcRecord | None:
    """The DMARC record for the From domain, else for its organizational domain (RFC 7489 6.6.3).
    Raises DnsTempError when DNS cannot say."""
    for domain in dict.fromkeys([from_domain, org_domain(from_domain)]):
        texts = [t.decode("utf-8", "replace") for t in lookups.txt(f"_dmarc.{domain}")]
        record = parse_record(domain, texts)
        if record is not None:
            return record
    return None
