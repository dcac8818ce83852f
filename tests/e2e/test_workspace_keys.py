"""In the browser: keyboard navigation through the inbox, and the handoff line in the composer."""

from __future__ import annotations

import pytest

from happydesk.accounts.services import agent_create
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import reply_create
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from tests.helpers import make_email, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_keyboard_navigation_and_handoff_line(page, live_server, mailbox, agent):
    for i in range(3):
        store_raw(
            make_email(sender=f"c{i}@example.test", subject=f"Question {i}"),
            source="smtp",
            envelope_to=["support@acme.test"],
        )
        process_pending()
    second = Conversation.objects.get(subject="Question 1")  # gets a reply below: newest activity, top row
    reply_create(conversation=second, author=agent, text="Looking into it.")
    Conversation.objects.filter(pk=second.pk).update(status="active")
    sam = agent_create(email="sam@acme.test", name="Sam Smith", password="another-password")

    sign_in(page, live_server.url, sam.email, "another-password")
    page.goto(f"{live_server.url}/inbox/?status=active&order=recent")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.locator("#conversation-list tr.selected").get_attribute("data-number") == str(second.number)
    page.keyboard.press("o")
    page.wait_for_url(f"**/c/{second.number}/")
    page.keyboard.press("?")
    assert page.get_by_role("dialog", name="Keyboard shortcuts").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-text"

    page.get_by_role("button", name="Start with").click()
    value = page.get_by_label("Reply", exact=True).input_value()
    assert value.startswith("Hi, it's Sam here, picking this up from Alex.")
