"""The page shell's one endpoint: where browsers report what our Content-Security-Policy refused."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from happydesk.headers import header_text
from happydesk.ratelimit import client_ip, over_limit

log = logging.getLogger("happydesk.csp")

MAX_REPORT_BYTES = 16 * 1024
REPORTS_PER_CLIENT, REPORT_WINDOW = 60, timedelta(minutes=1)
FIELDS = (
    "effective-directive",
    "violated-directive",
    "blocked-uri",
    "document-uri",
    "source-file",
    "line-number",
    "script-sample",
)


def _field(report: dict[str, object], name: str) -> str:
    """One field of a report, as a single short line: the report is the browser's, so a stranger's."""
    return header_text(str(report.get(name, "")))[:300]


@csrf_exempt  # browsers send reports without cookies or a CSRF token
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log one violation report (report-uri's JSON) at WARNING on `happydesk.csp`, so a policy that
    breaks a page, or a script someone slipped in, shows in the logs. Malformed or oversized reports get
    400/413, a client sending too many is dropped with 429; nothing here is stored."""
    if int(request.headers.get("Content-Length") or 0) > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    if over_limit(f"csp-report:{client_ip(request)}", limit=REPORTS_PER_CLIENT, window=REPORT_WINDOW):
        return HttpResponse(status=429)
    try:
        report = json.loads(request.body[:MAX_REPORT_BYTES]).get("csp-report")
    except (ValueError, AttributeError):
        report = None
    if not isinstance(report, dict):
        return HttpResponse("not a CSP report", status=400, content_type="text/plain")
    log.warning("CSP violation: %s", " ".join(f"{name}={_field(report, name)!r}" for name in FIELDS))
    return HttpResponse(status=204)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (CSRF_FAILURE_VIEW), on our own page: Django's has an inline style the site's
    policy blocks, and says more about the check than a visitor needs."""
    return render(request, "web/csrf_failure.html", status=403)
