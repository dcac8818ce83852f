"""REST API v1 (django-ninja): token auth, OpenAPI at /api/v1/openapi.json. Endpoints are interfaces:
they validate input, fetch through access functions, call one service and serialise."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import NinjaAPI, Query, Status
from ninja.security import HttpBearer

from happydesk.accounts.decorators import AgentRequest
from happydesk.accounts.models import ApiToken, User
from happydesk.accounts.services import token_authenticate
from happydesk.api.schemas import (
    ConversationDetailOut,
    ConversationOut,
    Error,
    MailboxOut,
    MessageOut,
    NoteIn,
    QuarantineOut,
    RawAccepted,
    ReplyIn,
)
from happydesk.inbox import selectors, services
from happydesk.inbox.access import access_conversation_for_agent, conversations_for_agent
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.inbox.placeholders import UnfilledPlaceholders
from happydesk.mail.models import RawMessage
from happydesk.mail.store import MessageTooLarge, store_raw


class TokenAuth(HttpBearer):
    """A bearer token of one kind: "api" for every route but raw mail, "mta" for raw mail only; a token
    of the other kind is refused with 401 as if unknown."""

    def __init__(self, kind: str = ApiToken.Kind.API) -> None:
        super().__init__()
        self.kind = kind

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = token_authenticate(token, kind=self.kind)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(title="Happydesk API", version="1", auth=TokenAuth(), urls_namespace="api-v1")


def _linked_visible(agent: User, rows: list[Conversation]) -> set[int]:
    """The "possibly the same as" conversations among rows this agent may see (a light agent must not
    learn a security report's number from an unverified conversation pointing at it)."""
    ids = {c.possibly_same_as_id for c in rows if c.unverified and c.possibly_same_as_id}
    if not ids:
        return set()
    return set(conversations_for_agent(agent).filter(pk__in=ids).values_list("pk", flat=True))


def _conversation_out(c: Conversation, linked: set[int] | frozenset[int] = frozenset()) -> dict:
    return {
        "number": c.number,
        "subject": c.subject,
        "status": c.status,
        "channel": c.channel,
        "mailbox": c.mailbox.address,
        "customer_email": c.customer.primary_email,
        "customer_name": c.customer.name,
        "tags": [t.name for t in c.tags.all()],
        "unverified": c.unverified,
        "unverified_reason": c.unverified_reason,
        "possibly_same_as": c.possibly_same_as_id if c.possibly_same_as_id in linked else None,
        "preview": c.preview,
        "created_at": c.created_at,
        "last_activity_at": c.last_activity_at,
        "first_response_at": c.first_response_at,
        "resolved_at": c.resolved_at,
    }


def _message_out(m: Message) -> dict:
    if m.kind == Message.Kind.CUSTOMER:
        author = {"name": m.from_name, "email": m.from_address, "kind": "customer"}
    elif m.author is not None:
        author = {"name": m.author.name, "email": m.author.email, "kind": "agent"}
    else:
        author = {"name": "Happydesk", "email": "", "kind": "system"}
    return {
        "id": m.pk,
        "kind": m.kind,
        "author": author,
        "subject": m.subject,
        "text": m.text,
        "quoted": m.quoted,
        "html": m.html,
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "inline": a.inline,
                "url": settings.BASE_URL + reverse("attachment", args=[m.conversation_id, a.pk]),
            }
            for a in m.attachments.all()
        ],
        "created_at": m.created_at,
        "delivery": m.delivery,
        "delivery_error": m.delivery_error,
        "message_id": m.message_id,
        "threading_rule": m.threading_rule,
        "threading_reason": m.threading_reason,
        "sender_verified": m.sender_verified if m.kind == Message.Kind.CUSTOMER else None,
        "verification": m.verification,
        "event": m.event,
    }


@api.get("/mailboxes", response=list[MailboxOut], tags=["mailboxes"])
def list_mailboxes(request: AgentRequest) -> list[Mailbox]:
    return list(Mailbox.objects.order_by("id"))


