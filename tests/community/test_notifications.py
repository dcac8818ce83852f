"""When an idea ships (or a known issue is fixed), everyone concerned hears exactly once, over real SMTP."""

from __future__ import annotations

from collections import Counter
from email import message_from_bytes, policy

import pytest

from happydesk.community import services
from happydesk.community.models import Notified, StatusChange, Topic
from happydesk.community.services import CommunityError
from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Message
from happydesk.inbox.services import conversation_open, message_receive
from happydesk.mail.models import OutboundMail
from happydesk.mail.outbound import send_due

pytestmark = pytest.mark.django_db


def delivered(sink) -> Counter:  # type: ignore[no-untyped-def]
    """How many emails each recipient got on the SMTP sink."""
    return Counter(r.lower() for _, rcpts, _ in sink.messages for r in rcpts)


def bodies(sink, address: str) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for _, rcpts, data in sink.messages:
        if address in rcpts:
            msg = message_from_bytes(data, policy=policy.default)
            out.append(f"{msg['Subject']}\n{msg.get_body(('plain',)).get_content()}")
    return out


def linked_conversation(mailbox, agent, topic, address: str, name: str):  # type: ignore[no-untyped-def]
    customer = customer_for_address(address=address, name=name)
    c = conversation_open(mailbox=mailbox, customer=customer, subject="Any plans for dark mode?")
    message_receive(
        conversation=c, customer=customer, from_name=name, from_address=address, subject="s", text="Please!"
    )
    services.conversation_link(topic=topic, conversation=c, agent=agent)
    return c


def test_shipping_tells_voters_followers_and_linked_customers_once_each(people, agent, mailbox, smtp_sink):
    t = services.topic_create(
        kind="idea", title="Dark mode for the dashboard", body="Please.", author=people.ann
    )
    services.vote_add(topic=t, customer=people.bo)
    services.vote_add(topic=t, customer=people.cy)
    services.follow_add(topic=t, person=people.cy)  # Cy voted and follows: one email
    services.follow_add(topic=t, person=people.dee)
    services.follow_add(topic=t, person=agent)
    linked_conversation(mailbox, agent, t, "frank@example.test", "Frank Fox")
    c_bo = linked_conversation(mailbox, agent, t, "bo@example.test", "Bo Berg")  # Bo voted and wrote in
    OutboundMail.objects.all().delete()

    change = services.topic_set_status(
        topic=t, status="shipped", agent=agent, note="Dark mode is live: Settings → Appearance."
    )
    send_due()
    smtp_sink.wait_for(6)

    expected = {"ann@example.test", "bo@example.test", "cy@example.test", "dee@example.test",
                "frank@example.test", agent.email}  # fmt: skip
    assert dict(delivered(smtp_sink)) == dict.fromkeys(expected, 1)
    assert change.notified == 6
    text = bodies(smtp_sink, "frank@example.test")[0]
    assert text.startswith("Shipped: Dark mode for the dashboard")
    assert "Dark mode is live: Settings → Appearance." in text and "Alex from our team wrote" in text
    assert t.get_absolute_url() in text and "wrote to us about it" in text
    assert "voted for it and wrote to us about it" in bodies(smtp_sink, "bo@example.test")[0]
    assert set(Notified.objects.filter(topic=t).values_list("address", flat=True)) == expected
    # The linked conversation's agents see that the customer was told.
    assert Message.objects.filter(conversation=c_bo, kind="note", text__contains="is shipped").exists()

    # Back to planned and shipped again: nobody hears twice; only someone new is told.
    services.topic_set_status(topic=t, status="in_progress", agent=agent, note="One more fix.")
    services.follow_add(topic=t, person=people.eve)
    again = services.topic_set_status(topic=t, status="shipped", agent=agent, note="Really live now.")
    send_due()
    smtp_sink.wait_for(7)
    assert again.notified == 1
    counts = delivered(smtp_sink)
    assert counts["eve@example.test"] == 1 and all(n == 1 for n in counts.values())
    assert len(smtp_sink.messages) == 7


def test_a_fixed_known_issue_tells_the_affected_once(people, agent, smtp_sink):
    issue = services.known_issue_post(
        title="Slack alerts stop after renaming a channel", body="Reconnect it.", author=agent
    )
    assert issue.kind == Topic.Kind.KNOWN_ISSUE and issue.status == "open"
    services.vote_add(topic=issue, customer=people.ann)  # "affects me"
    services.follow_add(topic=issue, person=people.ann)
    services.follow_add(topic=issue, person=people.bo)
    services.topic_set_status(topic=issue, status="fixed", agent=agent, note="Fixed in today's release.")
    services.topic_set_status(topic=issue, status="fixed", agent=agent, note="Also for private channels.")
    send_due()
    smtp_sink.wait_for(2)
    assert dict(delivered(smtp_sink)) == {"ann@example.test": 1, "bo@example.test": 1}
    assert bodies(smtp_sink, "ann@example.test")[0].startswith("Fixed: Slack alerts stop")


def test_customers_cannot_post_known_issues(people):
    with pytest.raises(CommunityError):
        services.known_issue_post(title="Something broke", body="x", author=people.ann)  # type: ignore[arg-type]


def test_declining_needs_a_reason_shown_on_the_idea(people, agent, client):
    t = services.topic_create(
        kind="idea", title="Custom CSS for the status page", body="Brand it.", author=people.ann
    )
    with pytest.raises(CommunityError):
        services.topic_set_status(topic=t, status="declined", agent=agent, note="  ")
    services.topic_set_status(topic=t, status="declined", agent=agent, note="It breaks during incidents.")
    assert StatusChange.objects.get(topic=t).to_status == "declined"
    body = client.get(t.get_absolute_url()).content.decode()
    assert "Declined" in body and "It breaks during incidents." in body and "Alex Agent" in body
    assert not OutboundMail.objects.filter(kind__startswith="community_").exists()  # declining tells nobody


def test_questions_have_no_status(people, agent):
    q = services.topic_create(kind="question", title="How do I export?", body="Help", author=people.ann)
    with pytest.raises(CommunityError):
        services.topic_set_status(topic=q, status="shipped", agent=agent)


def test_followers_hear_about_new_answers_but_not_about_their_own(people, agent):
    q = services.topic_create(
        kind="question", title="How do I export a year?", body="Help", author=people.ann
    )
    services.follow_add(topic=q, person=people.bo)
    OutboundMail.objects.all().delete()
    services.post_create(topic=q, body="Use **Data → Exports**.", author=agent)
    assert sorted(r for m in OutboundMail.objects.all() for r in m.to) == [
        "ann@example.test",
        "bo@example.test",
    ]
    mail = OutboundMail.objects.filter(to=["ann@example.test"]).get()
    assert (
        "Alex Agent (from our team) wrote a new answer" in mail.body_text
        and "Use Data → Exports." in mail.body_text
    )
    OutboundMail.objects.all().delete()
    services.post_create(topic=q, body="Thanks, that worked!", author=people.ann)  # Ann follows; Bo hears
    assert [m.to for m in OutboundMail.objects.all()] == [["bo@example.test"]]


def test_status_from_the_page_says_how_many_were_told(people, agent_client, smtp_sink):
    t = services.topic_create(
        kind="idea", title="Scheduled reports by email", body="Weekly PDF.", author=people.ann
    )
    r = agent_client.post(
        f"/community/topics/{t.pk}/status/", {"status": "shipped", "note": "Live now."}, follow=True
    )
    assert "1 person was told by email" in r.content.decode()
