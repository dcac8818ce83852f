"""Interpret the Authentication-Results header (RFC 8601) added by the receiving server.

Only the topmost header is trusted: receiving MTAs prepend theirs, and anything below it may have been
written by the sender to look authenticated.
"""

from __future__ import annotations

import re

__all__ = ["evaluate_auth_results"]

_COMMENT_RE = re.compile(r"\([^()]*\)")
_RESULT_RE = re.compile(
    r"(?:^|[;\s])(dmarc|dkim|spf|arc|iprev|auth|bimi|dkim-atps)\s*=\s*([a-z]+)", re.IGNORECASE
)
_FAILING = {"fail", "softfail", "permerror"}


def _results(value: str) -> list[tuple[str, str]]:
    """Return [(method, result), …] in header order, comments removed."""
    value = value[:20_000]
    for _ in range(5):  # nested comments: peel from the inside out, boundedly
        stripped = _COMMENT_RE.sub(" ", value)
        if stripped == value:
            break
        value = stripped
    # Drop the authserv-id (first ;-separated token); it can't carry results.
    _, _, rest = value.partition(";")
    return [(m.group(1).lower(), m.group(2).lower()) for m in _RESULT_RE.finditer(";" + rest)]


def evaluate_auth_results(headers: list[str]) -> tuple[bool, str | None]:
    """Return (auth_failed, summary) for the Authentication-Results header values, topmost first.

    Failed means dmarc=fail, or dkim failed with no dkim pass while spf is fail/softfail and no method
    passed at all.
    """
    if not headers:
        return False, None
    results = _results(headers[0])
    if not results:
        return False, headers[0].strip()[:200] or None
    summary = " ".join(f"{method}={result}" for method, result in results)
    by_method: dict[str, set[str]] = {}
    for method, result in results:
        by_method.setdefault(method, set()).add(result)
    dmarc = by_method.get("dmarc", set())
    dkim = by_method.get("dkim", set())
    spf = by_method.get("spf", set())
    if "pass" in dmarc:
        return False, summary
    if "fail" in dmarc:
        return True, summary
    any_pass = "pass" in dkim or "pass" in spf
    if dkim & _FAILING and spf & _FAILING and not any_pass:
        return True, summary
    return False, summary
