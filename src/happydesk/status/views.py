"""The public status page (no sign-in): page, history, incident, feeds, subscriptions and the notice."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from happydesk.status import feeds, selectors, services

# Everyone reloads the status page during an outage: let browsers and proxies reuse it briefly.
PUBLIC_CACHE = {"public": True, "max_age": 30}
HISTORY_PAGE = 20
RECENT_HISTORY = 5


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=320)
    website = forms.CharField(  # honeypot for bots: hidden from people, out of the tab order
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )


@require_GET
@cache_control(**PUBLIC_CACHE)
def page(request: HttpRequest) -> HttpResponse:
    components = list(selectors.visible_components())
    incidents = list(selectors.open_incidents())
    ups = selectors.uptime_for(components)
    groups = [
        {"group": row.group, "rows": [(c, ups[c.pk], ups[c.pk].describe(c.name)) for c in row.components]}
        for row in selectors.components_grouped(components)
    ]
    return render(
        request,
        "status/page.html",
        {
            "summary": selectors.status_summary(components, incidents),
            "incidents": incidents,
            "in_progress": list(selectors.active_maintenance()),
            "upcoming": list(selectors.upcoming_maintenance()),
            "groups": groups,
            "days": selectors.UPTIME_DAYS,
            "recent": list(selectors.history()[:RECENT_HISTORY]),
        },
    )


@require_GET
@cache_control(**PUBLIC_CACHE)
def history(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(selectors.history(), HISTORY_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(request, "status/history.html", {"page_obj": page_obj})


@require_GET
@cache_control(**PUBLIC_CACHE)
def incident(request: HttpRequest, incident_id: int) -> HttpResponse:
    found = selectors.incident_for_public(incident_id)
    if found is None:
        raise Http404
    return render(request, "status/incident.html", {"incident": found})


@require_GET
@cache_control(**PUBLIC_CACHE)
def api_json(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(feeds.status_json())
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(**PUBLIC_CACHE)
def notice_json(request: HttpRequest) -> JsonResponse:
    """Polled by the company's own app from its own origin, hence CORS open to all (public data only)."""
    response = JsonResponse(feeds.notice_json())
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(**PUBLIC_CACHE)
def feed_atom(request: HttpRequest) -> HttpResponse:
    return HttpResponse(feeds.atom_feed(), content_type="application/atom+xml; charset=utf-8")


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["website"]:  # a bot filled the hidden field: same answer, nothing sent
            services.subscriber_add(email=form.cleaned_data["email"])
        return render(request, "status/subscribe.html", {"sent": True})
    return render(request, "status/subscribe.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button and POST confirms, so a mail scanner following links confirms nothing."""
    if request.method == "POST":
        subscriber = services.subscriber_confirm(token=token)
        if subscriber is None:
            return render(request, "status/confirm.html", {"invalid": True}, status=404)
        return render(request, "status/confirm.html", {"done": True})
    return render(request, "status/confirm.html", {})


@csrf_exempt  # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" with no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (link scanners only GET); any POST with the token unsubscribes at once."""
    if request.method == "POST":
        subscriber = services.subscriber_unsubscribe(token=token)
        if subscriber is None:
            return render(request, "status/unsubscribe.html", {"invalid": True}, status=404)
        return render(request, "status/unsubscribe.html", {"done": True})
    return render(request, "status/unsubscribe.html", {})
