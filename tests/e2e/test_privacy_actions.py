"""In the browser: the admin opens a customer's conversation, downloads the customer's data from the
customer column, then erases the customer: the confirmation page says what goes and what stays, a
wrong address is refused, the right one erases and lands on the inbox. Checked at 1280 and 390 pixels
wide (nothing wider than a phone's screen); screenshots go to SHOTS."""

from __future__ import annotations

import json
import zipfile

import pytest

from happydesk.customers.models import Customer
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import NewAttachment
from tests.helpers import SHOTS, customer_conversation, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ADDRESS = "marguerite.okonkwo@example.test"


def fits_the_phone(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_admin_exports_then_erases_a_customer(page, live_server, mailbox, agent, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "data" / "media"
    convo = customer_conversation(
        mailbox,
        address=ADDRESS,
        name="Marguerite Okonkwo",
        subject="Please delete my account",
        text="I'm leaving; please remove everything you hold about me.",
        attachments=[NewAttachment("contract.pdf", "application/pdf", b"%PDF contract")],
    )
    other = customer_conversation(
        mailbox, address="ted.other@example.test", name="Ted Other", subject="Staying", text="Hi"
    )
    customer_id = convo.customer_id
    SHOTS.mkdir(parents=True, exist_ok=True)

    sign_in(page, live_server.url, agent.email, "correct-horse-battery")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/c/{convo.number}/")
    panel = page.locator(".privacy-panel")
    panel.get_by_role("heading", name="Customer data").wait_for()
    panel.screenshot(path=str(SHOTS / "privacy-panel-1280.png"))
    page.screenshot(path=str(SHOTS / "privacy-conversation-1280.png"), full_page=True)

    with page.expect_download() as download:
        panel.get_by_role("button", name="Export data").click()
    assert download.value.suggested_filename == f"customer-{customer_id}-export.zip"
    with zipfile.ZipFile(download.value.path()) as archive:
        document = json.loads(archive.read("customer.json"))
    assert [c["subject"] for c in document["conversations"]] == ["Please delete my account"]

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    panel.scroll_into_view_if_needed()
    assert fits_the_phone(page)
    panel.screenshot(path=str(SHOTS / "privacy-panel-390.png"))
    page.screenshot(path=str(SHOTS / "privacy-conversation-390.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    panel.get_by_role("link", name="Erase customer…").click()
    page.get_by_role("heading", name="Erase Marguerite Okonkwo?").wait_for()
    box = page.locator(".erase-box")
    assert "1 conversation" in box.inner_text() and "1 attachment" in box.inner_text()
    assert "Former member" in box.inner_text()
    page.screenshot(path=str(SHOTS / "privacy-erase-1280.png"), full_page=True)

    confirm = page.get_by_label("Type the customer's email address to confirm")
    confirm.fill("ted.other@example.test")  # someone else's address: refused
    page.get_by_role("button", name="Erase customer", exact=True).click()
    page.get_by_role("alert").filter(has_text="nothing was erased").wait_for()
    assert Customer.objects.filter(pk=customer_id).exists()

    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "privacy-erase-390.png"), full_page=True)

    confirm.fill(ADDRESS)
    page.get_by_role("button", name="Erase customer", exact=True).click()
    page.wait_for_url("**/inbox/")
    page.get_by_text("Customer erased").wait_for()
    assert not Customer.objects.filter(pk=customer_id).exists()
    assert not Conversation.objects.filter(pk=convo.pk).exists()
    assert Conversation.objects.filter(pk=other.pk).exists()
    assert "Please delete my account" not in page.content()
