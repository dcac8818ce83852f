"""What a page that shows an email's sandboxed frame adds to the site's Content-Security-Policy.

An `<iframe srcdoc>` inherits the policy of the page around it and then obeys its own `<meta>` policy as
well (both must allow a load). So the page's policy has to permit what any email frame may need, and each
frame's own policy (email_frame_own_policy) narrows it again: inline `<style>` and style attributes
(email layouts are built of them), and, only once the agent asked for a message's remote images, images
from anywhere. Scripts stay exactly as strict as on every other page.
"""

from __future__ import annotations

import html
import re
from typing import TypeVar
from urllib.parse import urlsplit

from django.http import HttpResponseBase

Response = TypeVar("Response", bound=HttpResponseBase)


def email_frame_own_policy(*, images_from: str, remote_images: bool) -> str:
    """The policy an email frame carries itself: images only from `images_from` (its conversation's
    attachments) and `data:`, or from anywhere once the agent asked; inline styles; nothing else."""
    images = f"data: {images_from}" + (" http: https:" if remote_images else "")
    return f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'"


def email_frame_policy(*, remote_images: bool) -> dict[str, list[str]]:
    """The directives added to the site's policy on a page with email frames."""
    update = {"style-src": ["'unsafe-inline'"]}
    if remote_images:
        update["img-src"] = ["http:", "https:"]
    return update


def allow_email_frames(response: Response, *, remote_images: bool) -> Response:
    """Widen this response's policy for the email frames it shows (read by django-csp's middleware)."""
    response._csp_update = email_frame_policy(remote_images=remote_images)  # type: ignore[attr-defined]
    return response


# After mail.parsing.html.sanitize_html an absolute <img src> is the only thing left in a message that loads anything:
# srcset, background, url() in CSS, stylesheets and relative URLs are all removed.
_REMOTE_IMG = re.compile(r"""<img\b[^>]*?\ssrc="((?:https?:)?//[^"]*)"[^>]*>""", re.IGNORECASE)


def has_remote_images(sanitized: str) -> bool:
    """Whether sanitized HTML would make a reader's browser fetch an image from some server."""
    return bool(sanitized and _REMOTE_IMG.search(sanitized))


def without_images_from(sanitized: str, host: str) -> str:
    """Sanitized HTML without the images it names on `host` (a host name, any port): once an agent lets
    a message load remote images, it must still not make their signed-in browser request our own
    pages."""
    host = host.lower()

    def keep(match: re.Match[str]) -> str:
        found = (urlsplit(html.unescape(match.group(1))).hostname or "").lower()
        return "" if found == host else match.group(0)

    return _REMOTE_IMG.sub(keep, sanitized)
