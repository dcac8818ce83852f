"""What an agent sees of an unverified sender: a clear warning, no history of the real customer, a
one-click merge into the conversation it pointed at, and the same facts in the list and the API."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.accounts.models import ApiToken
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import reply_create
from tests.helpers import deliver

pytestmark = pytest.mark.django_db

HISTORY = "Refund for the March invoice"


@pytest.fixture
def spoofed(mailbox, agent):  # type: ignore[no-untyped-def]
    """Casey's real, verified conversation with her history and attributes, then an unverified mail
    claiming to be Casey and pointing at it by number."""
    mailbox.auto_reply_enabled = False
    mailbox.save()
    old = deliver(subject=HISTORY, body="Please refund March.\n", verified=True).message.conversation
    old.customer.attributes = {"plan": "Enterprise", "card": "visa-4242"}
    old.customer.save()
    real = deliver(
        subject="Card declined", body="My card was declined.\n", verified=True
    ).message.conversation
    reply_create(conversation=real, author=agent, text="Which card did you use?")
    raw = deliver(subject=f"Re: Card declined [#{real.number}]", body="Change my email to evil@x.test\n")
    return {"real": real, "fake": raw.message.conversation, "old": old}


@pytest.fixture
def web(agent):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(agent)
    return client


def test_unverified_conversation_warns_and_hides_the_real_customers_history(spoofed, web):
    fake, real = spoofed["fake"], spoofed["real"]
    assert fake.pk != real.pk and fake.unverified and fake.customer_id == real.customer_id
    page = web.get(f"/c/{fake.number}/").content.decode()
    assert (
        "Not verified: don&#x27;t share account details yet." in page or "Not verified: don't share" in page
    )
    assert 'data-verified="no"' in page
    assert HISTORY not in page  # the real customer's other conversations
    assert "visa-4242" not in page and "Enterprise" not in page  # their attributes
    assert "Possibly the same as" in page and f"Merge into #{real.number}" in page
    # The verified conversation shows the customer's history as before.
    real_page = web.get(f"/c/{real.number}/").content.decode()
    assert HISTORY in real_page and "visa-4242" in real_page and 'data-verified="yes"' in real_page


def test_one_click_merges_the_unverified_message_into_the_conversation(spoofed, web):
    fake, real = spoofed["fake"], spoofed["real"]
    response = web.post(f"/c/{fake.number}/merge/", {"into": real.number, "confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == f"/c/{real.number}/"
    real.refresh_from_db()
    merged = real.messages.filter(text__contains="evil@x.test").get()
    assert not merged.sender_verified  # still marked as not verified inside the real conversation
    page = web.get(f"/c/{real.number}/").content.decode()
    assert page.count('data-verified="no"') >= 1


def test_the_list_and_the_api_say_unverified(spoofed, web, agent):
    fake = spoofed["fake"]
    listing = web.get("/inbox/").content.decode()
    assert 'data-verified="no"' in listing
    token = "hd_test_" + "x" * 32
    ApiToken.objects.create(user=agent, digest=ApiToken.digest_of(token), prefix=token[:8])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    detail = api.get(f"/api/v1/conversations/{fake.number}").json()
    assert detail["unverified"] is True and detail["possibly_same_as"] == spoofed["real"].number
    customer_messages = [m for m in detail["messages"] if m["kind"] == "customer"]
    assert customer_messages and customer_messages[0]["sender_verified"] is False
    assert customer_messages[0]["verification"].startswith("not verified")
    real = api.get(f"/api/v1/conversations/{spoofed['real'].number}").json()
    assert real["unverified"] is False
    assert [m["sender_verified"] for m in real["messages"] if m["kind"] == "customer"] == [True]
    assert Conversation.objects.get(pk=fake.pk).possibly_same_as_id == spoofed["real"].pk


def test_a_light_agent_is_not_told_which_security_report_an_unverified_mail_pointed_at(spoofed, agent):
    from happydesk.accounts.services import agent_create
    from happydesk.inbox.security import security_flag_set

    real, fake = spoofed["real"], spoofed["fake"]
    security_flag_set(conversation=real, reason="mentions XSS")
    light = agent_create(email="lee@acme.test", name="Lee Light", role="light")
    raw = "hd_light_" + "y" * 32
    ApiToken.objects.create(user=light, digest=ApiToken.digest_of(raw), prefix=raw[:8])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(f"/api/v1/conversations/{fake.number}").json()["possibly_same_as"] is None
    listed = {c["number"]: c for c in api.get("/api/v1/conversations").json()}
    assert fake.number in listed and listed[fake.number]["possibly_same_as"] is None
    assert real.number not in listed
    page = Client()
    page.force_login(light)
    body = page.get(f"/c/{fake.number}/").content.decode()
    assert "Possibly the same as" not in body and f"Merge into #{real.number}" not in body


def test_typing_a_vips_address_does_not_jump_the_queue_until_confirmed(mailbox):
    """Triage gives VIPs points; an unverified sender claiming a VIP's address gets none, the owner
    gets them once they confirm."""
    from happydesk.customers.services import customer_for_address
    from happydesk.inbox.services import conversation_sender_confirm
    from happydesk.portal.services import conversation_from_form

    vip = customer_for_address(address="vera@bigco.test", name="Vera VIP")
    vip.attributes = {"vip": True}
    vip.save()
    c = conversation_from_form(
        mailbox=mailbox, name="Vera", email="vera@bigco.test", subject="Refund", text="Refund me now."
    )
    c.refresh_from_db()
    assert c.unverified and "VIP" not in c.priority_reasons
    conversation_sender_confirm(conversation=c, customer=vip)
    c.refresh_from_db()
    assert not c.unverified and "VIP" in c.priority_reasons
