"""Bulk actions, @mentions in notes, and the customer sidebar."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from django.test import Client

from happydesk.accounts.services import agent_create
from happydesk.customers.models import Customer
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.inbox.services import mailbox_create, note_add
from happydesk.mail import outbound
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from tests.helpers import as_verified, make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(mailbox):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    for i in range(3):
        store_raw(  # verified senders: the sidebar shows a customer's details only then
            as_verified(make_email(sender=f"c{i}@example.test", subject=f"Q{i}")),
            source="http",
            envelope_to=["support@acme.test"],
        )
    process_pending()
    return list(Conversation.objects.order_by("id"))


@pytest.fixture
def web(agent):
    c = Client()
    c.force_login(agent)
    return c


def test_bulk_close_tag_and_move(web, three):
    numbers = [c.number for c in three[:2]]
    web.post("/inbox/bulk/", {"action": "close", "numbers": numbers})
    assert [c.status for c in Conversation.objects.order_by("id")] == ["closed", "closed", "active"]
    web.post("/inbox/bulk/", {"action": "tag", "tag": "wave-1", "numbers": numbers})
    assert Conversation.objects.filter(tags__name="wave-1").count() == 2
    billing = mailbox_create(address="billing@acme.test", name="Billing")
    web.post("/inbox/bulk/", {"action": "move", "mailbox": billing.pk, "numbers": [three[2].number]})
    assert Conversation.objects.get(pk=three[2].pk).mailbox == billing
    assert Mailbox.objects.count() == 2
    assert web.post("/inbox/bulk/", {"action": "close", "numbers": [99999]}).status_code == 404


def test_mention_in_a_note_emails_the_agent(three, agent, smtp_sink):
    agent_create(email="sam.smith@acme.test", name="Sam Smith", password="long-password")
    note = note_add(conversation=three[0], author=agent, text="@sam can you check the refund? cc @nobody")
    assert note.event["mentions"]
    assert outbound.send_due() == 1  # through the outbox, with its retries, like every mail we send
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    msg = message_from_bytes(data, policy=policy.default)
    assert rcpts == ["sam.smith@acme.test"] and "Alex Agent mentioned you" in msg["Subject"]
    assert f"/c/{three[0].number}/" in msg.get_body(("plain",)).get_content()


def test_sidebar_shows_local_time_and_attributes(web, three):
    customer = three[0].customer
    customer.timezone = "Asia/Tokyo"
    customer.attributes = {"plan": "pro", "seats": 12, "vip": True, "beta": False, "lifetime_orders": 7}
    customer.save()
    body = web.get(f"/c/{three[0].number}/").content.decode()
    assert "Local time:" in body and "(Asia/Tokyo)" in body
    assert "<dt>Plan</dt><dd>pro</dd>" in body and "<dt>Seats</dt><dd>12</dd>" in body
    assert "<dt>VIP</dt><dd>Yes</dd>" in body and "<dt>Lifetime orders</dt><dd>7</dd>" in body
    assert "True" not in body.split('class="attributes"')[1].split("</dl>")[0] and "Beta" not in body


def test_an_email_customers_local_time_comes_from_their_date_header(web, mailbox):
    from tests.helpers import deliver_raw, make_email

    email = message_from_bytes(
        make_email(sender="Ines <ines@example.test>", subject="Hola"), policy=policy.SMTP
    )
    email.replace_header("Date", "Tue, 01 Dec 2026 09:30:00 -0300")
    raw = email.as_bytes()
    message = Message.objects.get(raw=deliver_raw(raw, verified=True, envelope_to=["support@acme.test"]))
    body = web.get(f"/c/{message.conversation.number}/").content.decode()
    assert "(UTC-03:00, from their email)" in body
    message.conversation.customer.timezone = "America/Sao_Paulo"  # a real zone, once known, wins
    message.conversation.customer.save()
    deliver_raw(
        make_email(sender="Ines <ines@example.test>", subject="Again"), envelope_to=["support@acme.test"]
    )
    assert Customer.objects.get(pk=message.conversation.customer_id).timezone == "America/Sao_Paulo"


def test_assign_to_me_then_mine_and_unassigned_views(web, three, agent):
    web.post("/inbox/bulk/", {"action": "assign_me", "numbers": [three[0].number]})
    assert Conversation.objects.get(pk=three[0].pk).assignee == agent
    mine = web.get("/inbox/", {"status": "active", "assigned": "me"}).content.decode()
    nobody = web.get("/inbox/", {"status": "active", "assigned": "nobody"}).content.decode()
    assert subject("Q0") in mine and subject("Q1") not in mine
    assert subject("Q0") not in nobody and subject("Q1") in nobody and "Alex Agent is on it" in mine
    web.post("/inbox/bulk/", {"action": "unassign", "numbers": [three[0].number]})
    assert Conversation.objects.get(pk=three[0].pk).assignee is None


def test_channel_view(web, three):
    Conversation.objects.filter(pk=three[1].pk).update(channel="form")
    body = web.get("/inbox/", {"status": "all", "channel": "form"}).content.decode()
    assert subject("Q1") in body and subject("Q0") not in body


def subject(text: str) -> str:
    """How a subject appears in the list (a bare "Q0" can also occur inside a CSRF token)."""
    return f'class="subject">{text}<'


def test_a_bulk_action_is_undone_except_where_someone_changed_it_since(web, three, agent):
    from happydesk.inbox.services import conversation_set_status

    numbers = [c.number for c in three]
    web.post("/inbox/bulk/", {"action": "close", "numbers": numbers})
    web.post("/inbox/bulk/", {"action": "tag", "tag": "refund", "numbers": numbers})
    assert 'id="bulk-undo"' in web.get("/inbox/").content.decode()
    web.post("/inbox/bulk/undo/", {})  # takes back the last one: the tag
    assert not Conversation.objects.filter(tags__name="refund").exists()
    assert set(Conversation.objects.values_list("status", flat=True)) == {"closed"}
    assert 'id="bulk-undo"' not in web.get("/inbox/").content.decode()  # once

    web.post("/inbox/bulk/", {"action": "open", "numbers": numbers})
    conversation_set_status(conversation=three[0], actor=agent, status="pending")  # someone else, since
    web.post("/inbox/bulk/undo/", {})
    statuses = dict(Conversation.objects.values_list("pk", "status"))
    assert statuses[three[0].pk] == "pending"  # their change stands
    assert statuses[three[1].pk] == statuses[three[2].pk] == "closed"


def test_an_agent_corrects_the_customer_and_cannot_take_another_customers_address(web, three, agent):
    from happydesk.accounts.services import agent_create

    customer = three[0].customer
    url = f"/c/{three[0].number}/customer/"
    web.post(
        url, {"name": "Quinn Q. Zero", "company": "Zero Ltd", "attributes": "VIP: yes\nPlan: Pro\nSeats: 12"}
    )
    customer.refresh_from_db()
    assert (customer.name, customer.company) == ("Quinn Q. Zero", "Zero Ltd")
    assert customer.attributes == {"vip": True, "plan": "Pro", "seats": 12}
    body = web.get(f"/c/{three[0].number}/").content.decode()
    assert "<dt>VIP</dt><dd>Yes</dd>" in body and 'id="customer-edit"' in body

    taken = three[1].customer.primary_email
    r = web.post(url, {"name": "Quinn", "add_address": taken})
    assert r.status_code == 400 and "belongs to another customer" in r.content.decode()
    assert three[1].customer.emails.filter(address=taken).exists()
    web.post(url, {"name": "Quinn", "add_address": "quinn@home.example"})
    assert "quinn@home.example" in customer.emails.values_list("address", flat=True)
    web.post(url, {"remove": "quinn@home.example"})
    (last,) = customer.emails.values_list("address", flat=True)
    assert web.post(url, {"remove": last}).status_code == 400  # the last address stays

    light = agent_create(email="lee@acme.test", name="Lee", password="long-password")
    light.role = light.Role.LIGHT
    light.save()
    lee = Client()
    lee.force_login(light)
    assert lee.post(url, {"name": "Hacked"}).status_code == 403
    assert 'id="customer-edit"' not in lee.get(f"/c/{three[0].number}/").content.decode()
