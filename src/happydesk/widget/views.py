"""Public JSON endpoints for the embeddable widget and the contact form's suggestions.

The widget runs on the company's own site, so these answer cross-origin requests (CORS `*`, no
cookies); they return public content, except to a visitor the host page identified with its SSO token:
identify.json trades that JWT (checked as /sso/jwt checks it) for a short-lived identity of ours,
which the widget keeps in memory and sends as `Authorization: Bearer <identity>`. With it, contact
messages are verified and the visitor's own conversations can be read. The contact endpoint is
rate-limited per address and per client IP, and never answers with a link to the conversation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from happydesk.accounts.sso import (
    WIDGET_IDENTITY_MAX_AGE,
    SsoRefused,
    sso_enabled,
    sso_token_redeem,
    widget_identity_check,
    widget_identity_issue,
)
from happydesk.customers.models import Customer
from happydesk.inbox.access import conversations_for_customer
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.inbox.selectors import customer_thread
from happydesk.portal.forms import ContactForm, TooManyMessages
from happydesk.search.content import content_search
from happydesk.search.services import suggestion_event

SUGGEST_KINDS = ["article", "faq", "topic"]


def public_cors(view: Callable) -> Callable:
    """Allow any site to call this endpoint from the browser (no credentials), answering preflights."""

    @wraps(view)
    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
        else:
            try:
                response = view(request, *args, **kwargs)
            except Http404 as exc:  # a readable 404 the calling page can see (not a CORS failure)
                response = JsonResponse({"error": str(exc) or "Not found"}, status=404)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
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


# A table column's alignment travels as data-align: the widget parses article HTML on the company's page,
# where a style attribute would be refused by a Content-Security-Policy without inline styles; the
# widget sets the alignment through the CSSOM, which such a policy allows.
ALIGNED = re.compile(r'\sstyle="text-align:(left|right|center)"')


@public_cors
def article_json(request: HttpRequest, article_id: int) -> JsonResponse:
    """A public article's sanitized HTML, for reading inside the widget's panel."""
    from happydesk.kb import selectors
    from happydesk.kb.services import article_view_record
    from happydesk.web.markdown import render_markdown

    found = selectors.article_for_reader(article_id, include_internal=False)
    if found is None:
        raise Http404("No such article")
    article_view_record(article_id=found.pk)
    return JsonResponse(
        {
            "id": found.pk,
            "title": found.title,
            "html": ALIGNED.sub(r' data-align="\1"', render_markdown(found.body)),
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


class _NoIdentity(Exception):
    pass


def _identity(request: HttpRequest, mailbox: Mailbox, *, required: bool) -> Customer | None:
    """The customer of the widget identity sent with the request (Authorization: Bearer, or an
    `identity` form field). A forged or expired one raises _NoIdentity; none at all is None unless
    `required`."""
    header = request.headers.get("Authorization", "")
    value = header[7:].strip() if header.lower().startswith("bearer ") else request.POST.get("identity", "")
    if not value:
        if required:
            raise _NoIdentity
        return None
    customer = widget_identity_check(value, mailbox_id=mailbox.pk)
    if customer is None:
        raise _NoIdentity
    return customer


NO_IDENTITY = {"error": "Not identified, or the identity has expired: identify again"}


@public_cors
def widget_contact(request: HttpRequest, mailbox_id: int) -> JsonResponse:
    """The contact form from the widget: the same fields, rules and confirmation as the web form.
    Verified at once when the widget sends an identity for the owner of the typed address; the answer
    never carries a link to the conversation (that goes by email)."""
    if request.method != "POST":
        return JsonResponse({"error": "POST the form"}, status=405)
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, form_enabled=True)
    try:
        customer = _identity(request, mailbox, required=False)
    except _NoIdentity:
        return JsonResponse(NO_IDENTITY, status=401)
    form = ContactForm(request.POST, request.FILES or None, mailbox=mailbox)
    if not form.is_valid():
        return JsonResponse({"errors": {k: [str(e) for e in v] for k, v in form.errors.items()}}, status=400)
    try:
        conversation = form.submit(
            request,
            channel=Conversation.Channel.WIDGET,
            signed_in=customer,
            signed_in_via="SSO (JWT)" if customer else "",
        )
    except TooManyMessages:
        return JsonResponse(
            {"error": "Too many messages in a short time; please try again later."}, status=429
        )
    if conversation is None:  # the honeypot: the bot is told all is well
        return JsonResponse({"ok": True})
    return JsonResponse({"ok": True, "number": conversation.number, "verified": not conversation.unverified})


@public_cors
def widget_identify(request: HttpRequest, mailbox_id: int) -> JsonResponse:
    """Trade the host page's SSO token (a JWT, POSTed once as `jwt`) for a widget identity valid for
    WIDGET_IDENTITY_MAX_AGE seconds. Refusals are those of /sso/jwt, as JSON errors."""
    if not sso_enabled():
        raise Http404("Single sign-on is not set up")
    if request.method != "POST":
        return JsonResponse({"error": "POST the token"}, status=405)
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, form_enabled=True)
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            payload = {}
        token = str(payload.get("jwt", "")) if isinstance(payload, dict) else ""
    else:
        token = request.POST.get("jwt", "")
    try:
        customer, claims = sso_token_redeem(token)
    except SsoRefused as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse(
        {
            "ok": True,
            "identity": widget_identity_issue(customer=customer, mailbox_id=mailbox.pk),
            "expires_in": WIDGET_IDENTITY_MAX_AGE,
            "name": customer.name,
            "email": claims.email,
        }
    )


def _status_label(status: str) -> str:
    return {"closed": "Resolved", "pending": "Waiting for you"}.get(status, "Open")


@public_cors
def widget_conversations(request: HttpRequest, mailbox_id: int) -> JsonResponse:
    """The identified visitor's own conversations: subject, status and last activity."""
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, form_enabled=True)
    try:
        customer = _identity(request, mailbox, required=True)
    except _NoIdentity:
        return JsonResponse(NO_IDENTITY, status=401)
    rows = conversations_for_customer(customer).filter(merged_into__isnull=True).order_by("-last_activity_at")
    return JsonResponse(
        {
            "conversations": [
                {
                    "number": c.number,
                    "subject": c.subject,
                    "status": c.status,
                    "status_label": _status_label(c.status),
                    "last_activity_at": c.last_activity_at.isoformat(),
                }
                for c in rows[:50]
            ]
        }
    )


@public_cors
def widget_conversation(request: HttpRequest, mailbox_id: int, number: int) -> JsonResponse:
    """One of the identified visitor's conversations: what they and we wrote (never notes or events)."""
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, form_enabled=True)
    try:
        customer = _identity(request, mailbox, required=True)
    except _NoIdentity:
        return JsonResponse(NO_IDENTITY, status=401)
    conversation = conversations_for_customer(customer).filter(pk=number).first()
    if conversation is None:
        raise Http404("No such conversation")
    thread = customer_thread(conversation)
    return JsonResponse(
        {
            "number": conversation.number,
            "subject": conversation.subject,
            "status": conversation.status,
            "status_label": _status_label(conversation.status),
            "messages": [
                {
                    "from": "you"
                    if m.kind == Message.Kind.CUSTOMER
                    else (m.author.name if m.author else mailbox.name),
                    "kind": m.kind,
                    "text": m.text,
                    "at": m.created_at.isoformat(),
                }
                for m in thread
            ],
        }
    )


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
