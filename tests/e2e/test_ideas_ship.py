"""In the browser: a customer signs in with the one-time link and votes for an idea once (a second vote
does not count); an agent links a conversation to the idea from the conversation page and marks it
shipped with a note; the voters and the linked conversation's customer each get exactly one email."""

from __future__ import annotations

import re
from collections import Counter
from email import message_from_bytes, policy

import pytest

from happydesk.community import services
from happydesk.community.models import Topic
from happydesk.customers.services import customer_for_address
from happydesk.inbox.services import conversation_open, message_receive
from happydesk.mail import outbound
from happydesk.mail.outbound import send_due
from tests.helpers import SHOTS, path_of, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BOARD = [  # a believable board around the idea under test: (title, status, votes, note)
    ("Folders to group dashboards by site", "planned", 11, "Planned for the spring release."),
    ("Scheduled reports by email", "in_progress", 9, "We're building it now: weekly PDF or CSV."),
    ("SMS alerts as a fallback when email is slow", "", 7, ""),
    ("Export to Excel (XLSX), not only CSV", "shipped", 6, "Live: choose XLSX in any export."),
    ("Microsoft Teams integration", "planned", 4, ""),
    ("Custom CSS for the public status page", "declined", 1, "It breaks too easily during incidents."),
]


def mails(sink) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(recipient, subject, text) of everything the SMTP sink received."""
    out = []
    for _, rcpts, data in sink.messages:
        msg = message_from_bytes(data, policy=policy.default)
        for r in rcpts:
            out.append((r.lower(), str(msg["Subject"]), msg.get_body(("plain",)).get_content()))
    return out


def local(url: str, base: str) -> str:
    return base + path_of(url)


def test_vote_once_then_ship_tells_everyone_once(page, browser, live_server, mailbox, agent, smtp_sink):
    SHOTS.mkdir(parents=True, exist_ok=True)
    names = ["Nadia Tanaka", "Jonas Schmidt", "Laura Fischer", "Marco Sharma", "Chloe Park", "Wei Rossi",
             "Ingrid Reyes", "Kenji Walsh", "Clara Hoffmann", "Noah Wright", "Zoe Murphy", "Hana Chowdhury"]  # fmt: skip
    crowd = [customer_for_address(address=f"fan{n}@example.test", name=name) for n, name in enumerate(names)]
    for title, status, votes, note in BOARD:
        t = services.topic_create(
            kind="idea", title=title, body="Would help our team a lot.", author=crowd[votes % 12]
        )
        for fan in crowd[:votes]:
            services.vote_add(topic=t, customer=fan)
        if status:
            services.topic_set_status(topic=t, status=status, agent=agent, note=note, notify=False)
        if votes > 8:
            services.post_create(
                topic=t, body="Yes please, we need this too.", author=crowd[votes - 2], notify=False
            )
    pat = customer_for_address(address="pat@example.test", name="Pat Quinn")
    sam = customer_for_address(address="sam@example.test", name="Sam Ortiz")
    customer_for_address(address="riley@example.test", name="Riley Rivera")
    idea = services.topic_create(
        kind="idea",
        title="Dark mode for the dashboard",
        body="Our control room runs the dashboard on a wall screen all night. A dark theme would be easier on the eyes.",
        author=pat,
    )
    services.vote_add(topic=idea, customer=sam)
    lee = customer_for_address(address="lee@example.test", name="Lee Park")
    conversation = conversation_open(mailbox=mailbox, customer=lee, subject="Feature request: dark mode")
    message_receive(conversation=conversation, customer=lee, from_name="Lee Park", from_address="lee@example.test",
                    subject="Feature request: dark mode", text="Any plans for a dark theme?")  # fmt: skip
    assert idea.vote_count == 1  # Pat's own vote; Sam's makes 2

    # Riley reads the board, signs in with the one-time link, and comes back to vote.
    page.goto(f"{live_server.url}/community/ideas/")
    page.get_by_role("link", name="Dark mode for the dashboard").click()
    page.get_by_role("link", name=re.compile("Sign in to comment, vote or follow")).click()
    page.get_by_label("Your email address").fill("riley@example.test")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_text("Check your email").wait_for()
    outbound.send_due()  # the link goes out through the outbox, as the worker would send it
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    assert rcpts == ["riley@example.test"]
    link = re.search(
        r"http://\S+/portal/login/\S+/",
        message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content(),
    ).group(0)
    page.goto(local(link, live_server.url))
    page.get_by_role("button", name="Sign in").click()  # the link's page posts it (scanners only GET)
    page.get_by_role("link", name="Back to the community →").click()
    page.wait_for_url(f"**{idea.get_absolute_url()}")
    stale = page.context.new_page()  # a second tab, still showing the Vote button
    stale.goto(live_server.url + idea.get_absolute_url())
    vote = page.locator(".cm-topic-head .cm-vote")
    assert vote.locator(".cm-vote-count").inner_text() == "2"
    vote.get_by_role("button", name="Vote").click()
    page.get_by_role("button", name="Voted ✓").wait_for()
    assert vote.locator(".cm-vote-count").inner_text() == "3"
    stale.locator(".cm-topic-head .cm-vote").get_by_role("button", name="Vote").click()  # the second vote
    stale.get_by_text("You've already voted for this one").wait_for()
    assert stale.locator(".cm-topic-head .cm-vote-count").inner_text() == "3"
    stale.close()
    idea.refresh_from_db()
    assert idea.vote_count == 3

    page.goto(f"{live_server.url}/community/ideas/")
    page.screenshot(path=str(SHOTS / "ideas.png"), full_page=True)

    # The agent links Lee's conversation to the idea from the conversation page, then ships it.
    team = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = team.new_page()
    sign_in(desk, live_server.url, "alex@acme.test", "correct-horse-battery")
    desk.goto(f"{live_server.url}/c/{conversation.number}/")
    desk.get_by_label("Link to idea").fill(f"{idea.pk} Dark mode for the dashboard")
    desk.get_by_role("button", name="Link to idea").click()
    desk.get_by_text("Linked to “Dark mode for the dashboard”.").wait_for()
    desk.get_by_role("link", name="Dark mode for the dashboard").click()
    desk.get_by_label("Status").select_option(label="Shipped")
    desk.get_by_label(re.compile("^Note")).fill(
        "Dark mode is live: switch it on under **Settings → Appearance**."
    )
    desk.get_by_role("button", name="Update status").click()
    desk.get_by_text("4 people were told by email.").wait_for()
    desk.get_by_role("button", name="Update status").wait_for()
    team.close()

    send_due()
    smtp_sink.wait_for(5)
    shipped = [(to, text) for to, subject, text in mails(smtp_sink) if subject.startswith("Shipped:")]
    assert Counter(to for to, _ in shipped) == {
        "pat@example.test": 1,
        "sam@example.test": 1,
        "riley@example.test": 1,
        "lee@example.test": 1,
    }
    assert all("Dark mode is live: switch it on under" in text for _, text in shipped)
    assert Counter(to for to, _, _ in mails(smtp_sink)) == {
        "riley@example.test": 2,  # the sign-in link and the news
        "pat@example.test": 1,
        "sam@example.test": 1,
        "lee@example.test": 1,
    }
    # Shipping again (after a step back) tells nobody twice.
    services.topic_set_status(topic=idea, status="in_progress", agent=agent, note="One more fix.")
    services.topic_set_status(topic=idea, status="shipped", agent=agent, note="Now for everyone.")
    send_due()
    assert len(smtp_sink.messages) == 5
    assert Topic.objects.get(pk=idea.pk).status == "shipped"
