"""API shapes (pydantic via django-ninja)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class MailboxOut(Schema):
    id: int
    address: str
    name: str
    response_goal_minutes: int
    timezone: str


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    inline: bool
    url: str


class AuthorOut(Schema):
    name: str
    email: str
    kind: str  # "agent", "customer" or "system"


class MessageOut(Schema):
    id: int
    kind: str
    author: AuthorOut
    subject: str
    text: str
    quoted: str
    html: str
    attachments: list[AttachmentOut]
    created_at: datetime
    delivery: str
    delivery_error: str
    message_id: str
    threading_rule: str
    threading_reason: str
    sender_verified: bool | None = Field(
        None, description="Customer messages: the sender was shown to be who they say (null for our own)."
    )
    verification: str = Field("", description="How the sender was verified, or why not.")
    event: dict


class ConversationOut(Schema):
    number: int
    subject: str
    status: str
    channel: str
    mailbox: str
    customer_email: str
    customer_name: str
    tags: list[str]
    unverified: bool
    unverified_reason: str = ""
    possibly_same_as: int | None = Field(
        None,
        description="An unverified conversation that pointed at this one: merge it there if it's the same.",
    )
    preview: str
    created_at: datetime
    last_activity_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]


class ReplyIn(Schema):
    text: str
    status: str | None = None


class NoteIn(Schema):
    text: str


class QuarantineOut(Schema):
    id: int
    source: str
    received_at: datetime
    reason: str
    size: int
    origin: str


class RawAccepted(Schema):
    id: int
    state: str


class Error(Schema):
    detail: str