@api.get("/conversations", response=list[ConversationOut], tags=["conversations"])
def list_conversations(
    request: AgentRequest,
    status: str | None = None,
    mailbox: str | None = None,
    tag: str | None = None,
    customer_email: str | None = None,
    q: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[dict]:
    qs = selectors.conversation_list(
        agent=request.user, status=status, mailbox=mailbox, tag=tag, customer_email=customer_email, q=q
    )
    if q and q.strip():  # best match first
        ids = selectors.search_ranked(qs, selectors.search_hits(q))[offset : offset + limit]
        rows = list(selectors.rows_in_order(ids))
    else:
        rows = list(qs[offset : offset + limit])
    linked = _linked_visible(request.user, rows)
    return [_conversation_out(c, linked) for c in rows]


@api.get("/conversations/{number}", response=ConversationDetailOut, tags=["conversations"])
def get_conversation(request: AgentRequest, number: int) -> dict:
    c = access_conversation_for_agent(request.user, number)
    return {
        **_conversation_out(c, _linked_visible(request.user, [c])),
        "messages": [_message_out(m) for m in selectors.thread(c)],
    }


@api.post("/conversations/{number}/replies", response={201: MessageOut, 422: Error}, tags=["conversations"])
def post_reply(request: AgentRequest, number: int, payload: ReplyIn) -> Status[dict]:
    c = access_conversation_for_agent(request.user, number)
    if not payload.text.strip():
        return Status(422, {"detail": "text is empty"})
    if payload.status and payload.status not in Conversation.Status.values:
        return Status(422, {"detail": f"status must be one of {', '.join(Conversation.Status.values)}"})
    try:
        message = services.reply_create(
            conversation=c, author=request.user, text=payload.text, status=payload.status
        )
    except UnfilledPlaceholders as exc:
        return Status(
            422, {"detail": f"fill these placeholders first: {', '.join(u.text for u in exc.found)}"}
        )
    return Status(201, _message_out(message))


@api.post("/conversations/{number}/notes", response={201: MessageOut, 422: Error}, tags=["conversations"])
def post_note(request: AgentRequest, number: int, payload: NoteIn) -> Status[dict]:
    c = access_conversation_for_agent(request.user, number)
    if not payload.text.strip():
        return Status(422, {"detail": "text is empty"})
    return Status(
        201, _message_out(services.note_add(conversation=c, author=request.user, text=payload.text))
    )


@api.get("/quarantine", response={200: list[QuarantineOut], 403: Error}, tags=["mail"])
def list_quarantine(request: AgentRequest) -> Status[list[RawMessage] | dict]:
    if not request.user.is_admin:
        return Status(403, {"detail": "admins only"})
    return Status(
        200, list(RawMessage.objects.filter(state=RawMessage.State.QUARANTINED).order_by("-id")[:500])
    )


@api.post(
    "/mail/raw",
    response={202: RawAccepted, 400: Error, 413: Error},
    tags=["mail"],
    auth=TokenAuth(ApiToken.Kind.MTA),
)
def post_raw(request: AgentRequest, mailbox: str | None = None) -> Status[dict]:
    """Accept one raw MIME message (the request body) from an MTA or email service. Only an MTA token
    (`happydesk token create --mta`) is accepted here, and only here.

    Answers 202 only after the bytes and their row are stored; processing happens in the worker.
    """
    data = request.body
    if not data.strip():
        return Status(400, {"detail": "empty body: send the raw MIME message as the request body"})
    target = None
    if mailbox:
        target = Mailbox.objects.filter(address=mailbox.lower()).first()
        if target is None:
            return Status(400, {"detail": f"no mailbox {mailbox}"})
    try:
        raw = store_raw(
            data,
            source=RawMessage.Source.HTTP,
            mailbox=target,
            origin=f"http from {request.META.get('REMOTE_ADDR', '-')}",
        )
    except MessageTooLarge as exc:
        return Status(413, {"detail": str(exc)})
    return Status(202, {"id": raw.pk, "state": raw.state})


api.add_router("", "happydesk.reports.api.router")  # POST /business-volume: contacts per transaction
api.add_router("/status", "happydesk.status.api.router")  # incidents and their plan, early warnings
