"""Demo data for the report (called from happydesk.runtime.demo.load_demo): orders per day for contacts per
transaction, the monthly support cost, saved-reply uses that match the conversations, the baseline tags;
then the rollup is built so the report shows the demo at once."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from happydesk.inbox.models import Conversation, Message
from happydesk.replies.models import SavedReply, SavedReplyUse
from happydesk.reports.models import BusinessVolume, ReportSettings, SupportCost
from happydesk.reports.rollup import rollup_rebuild

# Which saved reply an agent would have used for a conversation with this tag.
SAVED_FOR_TAG = {
    "login": "Password reset link",
    "refund": "Refund issued",
    "invoice": "Invoice address changed",
    "performance": "Known issue: slow dashboard",
}
MONTHLY_COST = (Decimal("18400.00"), Decimal("18400.00"), Decimal("19150.00"), Decimal("19150.00"))


def load_demo_reports(*, now: datetime, seed: int = 11, days: int = 90) -> None:
    """Orders per day, four months of support cost, saved-reply uses, baseline tags; then the rollup."""
    rng = random.Random(seed)
    today = now.date()
    volumes = []
    for back in range(days, 0, -1):  # up to yesterday: today's orders are not in yet
        day = today - timedelta(days=back)
        base = 190 if day.weekday() < 5 else 120
        growth = 1 + 0.15 * (days - back) / days
        volumes.append(
            BusinessVolume(
                date=day, metric="orders", value=round(base * growth * rng.uniform(0.85, 1.15)), source="api"
            )
        )
    BusinessVolume.objects.bulk_create(volumes, ignore_conflicts=True)
    month = today.replace(day=1)
    for i, amount in enumerate(reversed(MONTHLY_COST)):
        start = month
        for _ in range(i):
            start = (start - timedelta(days=1)).replace(day=1)
        SupportCost.objects.update_or_create(month=start, defaults={"amount": amount})
    ReportSettings.objects.update_or_create(
        pk=1, defaults={"baseline_tags": ["refund", "billing", "shipping"], "timezone": "America/New_York"}
    )
    _saved_reply_uses(rng)
    rollup_rebuild(now=now)


def _saved_reply_uses(rng: random.Random) -> None:
    replies = {
        r.name: r for r in SavedReply.objects.filter(name__in=[*SAVED_FOR_TAG.values(), "Offer a call"])
    }
    first_replies: dict[int, Message] = {}
    counts: dict[int, int] = {}
    for m in Message.objects.filter(kind=Message.Kind.REPLY).order_by("created_at", "id"):
        first_replies.setdefault(m.conversation_id, m)
        counts[m.conversation_id] = counts.get(m.conversation_id, 0) + 1
    tags: dict[int, set[str]] = {}
    for conversation_id, name in Conversation.tags.through.objects.values_list(
        "conversation_id", "tag__name"
    ):
        tags.setdefault(conversation_id, set()).add(name)
    uses = []
    for conversation_id, reply in sorted(first_replies.items()):
        for tag, name in SAVED_FOR_TAG.items():
            if tag in tags.get(conversation_id, ()) and name in replies and rng.random() < 0.6:
                uses.append(
                    SavedReplyUse(
                        saved_reply=replies[name],
                        agent_id=reply.author_id,
                        conversation_id=conversation_id,
                        used_at=reply.created_at,
                        sent_at=reply.created_at,
                    )
                )
        if counts[conversation_id] >= 3 and "Offer a call" in replies and rng.random() < 0.3:
            uses.append(
                SavedReplyUse(
                    saved_reply=replies["Offer a call"],
                    agent_id=reply.author_id,
                    conversation_id=conversation_id,
                    used_at=reply.created_at,
                    sent_at=reply.created_at,
                )
            )
    SavedReplyUse.objects.bulk_create(uses, batch_size=500)
