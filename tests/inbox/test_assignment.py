"""Assignment the way a shared inbox needs it: optional, shown on the list and the page, given to anyone
who may own the conversation, taken on reply, and the assignee told (a live notice to their own pages,
an email through the outbox). Also the inbox title's unread count, read against a per-agent seen record."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from happydesk.accounts.models import User
from happydesk.accounts.services import agent_create, agent_deactivate
from happydesk.inbox import selectors
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import AssignmentRefused, conversation_assign, note_add
from happydesk.mail.models import OutboundMail
from tests.helpers import customer_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam(db) -> User:  # type: ignore[no-untyped-def]
    return agent_create(email="sam@acme.test", name="Sam Smith", role="agent")


def _web(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _convo(mailbox, subject: str = "Refund please", text: str = "Where is my money?") -> Conversation:  # type: ignore[no-untyped-def]
    return customer_conversation(mailbox, address="ann@example.test", name="Ann", subject=subject, text=text)


def test_the_page_shows_the_owner_and_assigns_anyone_without_js(mailbox, agent, sam):
    c = _convo(mailbox)
    web = _web(agent)
    page = web.get(f"/c/{c.number}/").content.decode()
    assert "Unassigned — anyone can answer" in page
    assert f'<option value="{sam.pk}">Sam Smith</option>' in page and '<option value="me"' in page
    r = web.post(f"/c/{c.number}/assign/", {"assignee": str(sam.pk)})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.assignee == sam
    page = web.get(f"/c/{c.number}/").content.decode()
    assert "Assigned to <strong>Sam Smith</strong>" in page
    assert "Alex Agent assigned the conversation to Sam Smith" in page  # the thread's event line
    web.post(f"/c/{c.number}/assign/", {"assignee": "me"})
    c.refresh_from_db()
    assert c.assignee == agent
    assert "Assigned to <strong>you</strong>" in web.get(f"/c/{c.number}/").content.decode()
    web.post(f"/c/{c.number}/assign/", {"assignee": ""})
    c.refresh_from_db()
    assert c.assignee is None


def test_the_assignee_is_emailed_once_through_the_outbox_and_nobody_for_assigning_themselves(
    mailbox, agent, sam
):
    c = _convo(mailbox)
    _web(agent).post(f"/c/{c.number}/assign/", {"assignee": str(sam.pk)})
    (mail,) = OutboundMail.objects.filter(kind="assignment")
    assert mail.to == ["sam@acme.test"]
    assert mail.subject == f"Alex Agent assigned you #{c.number}: Refund please"
    assert f"/c/{c.number}/" in mail.body_text and "Ann" in mail.body_text
    _web(sam).post(f"/c/{c.number}/assign/", {"assignee": ""})
    _web(sam).post(f"/c/{c.number}/assign/", {"assignee": "me"})  # Sam takes it back: no email
    assert OutboundMail.objects.filter(kind="assignment").count() == 1
    _web(agent).post(f"/c/{c.number}/assign/", {"assignee": ""})
    _web(agent).post(f"/c/{c.number}/assign/", {"assignee": str(sam.pk)})  # given again: told again
    assert OutboundMail.objects.filter(kind="assignment").count() == 2


def test_a_deactivated_agent_cannot_be_given_a_conversation(mailbox, agent, sam):
    c = _convo(mailbox)
    agent_deactivate(agent=sam)
    r = _web(agent).post(f"/c/{c.number}/assign/", {"assignee": str(sam.pk)}, follow=True)
    assert "Sam Smith is deactivated" in r.content.decode()
    c.refresh_from_db()
    assert c.assignee is None and not OutboundMail.objects.filter(kind="assignment").exists()
    assert f'value="{sam.pk}"' not in _web(agent).get(f"/c/{c.number}/").content.decode()
    with pytest.raises(AssignmentRefused):
        conversation_assign(conversation=c, assignee=sam, actor=agent)
    assert _web(agent).post(f"/c/{c.number}/assign/", {"assignee": "99999"}).status_code == 404


def test_outsiders_get_404_and_a_light_agent_never_owns_a_security_report(mailbox, agent, sam):
    light = agent_create(email="lee@acme.test", name="Lee Light", role="light")
    ordinary = _convo(mailbox)
    report = customer_conversation(
        mailbox, address="rex@example.test", name="Rex", subject="Bug", text="XSS in search"
    )
    assert report.security_flag.active
    # The light agent may not see the report: assigning it (to anyone) is 404, as its page is.
    assert _web(light).post(f"/c/{report.number}/assign/", {"assignee": "me"}).status_code == 404
    assert _web(light).post(f"/c/{report.number}/assign/", {"assignee": str(sam.pk)}).status_code == 404
    assert _web(sam).post("/c/424242/assign/", {"assignee": "me"}).status_code == 404
    # Bulk goes through the same check: the report's number is 404 for them too.
    assert (
        _web(light).post("/inbox/bulk/", {"action": "assign_me", "numbers": [report.number]}).status_code
        == 404
    )
    report.refresh_from_db()
    assert report.assignee is None
    # A full agent cannot hand the report to the light agent (the select does not offer them either).
    r = _web(agent).post(f"/c/{report.number}/assign/", {"assignee": str(light.pk)}, follow=True)
    assert "Lee Light may not see this conversation" in r.content.decode()
    assert f'value="{light.pk}"' not in r.content.decode()
    report.refresh_from_db()
    assert report.assignee is None
    # Light agents do inbox work on what they see, assignment included (as they reply and change status).
    assert _web(light).post(f"/c/{ordinary.number}/assign/", {"assignee": "me"}).status_code == 302
    ordinary.refresh_from_db()
    assert ordinary.assignee == light


def test_the_list_shows_owners_mine_counts_and_bulk_assigns_to_a_colleague(mailbox, agent, sam):
    a = _convo(mailbox, subject="Alpha")
    b = customer_conversation(mailbox, address="bo@example.test", name="Bo", subject="Beta", text="Hi")
    web = _web(agent)
    r = web.post("/inbox/bulk/", {"action": "assign", "assignee": str(sam.pk), "numbers": [a.pk, b.pk]})
    assert r.status_code == 302
    assert set(Conversation.objects.values_list("assignee", flat=True)) == {sam.pk}
    assert OutboundMail.objects.filter(kind="assignment", to=["sam@acme.test"]).count() == 2
    listing = web.get("/inbox/").content.decode()
    assert listing.count("Sam Smith is on it") == 2
    assert '<option value="assign">Assign to…</option>' in listing
    mine = _web(sam).get("/inbox/?status=active&assigned=me").content.decode()
    assert "Alpha" in mine and "Beta" in mine
    assert re.search(r'data-badge="mine">2<', mine)
    # Mine is open work: closing one takes it off Mine and off the count.
    _web(sam).post(f"/c/{a.number}/status/", {"status": "closed"})
    mine = _web(sam).get("/inbox/?status=active&assigned=me").content.decode()
    assert "Alpha" not in mine and re.search(r'data-badge="mine">1<', mine)


def test_take_it_when_i_reply_assigns_on_send_and_is_remembered(mailbox, agent, sam):
    c = _convo(mailbox)
    web = _web(agent)
    page = web.get(f"/c/{c.number}/").content.decode()
    assert 'name="take"' in page and 'id="take-it" checked' not in page  # off until chosen
    web.post(f"/c/{c.number}/reply/", {"text": "On it!", "take": "1", "take_shown": "1", "then": "active"})
    c.refresh_from_db()
    agent.refresh_from_db()
    assert c.assignee == agent and agent.take_on_reply
    assert not OutboundMail.objects.filter(kind="assignment").exists()  # took it themselves
    # Remembered: the next unassigned conversation's composer has it ticked.
    other = customer_conversation(mailbox, address="bo@example.test", name="Bo", subject="Other", text="Hi")
    assert 'id="take-it" checked' in web.get(f"/c/{other.number}/").content.decode()
    # It never takes a conversation someone already owns (and the box is not offered there).
    conversation_assign(conversation=other, assignee=sam, actor=agent)
    assert 'name="take"' not in web.get(f"/c/{other.number}/").content.decode()
    web.post(f"/c/{other.number}/reply/", {"text": "Hi Bo", "take": "1", "then": "active"})
    other.refresh_from_db()
    assert other.assignee == sam
    # Unticked on a form that showed it: remembered as off.
    third = customer_conversation(mailbox, address="cy@example.test", name="Cy", subject="Third", text="Hi")
    web.post(f"/c/{third.number}/reply/", {"text": "Hi Cy", "take_shown": "1", "then": "active"})
    third.refresh_from_db()
    agent.refresh_from_db()
    assert third.assignee is None and not agent.take_on_reply


def test_unread_count_counts_open_conversations_with_customer_mail_not_opened_since(mailbox, agent, sam):
    a = _convo(mailbox, subject="Alpha")
    b = customer_conversation(mailbox, address="bo@example.test", name="Bo", subject="Beta", text="Hi")
    web = _web(agent)
    assert selectors.inbox_badges(agent=agent)["unread"] == 2
    assert "<title>(2) Inbox · Happydesk</title>" in web.get("/inbox/").content.decode()
    web.get(f"/c/{a.number}/")  # opened: read
    assert selectors.inbox_badges(agent=agent)["unread"] == 1
    assert selectors.inbox_badges(agent=sam)["unread"] == 2  # per agent
    customer_conversation(mailbox, address="ann@example.test", name="Ann", subject="Alpha", text="Again?")
    # Ann's new message went to a new conversation (no threading here); the seen record of Alpha holds.
    assert selectors.inbox_badges(agent=agent)["unread"] == 2
    from happydesk.inbox.services import message_receive

    message_receive(
        conversation=b,
        customer=b.customer,
        from_name="Bo",
        from_address="bo@example.test",
        subject="Re",
        text="?",
    )
    web.get(f"/c/{b.number}/")
    assert selectors.inbox_badges(agent=agent)["unread"] == 1
    message_receive(
        conversation=b,
        customer=b.customer,
        from_name="Bo",
        from_address="bo@example.test",
        subject="Re",
        text="!",
    )
    assert selectors.inbox_badges(agent=agent)["unread"] == 2  # wrote again after Alex looked
    Conversation.objects.filter(pk=b.pk).update(status="closed")
    assert selectors.inbox_badges(agent=agent)["unread"] == 1  # only open conversations count
    assert "<title>(1) Inbox · Happydesk</title>" in web.get("/inbox/").content.decode()


def test_unread_count_is_one_query_however_many_conversations(mailbox, agent, django_assert_num_queries):
    for i in range(25):
        customer_conversation(mailbox, address=f"c{i}@example.test", name=f"C{i}", subject=f"S{i}", text="Hi")
    with django_assert_num_queries(1):
        assert selectors.inbox_badges(agent=agent) == {"mine": 0, "unread": 25}


async def _notices(communicator, *, quiet: float = 0.4) -> list[dict]:  # type: ignore[no-untyped-def]
    frames = []
    while not await communicator.receive_nothing(timeout=quiet):
        frame = await communicator.receive_json_from(timeout=1)
        if frame["type"] == "notice":
            frames.append(frame)
    return frames


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_notices_reach_only_the_agent_named_and_new_conversations_every_list(mailbox, agent):
    from tests.inbox.test_live import _socket

    sam = await sync_to_async(agent_create)(email="sam@acme.test", name="Sam Smith", role="agent")
    light = await sync_to_async(agent_create)(email="lee@acme.test", name="Lee Light", role="light")
    make = sync_to_async(customer_conversation)
    c = await make(mailbox, address="ann@example.test", name="Ann", subject="Refund please", text="Hi")
    sam_list = await _socket("/ws/inbox/", sam)
    sam_page = await _socket(f"/ws/conversations/{c.number}/", sam)
    alex_list = await _socket("/ws/inbox/", agent)
    light_list = await _socket("/ws/inbox/", light)
    await sync_to_async(conversation_assign)(conversation=c, assignee=sam, actor=agent)
    expected = {
        "type": "notice",
        "kind": "assigned",
        "number": c.number,
        "title": f"Alex Agent assigned you #{c.number}",
        "text": "Refund please",
    }
    assert await _notices(sam_list) == [expected]
    assert await _notices(sam_page) == [expected]  # every open page of Sam's
    assert await _notices(alex_list) == []  # Alex did it: nothing to tell
    await sync_to_async(note_add)(conversation=c, author=sam, text="@alex can you check the refund?")
    (mention,) = await _notices(alex_list)
    assert mention["kind"] == "mention" and mention["title"] == f"Sam Smith mentioned you in #{c.number}"
    # A new conversation: every open list hears it; a security report never reaches the light agent.
    await make(mailbox, address="rex@example.test", name="Rex", subject="Bug", text="XSS in search")
    news = await _notices(light_list, quiet=1.0)
    assert [n for n in news if n["kind"] == "new"] == []
    await make(mailbox, address="bo@example.test", name="Bo", subject="Parcel", text="Where is it?")
    (new,) = [n for n in await _notices(light_list) if n["kind"] == "new"]
    assert new["title"].startswith("New conversation #") and new["text"] == "Bo: Parcel"
    for ws in (sam_list, sam_page, alex_list, light_list):
        await ws.disconnect()
