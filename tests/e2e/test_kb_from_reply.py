"""In the browser: an agent turns a reply into a help article, publishes it, and a customer reads it."""

from __future__ import annotations

import pytest

from happydesk.inbox.models import Conversation
from happydesk.inbox.services import reply_create
from happydesk.kb.models import Article
from happydesk.kb.services import category_create, collection_create
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from tests.helpers import make_email

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_agent_turns_a_reply_into_a_published_article(page, browser, live_server, mailbox, agent):
    store_raw(make_email(subject="Where is my order?"), source="smtp", envelope_to=["support@acme.test"])
    process_pending()
    c = Conversation.objects.get()
    reply_create(
        conversation=c,
        author=agent,
        text=(
            "Hi Casey,\n\nOrders ship from our warehouse within 2 working days. As soon as yours leaves, "
            "we email the tracking link to casey@example.test. Questions about order ORD-44812? "
            "Call 020 7946 0958.\n\nBest,\nAlex"
        ),
    )
    category_create(collection=collection_create(name="Shop"), name="Orders & delivery")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("alex@acme.test")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox/**")
    page.goto(f"{live_server.url}/c/{c.number}/")

    page.get_by_role("button", name="Make an article").click()
    page.wait_for_url("**/kb/from-reply/**")
    # Before anything is saved, the agent sees each replacement and the text it leaves.
    replaced = page.locator(".kb-replacement-list li")
    assert replaced.count() == 2
    email = page.get_by_role("checkbox", name="casey@example.test → [email address]")
    phone = page.get_by_role("checkbox", name="020 7946 0958 → [phone number]")
    assert email.is_checked() and phone.is_checked()
    preview = page.locator("#redact-preview")
    assert "ORD-44812" in preview.inner_text() and "[phone number]" in preview.inner_text()
    assert Article.objects.count() == 0
    # The phone is the shop's public line, not personal: untick it and the preview follows (htmx).
    phone.uncheck()
    page.locator("#redact-preview mark.kb-kept", has_text="020 7946 0958").wait_for()
    assert "[email address]" in page.locator("#redact-preview").inner_text()
    page.get_by_role("button", name="Create draft article").click()
    page.wait_for_url("**/kb/articles/*/")
    page.get_by_text("1 item redacted, 1 kept as written", exact=False).wait_for()
    body = page.get_by_label("Text", exact=True)
    assert body.input_value().startswith("Orders ship from our warehouse within 2 working days.")
    assert "Casey" not in body.input_value() and "casey@example.test" not in body.input_value()
    assert "Call 020 7946 0958." in body.input_value()
    assert page.get_by_role("link", name=f"Conversation #{c.number}").is_visible()

    page.get_by_label("Title", exact=True).fill("When will my order ship?")
    page.get_by_label("Category", exact=True).select_option(label="Shop › Orders & delivery")
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Published.", exact=True).wait_for()
    article = Article.objects.get()
    assert article.is_published and article.source_conversation_number == c.number
    link = page.get_by_label("Public link").input_value()
    assert link.endswith(f"/help/articles/{article.pk}-when-will-my-order-ship/")

    customer = browser.new_context()  # a visitor who never signed in
    reader = customer.new_page()
    reader.goto(f"{live_server.url}/help/")
    reader.get_by_role("link", name="Orders & delivery").click()
    reader.get_by_role("link", name="When will my order ship?").click()
    reader.get_by_role("heading", name="When will my order ship?").wait_for()
    text = reader.locator(".kb-prose").inner_text()
    assert "Orders ship from our warehouse within 2 working days." in text
    assert "[email address]" in text and "Casey" not in text
    assert reader.title() == "When will my order ship? · Help Center"
    reader.get_by_role("button", name="Yes").click()
    reader.get_by_text("Thanks for letting us know!").wait_for()
    article.refresh_from_db()
    assert (article.helpful_yes, article.view_count) == (1, 2)
    customer.close()

    # Later, on another conversation, the agent links the new article into a reply.
    store_raw(
        make_email(sender="Dee <dee@example.test>", subject="Shipping times?"),
        source="smtp",
        envelope_to=["support@acme.test"],
    )
    process_pending()
    other = Conversation.objects.exclude(pk=c.pk).get()
    page.goto(f"{live_server.url}/c/{other.number}/")
    picker = page.get_by_label("Link a help article")
    picker.fill("order sh")
    page.locator("#article-options option[value='When will my order ship?']").wait_for(state="attached")
    picker.fill("When will my order ship?")  # what choosing the suggestion does
    reply = page.locator("#reply-text").input_value()
    assert f"When will my order ship?: {link}" in reply
