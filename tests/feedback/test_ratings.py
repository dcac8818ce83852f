"""One-click ratings: asked on the right replies, signed links, scanners record nothing, throttles,
changes and comments, the not-good alert, and where ratings show."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.feedback.models import Rating, RatingRequest
from happydesk.feedback.services import BadRatingLink, rating_token, request_from_token
from happydesk.inbox.models import Conversation, Mailbox
from happydesk.inbox.services import reply_create
from happydesk.mail import outbound
from happydesk.mail.models import OutboundMail
from tests.helpers import deliver, path_of

pytestmark = pytest.mark.django_db
LINK = re.compile(r"(https?://\S+/rate/([^/\s]+)/(great|okay|not_good)/)")


def conversation_from(sender: str = "Casey Customer <casey@example.test>", subject: str = "Order late"):
    deliver(sender=sender, subject=subject, verified=True)
    return Conversation.objects.order_by("-id").first()


def sent_links(smtp_sink, n: int = 1) -> dict[str, str]:
    outbound.send_due()
    *_, (_, _, data) = smtp_sink.wait_for(n)
    msg = email.message_from_bytes(data, policy=policy.default)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    links = {value: url for url, _, value in LINK.findall(text)}
    assert set(links) == {"great", "okay", "not_good"}
    assert all(url in html for url in links.values())
    return links


@pytest.fixture
def quiet(mailbox):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    return mailbox


def test_the_closing_reply_asks_and_a_person_records_with_one_post(quiet, agent, smtp_sink):
    c = conversation_from()
    reply_create(conversation=c, author=agent, text="Let me check.")  # not closing: no question
    assert not RatingRequest.objects.exists()
    outbound.send_due()
    smtp_sink.wait_for(1)
    reply_create(conversation=c, author=agent, text="It ships today.", status="closed")
    links = sent_links(smtp_sink, 2)
    path = path_of(links["great"])
    client = Client()
    # A scanner fetches the link: nothing is recorded, the page only offers the choice.
    page = client.get(path)
    assert page.status_code == 200 and b"rate-form" in page.content
    assert not Rating.objects.exists()
    # The person's browser posts it (the page does so by itself with script).
    done = client.post(path)
    assert done.status_code == 302
    rating = Rating.objects.get()
    assert rating.value == "great" and rating.agent == agent and rating.conversation == c


def test_links_cannot_be_forged_or_moved_to_another_conversation(quiet, agent):
    a = conversation_from(sender="a@example.test", subject="A")
    b = conversation_from(sender="b@example.test", subject="B")
    reply_create(conversation=a, author=agent, text="Done.", status="closed")
    reply_create(conversation=b, author=agent, text="Done.", status="closed")
    ra, rb = RatingRequest.objects.get(conversation=a), RatingRequest.objects.get(conversation=b)
    token = rating_token(ra)
    assert request_from_token(token) == ra
    # Tampering with the payload (pointing at b's request) breaks the signature.
    import base64
    import json

    payload = token.split(":")[0]
    forged_payload = (
        base64.urlsafe_b64encode(json.dumps({"c": b.pk, "r": rb.pk}).encode()).decode().rstrip("=")
    )
    with pytest.raises(BadRatingLink):
        request_from_token(token.replace(payload, forged_payload))
    client = Client()
    assert client.post(f"/rate/{token[:-2]}xx/great/").status_code == 404
    assert client.post(f"/rate/{token}/fabulous/").status_code == 404
    assert not Rating.objects.exists()
    client.post(f"/rate/{token}/okay/")
    assert Rating.objects.get().conversation == a


def test_the_customer_may_change_their_choice_and_comment(quiet, agent):
    c = conversation_from()
    reply_create(conversation=c, author=agent, text="Done.", status="closed")
    token = rating_token(RatingRequest.objects.get())
    client = Client()
    client.post(f"/rate/{token}/okay/")
    client.post(f"/rate/{token}/great/")
    page = client.post(f"/rate/{token}/thanks/", {"comment": "Quick and kind, thanks!"})
    assert b"Saved" in page.content
    rating = Rating.objects.get()
    assert (rating.value, rating.changes, rating.comment) == ("great", 1, "Quick and kind, thanks!")
    events = [m.event for m in c.messages.filter(kind="event") if m.event.get("type") == "rated"]
    assert [e["value"] for e in events] == ["okay", "great", "great"]


def test_asked_once_per_conversation_and_once_per_window_per_customer(quiet, agent):
    quiet.rating_mode = Mailbox.RatingMode.EVERY
    quiet.rating_window_days = 30
    quiet.save()
    first = conversation_from(subject="First")
    reply_create(conversation=first, author=agent, text="One.")
    reply_create(conversation=first, author=agent, text="Two.", status="closed")
    assert RatingRequest.objects.filter(conversation=first).count() == 1
    second = conversation_from(subject="Second")  # same customer, inside the window
    reply_create(conversation=second, author=agent, text="Done.", status="closed")
    assert not RatingRequest.objects.filter(conversation=second).exists()
    RatingRequest.objects.update(created_at=timezone.now() - timedelta(days=31))
    third = conversation_from(subject="Third")
    reply_create(conversation=third, author=agent, text="Done.", status="closed")
    assert RatingRequest.objects.filter(conversation=third).exists()
    other = conversation_from(sender="dana@example.test", subject="Other customer")
    quiet.rating_mode = Mailbox.RatingMode.OFF
    quiet.save()
    reply_create(conversation=other, author=agent, text="Done.", status="closed")
    assert not RatingRequest.objects.filter(conversation=other).exists()


def test_not_good_alerts_the_agent_and_admins_through_the_outbox(quiet, agent, smtp_sink):
    from happydesk.accounts.services import agent_create

    sam = agent_create(email="sam@acme.test", name="Sam Agent", password="correct-horse-battery")
    c = conversation_from()
    reply_create(conversation=c, author=sam, text="Done.", status="closed")
    outbound.send_due()
    smtp_sink.wait_for(1)
    token = rating_token(RatingRequest.objects.get())
    Client().post(f"/rate/{token}/not_good/")
    Client().post(f"/rate/{token}/not_good/")  # the same choice again: no second alert
    alert = OutboundMail.objects.get(kind="rating-alert")
    assert sorted(alert.to) == ["alex@acme.test", "sam@acme.test"]
    assert outbound.send_due() == 1
    *_, (_, rcpts, data) = smtp_sink.wait_for(2)
    assert sorted(rcpts) == ["alex@acme.test", "sam@acme.test"] and b"not good" in data


def test_ratings_show_on_the_conversation_sidebar_feed_and_portal(quiet, agent):
    c = conversation_from()
    reply_create(conversation=c, author=agent, text="Done.", status="closed")
    token = rating_token(RatingRequest.objects.get())
    Client().post(f"/rate/{token}/great/")
    Client().post(f"/rate/{token}/thanks/", {"comment": "Lovely"})
    later = conversation_from(subject="Another question")
    agent_client = Client()
    agent_client.force_login(agent)
    page = agent_client.get(f"/c/{later.number}/").content.decode()
    sidebar = page[page.index('class="plain past-ratings"') :]
    assert "Great" in sidebar and f"#{c.number}" in sidebar and "Lovely" in sidebar
    thread = agent_client.get(f"/c/{c.number}/").content.decode()
    assert "The customer rated the reply “Great”" in thread
    feed = agent_client.get("/ratings/").content.decode()
    assert "happiness 100" in feed and "Lovely" in feed
    assert Client().get("/ratings/").status_code == 302  # agents only
    reader = Client()  # the customer, through the (signed, expiring) link in our email
    reader.get(path_of(outbound.conversation_link(c)))
    portal = reader.get(f"/portal/c/{c.token}/").content.decode()
    assert "You rated our reply “Great”" in portal
    # The portal's own links (signed with their own timestamp) stand for the same request.
    links = re.findall(r"/rate/([^/\"]+)/okay/", portal)
    assert links and request_from_token(links[0]) == RatingRequest.objects.get()


def test_the_throttle_holds_over_a_simulated_month_of_replies(quiet, agent):
    """One customer writes every day for 60 days; every conversation is closed with a reply. With a
    30-day window they are asked on day 0 and day 30 only, and another customer is asked independently."""
    from happydesk.customers.services import customer_for_address
    from happydesk.inbox.services import conversation_open, message_receive

    quiet.rating_mode = Mailbox.RatingMode.EVERY
    quiet.save()
    start = timezone.now() - timedelta(days=61)
    asked_days = {"casey@example.test": [], "dana@example.test": []}
    for day in range(60):
        for address in asked_days:
            if address == "dana@example.test" and day % 7:
                continue  # Dana writes weekly
            at = start + timedelta(days=day, hours=9)
            customer = customer_for_address(address=address)
            c = conversation_open(mailbox=quiet, customer=customer, subject=f"Day {day}", at=at)
            message_receive(
                conversation=c,
                customer=customer,
                from_name="",
                from_address=address,
                subject=c.subject,
                text="Hello",
                at=at,
            )
            reply = reply_create(
                conversation=c, author=agent, text="Answered.", status="closed", at=at + timedelta(hours=1)
            )
            if RatingRequest.objects.filter(message=reply).exists():
                asked_days[address].append(day)
    assert asked_days == {"casey@example.test": [0, 30], "dana@example.test": [0, 35]}
