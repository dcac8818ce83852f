"""Public JSON endpoints for the embeddable widget and the contact form's suggestions.

The widget runs on the company's own site, so these answer cross-origin requests (CORS `*`, no
cookies); they only ever return public content, and the contact endpoint is rate-limited per address
and per client IP.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from happydesk.inbox.models import Conversation, Mailbox
from happydesk.search.content import content_search
from happydesk.search.services import suggestion_event
from happydesk.web.portal_views import ContactForm, TooManyMessages

SUGGEST_KINDS = ["article", "faq", "topic"]


def public_cors(view: Callable) -> Callable:
    """Allow any site to call this endpoint from the browser (no credentials), answering preflights."""

    @wraps(view)
    @csrf_exempt
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
        else:
            try:
                response = view(request, *args, **kwargs)
            except Http404 as exc:  # a readable 404 the calling page can see (not a CORS failure)
                response = JsonResponse({"error": str(exc) or "Not found"}, status=404)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
        return response

    return wrapped


def absolute(path: str) -> str:
    return path if path.startswith("http") else settings.BASE_URL + path


@public_cors
def suggest(request: HttpRequest) -> JsonResponse:
    """Answers as the customer types: the best few articles, FAQ answers and community answers."""
    q = request.GET.get("q", "").strip()[:200]
    limit = min(int(request.GET["limit"]), 10) if request.GET.get("limit", "").isdigit() else 5
    found = content_search(q, kinds=SUGGEST_KINDS, limit=limit) if len(q) >= 2 else None
    results = [
        {**r.as_json(), "url": absolute(r.url), "id": r.object_id} for r in (found.results if found else [])
    ]
    return JsonResponse({"q": q, "corrected": found.corrected if found else "", "results": results})


@public_cors
def article_json(request: HttpRequest, article_id: int) -> JsonResponse:
    """A public article's sanitized HTML, for reading inside the widget's panel."""
    from happydesk.kb import selectors
    from happydesk.kb.rendering import render_markdown
    from happydesk.kb.services import article_view_record

    found = selectors.article_for_reader(article_id, include_internal=False)
    if found is None:
        raise Http404("No such article")
    article_view_record(article_id=found.pk)
    return JsonResponse(
        {
            "id": found.pk,
            "title": found.title,
            "html": render_markdown(found.body),
            "url": absolute(found.get_absolute_url()),
        }
    )


def _announcements(since: datetime | None) -> list[dict]:
    from django.apps import apps

    if not apps.is_installed("happydesk.community"):  # the community app is optional in a deployment
        return []
    from happydesk.community.selectors import announcements_since

    return [
        {"title": a.title, "url": absolute(a.get_absolute_url()), "published_at": a.published_at.isoformat()}
        for a in announcements_since(None, since)[:5]
    ]


def _incidents() -> list[dict]:
    from django.urls import reverse

    from happydesk.status.selectors import open_incidents

    return [
        {
            "title": i.title,
            "state": i.get_state_display(),
            "url": absolute(reverse("status_incident", args=[i.pk])),
        }
        for i in open_incidents()
    ]


@public_cors
def widget_config(request: HttpRequest, mailbox_id: int) -> JsonResponse:
    """What the widget needs to open: the mailbox's form choices, announcements since the visitor's
    last look (`since`, kept in their browser), open incidents and the status page."""
    from django.urls import reverse

    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, form_enabled=True)
    try:
        raw_since = request.GET.get("since", "").replace(" ", "+")  # an unencoded "+00:00"
        since = parse_datetime(raw_since) if raw_since else None
    except ValueError:  # a malformed time: treat the visitor as new
        since = None
    return JsonResponse(
        {
            "mailbox": {"id": mailbox.pk, "name": mailbox.name},
            "topics": [str(t) for t in mailbox.form_topics if str(t).strip()],
            "feelings": [{"value": v, "label": label} for v, label in Conversation.Feeling.choices],
            "announcements": _announcements(since),
            "incidents": _incidents(),
            "status_url": absolute(reverse("status_page")),
            "help_url": absolute("/help/"),
            "now": timezone.now().isoformat(),
        }
    )


@public_cors
def widget_contact(request: HttpRequest, mailbox_id: int) -> JsonResponse:
    """The contact form from the widget: the same fields, rules and auto-reply as the web form."""
    if request.method != "POST":
        return JsonResponse({"error": "POST the form"}, status=405)
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, form_enabled=True)
    form = ContactForm(request.POST, request.FILES or None, mailbox=mailbox)
    if not form.is_valid():
        return JsonResponse({"errors": {k: [str(e) for e in v] for k, v in form.errors.items()}}, status=400)
    try:
        conversation = form.submit(request, channel=Conversation.Channel.WIDGET)
    except TooManyMessages:
        return JsonResponse(
            {"error": "Too many messages in a short time; please try again later."}, status=429
        )
    if conversation is None:  # the honeypot: the bot is told all is well
        return JsonResponse({"ok": True})
    from django.urls import reverse

    link = absolute(reverse("portal_conversation", args=[conversation.token]))
    return JsonResponse({"ok": True, "number": conversation.number, "link": link})


@public_cors
def suggestion_events(request: HttpRequest, mailbox_id: int) -> JsonResponse:
    """The contact form and the widget report: suggestions shown, one opened, the form submitted."""
    if request.method != "POST":
        return JsonResponse({"error": "POST an event"}, status=405)
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        payload = request.POST
    source = payload.get("source") if payload.get("source") in ("form", "widget") else "form"
    get_object_or_404(Mailbox, pk=mailbox_id)
    try:
        suggestion_event(
            mailbox_id=mailbox_id,
            key=str(payload.get("session", "")),
            source=source,
            event=str(payload.get("event", "")),
        )
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"ok": True})


def widget_js(request: HttpRequest) -> FileResponse:
    """The one script a company puts on its site; cached by browsers for an hour."""
    path = finders.find("happydesk/widget.js")
    if path is None:
        raise Http404("widget.js is missing")
    response = FileResponse(open(path, "rb"), content_type="text/javascript; charset=utf-8")  # noqa: SIM115
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=3600"
    return response
