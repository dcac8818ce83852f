"""The verdict on who sent an email, as stored on RawMessage.auth and shown to agents."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["AuthVerdict"]


@dataclass(frozen=True)
class AuthVerdict:
    """SPF/DKIM/DMARC/ARC outcome for one message. `verified` is True only for a DMARC-aligned pass for
    the RFC 5322 From domain (or a trusted ARC sealer's sealed DMARC pass for it)."""

    verified: bool
    from_domain: str
    spf: str  # pass|fail|softfail|neutral|none|temperror|permerror ("" if not evaluated)
    dkim: str  # pass (aligned or not)|fail|none|temperror|permerror
    dmarc: str  # pass|fail|none|temperror|permerror
    policy: str  # the From domain's DMARC p= (reject|quarantine|none) or ""
    arc: str  # pass|fail|none ("" when no ARC headers)
    source: str  # "listener" | "header:<authserv-id>" | "none"
    summary: str  # e.g. "spf=pass dkim=pass (example.test) dmarc=pass"
    reason: str  # why not verified, in words an agent understands ("" when verified)
    dkim_domains: tuple[str, ...] = ()  # d= of the DKIM signatures that passed
    arc_sealer: str = ""  # d= of the newest ARC-Seal when the chain validated

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (tuples become lists)."""
        out = asdict(self)
        out["dkim_domains"] = list(self.dkim_domains)
        return out

    @classmethod
    def unverified(cls, *, reason: str, source: str = "none", **kwargs: Any) -> AuthVerdict:
        """A not-verified verdict with the given reason (other fields default to empty)."""
        base: dict[str, Any] = dict(
            from_domain="", spf="", dkim="", dmarc="", policy="", arc="", summary=reason
        )
        base.update(kwargs)
        return cls(verified=False, source=source, reason=reason, **base)
