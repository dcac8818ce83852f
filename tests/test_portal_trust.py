"""Who may read a conversation from the customer's side: contact-form confirmation, signed and expiring
conversation links bound to their customer, and one-time sign-in links that a mail scanner cannot burn."""

from __future__ import annotations

import re
import time

import pytest
from django.core import signing
from django.test import Client

from happydesk.accounts.models import PortalLoginToken
from happydesk.accounts.portal import CONVERSATION_LINK_SALT, conversation_link_value
from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.services import (
    NewAttachment,
    conversation_open,
    reply_create,
)
from happydesk.mail import outbound
from happydesk.mail.models import OutboundMail
from happydesk.portal.views import GRANTS_KEY, SESSION_KEY, VIA_KEY
from tests.helpers import customer_conversation, path_of

pytestmark = pytest.mark.django_db

AGENT_ANSWER = "Your account number is 4711 and the card ends in 0042."


@pytest.fixture
def known(mailbox):  # type: ignore[no-untyped-def]
    """A real customer with a conversation of their own."""
    c = customer_conversation(
        mailbox,
        address="kim@example.test",
        name="Kim Known",
        subject="Kim's own billing question",
        text="About my invoice",
        attachments=[NewAttachment("invoice.pdf", "application/pdf", b"%PDF-private")],
    )
    return c.customer


def submit(client: Client, mailbox, **overrides):  # type: ignore[no-untyped-def]
    data = {
        "name": "Kim Known",
        "email": "kim@example.test",
        "subject": "Please change my bank details",
        "message": "New IBAN: XX00 1234. Also tell me my account number.",
        "website": "",
    }
    data.update(overrides)
    return client.post(f"/contact/{mailbox.pk}/", data)


def confirmation_links(address: str) -> tuple[str, str]:
    """(confirm path, conversation link path) from the confirmation mail in the outbox."""
    row = OutboundMail.objects.filter(kind="contact-confirm", to=[address]).latest("id")
    confirm = re.search(r"http://\S+/contact/confirm/\S+/", row.body_text).group(0)
    link = re.search(r"http://\S+/portal/l/\S+/", row.body_text).group(0)
    return path_of(confirm), path_of(link)


def test_outsider_form_as_known_customer_gets_no_way_in(mailbox, known, agent):
    outsider = Client()
    r = submit(outsider, mailbox)
    assert r.status_code == 200
    c = Conversation.objects.latest("id")
    assert c.customer == known  # the address is Kim's, so it joins Kim's record...
    assert c.unverified and c.unverified_reason.startswith("sent from the contact form")
    m = c.messages.get(kind=Message.Kind.CUSTOMER)
    assert (m.sender_verified, m.verification) == (False, "contact form, address not confirmed")
    page = r.content.decode()
    for secret in (c.token, "/portal/c/", "/portal/l/", "/contact/confirm/"):
        assert secret not in page
    assert not outsider.session.get(SESSION_KEY)
    # ...and the confirmation goes to Kim's address only, through the outbox (with Kim's link).
    row = OutboundMail.objects.get(kind="contact-confirm")
    assert row.to == ["kim@example.test"] and row.state == "queued"
    assert row.headers["Reply-To"] == mailbox.reply_address(c.reply_token)
    assert not Message.objects.filter(conversation=c, kind=Message.Kind.AUTO_REPLY).exists()

    reply_create(conversation=c, author=agent, text=AGENT_ANSWER)
    attachment = Message.objects.get(text="About my invoice").attachments.get()
    own = Conversation.objects.get(subject="Kim's own billing question")
    routes = [
        "/portal/",
        f"/portal/c/{c.token}/",  # even knowing the raw token (old emails) opens nothing now
        f"/portal/c/{own.token}/",
        f"/portal/c/{own.token}/attachments/{attachment.pk}/",
        f"/contact/{mailbox.pk}/",
        f"/widget/{mailbox.pk}/conversations.json",
        f"/widget/{mailbox.pk}/conversations/{c.number}.json",
        f"/portal/l/{c.token}/",
        f"/contact/confirm/{c.token}/",
        "/community/",
        "/help/",
    ]
    for route in routes:
        for method in (outsider.get, outsider.post):
            resp = method(route)
            body = b"".join(resp.streaming_content) if resp.streaming else resp.content
            assert AGENT_ANSWER.encode() not in body, route
            assert b"%PDF-private" not in body, route
            assert b"About my invoice" not in body, route
            assert resp.status_code not in (200, 302) or route in (
                "/portal/",
                f"/contact/{mailbox.pk}/",
                "/community/",
                "/help/",
            ), (route, resp.status_code)


