"""In the browser, as an outsider: write through the contact form and the widget with a known customer's
address, and try every customer-facing way to read the agent's answer. Nothing works; the agent sees
the conversation as not verified; the real customer confirms from their email and it turns verified.
Then a host page that knows its user identifies them to the widget by SSO token (made with joserfc)."""

from __future__ import annotations

import re
import time
import uuid
from email import message_from_bytes, policy

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey

from happydesk.accounts.portal import confirm_link_check
from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.services import reply_create
from happydesk.mail import outbound
from tests.e2e import test_widget as widget_e2e
from tests.helpers import customer_conversation, path_of, sign_in

host_site, site, widget_ready = widget_e2e.host_site, widget_e2e.site, widget_e2e.widget_ready  # reused

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AGENT_ANSWER = "Your account number is 4711-0042; the refund went to the card ending 9911."
HISTORY = "Kim's earlier private order question"


class Recorder:
    """Every response the outsider's browser received: URL, and its body and Location, read as it arrives
    (a body cannot be read once the page has navigated on)."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.seen: list[tuple[str, str]] = []
        self.unreadable: list[str] = []
        page.on("response", self._record)

    def _record(self, response) -> None:  # type: ignore[no-untyped-def]
        try:
            body = "" if 300 <= response.status < 400 else response.text()  # a redirect has no body
        except Exception:  # an error inside an event handler is not raised in the test: keep it
            # Suggestions fetched while the visitor types are cut off by the next keystroke or the
            # submit (public help content, never a conversation); any other unreadable answer fails.
            if "/search/suggest.json" not in response.url:
                self.unreadable.append(response.url)
            return
        self.seen.append((response.url, body + "\n" + (response.headers.get("location") or "")))

    def texts(self) -> list[tuple[str, str]]:
        assert not self.unreadable, f"responses the check could not read: {self.unreadable}"
        return list(self.seen)


def body_of(mail_bytes: bytes) -> str:
    return message_from_bytes(mail_bytes, policy=policy.default).get_body(("plain",)).get_content()


def local(url: str, base: str) -> str:
    return base + path_of(url)


@pytest.fixture
def kim(mailbox, agent):  # type: ignore[no-untyped-def]
    """A real customer with history: one answered conversation."""
    c = customer_conversation(
        mailbox,
        address="kim@example.test",
        name="Kim Known",
        subject=HISTORY,
        text="Where is order 1042?",
        sender_verified=True,
        verification="test fixture",
    )
    reply_create(conversation=c, author=agent, text="It ships tomorrow, Kim.")
    return c.customer


def test_outsider_cannot_reach_the_answer_and_the_owner_confirms(
    page, browser, site, live_server, mailbox, agent, kim, smtp_sink, settings
):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    base = live_server.url
    outbound.send_due()  # the history's reply is out of the way
    smtp_sink.messages.clear()
    seen = Recorder(page)

    # 1. The outsider writes through the contact form as Kim.
    page.goto(f"{base}/contact/{mailbox.pk}/")
    page.get_by_label("Name").fill("Kim Known")
    page.get_by_label("Email").fill("kim@example.test")
    page.get_by_label("Subject").fill("Change my payout account")
    page.get_by_label("Message").fill(
        "Please send my refunds to a new card, and remind me of my account number."
    )
    page.get_by_role("button", name="Send").click()
    page.get_by_text("we've got it").wait_for()
    page.get_by_text("confirm that the message is yours").wait_for()
    form_c = Conversation.objects.get(subject="Change my payout account")
    assert form_c.customer == kim and form_c.unverified and form_c.channel == "form"

    # 2. ... and through the widget on the company's site.
    page.goto(site.url + "/")
    widget_ready(page)
    page.get_by_role("button", name=re.compile(r"^Help")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("tab", name="Write to us").click()
    dialog.get_by_label("Your name").fill("Kim Known")
    dialog.get_by_label("Email").fill("kim@example.test")
    dialog.get_by_label("Subject").fill("Close my account")
    dialog.get_by_label("Message").fill("Close it and email me the data export.")
    dialog.get_by_role("button", name="Send message").click()
    dialog.get_by_text("Thanks, we've got it").wait_for()
    assert dialog.get_by_role("link").filter(has_text="conversation").count() == 0
    widget_c = Conversation.objects.get(subject="Close my account")
    assert widget_c.customer == kim and widget_c.unverified and widget_c.channel == "widget"
    for c in (form_c, widget_c):
        m = c.messages.get(kind=Message.Kind.CUSTOMER)
        assert (m.sender_verified, m.verification) == (False, "contact form, address not confirmed")

    # No response the outsider got carries a way in.
    secrets = [form_c.token, widget_c.token, "/portal/c/", "/portal/l/", "/contact/confirm/"]
    answers = seen.texts()
    assert any("we've got it" in text for _, text in answers)  # the thanks page was read, too
    assert any(url.endswith("/contact.json") and '"ok": true' in text for url, text in answers)
    for url, text in answers:
        for secret in secrets:
            assert secret not in text, (url, secret)

    # 3. An agent, in a browser of their own, sees both as not verified and answers one.
    agent_context = browser.new_context()
    agent_page = agent_context.new_page()
    sign_in(agent_page, base, agent.email, "correct-horse-battery")
    agent_page.goto(f"{base}/c/{form_c.number}/")
    agent_page.get_by_text("Not verified: don't share account details yet.").wait_for()
    assert agent_page.locator('[data-verified="no"]').count() >= 1
    agent_page.locator("#reply-text").fill(AGENT_ANSWER)
    agent_page.get_by_role("button", name="Send reply").click()
    agent_page.wait_for_function("t => document.body.innerText.includes(t)", arg=AGENT_ANSWER.split(";")[0])
    assert Message.objects.filter(conversation=form_c, kind=Message.Kind.REPLY, text=AGENT_ANSWER).exists()
    reply_create(conversation=widget_c, author=agent, text=AGENT_ANSWER)

    # 4. The outsider tries every customer-facing route, even with the raw tokens they never got.
    attempts = [
        "/portal/",
        f"/portal/c/{form_c.token}/",
        f"/portal/c/{widget_c.token}/",
        f"/portal/l/{form_c.token}/",
        f"/contact/confirm/{form_c.token}/",
        f"/widget/{mailbox.pk}/conversations.json",
        f"/widget/{mailbox.pk}/conversations/{form_c.number}.json",
        f"/widget/{mailbox.pk}/conversations/{widget_c.number}.json",
        f"/contact/{mailbox.pk}/",
        "/community/",
        "/help/",
        "/status/",
    ]
    for path in attempts:
        page.goto(base + path)
        content = page.content()
        assert AGENT_ANSWER.split(";")[0] not in content, path
        assert "It ships tomorrow" not in content and HISTORY not in content, path
    # The offer of a fresh sign-in link sends it to Kim, not to whoever asked.
    page.goto(f"{base}/portal/c/{form_c.token}/")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("status").wait_for()
    assert "kim@example.test" not in page.content()

    # 5. Kim reads the confirmation from her mailbox: a mail scanner's GET confirms nothing ...
    outbound.send_due()
    mails = smtp_sink.wait_for(4)  # two confirmations, the agent's two answers (and the sign-in link)
    for_kim = [body_of(data) for _, rcpts, data in mails if rcpts == ["kim@example.test"]]
    confirms = [
        re.search(r"http://\S+/contact/confirm/\S+/", b).group(0) for b in for_kim if "/contact/confirm/" in b
    ]
    assert len(confirms) == 2
    # The email quotes nothing the visitor typed: tell the two apart by the conversation each link opens.
    assert not any("Change my payout account" in b for b in for_kim)
    form_confirm = next(
        u for u in confirms if confirm_link_check(u.rstrip("/").rsplit("/", 1)[-1])[0] == form_c.token
    )
    scanner = browser.new_context()
    scanner.new_page().goto(local(form_confirm, base))
    form_c.refresh_from_db()
    assert form_c.unverified

    # ... her click on the button does, and signs her in.
    kim_context = browser.new_context()
    kim_page = kim_context.new_page()
    kim_page.goto(local(form_confirm, base))
    kim_page.get_by_role("button", name="Yes, I sent it").click()
    kim_page.get_by_text(AGENT_ANSWER.split(";")[0]).wait_for()
    form_c.refresh_from_db()
    assert not form_c.unverified
    m = form_c.messages.get(kind=Message.Kind.CUSTOMER)
    assert (m.sender_verified, m.verification) == (True, "address confirmed by email link")
    kim_page.goto(f"{base}/portal/")
    kim_page.get_by_role("link", name=HISTORY).wait_for()

    # The agent sees it verified now.
    agent_page.goto(f"{base}/c/{form_c.number}/")
    agent_page.get_by_text("Verified sender").wait_for()
    assert "Not verified: don't share account details yet." not in agent_page.content()
    widget_c.refresh_from_db()
    assert widget_c.unverified  # the other one stays unverified until she confirms it too
    for context in (agent_context, scanner, kim_context):
        context.close()


def test_host_page_identifies_its_user_to_the_widget(page, site, live_server, mailbox, agent, settings):
    secret = "widget-e2e-secret-0123456789abcdefghij"
    settings.HAPPYDESK_SSO_JWT_SECRETS = [secret]
    mailbox.auto_reply_enabled = False
    mailbox.save()
    now = int(time.time())
    claims = {
        "email": "sam@shop.example",
        "name": "Sam Signed",
        "external_id": "shop-user-9",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    token = jose_jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secret))
    site.pages["/account.html"] = site.pages["/"].replace(
        'data-mailbox="', f'data-jwt="{token}" data-mailbox="'
    )
    page.goto(site.url + "/account.html")
    widget_ready(page)
    page.get_by_role("button", name=re.compile(r"^Help")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("tab", name="Your conversations").wait_for()
    dialog.get_by_role("tab", name="Write to us").click()
    assert dialog.get_by_label("Email").input_value() == "sam@shop.example"
    dialog.get_by_label("Subject").fill("Invoice address")
    dialog.get_by_label("Message").fill("Please put our VAT number on invoices.")
    dialog.get_by_role("button", name="Send message").click()
    dialog.get_by_text("You can follow it under Your conversations.").wait_for()
    c = Conversation.objects.get(subject="Invoice address")
    m = c.messages.get(kind=Message.Kind.CUSTOMER)
    assert not c.unverified and (m.sender_verified, m.verification) == (True, "SSO (JWT)")
    assert c.customer.external_id == "shop-user-9"
    reply_create(conversation=c, author=agent, text="Done: the VAT number is on from now on.")

    dialog.get_by_role("tab", name="Your conversations").click()
    dialog.get_by_role("button", name="Invoice address").click()
    dialog.get_by_text("Done: the VAT number is on from now on.").wait_for()
    # The identity lives in the widget's memory only: no cookie, nothing in storage.
    assert page.context.cookies() == []
    stored = page.evaluate("() => JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
    assert token not in stored and "identity" not in stored
