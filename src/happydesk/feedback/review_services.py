"""Quality review: draw a random sample of an agent's (or a shift's) conversations, then score each."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.feedback.models import QualityReview, ReviewSample
from happydesk.inbox.models import Conversation, Message
from happydesk.scheduling.models import Shift

CRITERIA = [name for name, _ in QualityReview.CRITERIA]
MAX_SAMPLE = 100


class BadReview(ValueError):
    """Scores outside 1-4, a missing criterion, an empty range or an impossible sample."""


def _bounds(since: date, until: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(since, time.min, tzinfo=zone),
        datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone),
    )


def _on_shift(at: datetime, shift: Shift) -> bool:
    """Whether a moment falls inside the weekly shift, in the shift's own time zone."""
    local = at.astimezone(ZoneInfo(shift.timezone))
    t = local.time()
    if shift.start < shift.end:
        return local.weekday() == shift.weekday and shift.start <= t < shift.end
    # Past midnight: the evening part on its weekday, the morning part on the next day.
    return (local.weekday() == shift.weekday and t >= shift.start) or (
        local.weekday() == (shift.weekday + 1) % 7 and t < shift.end
    )


def sample_candidates(
    *, since: date, until: date, agent: User | None = None, shift: Shift | None = None
) -> dict[int, int]:
    """Conversations with replies in the range -> the agent whose work is reviewed there: the chosen
    agent (or the shift's), else whoever wrote most replies in the conversation in the range."""
    start, end = _bounds(since, until)
    replies = Message.objects.filter(
        kind=Message.Kind.REPLY, author__isnull=False, created_at__gte=start, created_at__lt=end
    ).exclude(conversation__status=Conversation.Status.SPAM)
    if shift is not None:
        agent = shift.agent
    if agent is not None:
        replies = replies.filter(author=agent)
    counts: dict[int, Counter[int]] = {}
    for conversation_id, author_id, at in replies.values_list("conversation_id", "author_id", "created_at"):
        if shift is not None and not _on_shift(at, shift):
            continue
        counts.setdefault(conversation_id, Counter())[author_id] += 1
    return {cid: c.most_common(1)[0][0] for cid, c in counts.items()}


@transaction.atomic
def review_sample_create(
    *,
    reviewer: User,
    since: date,
    until: date,
    size: int,
    agent: User | None = None,
    shift: Shift | None = None,
    skip_reviewed: bool = True,
    rng: random.Random | None = None,
) -> ReviewSample:
    """Pick up to `size` conversations at random among those with replies in the range (one agent's,
    one shift's, or the team's), leaving out those this work was already reviewed on."""
    if until < since:
        raise BadReview("the range ends before it starts")
    if not 1 <= size <= MAX_SAMPLE:
        raise BadReview(f"a sample has 1 to {MAX_SAMPLE} conversations")
    picks = sample_candidates(since=since, until=until, agent=agent, shift=shift)
    if skip_reviewed and picks:
        done = set(
            QualityReview.objects.filter(conversation_id__in=list(picks)).values_list(
                "conversation_id", "agent_id"
            )
        )
        picks = {cid: aid for cid, aid in picks.items() if (cid, aid) not in done}
    chosen = (rng or random.SystemRandom()).sample(sorted(picks), min(size, len(picks)))
    who = shift.agent if shift is not None else agent
    label = f"{who.name if who else 'Team'}" + (f", {shift.get_weekday_display()} shift" if shift else "")
    label += f", {since:%b %-d} – {until:%b %-d, %Y}"
    sample = ReviewSample.objects.create(
        reviewer=reviewer,
        agent=who,
        label=label,
        since=since,
        until=until,
        filters={
            "size": size,
            "agent": who.pk if who else None,
            "shift": shift.pk if shift else None,
            "picks": {str(cid): picks[cid] for cid in chosen},
        },
    )
    sample.conversations.set(chosen)
    return sample


@transaction.atomic
def quality_review_save(
    *,
    conversation: Conversation,
    agent: User,
    reviewer: User,
    scores: dict[str, int],
    comments: dict[str, str] | None = None,
    comment: str = "",
    sample: ReviewSample | None = None,
) -> QualityReview:
    """Record (or revise) one reviewer's scores for an agent's work on a conversation."""
    if set(scores) != set(CRITERIA):
        raise BadReview(f"score each of {', '.join(CRITERIA)}")
    if any(not isinstance(v, int) or not 1 <= v <= 4 for v in scores.values()):
        raise BadReview("scores are 1 to 4")
    if agent == reviewer:
        raise BadReview("a review is a colleague's view: nobody reviews their own work")
    comments = comments or {}
    values = {
        **scores,
        **{f"{name}_comment": comments.get(name, "").strip() for name in CRITERIA},
        "comment": comment.strip(),
        "sample": sample,
        "updated_at": timezone.now(),
    }
    review, _ = QualityReview.objects.update_or_create(
        conversation=conversation, agent=agent, reviewer=reviewer, defaults=values
    )
    return review
