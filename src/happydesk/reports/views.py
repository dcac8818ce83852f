"""The report pages: the agents' report (team first, each agent on a second tab), its CSV export and share
links, the read-only shared report (no login; no per-agent figures, nothing that names a customer), and
the admins' settings (digest list, business volume, support cost)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, admin_required
from happydesk.inbox.models import Conversation, Mailbox, Tag
from happydesk.ratelimit import client_ip
from happydesk.reports import selectors, services
from happydesk.reports.filters import PERIODS, Filters, filters_from
from happydesk.reports.forms import CostForm, SettingsForm, VolumeForm
from happydesk.reports.models import BusinessVolume, ReportShare, SupportCost
from happydesk.reports.report import SHARED_TABLES, TABLE_KEYS, Report, build_report


def _filters(params: Mapping[str, str]) -> Filters:
    return filters_from(params, today=selectors.report_today())


def _with_export_urls(report: Report, prefix: str, query: str) -> Report:
    for key, table in report.tables.items():
        table.export_url = f"{prefix}{key}.csv" + (f"?{query}" if query else "")
    return report


def _csv(report: Report, table: str) -> HttpResponse:
    f = report.filters
    response = HttpResponse(report.tables[table].csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="happiness-{table}-{f.start}-{f.end}.csv"'
    return response


@login_required
def report_page(request: AgentRequest) -> HttpResponse:
    """The happiness report for agents: the team's figures, or each agent's on the second tab."""
    f = _filters(request.GET)
    agents_tab = request.GET.get("view") == "agents"
    report = build_report(f, with_agents=agents_tab, viewer=request.user)
    _with_export_urls(report, reverse("reports") + "export/", f.query())
    return render(
        request,
        "reports/report.html",
        {
            "report": report,
            "f": f,
            "agents_tab": agents_tab,
            "query": f.query(),
            "periods": PERIODS,
            "mailboxes": Mailbox.objects.order_by("name"),
            "channels": Conversation.Channel.choices,
            "tags": Tag.objects.order_by("name").values_list("name", flat=True),
            "shares": [(s, _share_url(request, s)) for s in selectors.active_shares()],
        },
    )


def _share_url(request: HttpRequest, share: ReportShare) -> str:
    return request.build_absolute_uri(reverse("reports_shared", args=[services.share_link_token(share)]))


@login_required
def export_csv(request: AgentRequest, table: str) -> HttpResponse:
    """One table of the report as CSV, for the same filters as the page."""
    if table not in TABLE_KEYS:
        raise Http404("no such table")
    f = _filters(request.GET)
    report = build_report(f, with_agents=table == "agents", full=True, viewer=request.user)
    response = _csv(report, table)
    services.report_exported(table=table, params=f.params(), by=request.user, ip=client_ip(request))
    return response


@login_required
@require_POST
def share_create(request: AgentRequest) -> HttpResponse:
    """A read-only link to the report with the filters it was made from."""
    f = _filters(dict(parse_qsl(request.POST.get("query", ""))))
    name = (
        request.POST.get("name", "").strip()
        or f"Happiness report ({f.start:%b} {f.start.day}–{f.end:%b} {f.end.day})"
    )
    share = services.share_create(
        params=f.params(), name=name, created_by=request.user, ip=client_ip(request)
    )
    flash.success(request, f"Share link created: {_share_url(request, share)}")
    return redirect(reverse("reports") + "?" + f.query() + "#shares")


@login_required
@require_POST
def share_revoke(request: AgentRequest, share_id: int) -> HttpResponse:
    """Retire a share link; it answers 410 Gone from now on."""
    share = get_object_or_404(ReportShare, pk=share_id)
    services.share_revoke(share=share, by=request.user, ip=client_ip(request))
    flash.success(request, f"Share link “{share}” revoked.")
    return redirect(reverse("reports") + "#shares")


def _shared(share_token: str) -> ReportShare | HttpResponse:
    try:
        return services.share_from_link(share_token)
    except services.BadShareLink as exc:
        raise Http404("no such report") from exc
    except services.RevokedShareLink:
        return HttpResponse(
            "<!doctype html><title>Link revoked</title><p>This report link has been revoked.</p>",
            status=410,
        )


def shared_report(request: HttpRequest, share_token: str) -> HttpResponse:
    """The report behind a share link, without login: the team's figures only, customers masked."""
    share = _shared(share_token)
    if isinstance(share, HttpResponse):
        return share
    f = _filters(share.filters)
    report = build_report(f, shared=True)
    _with_export_urls(report, reverse("reports_shared", args=[share_token]) + "export/", "")
    services.share_viewed(share=share)
    response = render(request, "reports/shared.html", {"report": report, "f": f, "share": share})
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def shared_export(request: HttpRequest, share_token: str, table: str) -> HttpResponse:
    """A table of a shared report as CSV (never the per-agent table)."""
    share = _shared(share_token)
    if isinstance(share, HttpResponse):
        return share
    if table not in SHARED_TABLES:
        raise Http404("no such table")
    f = _filters(share.filters)
    response = _csv(build_report(f, shared=True, full=True), table)
    services.report_exported(table=table, params=f.params(), share=share, ip=client_ip(request))
    return response


@admin_required
def settings_page(request: AgentRequest) -> HttpResponse:
    """Who gets the digest, masking, baselines; the business volume and support cost by hand."""
    row = selectors.report_settings()
    initial = {
        "recipients": "\n".join(row.recipients),
        "mask_customers": row.mask_customers,
        "digest_enabled": row.digest_enabled,
        "conversation_of_the_day": row.conversation_of_the_day,
        "send_hour": row.send_hour,
        "timezone": row.timezone,
        "baseline_tags": ", ".join(row.baseline_tags),
        "currency": row.currency,
    }
    which = request.POST.get("form") if request.method == "POST" else None
    settings_form = SettingsForm(request.POST if which == "settings" else None, initial=initial)
    volume_form = VolumeForm(request.POST if which == "volume" else None, prefix="volume")
    cost_form = CostForm(request.POST if which == "cost" else None, prefix="cost")
    if which == "settings" and settings_form.is_valid():
        services.report_settings_save(**settings_form.cleaned_data)
        flash.success(request, "Report settings saved.")
        return redirect("reports_settings")
    if which == "volume" and volume_form.is_valid():
        data = volume_form.cleaned_data
        services.business_volume_record(day=data["date"], metric=data["metric"], value=data["value"])
        flash.success(request, f"{data['metric']} for {data['date']} saved.")
        return redirect("reports_settings")
    if which == "cost" and cost_form.is_valid():
        services.support_cost_set(
            month=cost_form.cleaned_data["month"], amount=cost_form.cleaned_data["amount"]
        )
        flash.success(request, "Support cost saved.")
        return redirect("reports_settings")
    return render(
        request,
        "reports/settings.html",
        {
            "settings_form": settings_form,
            "volume_form": volume_form,
            "cost_form": cost_form,
            "volumes": BusinessVolume.objects.all()[:30],
            "costs": SupportCost.objects.all()[:12],
            "currency": row.currency,
        },
    )
