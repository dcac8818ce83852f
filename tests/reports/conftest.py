"""A hand-checked week for the report: two mailboxes in two time zones (New York with daylight saving
starting on Sunday 9 March 2025, Tokyo without), weekdays and a weekend, waits inside and outside business
hours, reopens, ratings given on another day than the conversation, tags, saved replies. The expected
figures are worked out by hand in tests/reports/test_figures.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

NY, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")
WEEK = (date(2025, 3, 3), date(2025, 3, 9))  # Monday to Sunday; the week before is the previous period


def ny(*args: int) -> datetime:
    return datetime(2025, *args, tzinfo=NY)


def tokyo(*args: int) -> datetime:
    return datetime(2025, *args, tzinfo=TOKYO)


@pytest.fixture(autouse=True)
def fast_passwords(settings):  # type: ignore[no-untyped-def]
    """The agents here never sign in with a password that matters: skip the slow hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    ny: object
    tokyo: object
    alice: object
    bob: object
    c: dict


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    from happydesk.accounts.services import agent_create
    from happydesk.customers.services import customer_for_address
    from happydesk.feedback.models import Rating, RatingRequest
    from happydesk.inbox.models import Conversation, Message, Tag
    from happydesk.inbox.services import mailbox_create
    from happydesk.replies.models import SavedReply, SavedReplyUse
    from happydesk.reports.models import BusinessVolume, SupportCost

    ny_box = mailbox_create(address="support@acme.test", name="Acme Support", timezone="America/New_York")
    tokyo_box = mailbox_create(
        address="tokyo@acme.test",
        name="Acme Tokyo",
        timezone="Asia/Tokyo",
        business_hours={str(d): [["10:00", "18:00"]] for d in range(5)},
    )
    alice = agent_create(email="alice@acme.test", name="Alice Agent", password="long-password-1", admin=True)
    bob = agent_create(email="bob@acme.test", name="Bob Agent", password="long-password-2")
    customer = customer_for_address(address="casey@example.test", name="Casey Customer")
    tags = {name: Tag.objects.create(name=name) for name in ("billing", "refund", "bug")}
    saved = {
        "refund": SavedReply.objects.create(name="Refund issued", body="Refunded."),
        "reset": SavedReply.objects.create(name="Password reset link", body="Here you go."),
    }
    convs: dict[str, Conversation] = {}

    def conv(
        key, box, created, first=None, resolved=None, *, status="closed", channel="email", tag=(), replies=()
    ):  # type: ignore[no-untyped-def]
        c = Conversation.objects.create(
            mailbox=box,
            customer=customer,
            subject=f"{key}: help, write me at casey@example.test",
            status=status if resolved or status != "closed" else "pending",
            channel=channel,
            created_at=created,
            last_activity_at=created,
            first_response_at=first,
            resolved_at=resolved,
        )
        Message.objects.create(conversation=c, kind="customer", text="Hello", created_at=created)
        for author, at in replies:
            Message.objects.create(conversation=c, kind="reply", author=author, text="Answer", created_at=at)
        for name in tag:
            c.tags.add(tags[name])
        convs[key] = c
        return c

    a, b = alice, bob
    # This week, New York (EST, UTC-5, until Sunday 2:00; business hours Mon-Fri 9-17).
    conv(
        "c1",
        ny_box,
        ny(3, 3, 10),
        ny(3, 3, 10, 30),
        ny(3, 3, 12),
        tag=["billing"],
        replies=[(a, ny(3, 3, 10, 30))],
    )
    conv(
        "c2", ny_box, ny(3, 3, 16), ny(3, 4, 10), ny(3, 4, 11), tag=["billing", "refund"],
        replies=[(a, ny(3, 4, 10)), (b, ny(3, 4, 10, 30))],
    )  # fmt: skip
    conv(
        "c3", ny_box, ny(3, 8, 11), ny(3, 10, 9, 15), ny(3, 10, 10, 15), channel="form", tag=["refund"],
        replies=[(b, ny(3, 10, 9, 15))],
    )  # fmt: skip  # a Saturday; answered Monday after the clocks changed
    conv(
        "c4", ny_box, ny(3, 7, 16, 30), ny(3, 10, 9, 30), None, status="pending", replies=[(b, ny(3, 10, 9, 30))]
    )  # fmt: skip  # Friday 16:30 to Monday 9:30: 64 hours, one business hour
    conv(
        "c5", ny_box, ny(3, 5, 8), ny(3, 5, 8, 20), ny(3, 5, 8, 40), channel="chat", tag=["bug"],
        replies=[(a, ny(3, 5, 8, 20)), (a, ny(3, 5, 8, 30)), (b, ny(3, 5, 8, 35))],
    )  # fmt: skip  # before opening: no business time passed
    conv("c6", ny_box, ny(3, 6, 12), status="active", tag=["bug"])  # not answered yet
    conv("c7", ny_box, ny(3, 4, 9), status="spam")  # spam: never counted
    conv("c8", ny_box, ny(3, 4, 13), ny(3, 4, 13, 5), ny(3, 4, 13, 10), replies=[(a, ny(3, 4, 13, 5))])
    conv("c9", ny_box, ny(3, 6, 10), ny(3, 6, 10, 10), None, status="active", replies=[(b, ny(3, 6, 10, 10))])
    # This week, Tokyo (JST, UTC+9; business hours Mon-Fri 10-18).
    conv(
        "t1", tokyo_box, tokyo(3, 3, 8, 30), tokyo(3, 3, 11), tokyo(3, 3, 15), tag=["billing"],
        replies=[(b, tokyo(3, 3, 11)), (a, tokyo(3, 3, 12))],
    )  # fmt: skip  # Monday in Tokyo, still Sunday in UTC
    conv(
        "t2", tokyo_box, tokyo(3, 9, 23, 30), tokyo(3, 10, 10, 30), tokyo(3, 10, 12), replies=[(a, tokyo(3, 10, 10, 30))]
    )  # fmt: skip  # Sunday night in Tokyo
    # The week before.
    conv(
        "p1",
        ny_box,
        ny(2, 25, 10),
        ny(2, 25, 10, 45),
        ny(2, 25, 11),
        tag=["billing"],
        replies=[(a, ny(2, 25, 10, 45))],
    )
    conv("p2", ny_box, ny(2, 26, 14), ny(2, 27, 14), None, status="pending", replies=[(b, ny(2, 27, 14))])
    conv(
        "t0", tokyo_box, tokyo(3, 2, 23), tokyo(3, 3, 10, 10), tokyo(3, 3, 10, 20), replies=[(a, tokyo(3, 3, 10, 10))]
    )  # fmt: skip  # Sunday in Tokyo: the week before

    # Reopens: c3 by the customer after closing, c9 by an agent; c8's customer answered while *pending*.
    Message.objects.create(
        conversation=convs["c3"],
        kind="event",
        event={"type": "reopened", "from": "closed", "by": "customer"},
        created_at=ny(3, 10, 10),
    )
    Message.objects.create(
        conversation=convs["c9"],
        kind="event",
        event={"type": "status", "from": "closed", "to": "active"},
        created_at=ny(3, 6, 11),
    )
    Message.objects.create(
        conversation=convs["c8"],
        kind="event",
        event={"type": "reopened", "from": "pending", "by": "customer"},
        created_at=ny(3, 4, 13, 7),
    )

    def rate(key, value, at, requested, agent, comment=""):  # type: ignore[no-untyped-def]
        c = convs[key]
        message = c.messages.filter(kind="reply").order_by("-created_at").first()
        request = RatingRequest.objects.create(
            conversation=c, message=message, customer=customer, created_at=requested
        )
        if value:
            Rating.objects.create(
                request=request, conversation=c, customer=customer, agent=agent, mailbox=c.mailbox,
                value=value, comment=comment, created_at=at, updated_at=at,
            )  # fmt: skip

    rate(
        "c1", "great", ny(3, 3, 13), ny(3, 3, 12), a, "Quick and clear, thank you! Casey, casey@example.test"
    )
    rate("c2", "not_good", ny(3, 4, 12), ny(3, 4, 11), b)
    rate("c3", "okay", ny(3, 10, 11), ny(3, 10, 10, 15), b)  # given after the week: not counted
    rate("c8", "great", ny(3, 4, 14), ny(3, 4, 13, 10), a)
    rate("t1", "great", tokyo(3, 3, 16), tokyo(3, 3, 15), a)
    rate("c5", None, None, ny(3, 5, 8, 40), b)  # asked, never answered
    rate("c9", None, None, ny(3, 6, 10, 10), b)
    rate("p1", "great", ny(2, 25, 12), ny(2, 25, 11), a)
    rate(
        "p2", "okay", ny(3, 3, 9), ny(2, 27, 14, 30), b, "Took a while."
    )  # a rating this week on last week's

    SavedReplyUse.objects.create(
        saved_reply=saved["refund"],
        agent=a,
        conversation=convs["c2"],
        used_at=ny(3, 4, 10),
        sent_at=ny(3, 4, 10),
    )
    SavedReplyUse.objects.create(
        saved_reply=saved["refund"],
        agent=b,
        conversation=convs["c3"],
        used_at=ny(3, 10, 9),
        sent_at=ny(3, 10, 9),
    )
    SavedReplyUse.objects.create(
        saved_reply=saved["reset"],
        agent=a,
        conversation=convs["c1"],
        used_at=ny(3, 3, 10),
        sent_at=ny(3, 3, 10),
    )
    for day in range(3, 9):
        BusinessVolume.objects.create(date=date(2025, 3, day), metric="orders", value=100)
    SupportCost.objects.create(month=date(2025, 2, 1), amount=Decimal("2800"))
    SupportCost.objects.create(month=date(2025, 3, 1), amount=Decimal("3100"))
    return World(ny=ny_box, tokyo=tokyo_box, alice=alice, bob=bob, c=convs)


@pytest.fixture
def built(world):  # type: ignore[no-untyped-def]
    """The world with its rollup built as of a few days after the week."""
    from happydesk.reports.rollup import rollup_rebuild

    rollup_rebuild(now=datetime(2025, 3, 12, 12, tzinfo=NY))
    return world
