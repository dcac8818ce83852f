"""The rating pages: the customer's one-click link (signed, no login) and the agents' ratings feed."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from happydesk.accounts.decorators import AgentRequest
from happydesk.feedback import selectors, services
from happydesk.feedback.models import Rating, RatingRequest
from happydesk.inbox.access import conversations_for_agent
from happydesk.inbox.models import Mailbox
from happydesk.mail.outbound import conversation_link


def _request_or_none(token: str) -> RatingRequest | None:
    try:
        return services.request_from_token(token)
    except services.BadRatingLink:
        return None


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "feedback/bad_link.html", status=404)


@csrf_exempt  # the signed token is the credential; a customer following an email link has no session
def rate(request: HttpRequest, token: str, value: str) -> HttpResponse:
    """GET shows the choice and lets the browser post it at once (a mail scanner's GET records
    nothing); POST records it and moves on to the optional comment."""
    rating_request = _request_or_none(token)
    if rating_request is None or value not in Rating.Value.values:
        return _bad_link(request)
    if request.method == "POST":
        services.rating_record(request=rating_request, value=value)
        return redirect("rate_thanks", token=token)
    label = Rating.Value(value).label
    response = render(
        request, "feedback/rate.html", {"c": rating_request.conversation, "label": label, "value": value}
    )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt
def rate_thanks(request: HttpRequest, token: str) -> HttpResponse:
    """After the click: the recorded choice, a way to change it, and an optional comment."""
    rating_request = _request_or_none(token)
    if rating_request is None:
        return _bad_link(request)
    rating = Rating.objects.filter(request=rating_request).first()
    if rating is None:  # nothing chosen yet: back to the choice
        return render(
            request,
            "feedback/choose.html",
            {"c": rating_request.conversation, "token": token, "choices": services.CHOICES},
        )
    saved = False
    if request.method == "POST":
        services.rating_record(
            request=rating_request, value=rating.value, comment=request.POST.get("comment", "")
        )
        rating.refresh_from_db()
        saved = True
    return render(
        request,
        "feedback/thanks.html",
        {
            "c": rating_request.conversation,
            "rating": rating,
            "token": token,
            "choices": services.CHOICES,
            "saved": saved,
            # The rating link came by email to this conversation's customer: the same signed link as
            # the one in our replies (it expires, and opens this conversation for its customer only).
            "conversation_link": conversation_link(rating_request.conversation),
        },
    )


@login_required
def ratings(request: AgentRequest) -> HttpResponse:
    """The ratings feed: newest first, with comments, filterable; the score for the period on top."""
    days = int(request.GET["days"]) if request.GET.get("days", "").isdigit() else 30
    since = timezone.now() - timedelta(days=days)
    value = request.GET.get("value") if request.GET.get("value") in Rating.Value.values else None
    mailbox_id = int(request.GET["mailbox"]) if request.GET.get("mailbox", "").isdigit() else None
    visible = conversations_for_agent(request.user)  # a light agent never sees a security report's rating
    feed = selectors.ratings_feed(value=value, mailbox_id=mailbox_id, since=since, visible=visible)
    if request.GET.get("comments") == "1":
        feed = feed.exclude(comment="")
    page = Paginator(feed, 50).get_page(request.GET.get("page"))
    summary = selectors.happiness(selectors.ratings_feed(mailbox_id=mailbox_id, since=since, visible=visible))
    return render(
        request,
        "feedback/ratings.html",
        {
            "page": page,
            "summary": summary,
            "days": days,
            "value": value,
            "mailbox_id": mailbox_id,
            "mailboxes": Mailbox.objects.order_by("name"),
            "values": Rating.Value.choices,
            "comments_only": request.GET.get("comments") == "1",
            "periods": [7, 30, 90, 365],
        },
    )