def test_confirmation_get_confirms_nothing_post_confirms_and_signs_in(mailbox, known):
    submit(Client(), mailbox)
    c = Conversation.objects.latest("id")
    confirm, _ = confirmation_links("kim@example.test")
    scanner = Client()
    r = scanner.get(confirm)
    assert r.status_code == 200 and "Yes, I sent it" in r.content.decode()
    c.refresh_from_db()
    assert c.unverified and not scanner.session.get(SESSION_KEY)

    csrf = Client(enforce_csrf_checks=True)
    assert csrf.post(confirm).status_code == 403  # the button's form carries a CSRF token
    c.refresh_from_db()
    assert c.unverified

    kim = Client()
    r = kim.post(confirm)
    assert r.status_code == 302 and r["Location"] == f"/portal/c/{c.token}/"
    c.refresh_from_db()
    assert not c.unverified and c.unverified_reason == ""
    m = c.messages.get(kind=Message.Kind.CUSTOMER)
    assert (m.sender_verified, m.verification) == (True, "address confirmed by email link")
    assert c.messages.filter(kind=Message.Kind.EVENT, event__type="sender_confirmed").count() == 1
    assert kim.session[SESSION_KEY] == known.pk and kim.session[VIA_KEY] == "link"
    assert "Please change my bank details" in kim.get(r["Location"]).content.decode()
    kim.post(confirm)  # again: nothing more happens
    assert c.messages.filter(kind=Message.Kind.EVENT, event__type="sender_confirmed").count() == 1


def test_a_signed_in_customer_writes_verified_and_sees_it_in_the_portal(mailbox, known, smtp_sink):
    kim = Client()
    kim.post("/portal/", {"email": "kim@example.test"})
    outbound.send_due()
    body = smtp_sink.wait_for(1)[-1][2].decode()
    login = re.search(r"/portal/login/[^/\s]+/", body).group(0)
    kim.post(login)
    r = submit(kim, mailbox)
    assert "your conversations" in r.content.decode()
    c = Conversation.objects.latest("id")
    m = c.messages.get(kind=Message.Kind.CUSTOMER)
    assert not c.unverified and (m.sender_verified, m.verification) == (True, "portal session")
    assert not OutboundMail.objects.filter(kind="contact-confirm").exists()
    assert c.subject in kim.get("/portal/").content.decode()
    # Signed in as Kim but typing someone else's address: not verified.
    customer_for_address(address="other@example.test")
    submit(kim, mailbox, email="other@example.test")
    assert Conversation.objects.latest("id").unverified


def test_conversation_link_opens_that_one_conversation_and_answers_verified(mailbox, known, agent):
    own = Conversation.objects.get(subject="Kim's own billing question")
    second = conversation_open(mailbox=mailbox, customer=known, subject="Kim's second matter")
    reply_create(conversation=own, author=agent, text=AGENT_ANSWER)
    link = path_of(outbound.conversation_link(own))
    assert link.startswith("/portal/l/") and own.token not in link
    visitor = Client()
    r = visitor.get(link)
    assert r.status_code == 302 and r["Location"] == f"/portal/c/{own.token}/"
    page = visitor.get(r["Location"]).content.decode()
    assert AGENT_ANSWER in page and "All your conversations" not in page
    visitor.post(r["Location"], {"text": "Thanks, that's it."})
    m = own.messages.filter(kind=Message.Kind.CUSTOMER).latest("id")
    assert (m.text, m.sender_verified, m.verification) == (
        "Thanks, that's it.",
        True,
        "conversation link from email",
    )
    assert visitor.session[GRANTS_KEY] == {str(own.pk): known.pk} and SESSION_KEY not in visitor.session
    # The grant is for that conversation only: not the customer's other one, not their list.
    assert visitor.get(f"/portal/c/{second.token}/").status_code == 403
    assert "Kim's second matter" not in visitor.get("/portal/").content.decode()


