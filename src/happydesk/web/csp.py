"""What a page that shows an email's sandboxed frame adds to the site's Content-Security-Policy.

An `<iframe srcdoc>` inherits the policy of the page around it and then obeys its own `<meta>` policy as
well (both must allow a load). So the page's policy has to permit what any email frame may need, and each
frame's own policy (inbox_tags.formatted_srcdoc) narrows it again: inline `<style>` and style attributes
(email layouts are built of them), and, only once the agent asked for a message's remote images, images
from anywhere. Scripts stay exactly as strict as on every other page.
"""

from __future__ import annotations

from typing import TypeVar

from django.http import HttpResponseBase

Response = TypeVar("Response", bound=HttpResponseBase)


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
