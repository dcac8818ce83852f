"""Asking for and recording one-click ratings. The link in an email is signed for one conversation's
request, so it cannot be forged or replayed for another; a GET never records (mail scanners open
every link), the page a person's browser opens posts the choice at once."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.feedback.models import Rating, RatingRequest
from happydesk.inbox.access import conversations_for_agent
from happydesk.inbox.models import Conversation, Mailbox, Message

SALT = "happydesk.feedback.rating"
LINK_MAX_AGE = timedelta(days=365)
CHOICES = [(Rating.Value.GREAT, "Great"), (Rating.Value.OKAY, "Okay"), (Rating.Value.NOT_GOOD, "Not good")]


class BadRatingLink(Exception):
    """The link was altered, is for a conversation that no longer exists, or is too old."""


def rating_token(request: RatingRequest) -> str:
    return signing.dumps({"c": request.conversation_id, "r": request.pk}, salt=SALT)


def request_from_token(token: str) -> RatingRequest:
    """The request a signed link stands for; the conversation id inside must match the request's."""
    try:
        data = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature as exc:
        raise BadRatingLink(str(exc)) from exc
    request = (
        RatingRequest.objects.select_related("conversation__mailbox", "customer", "message__author")
        .filter(pk=data.get("r"), conversation_id=data.get("c"))
        .first()
    )
    if request is None:
        raise BadRatingLink("no such rating request")
    return request


def rating_links(request: RatingRequest) -> list[tuple[str, str, str]]:
    """(value, label, absolute URL) for the three choices."""
    token = rating_token(request)
    return [
        (value, label, settings.BASE_URL + reverse("rate", args=[token, value])) for value, label in CHOICES
    ]


@transaction.atomic(savepoint=False)
def rating_request_for_reply(*, message: Message, closing: bool) -> RatingRequest | None:
    """Let this reply carry the rating question if the mailbox's rules allow: asked on the chosen
    replies only, once per conversation, and once per customer per window across conversations."""
    conversation = message.conversation
    mailbox = conversation.mailbox
    if mailbox.rating_mode == Mailbox.RatingMode.OFF:
        return None
    if mailbox.rating_mode == Mailbox.RatingMode.CLOSING and not closing:
        return None
    if RatingRequest.objects.filter(conversation=conversation).exists():
        return None
    at = message.created_at or timezone.now()  # the reply's own time (imports and replays keep theirs)
    since = at - timedelta(days=mailbox.rating_window_days)
    if RatingRequest.objects.filter(customer_id=conversation.customer_id, created_at__gt=since).exists():
        return None
    return RatingRequest.objects.create(
        conversation=conversation, message=message, customer_id=conversation.customer_id, created_at=at
    )


def _event(conversation: Conversation, data: dict) -> None:
    Message.objects.create(
        conversation=conversation, kind=Message.Kind.EVENT, event={"type": "rated", **data}
    )


@transaction.atomic
def rating_record(*, request: RatingRequest, value: str, comment: str | None = None) -> Rating:
    """Record (or change) the customer's choice; 'not good' alerts the team when the mailbox asks."""
    if value not in Rating.Value.values:
        raise ValueError(f"unknown rating {value!r}")
    RatingRequest.objects.select_for_update().filter(pk=request.pk).first()  # one writer per request
    rating = Rating.objects.filter(request=request).first()
    now = timezone.now()
    conversation = request.conversation
    changed = rating is None or rating.value != value
    if rating is None:
        rating = Rating(
            request=request,
            conversation=conversation,
            customer_id=request.customer_id,
            agent=request.message.author,
            mailbox=conversation.mailbox,
            value=value,
            created_at=now,
        )
    elif changed:
        rating.value, rating.changes = value, rating.changes + 1
    if comment is not None:
        rating.comment = comment.strip()[:5000]
    rating.updated_at = now
    rating.save()
    if changed:
        _event(conversation, {"value": value, "changed": rating.changes > 0})
        if value == Rating.Value.NOT_GOOD and conversation.mailbox.rating_alert:
            _alert_not_good(rating)
    elif comment:
        _event(conversation, {"value": value, "comment": True})
    return rating


def _alert_not_good(rating: Rating) -> None:
    """Tell the agent who wrote the reply and the admins, through the outbox."""
    from happydesk.mail.outbound import notice_enqueue

    to = {u.email for u in User.objects.filter(is_active=True, role=User.Role.ADMIN)}
    conversation = rating.conversation
    if rating.agent and conversations_for_agent(rating.agent).filter(pk=conversation.pk).exists():
        to.add(rating.agent.email)  # not a light agent's when the conversation became a security report
    if not to:
        return
    link = settings.BASE_URL + reverse("conversation", args=[conversation.number])
    text = (
        f"A customer rated a reply in #{conversation.number} ({conversation.subject}) as not good.\n\n"
        + (f"They wrote: {rating.comment}\n\n" if rating.comment else "")
        + f"Open the conversation: {link}\n"
    )
    notice_enqueue(
        to=sorted(to),
        subject=f"Not good: #{conversation.number} {conversation.subject}"[:200],
        text=text,
        kind="rating-alert",
    )


def rating_footer_for_reply(*, message_id: int, closing: bool) -> tuple[str, str] | None:
    """The rating question (text, HTML) this reply carries, asked now if the mailbox's rules allow;
    None when it carries none. The mail app puts it after the reply (runtime/receivers.py)."""
    message = Message.objects.select_related("conversation__mailbox").get(pk=message_id)
    with transaction.atomic():
        request = RatingRequest.objects.filter(message=message).first() or rating_request_for_reply(
            message=message, closing=closing
        )
    return rating_block(request) if request is not None else None


def rating_block(request: RatingRequest) -> tuple[str, str]:
    """The text and HTML of the rating question for this request's reply."""
    links = rating_links(request)
    text = "How was this reply? One click is enough:\n" + "\n".join(
        f"  {label}: {url}" for _, label, url in links
    )
    colours = {"great": "#1a7f37", "okay": "#9a6700", "not_good": "#cf222e"}
    buttons = " ".join(
        f'<a href="{url}" style="display:inline-block;padding:6px 14px;margin-right:6px;border:1px solid '
        f'{colours[value]};border-radius:16px;color:{colours[value]};text-decoration:none">{label}</a>'
        for value, label, url in links
    )
    html = f'<p style="margin-top:24px;color:#57606a">How was this reply?</p><p>{buttons}</p>'
    return text, html