def test_expired_or_tampered_links(mailbox, known, settings):
    own = Conversation.objects.get(subject="Kim's own billing question")
    settings.HAPPYDESK_PORTAL_LINK_DAYS = 30

    class LongAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 31 * 86400)

    old = LongAgo(salt=CONVERSATION_LINK_SALT).sign_object({"t": own.token, "c": known.pk})
    visitor = Client()
    r = visitor.get(f"/portal/l/{old}/")
    page = r.content.decode()
    assert r.status_code == 403 and "expired" in page
    assert "kim@example.test" not in page and "About my invoice" not in page
    assert GRANTS_KEY not in visitor.session
    r = visitor.post(f"/portal/l/{old}/", {"action": "send-link"})
    assert "sign-in link is on its way" in r.content.decode() and "kim@example.test" not in r.content.decode()
    assert PortalLoginToken.objects.filter(customer=known).count() == 1
    assert OutboundMail.objects.get(kind="portal-link").to == ["kim@example.test"]
    # 29 days old still works.
    recent = type(
        "Recent",
        (signing.TimestampSigner,),
        {"timestamp": lambda self: signing.b62_encode(int(time.time()) - 29 * 86400)},
    )(salt=CONVERSATION_LINK_SALT).sign_object({"t": own.token, "c": known.pk})
    assert Client().get(f"/portal/l/{recent}/").status_code == 302
    # Tampered (another customer id, or a token without signature) is just not found.
    other = customer_for_address(address="eve@example.test")
    good = conversation_link_value(token=own.token, customer_id=known.pk)
    payload, rest = good.split(":", 1)
    forged = signing.dumps({"t": own.token, "c": other.pk}, salt="wrong-salt")
    for bad in (forged, f"{payload[:-2]}xx:{rest}", own.token):
        assert Client().get(f"/portal/l/{bad}/").status_code == 404
    # A link signed for another customer than the conversation's opens nothing either.
    mismatched = conversation_link_value(token=own.token, customer_id=other.pk)
    assert Client().get(f"/portal/l/{mismatched}/").status_code == 404
    # The old unsigned link offers a fresh sign-in link and shows nothing of the thread.
    r = Client().get(f"/portal/c/{own.token}/")
    assert r.status_code == 403 and "About my invoice" not in r.content.decode()
    assert "sign-in link" in r.content.decode()


def test_signed_in_as_a_opening_bs_link_sees_nothing(mailbox, known, agent):
    bea = customer_for_address(address="bea@example.test", name="Bea")
    theirs = conversation_open(mailbox=mailbox, customer=bea, subject="Bea's private matter")
    reply_create(conversation=theirs, author=agent, text=AGENT_ANSWER)
    kim = Client()
    session = kim.session
    session[SESSION_KEY], session[VIA_KEY] = known.pk, "link"
    session.save()
    for route in (path_of(outbound.conversation_link(theirs)), f"/portal/c/{theirs.token}/"):
        r = kim.get(route)
        page = r.content.decode()
        assert r.status_code == 403 and "another account" in page and "sign out" in page.lower()
        assert "Bea's private matter" not in page and AGENT_ANSWER not in page
    assert kim.session[SESSION_KEY] == known.pk and GRANTS_KEY not in kim.session
    kim.post(f"/portal/c/{theirs.token}/", {"text": "injected"})
    assert not theirs.messages.filter(kind=Message.Kind.CUSTOMER).exists()
    # Their own list opens their own conversations without any emailed link.
    own = Conversation.objects.get(subject="Kim's own billing question")
    listing = kim.get("/portal/").content.decode()
    assert f"/portal/c/{own.token}/" in listing and "Bea" not in listing
    assert kim.get(f"/portal/c/{own.token}/").status_code == 200


