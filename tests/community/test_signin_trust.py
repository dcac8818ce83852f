"""Community sign-in as an attacker tries it: flooding inboxes from one IP, putting their own words in the
mail a stranger gets, and stuffing votes by asking for links for many addresses."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from django.test import Client

from happydesk.accounts.models import PortalLoginToken
from happydesk.community import services
from happydesk.community.models import PostVote, Vote
from happydesk.community.services import SIGN_INS_PER_IP
from happydesk.customers.models import Customer, CustomerEmail
from happydesk.customers.services import customer_for_address
from happydesk.mail.models import OutboundMail
from happydesk.mail.outbound import compose_notice, send_due

pytestmark = pytest.mark.django_db

PRIZE = "Click http://evil.test to claim your prize"


def sign_in(client: Client, address: str, *, name: str = "", ip: str = "203.0.113.7") -> int:
    r = client.post(
        "/community/sign-in/", {"email": address, "name": name, "next": "/community/ideas/"}, REMOTE_ADDR=ip
    )
    return r.status_code


def texts(messages) -> list[str]:  # type: ignore[no-untyped-def]
    """Each mail the SMTP sink got (its wait_for list), headers and decoded bodies."""
    out = []
    for _, _, data in messages:
        msg = message_from_bytes(data, policy=policy.default)
        parts = [str(v) for v in msg.values()]
        parts += [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
        out.append("\n".join(parts))
    return out


def redeem(client: Client, mail: str) -> None:
    """Follow the sign-in link in the mail, as its reader does (the page's button posts it)."""
    path = re.search(r"/portal/login/[^/\s]+/", mail).group(0)  # type: ignore[union-attr]
    assert client.post(path).status_code == 302


def test_one_ip_cannot_flood_many_inboxes(mailbox, smtp_sink):
    attacker = Client()
    codes = [sign_in(attacker, f"victim{i}@example.test") for i in range(20)]
    assert codes == [200] * SIGN_INS_PER_IP + [429] * (20 - SIGN_INS_PER_IP)
    assert (
        "Too many sign-in requests"
        in attacker.post(
            "/community/sign-in/", {"email": "x@example.test"}, REMOTE_ADDR="203.0.113.7"
        ).content.decode()
    )
    assert PortalLoginToken.objects.count() == SIGN_INS_PER_IP
    assert CustomerEmail.objects.count() == SIGN_INS_PER_IP  # refused requests create nobody either
    send_due()
    assert len(smtp_sink.wait_for(SIGN_INS_PER_IP)) == SIGN_INS_PER_IP
    # The limit is per client: someone else is not locked out by the attacker.
    assert sign_in(Client(), "neighbour@example.test", ip="198.51.100.9") == 200
    # And per address: many IPs asking for one address get it at most the portal's 3 links.
    for i in range(6):
        sign_in(Client(), "target@example.test", ip=f"192.0.2.{i}")
    assert PortalLoginToken.objects.filter(customer__emails__address="target@example.test").count() == 3


def test_the_mail_to_an_unconfirmed_address_says_nothing_the_requester_chose(mailbox, smtp_sink, settings):
    settings.HAPPYDESK_FROM_EMAIL = ""
    known = customer_for_address(address="known@example.test")  # a customer without a name yet
    attacker = Client()
    sign_in(attacker, "stranger@example.test", name=PRIZE)
    sign_in(attacker, "known@example.test", name=PRIZE)
    rows = list(OutboundMail.objects.filter(kind="portal-link"))
    assert len(rows) == 2
    for row in rows:
        assert "evil.test" not in row.body_text + row.body_html + row.subject
        assert str(compose_notice(row).message()["From"]) == '"Acme Support" <support@acme.test>'
    send_due()
    mails = texts(smtp_sink.wait_for(2))
    assert len(mails) == 2
    assert not any("evil.test" in m or "prize" in m or "Click" in m for m in mails)
    assert all("Hi there," in m for m in mails)
    # Nor is the name stored on anyone: the address's owner has not shown up yet.
    known.refresh_from_db()
    assert known.name == "" and Customer.objects.get(emails__address="stranger@example.test").name == ""

    # The owner follows the link in their own browser: the attacker's name does not follow them.
    owner = Client()
    stranger_mail = next(m for m in mails if "stranger@example.test" in m)
    redeem(owner, stranger_mail)
    owner.get("/community/ideas/")
    assert Customer.objects.get(emails__address="stranger@example.test").name == ""


def test_a_name_typed_at_sign_in_is_used_once_that_browser_signed_in(mailbox, smtp_sink):
    me = Client()
    sign_in(me, "new.person@example.test", name="New  Person")
    send_due()
    (mail,) = texts(smtp_sink.wait_for(1))
    assert "New Person" not in mail and "Hi there," in mail  # not even their own name, before they confirm
    redeem(me, mail)
    assert "New Person" in me.get("/community/ideas/").content.decode()
    assert Customer.objects.get(emails__address="new.person@example.test").name == "New Person"


def test_asking_for_links_never_makes_a_voter(mailbox, agent, smtp_sink):
    author = customer_for_address(address="ann@example.test", name="Ann Archer")
    idea = services.topic_create(kind="idea", title="Dark mode", body="Please.", author=author)
    answer = services.post_create(topic=idea, body="Yes please", author=author)
    before = Vote.objects.count()  # the author's own vote on their idea
    stuffer = Client()
    for i in range(20):  # links for many addresses, from many IPs, the attacker holding none of them
        sign_in(stuffer, f"sock{i}@example.test", ip=f"192.0.2.{i}")
        r = stuffer.post(f"/community/topics/{idea.pk}/vote/", REMOTE_ADDR=f"192.0.2.{i}")
        assert r.status_code == 302 and r["Location"].startswith("/community/sign-in/")
        stuffer.post(f"/community/topics/{idea.pk}/posts/{answer.pk}/vote/")
    assert Vote.objects.count() == before and not PostVote.objects.exists()
    assert Customer.objects.filter(emails__address__startswith="sock").count() == 20

    # Following one of those links (owning the address) is what makes a vote count.
    send_due()
    mail = next(m for m in texts(smtp_sink.wait_for(20)) if "sock3@example.test" in m)
    owner = Client()
    redeem(owner, mail)
    assert owner.post(f"/community/topics/{idea.pk}/vote/").status_code == 302
    assert Vote.objects.filter(customer__emails__address="sock3@example.test", topic=idea).count() == 1
    assert Vote.objects.count() == before + 1


def test_a_forwarded_for_header_does_not_buy_a_fresh_limit(mailbox):
    """The client picks its own X-Forwarded-For: a new one per request must not look like a new IP."""
    attacker = Client()
    codes = [
        attacker.post(
            "/community/sign-in/",
            {"email": f"victim{i}@example.test", "next": "/community/ideas/"},
            REMOTE_ADDR="203.0.113.8",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(SIGN_INS_PER_IP + 3)
    ]
    assert codes == [200] * SIGN_INS_PER_IP + [429] * 3
