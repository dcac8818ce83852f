"""Admin → Audit log: the entries newest first, filtered, and the filtered rows as CSV (that export is an
entry too). Only admins; there is no route that changes or removes an entry (the log is append-only,
happydesk.audit)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from happydesk.accounts.decorators import AgentRequest, admin_required
from happydesk.audit import selectors
from happydesk.audit import services as audit
from happydesk.audit.models import Action
from happydesk.ratelimit import client_ip

PER_PAGE = 50


@admin_required
@require_safe
def audit_log(request: AgentRequest) -> HttpResponse:
    """The log, newest first, 50 a page, with the filters in the query string."""
    f = selectors.EntryFilter.from_params(request.GET)
    page = Paginator(selectors.entries_matching(f), PER_PAGE).get_page(request.GET.get("page"))
    for entry in page:
        entry.summary = selectors.details_text(entry.details)  # type: ignore[attr-defined]
    query = urlencode(f.params())
    return render(
        request,
        "accounts/audit_log.html",
        {"page": page, "f": f, "filters": f.params(), "actions": Action.choices, "query": query},
    )


class _Echo:
    """A file that hands back what is written to it: csv.writer's rows, streamed as they are made."""

    def write(self, value: str) -> str:
        return value


@admin_required
@require_POST
def audit_export(request: AgentRequest) -> StreamingHttpResponse:
    """The rows the filters give, as CSV. The export is recorded (who, which filters, how many rows)
    before the file goes out, and the file holds exactly the rows that entry counts."""
    f = selectors.EntryFilter.from_params(request.POST)
    rows = selectors.entries_matching(f)
    rows = rows.filter(seq__lte=selectors.newest_seq(rows))
    audit.record(
        Action.AUDIT_EXPORTED,
        actor=request.user,
        target=audit.Target("audit_log", "", "Audit log"),
        ip=client_ip(request),
        details={"filters": f.params(), "rows": rows.count()},
    )
    writer = csv.writer(_Echo())
    lines: Iterator[str] = (writer.writerow(cells) for cells in selectors.csv_lines(rows.iterator()))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
