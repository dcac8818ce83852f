"""In the browser: a customer types in the help centre's search box and a suggestion appears (through
the one suggest endpoint); a search that finds nothing says so and offers the community and the contact
form. Runs under the site's CSP like every browser test."""

from __future__ import annotations

import pytest

from happydesk.kb.services import article_save, category_create, collection_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_suggestions_as_you_type_and_a_no_result_page(page, live_server, mailbox, agent):
    mailbox.form_enabled = True
    mailbox.save(update_fields=["form_enabled"])
    category = category_create(collection=collection_create(name="Using Acme"), name="Account")
    article_save(
        title="Reset your password",
        body="Click **Forgot password?** on the sign-in page.",
        author=agent,
        category=category,
        publish=True,
    )

    page.goto(f"{live_server.url}/help/")
    box = page.get_by_role("combobox", name="Search the help center").first
    box.press_sequentially("passw", delay=40)
    suggestion = page.get_by_role("option", name="Reset your password")
    suggestion.wait_for()
    assert box.get_attribute("aria-expanded") == "true"

    page.goto(f"{live_server.url}/help/search/?q=zebra+stripes")
    page.get_by_role("heading", name="We found nothing for “zebra stripes”").wait_for()
    assert page.get_by_role("link", name="Ask the community").get_attribute("href") == "/community/"
    contact = page.get_by_role("link", name="Write to us").first
    assert contact.get_attribute("href") == f"/contact/{mailbox.pk}/"
    contact.click()
    page.wait_for_url(f"**/contact/{mailbox.pk}/")
