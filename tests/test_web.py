"""Agent pages: access rules, admin set-up pages, and query counts on the hot pages."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.inbox.models import Conversation, Mailbox
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from tests.helpers import make_email, password_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(agent):
    c = Client()
    c.force_login(agent)
    return c


def seed(n: int) -> None:
    for i in range(n):
        store_raw(
            make_email(sender=f"c{i}@example.test", subject=f"Question {i}"),
            source="smtp",
            envelope_to=["support@acme.test"],
        )
    process_pending(limit=1000)


def test_pages_need_sign_in(db):
    for url in ["/inbox/", "/c/1/", "/admin/mailboxes/", "/admin/quarantine/"]:
        r = Client().get(url)
        assert r.status_code == 302 and "/login/" in r["Location"], url


def test_non_admin_cannot_open_admin_pages(db):
    from happydesk.accounts.services import agent_create

    c = Client()
    c.force_login(agent_create(email="sam@acme.test", name="Sam", password="long-password"))
    assert c.get("/admin/mailboxes/").status_code == 403
    assert c.get("/admin/quarantine/").status_code == 403


def test_sign_in_with_email_and_password(agent):
    c = Client()
    r = c.post("/login/", {"username": "alex@acme.test", "password": "correct-horse-battery"})
    assert r.status_code == 302 and r["Location"].startswith("/inbox/")
    r = Client().post("/login/", {"username": "alex@acme.test", "password": "wrong"}, follow=True)
    assert b"didn't match" in r.content


def test_admin_adds_a_mailbox_and_an_agent(client_in):
    r = client_in.post(
        "/admin/mailboxes/new/",
        {
            "address": "Billing@Acme.test",
            "name": "Acme Billing",
            "timezone": "Europe/Berlin",
            "auto_reply_enabled": "on",
            "auto_reply_window_minutes": 1440,
            "response_goal_minutes": 240,
            "imap_port": 993,
            "imap_security": "ssl",
            "imap_folders_text": "INBOX\nSupport",
            "rating_mode": "every",
            "rating_window_days": 60,
        },
    )
    assert r.status_code == 302
    m = Mailbox.objects.get(address="billing@acme.test")
    assert (
        m.timezone == "Europe/Berlin"
        and m.imap_folders == ["INBOX", "Support"]
        and m.response_goal_minutes == 240
    )
    assert (m.rating_mode, m.rating_window_days, m.rating_alert) == ("every", 60, False)  # admins choose
    r = client_in.post(
        "/admin/mailboxes/new/",
        {
            "address": "x@acme.test",
            "name": "X",
            "timezone": "Mars/Base",
            "auto_reply_window_minutes": 1,
            "response_goal_minutes": 1,
            "imap_port": 993,
            "imap_security": "ssl",
        },
    )
    assert r.status_code == 200 and b"Unknown time zone" in r.content
    r = client_in.post(
        "/admin/agents/new/", {"email": "kim@acme.test", "name": "Kim", "password": "a-good-password"}
    )
    assert r.status_code == 302
    assert password_sign_in(Client(), "kim@acme.test", "a-good-password")


def test_inbox_query_count_does_not_grow_with_rows(client_in, mailbox, django_assert_max_num_queries):
    seed(30)
    # 13th: the admins' "incoming mail is held up" check; 14th: "Mine" and the title's unread count (one
    # aggregate, inbox_badges); 15th: the agents for bulk "Assign to…". None grows with the rows.
    with django_assert_max_num_queries(15):
        r = client_in.get("/inbox/")
    assert r.status_code == 200
    assert r.content.count(b'class="row status-active"') == 30


def test_conversation_page_query_count(client_in, mailbox, agent, django_assert_max_num_queries):
    from happydesk.inbox.services import note_add, reply_create

    seed(1)
    c = Conversation.objects.get()
    for i in range(5):
        reply_create(conversation=c, author=agent, text=f"reply {i}")
        note_add(conversation=c, author=agent, text=f"note {i}")
    with django_assert_max_num_queries(20):
        r = client_in.get(f"/c/{c.number}/")
    assert r.status_code == 200 and b"reply 4" in r.content and b"note 4" in r.content


def test_reply_and_close_from_the_page(client_in, mailbox):
    seed(1)
    c = Conversation.objects.get()
    r = client_in.post(f"/c/{c.number}/reply/", {"text": "All sorted!", "then": "closed"})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.status == "closed" and c.resolved_at is not None and c.first_response_at is not None


def test_each_way_to_send_on_an_open_conversation_does_something_different(client_in, mailbox):
    """The composer's choices, read off the page and each sent: no two of them end the same way."""
    import re

    seed(1)
    c = Conversation.objects.get()
    page = client_in.get(f"/c/{c.number}/").content.decode()
    select = re.search(r'<select name="then".*?</select>', page, re.S).group(0)
    choices = re.findall(r'<option value="([^"]*)">([^<]*)</option>', select)
    ends = {}
    for value, label in choices:
        Conversation.objects.filter(pk=c.pk).update(status="active", snoozed_until=None)
        client_in.post(f"/c/{c.number}/reply/", {"text": f"Answer for {label}", "then": value})
        c.refresh_from_db()
        ends[label] = (c.status, c.snoozed_until)
    assert ends["Send and set pending"][0] == "pending" and ends["Send and keep open"][0] == "active"
    assert len(set(ends.values())) == len(ends), ends


def test_quarantine_page_lists_and_reprocesses(client_in, db):
    store_raw(make_email(to="sales@acme.test"), source="smtp")
    process_pending()
    r = client_in.get("/admin/quarantine/")
    assert b"no mailbox of ours" in r.content
    from happydesk.inbox.services import mailbox_create
    from happydesk.mail.models import RawMessage

    mailbox_create(address="sales@acme.test", name="Sales")
    raw = RawMessage.objects.get()
    client_in.post(f"/admin/quarantine/{raw.pk}/reprocess/")
    raw.refresh_from_db()
    assert raw.state == "processed"
