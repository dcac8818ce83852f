"""Quality review: random samples of an agent's or a shift's conversations, scoring on four criteria,
agents seeing their own reviews (and nobody else's), and no ranking anywhere."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.test import Client

from happydesk.accounts.services import agent_create
from happydesk.customers.services import customer_for_address
from happydesk.feedback import review_selectors, review_services
from happydesk.feedback.models import QualityReview, ReviewSample
from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.services import conversation_open
from happydesk.scheduling.services import shift_add

pytestmark = pytest.mark.django_db
SCORES = {"tone": 4, "facts": 3, "reply_time": 2, "procedure": 3}


@pytest.fixture
def team(agent):
    """Alex (admin, the reviewer), and agents Bea and Cy with replies on known days."""
    bea = agent_create(email="bea@acme.test", name="Bea Agent", password="long-password")
    cy = agent_create(email="cy@acme.test", name="Cy Agent", password="long-password")
    return {"reviewer": agent, "bea": bea, "cy": cy}


def conversation_with_replies(mailbox, *replies: tuple) -> Conversation:  # type: ignore[no-untyped-def]
    customer = customer_for_address(address=f"c{Conversation.objects.count()}@example.test", name="Casey")
    c = conversation_open(
        mailbox=mailbox, customer=customer, subject=f"Question {Conversation.objects.count()}"
    )
    for author, at in replies:
        Message.objects.create(
            conversation=c, kind=Message.Kind.REPLY, author=author, text="Hi", created_at=at
        )
    return c


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)  # March 2026: the 2nd is a Monday


def test_sample_is_random_within_agent_and_dates_and_skips_reviewed(mailbox, team):
    bea, cy = team["bea"], team["cy"]
    beas = [conversation_with_replies(mailbox, (bea, at(3))) for _ in range(6)]
    conversation_with_replies(mailbox, (bea, at(20)))  # outside the range
    conversation_with_replies(mailbox, (cy, at(3)))  # someone else's
    mixed = conversation_with_replies(mailbox, (cy, at(4)), (bea, at(4, 11)), (cy, at(4, 12)))

    candidates = review_services.sample_candidates(since=date(2026, 3, 1), until=date(2026, 3, 10), agent=bea)
    assert set(candidates) == {c.pk for c in beas} | {mixed.pk}
    assert set(candidates.values()) == {bea.pk}
    team_wide = review_services.sample_candidates(since=date(2026, 3, 1), until=date(2026, 3, 10))
    assert team_wide[mixed.pk] == cy.pk  # the team sample reviews whoever did most of the replying

    first = review_services.review_sample_create(
        reviewer=team["reviewer"], since=date(2026, 3, 1), until=date(2026, 3, 10), size=3, agent=bea,
        rng=random.Random(1),
    )  # fmt: skip
    second = review_services.review_sample_create(
        reviewer=team["reviewer"], since=date(2026, 3, 1), until=date(2026, 3, 10), size=3, agent=bea,
        rng=random.Random(2),
    )  # fmt: skip
    picked = [set(s.conversations.values_list("pk", flat=True)) for s in (first, second)]
    assert all(len(p) == 3 and p <= set(candidates) for p in picked)
    assert "Bea Agent" in first.label

    for c in first.conversations.all():
        review_services.quality_review_save(
            conversation=c, agent=bea, reviewer=team["reviewer"], scores=SCORES
        )
    fresh = review_services.review_sample_create(
        reviewer=team["reviewer"], since=date(2026, 3, 1), until=date(2026, 3, 10), size=10, agent=bea
    )
    assert set(fresh.conversations.values_list("pk", flat=True)) == set(candidates) - picked[0]


def test_shift_sample_takes_only_replies_written_during_the_shift(mailbox, team):
    bea = team["bea"]
    # Bea's Tuesday late shift 22:00-02:00 in New York (UTC-5 in early March).
    shift = shift_add(agent=bea, weekday=1, start=time(22), end=time(2), timezone="America/New_York")
    on = conversation_with_replies(mailbox, (bea, datetime(2026, 3, 4, 4, 0, tzinfo=UTC)))  # Tue 23:00 NY
    late = conversation_with_replies(mailbox, (bea, datetime(2026, 3, 4, 6, 30, tzinfo=UTC)))  # Wed 01:30 NY
    conversation_with_replies(mailbox, (bea, datetime(2026, 3, 4, 8, 0, tzinfo=UTC)))  # Wed 03:00 NY: off
    conversation_with_replies(mailbox, (bea, datetime(2026, 3, 3, 15, 0, tzinfo=UTC)))  # Tue 10:00 NY: off
    sample = review_services.review_sample_create(
        reviewer=team["reviewer"], since=date(2026, 3, 1), until=date(2026, 3, 10), size=10, shift=shift
    )
    assert set(sample.conversations.values_list("pk", flat=True)) == {on.pk, late.pk}
    assert "Tuesday shift" in sample.label


def test_scores_are_one_to_four_and_a_rescore_updates(mailbox, team):
    bea = team["bea"]
    c = conversation_with_replies(mailbox, (bea, at(3)))
    review = review_services.quality_review_save(
        conversation=c, agent=bea, reviewer=team["reviewer"], scores=SCORES,
        comments={"tone": "  Warm and clear. "}, comment="Link the article next time.",
    )  # fmt: skip
    assert (review.tone_comment, review.average) == ("Warm and clear.", 3.0)
    again = review_services.quality_review_save(
        conversation=c, agent=bea, reviewer=team["reviewer"], scores={**SCORES, "reply_time": 4}
    )
    assert again.pk == review.pk and QualityReview.objects.get().reply_time == 4
    for bad in ({**SCORES, "facts": 5}, {**SCORES, "facts": 0}, {"tone": 3}):
        with pytest.raises(review_services.BadReview):
            review_services.quality_review_save(
                conversation=c, agent=bea, reviewer=team["reviewer"], scores=bad
            )
    with pytest.raises(review_services.BadReview):
        review_services.quality_review_save(conversation=c, agent=bea, reviewer=bea, scores=SCORES)


def test_reviewer_draws_a_sample_and_scores_through_the_pages(mailbox, team):
    bea = team["bea"]
    today = datetime.now(UTC)
    convs = [conversation_with_replies(mailbox, (bea, today - timedelta(days=1))) for _ in range(2)]
    reviewer = Client()
    reviewer.force_login(team["reviewer"])
    assert reviewer.get("/reviews/").status_code == 200
    r = reviewer.post(
        "/reviews/samples/",
        {"agent": bea.pk, "since": (today - timedelta(days=3)).date(), "until": today.date(), "size": 2},
    )
    sample = ReviewSample.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/reviews/samples/{sample.pk}/"
    page = reviewer.get(f"/reviews/samples/{sample.pk}/").content.decode()
    assert "0 of 2 scored" in page
    first, second = sorted(c.pk for c in convs)
    form = reviewer.get(f"/reviews/samples/{sample.pk}/{first}/")
    assert form.status_code == 200 and "Bea Agent" in form.content.decode()
    r = reviewer.post(
        f"/reviews/samples/{sample.pk}/{first}/",
        {**SCORES, "tone_comment": "Kind", "comment": "Good call on the refund."},
    )
    assert r.status_code == 302 and r["Location"] == f"/reviews/samples/{sample.pk}/{second}/"
    assert (
        reviewer.post(f"/reviews/samples/{sample.pk}/{second}/", {"tone": 9}).status_code == 200
    )  # form again
    assert QualityReview.objects.count() == 1
    other = conversation_with_replies(mailbox, (bea, today))
    assert reviewer.get(f"/reviews/samples/{sample.pk}/{other.pk}/").status_code == 404  # not in the sample
    assert "1 of 2 scored" in reviewer.get(f"/reviews/samples/{sample.pk}/").content.decode()


def test_agents_see_their_own_reviews_and_nobody_elses(mailbox, team):
    bea, cy = team["bea"], team["cy"]
    for agent_, comment in ((bea, "Bea: great tone"), (cy, "Cy: check the refund policy")):
        c = conversation_with_replies(mailbox, (agent_, at(3)))
        review_services.quality_review_save(
            conversation=c, agent=agent_, reviewer=team["reviewer"], scores=SCORES, comment=comment
        )
    client = Client()
    client.force_login(bea)
    r = client.get("/reviews/")
    assert r.status_code == 302 and r["Location"] == f"/reviews/agents/{bea.pk}/"
    own = client.get(f"/reviews/agents/{bea.pk}/").content.decode()
    assert "Your reviews" in own and "Bea: great tone" in own and "Cy:" not in own
    assert client.get(f"/reviews/agents/{cy.pk}/").status_code == 404
    assert client.post("/reviews/samples/", {"size": 3}).status_code == 403
    sample = ReviewSample.objects.create(
        reviewer=team["reviewer"], label="x", since=date.today(), until=date.today()
    )
    assert client.get(f"/reviews/samples/{sample.pk}/").status_code == 403
    assert Client().get("/reviews/").status_code == 302  # sign in first


def test_no_ranking_agents_listed_by_name_and_team_averages_over_time(mailbox, team):
    bea, cy = team["bea"], team["cy"]
    zed = agent_create(email="zed@acme.test", name="Aaron Zed", password="long-password")
    for agent_, score in ((cy, 4), (bea, 1), (zed, 2)):
        c = conversation_with_replies(mailbox, (agent_, at(3)))
        review_services.quality_review_save(
            conversation=c, agent=agent_, reviewer=team["reviewer"], scores=dict.fromkeys(SCORES, score)
        )
    assert [a.name for a, _ in review_selectors.reviewed_agents()] == ["Aaron Zed", "Bea Agent", "Cy Agent"]
    client = Client()
    client.force_login(team["reviewer"])
    page = client.get("/reviews/").content.decode()
    names = [page.index(n) for n in ("Aaron Zed", "Bea Agent", "Cy Agent")]
    assert names == sorted(names)  # alphabetical, whatever the scores
    listing = page[page.index("Reviews per agent") :]
    assert "2.3" not in listing and "4.0" not in listing and "1.0" not in listing  # no per-agent scores
    assert "rank" not in page.lower() or "nobody is ranked" in page.lower()
    team_avg = review_selectors.averages(review_selectors.reviews())
    assert team_avg["count"] == 3 and dict(team_avg["criteria"])["Tone"] == pytest.approx(7 / 3)
    months = review_selectors.trend(review_selectors.reviews())
    assert len(months) == 1 and months[0].count == 3
