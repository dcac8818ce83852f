"""Where a page may send a visitor after signing in: only to a path on this site.

The lowest layer (only Django), shared by customer SSO, agent OIDC and the community, so the rule for
"a local path" is written once: a single leading slash, no scheme or host, no backslash or control
characters (browsers read "/\\evil.example" and "/\\tevil" as other hosts).
"""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def local_path(value: str) -> str | None:
    """`value` if it is a path on this site, else None."""
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
        or not url_has_allowed_host_and_scheme(value, allowed_hosts=set(), require_https=False)
    ):
        return None
    return value
