"""Assignment in a real browser against a real `happydesk serve`: Alex assigns a conversation to Sam from
its page with the keyboard; Sam's open inbox shows it at once (the row's owner, Mine's count, a notice
and a desktop notification), the tab title counts what is unread as new mail arrives, and Sam's email
reaches the SMTP server."""

from __future__ import annotations

import smtplib
from email import message_from_bytes
from email.policy import default

import pytest

from happydesk.accounts.services import agent_create
from tests.helpers import SHOTS, customer_conversation, free_port, make_email, sign_in, start_serve, stop

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Records each desktop notification the page raises (the browser's own Notification still runs).
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  if (!Real) return;
  window.__notifications = [];
  function Recorded(title, options) {
    window.__notifications.push({ title: title, body: options && options.body });
    return new Real(title, options);
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""


@pytest.fixture
def served(mailbox, smtp_sink):  # type: ignore[no-untyped-def]
    mailbox.auto_reply_enabled = False  # only the assignment email reaches the sink
    mailbox.save()
    http, smtp = free_port(), free_port()
    proc = start_serve(http, smtp, EMAIL_URL=f"smtp://127.0.0.1:{smtp_sink.port}")
    yield {"url": f"http://127.0.0.1:{http}", "smtp": smtp}
    stop(proc)


def _live(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("body[data-live=connected]").wait_for(timeout=5000)


def test_assigning_from_the_page_with_the_keyboard_tells_the_assignee(
    browser, served, mailbox, agent, smtp_sink
):
    c = customer_conversation(
        mailbox, address="ann@example.test", name="Ann", subject="Refund never arrived", text="Where is it?"
    )
    agent_create(email="sam@acme.test", name="Sam Smith", password="another-password")
    # Sam works the inbox, with desktop notifications turned on from it.
    sam_context = browser.new_context(viewport={"width": 1280, "height": 800})
    sam_context.grant_permissions(["notifications"], origin=served["url"])
    sam_context.add_init_script(RECORD_NOTIFICATIONS)
    sam = sam_context.new_page()
    sign_in(sam, served["url"], "sam@acme.test", "another-password")
    _live(sam)
    assert sam.title() == "(1) Inbox · Happydesk"  # Ann's conversation: Sam has not opened it
    toggle = sam.get_by_role("button", name="Turn on desktop notifications")
    toggle.click()
    sam.get_by_role("button", name="Turn off desktop notifications").wait_for(timeout=3000)

    alex = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    sign_in(alex, served["url"], agent.email, "correct-horse-battery")
    alex.goto(f"{served['url']}/c/{c.number}/")
    assert alex.locator("#owner-line").inner_text() == "Unassigned — anyone can answer"
    alex.keyboard.press("?")
    assert "assign: type a name" in alex.locator("#shortcut-help").inner_text()
    alex.keyboard.press("Escape")
    alex.keyboard.press("a")
    field = alex.locator("#assign-filter")
    assert field.is_visible() and field.evaluate("el => el === document.activeElement")
    alex.keyboard.type("sam")
    assert alex.locator("#assign-select").evaluate("s => s.options[s.selectedIndex].text") == "Sam Smith"
    alex.keyboard.press("Enter")
    alex.locator("#owner-line", has_text="Assigned to Sam Smith").wait_for(timeout=5000)
    assert "Alex Agent assigned the conversation to Sam Smith" in alex.locator("ol.thread").inner_text()

    # Sam's open inbox, without a reload: the notice, the row's owner, Mine's count, the desktop notification.
    notice = sam.locator("#notices .notice-assigned")
    notice.wait_for(timeout=3000)
    assert f"Alex Agent assigned you #{c.number}" in notice.inner_text()
    assert "Refund never arrived" in notice.inner_text()
    sam.locator("#conversation-list tr.row", has_text="Sam Smith is on it").wait_for(timeout=3000)
    assert sam.locator('.views .count[data-badge="mine"]').inner_text() == "1"
    shown = sam.evaluate("window.__notifications")
    assert {"title": f"Alex Agent assigned you #{c.number}", "body": "Refund never arrived"} in shown
    SHOTS.mkdir(parents=True, exist_ok=True)
    sam.screenshot(path=str(SHOTS / "assigned-notice.png"))

    # New mail: the title counts it, and a desktop notification says a new conversation came in.
    with smtplib.SMTP("127.0.0.1", served["smtp"]) as s:
        s.sendmail(
            "casey@example.test",
            ["support@acme.test"],
            make_email(subject="Parcel never came", message_id="<assign-e2e@example.test>"),
        )
    sam.locator("#conversation-list tr.row", has_text="Parcel never came").wait_for(timeout=5000)
    sam.wait_for_function("document.title === '(2) Inbox · Happydesk'", timeout=3000)
    sam.wait_for_function(
        "window.__notifications.some(n => n.title.startsWith('New conversation #'))", timeout=3000
    )

    # Sam's email, through the outbox, over SMTP.
    ((_, rcpts, data),) = smtp_sink.wait_for(1, timeout=15)
    mail = message_from_bytes(data, policy=default)
    assert rcpts == ["sam@acme.test"]
    assert mail["Subject"] == f"Alex Agent assigned you #{c.number}: Refund never arrived"
    assert f"/c/{c.number}/" in mail.get_body(preferencelist=("plain",)).get_content()

    # Opening it reads it: back on the inbox, the title counts only the new one.
    sam.goto(f"{served['url']}/c/{c.number}/")
    assert "Assigned to you" in sam.locator("#owner-line").inner_text()
    sam.goto(f"{served['url']}/inbox/")
    assert sam.title() == "(1) Inbox · Happydesk"