def test_one_time_sign_in_link_survives_a_scanners_get(mailbox, known, smtp_sink):
    Client().post("/portal/", {"email": "kim@example.test"})
    outbound.send_due()
    body = smtp_sink.wait_for(1)[-1][2].decode()
    login = re.search(r"/portal/login/[^/\s]+/", body).group(0)
    scanner = Client()
    for _ in range(3):
        r = scanner.get(login)
        assert r.status_code == 200 and "Sign in" in r.content.decode()
    assert SESSION_KEY not in scanner.session
    assert PortalLoginToken.objects.get().used_at is None
    assert Client(enforce_csrf_checks=True).post(login).status_code == 403  # CSRF-protected
    assert PortalLoginToken.objects.get().used_at is None
    kim = Client()
    assert kim.post(login).status_code == 302
    assert kim.session[SESSION_KEY] == known.pk and kim.session[VIA_KEY] == "link"
    assert Client().post(login).status_code == 410 and Client().get(login).status_code == 410


def test_a_link_of_one_kind_opens_nothing_as_the_other(mailbox, known):
    """The confirmation and the conversation link are signed with different salts: a conversation link
    (which Kim may forward) cannot confirm the sender, and a confirmation cannot open the portal."""
    submit(Client(), mailbox)
    c = Conversation.objects.latest("id")
    confirm, link = confirmation_links("kim@example.test")
    confirm_value, link_value = confirm.rstrip("/").rsplit("/", 1)[1], link.rstrip("/").rsplit("/", 1)[1]
    visitor = Client()
    assert visitor.post(f"/contact/confirm/{link_value}/").status_code == 404
    assert visitor.get(f"/portal/l/{confirm_value}/").status_code == 404
    c.refresh_from_db()
    assert c.unverified and not visitor.session.get(SESSION_KEY) and not visitor.session.get(GRANTS_KEY)


def test_signing_in_gives_a_new_session_key_and_keeps_no_one_elses_confirmation(mailbox, known):
    """Session fixation: the key a visitor had before signing in is worthless after. And a confirmation
    opened while signed in as someone else confirms nothing."""
    submit(Client(), mailbox)
    c = Conversation.objects.latest("id")
    confirm, _ = confirmation_links("kim@example.test")
    kim = Client()
    kim.get(confirm)  # the visit starts a session (CSRF cookie and all)
    kim.session.save()
    before = kim.session.session_key
    assert kim.post(confirm).status_code == 302
    assert kim.session.session_key != before and kim.session[SESSION_KEY] == known.pk

    other = customer_for_address(address="lee@example.test", name="Lee")
    submit(Client(), mailbox, email="lee@example.test", name="Lee")
    lee_c = Conversation.objects.latest("id")
    lee_confirm, _ = confirmation_links("lee@example.test")
    assert kim.post(lee_confirm).status_code == 403  # signed in as Kim: Lee's confirmation does nothing
    lee_c.refresh_from_db()
    assert lee_c.unverified and lee_c.customer_id == other.pk
    c.refresh_from_db()
    assert not c.unverified


def test_confirming_keeps_the_name_the_owner_typed(mailbox):
    """An unverified message never renames a known customer; once the owner confirms, the name they
    typed fills in the one we lacked."""
    nameless = customer_for_address(address="noor@example.test")
    submit(Client(), mailbox, email="noor@example.test", name="Noor Nameless")
    nameless.refresh_from_db()
    assert nameless.name == ""
    confirm, _ = confirmation_links("noor@example.test")
    Client().post(confirm)
    nameless.refresh_from_db()
    assert nameless.name == "Noor Nameless"
