"""In the browser: a customer asks in the community about something private; an agent turns the post into
a private conversation; the author gets the email with the link and finds the conversation in the portal,
and the post is gone from public view."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.utils import timezone

from happydesk.community import services
from happydesk.community.models import Topic
from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Conversation
from happydesk.mail import outbound
from happydesk.mail.outbound import send_due
from tests.helpers import SHOTS, path_of, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FORUM = [  # (title, body, answer by the team, accepted)
    ("How do I export a whole year of sensor readings?", "The export dialog stops at 90 days.",
     "Use **Data → Exports** with a custom range; big exports arrive by email.", True),
    ("Can I invite a colleague as read-only?", "Our facilities manager should only look.",
     "Invite them with the **Viewer** role.", True),
    ("Good alert thresholds for freezer sensors?", "We store vaccines at −20 °C.", "", False),
    ("SSO with Azure AD: users land on a blank page", "After SAML setup we get a white page.",
     "Check that the Reply URL ends with a slash.", False),
]  # fmt: skip


def text_of(data: bytes) -> tuple[str, str]:
    msg = message_from_bytes(data, policy=policy.default)
    return str(msg["Subject"]), msg.get_body(("plain",)).get_content()


def local(url: str, base: str) -> str:
    return base + path_of(url)


def test_agent_turns_a_forum_post_into_a_private_conversation(
    page, browser, live_server, mailbox, agent, smtp_sink
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    mailbox.auto_reply_enabled = False
    mailbox.save()
    askers = [customer_for_address(address=f"member{n}@example.test", name=name)
              for n, name in enumerate(["Nadia Tanaka", "Jonas Schmidt", "Laura Fischer", "Marco Sharma"])]  # fmt: skip
    now = timezone.now()
    for n, (title, body, answer, accepted) in enumerate(FORUM):
        at = now - timedelta(days=9 - 2 * n, hours=3)
        t = services.topic_create(kind="question", title=title, body=body, author=askers[n], at=at)
        for voter in askers[: 4 - n]:
            if voter != askers[n]:
                services.vote_add(topic=t, customer=voter)
        if answer:
            post = services.post_create(
                topic=t, body=answer, author=agent, notify=False, at=at + timedelta(hours=2)
            )
            if accepted:
                services.answer_accept(topic=t, post=post, actor=askers[n])
    for n, (title, votes) in enumerate([("Dark mode for the dashboard", 4), ("Scheduled reports by email", 3),
                                        ("Folders to group dashboards by site", 2)]):  # fmt: skip
        idea = services.topic_create(
            kind="idea", title=title, body="Please.", author=askers[n], at=now - timedelta(days=20)
        )
        for voter in askers[n + 1 : n + votes]:
            services.vote_add(topic=idea, customer=voter)
    services.known_issue_post(
        title="Slack alerts stop after a channel is renamed", body="Reconnect the channel.", author=agent
    )
    services.announcement_save(title="Excel export is here", body="Choose XLSX in any export.",
                               published_at=now - timedelta(days=3), author=agent)  # fmt: skip
    services.announcement_save(title="A Viewer role for read-only teammates", body="Settings → Team.",
                               published_at=now - timedelta(days=12), author=agent)  # fmt: skip
    customer_for_address(address="riley@example.test", name="Riley Rivera")

    # Riley signs in from the community with the one-time link and asks, with private details.
    page.goto(f"{live_server.url}/community/")
    page.get_by_role("link", name="Ask a question").click()
    page.wait_for_url("**/community/sign-in/**")
    page.get_by_label("Your email address").fill("riley@example.test")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_text("Check your email").wait_for()
    outbound.send_due()  # the link goes out through the outbox, as the worker would send it
    (_, _, data), = smtp_sink.wait_for(1)  # fmt: skip
    link = re.search(r"http://\S+/portal/login/\S+/", text_of(data)[1]).group(0)
    page.goto(local(link, live_server.url))
    page.get_by_role("button", name="Sign in").click()  # the link's page posts it (scanners only GET)
    page.get_by_role("link", name="Back to the community →").click()
    page.get_by_label("Title").fill("Charged twice this month")
    page.get_by_label("Details").fill(
        "Invoice INV-2042 was charged twice to my card ending 4242. Can you refund one?"
    )
    page.get_by_role("button", name="Post your question").click()
    page.get_by_role("heading", name="Charged twice this month").wait_for()
    topic = Topic.objects.get(title="Charged twice this month")

    page.goto(f"{live_server.url}/community/")
    page.screenshot(path=str(SHOTS / "community.png"), full_page=True)

    # The agent moves it to a private conversation in the support mailbox.
    team = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = team.new_page()
    sign_in(desk, live_server.url, "alex@acme.test", "correct-horse-battery")
    desk.goto(live_server.url + topic.get_absolute_url())
    desk.get_by_role("link", name="Move to a private conversation…").click()
    desk.get_by_label("Mailbox").select_option(label=str(mailbox))
    assert desk.get_by_label("Your reply to the author").input_value().startswith("Hi Riley,")
    desk.get_by_role("button", name="Move and tell the author").click()
    desk.get_by_text("Moved to a private conversation; the author has been told by email.").wait_for()
    conversation = Conversation.objects.get(subject="Charged twice this month")
    assert desk.url.endswith(f"/c/{conversation.number}/")
    desk.get_by_text("Invoice INV-2042 was charged twice").wait_for()
    team.close()
    topic.refresh_from_db()
    assert topic.state == "hidden" and topic.locked and topic.conversation == conversation

    # Riley gets the email with the link, and sees the conversation in the portal.
    send_due()
    smtp_sink.wait_for(2)
    (_, rcpts, data) = smtp_sink.messages[1]
    subject, body = text_of(data)
    assert rcpts == ["riley@example.test"] and subject.endswith(f"[#{conversation.number}]")
    assert "I've moved your post here, to a private conversation" in body
    portal_link = re.search(r"http://\S+/portal/l/\S+/", body).group(0)  # signed, expiring
    page.goto(local(portal_link, live_server.url))
    page.get_by_text("Invoice INV-2042 was charged twice").wait_for()
    page.get_by_text("I've moved your post here").wait_for()
    page.goto(f"{live_server.url}/portal/")
    page.get_by_role("link", name="Charged twice this month").wait_for()
    page.goto(live_server.url + topic.get_absolute_url())
    page.get_by_text("We moved this to a private conversation with you").wait_for()

    # Nobody else sees it any more.
    visitor = browser.new_context().new_page()
    response = visitor.goto(live_server.url + topic.get_absolute_url())
    assert response is not None and response.status == 404
    visitor.goto(f"{live_server.url}/community/")
    assert "Charged twice" not in visitor.content()
    visitor.context.close()
