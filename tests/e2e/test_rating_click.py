"""In the browser: the customer clicks "Great" in the reply email and the rating is recorded in that
one step; they then change it and leave a comment. A plain fetch of the same link records nothing."""

from __future__ import annotations

import re
import urllib.request
from email import message_from_bytes, policy

import pytest

from happydesk.feedback.models import Rating
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import reply_create
from happydesk.mail import outbound
from tests.helpers import deliver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_one_click_in_the_email_records_the_rating(page, live_server, mailbox, agent, smtp_sink):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    deliver(subject="Where is my parcel?")
    c = Conversation.objects.get()
    reply_create(conversation=c, author=agent, text="It arrives tomorrow morning.", status="closed")
    outbound.send_due()
    ((_, _, data),) = smtp_sink.wait_for(1)
    text = message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content()
    links = {
        v: live_server.url + "/" + p
        for p, v in re.findall(r"https?://[^/\s]+/(rate/\S+/(great|okay|not_good)/)", text)
    }

    # What a mail security scanner does: fetch the link without running the page.
    with urllib.request.urlopen(links["great"]) as r:  # noqa: S310 (our own loopback server)
        assert r.status == 200
    assert not Rating.objects.exists()

    page.goto(links["great"])  # the person's click
    page.get_by_text("you rated our reply “Great”").wait_for()
    assert Rating.objects.get().value == "great"

    page.get_by_role("button", name="Okay").click()
    page.get_by_text("you rated our reply “Okay”").wait_for()
    page.get_by_label("Anything you'd like to add?").fill("Fast, but I had to ask twice.")
    page.get_by_role("button", name="Send comment").click()
    page.get_by_role("status").wait_for()
    rating = Rating.objects.get()
    assert (rating.value, rating.changes, rating.comment) == ("okay", 1, "Fast, but I had to ask twice.")
