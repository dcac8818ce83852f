"""Text that ends up in an email header (subjects, display names, addresses) is one line.

A CR or LF in a header value either injects a header (`Subject: hi\\r\\nBcc: victim@…`) or makes Django
refuse the whole mail (BadHeaderError), so a conversation whose subject came in with one could never be
answered. Every way in (forms, the widget, parsed mail, SSO) cleans such text when it is taken in, and
the outbox cleans it again when it builds headers, for rows stored before that.
"""

from __future__ import annotations

import re

# C0 controls (CR, LF, TAB, NUL…), DEL, C1 controls (NEL…) and Unicode's line and paragraph separators,
# with the whitespace around them: each run becomes one space.
_BREAKS = re.compile(r"\s*[\x00-\x1f\x7f-\x9f\u2028\u2029]+\s*")


def header_text(value: str) -> str:
    """`value` on one line: control characters and line breaks become a space, the ends are trimmed."""
    return _BREAKS.sub(" ", value).strip()
