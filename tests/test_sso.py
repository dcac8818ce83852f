"""Customer SSO by JWT (/sso/jwt) and the widget's identify endpoint, attacked the way an outsider would:
tokens are made with joserfc (an independent JWT library), never with the code under test."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from django.core import signing
from django.test import Client
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey, RSAKey

from happydesk.accounts.models import SingleUseClaim
from happydesk.accounts.portal import SESSION_KEY
from happydesk.accounts.sso import WIDGET_IDENTITY_SALT
from happydesk.customers.models import Customer, CustomerEmail
from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.services import note_add, reply_create
from happydesk.portal.views import VIA_KEY

pytestmark = pytest.mark.django_db

OLD_SECRET = "old-secret-for-rotation-0123456789abcdef"
NEW_SECRET = "new-secret-for-rotation-fedcba9876543210"


@pytest.fixture
def sso(settings):  # type: ignore[no-untyped-def]
    settings.HAPPYDESK_SSO_JWT_SECRETS = [NEW_SECRET, OLD_SECRET]
    return settings


def claims(**overrides) -> dict:  # type: ignore[no-untyped-def]
    now = int(time.time())
    base = {
        "email": "sam@shop.example",
        "name": "Sam Signed",
        "external_id": "user-42",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def token(secret: str = NEW_SECRET, alg: str = "HS256", **overrides) -> str:  # type: ignore[no-untyped-def]
    key = OctKey.import_key(secret)
    return jose_jwt.encode({"alg": alg}, claims(**overrides), key, algorithms=[alg])


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned_token(**overrides) -> str:  # type: ignore[no-untyped-def]
    """alg "none", crafted by hand: the classic forgery."""
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(**overrides))}."


def rs256_token() -> str:
    return jose_jwt.encode({"alg": "RS256"}, claims(), RSAKey.generate_key(2048))


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def sso_get(client: Client, jwt_value: str, return_to: str | None = "/portal/"):  # type: ignore[no-untyped-def]
    params = {"jwt": jwt_value}
    if return_to is not None:
        params["return_to"] = return_to
    return client.get("/sso/jwt", params)


def test_no_secret_means_no_route(settings, mailbox):
    settings.HAPPYDESK_SSO_JWT_SECRETS = []
    assert Client().get("/sso/jwt", {"jwt": token()}).status_code == 404
    assert Client().post(f"/widget/{mailbox.pk}/identify.json", {"jwt": token()}).status_code == 404


def test_valid_token_creates_the_customer_and_signs_in_by_sso(sso):
    client = Client()
    r = sso_get(client, token(), return_to="/community/?tab=ideas")
    assert r.status_code == 302 and r["Location"] == "/community/?tab=ideas"
    customer = Customer.objects.get(external_id="user-42")
    assert customer.name == "Sam Signed" and customer.primary_email == "sam@shop.example"
    assert client.session[SESSION_KEY] == customer.pk and client.session[VIA_KEY] == "sso"
    page = client.get("/portal/").content.decode()
    assert "Your conversations" in page and 'data-verified-via="sso"' in page
    # The community reads the same portal session: the SSO customer is signed in there too.
    assert "Sam Signed" in client.get("/community/").content.decode()


def test_rotation_any_configured_secret_verifies(sso):
    client = Client()
    assert sso_get(client, token(secret=OLD_SECRET)).status_code == 302
    assert signed_in(client)


def test_found_by_external_id_else_by_email_then_linked(sso):
    known = customer_for_address(address="pat@shop.example", name="Pat")
    client = Client()
    assert sso_get(client, token(email="pat@shop.example", external_id="u-7")).status_code == 302
    known.refresh_from_db()
    assert known.external_id == "u-7" and client.session[SESSION_KEY] == known.pk
    # Later the product says u-7 has a new address: still the same customer, and the address is theirs.
    again = Client()
    assert sso_get(again, token(email="pat.new@shop.example", external_id="u-7")).status_code == 302
    assert again.session[SESSION_KEY] == known.pk
    assert CustomerEmail.objects.get(address="pat.new@shop.example").customer_id == known.pk


def test_a_known_external_id_never_takes_another_customers_address(sso, mailbox):
    """The product says user u-7 now has Lee's address: u-7 signs in as Pat, the customer they are, and
    Lee's address (with Lee's conversations) stays Lee's."""
    from happydesk.inbox.services import conversation_open

    pat = customer_for_address(address="pat@shop.example", name="Pat")
    pat.external_id = "u-7"
    pat.save()
    lee = customer_for_address(address="lee@shop.example", name="Lee")
    lees = conversation_open(mailbox=mailbox, customer=lee, subject="Refund for order 7781")
    client = Client()
    assert sso_get(client, token(email="lee@shop.example", external_id="u-7")).status_code == 302
    assert client.session[SESSION_KEY] == pat.pk
    assert CustomerEmail.objects.get(address="lee@shop.example").customer_id == lee.pk
    page = client.get("/portal/").content.decode()
    assert lees.subject not in page and client.get(f"/portal/c/{lees.token}/").status_code == 403


def test_an_address_linked_to_another_external_id_is_refused(sso):
    taken = customer_for_address(address="lee@shop.example")
    taken.external_id = "u-1"
    taken.save()
    client = Client()
    r = sso_get(client, token(email="lee@shop.example", external_id="u-2"))
    assert r.status_code == 403 and not signed_in(client)


def _now() -> int:
    """The time when the token is made (the test runs minutes after collection)."""
    return int(time.time())


def _refusals() -> list[tuple[str, object]]:
    return [
        ("bad signature", lambda: token(secret="not-our-secret-" + "x" * 30)),
        ("alg none", lambda: unsigned_token()),
        ("HS512", lambda: token(alg="HS512", secret=NEW_SECRET * 2)),
        ("RS256", rs256_token),
        ("expired", lambda: token(iat=_now() - 120, exp=_now() - 10)),
        ("iat too old", lambda: token(iat=_now() - 6 * 60, exp=_now() + 600)),
        ("iat in the future", lambda: token(iat=_now() + 120, exp=_now() + 600)),
        ("no jti", lambda: token(jti=None)),
        ("no exp", lambda: token(exp=None)),
        ("no iat", lambda: token(iat=None)),
        ("no email", lambda: token(email=None)),
        ("not a JWT", lambda: "garbage"),
        ("empty", lambda: ""),
    ]


@pytest.mark.parametrize(("why", "make"), _refusals(), ids=[r[0] for r in _refusals()])
def test_sso_refusals_show_a_page_and_sign_nobody_in(sso, why, make):
    client = Client()
    r = sso_get(client, make())
    assert r.status_code in (400, 403), why
    assert "couldn't sign you in" in r.content.decode()
    assert not signed_in(client)
    assert not Customer.objects.filter(external_id="user-42").exists()


def test_small_clock_skew_is_accepted(sso):
    now = int(time.time())
    client = Client()
    assert sso_get(client, token(iat=now + 30, exp=now + 300)).status_code == 302


def test_a_token_works_once(sso):
    value = token()
    first, second = Client(), Client()
    assert sso_get(first, value).status_code == 302
    r = sso_get(second, value)
    assert r.status_code == 403 and "used already" in r.content.decode() and not signed_in(second)
    claim = SingleUseClaim.objects.get()
    assert claim.key.startswith("sso-jwt:") and claim.expires_at.timestamp() > time.time()


@pytest.mark.parametrize(
    "return_to",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "evil.example",
        "/\t/evil.example",
    ],
)
def test_return_to_must_be_a_local_path(sso, return_to):
    client = Client()
    value = token()
    r = sso_get(client, value, return_to=return_to)
    assert r.status_code == 400 and not signed_in(client)
    assert "evil" not in r.get("Location", "")
    # The refusal did not burn the token's jti: the site can send the visitor again correctly.
    assert sso_get(client, value).status_code == 302


# --- the widget ---------------------------------------------------------------------------------


def identify(mailbox, jwt_value: str, client: Client | None = None):  # type: ignore[no-untyped-def]
    return (client or Client()).post(
        f"/widget/{mailbox.pk}/identify.json", {"jwt": jwt_value}, HTTP_ORIGIN="https://shop.example"
    )


def contact(mailbox, identity: str | None = None, **fields):  # type: ignore[no-untyped-def]
    data = {
        "name": "Sam Signed",
        "email": "sam@shop.example",
        "subject": "Where is my parcel?",
        "message": "It was due on Monday.",
    }
    data.update(fields)
    extra = {"HTTP_AUTHORIZATION": f"Bearer {identity}"} if identity else {}
    return Client().post(f"/widget/{mailbox.pk}/contact.json", data, **extra)


def test_widget_identify_then_verified_contact_and_own_conversations(sso, mailbox, agent):
    r = identify(mailbox, token())
    assert r.status_code == 200 and r["Access-Control-Allow-Origin"] == "*"
    body = r.json()
    assert body["email"] == "sam@shop.example" and body["expires_in"] == 12 * 3600
    identity = body["identity"]
    assert (
        "Authorization"
        in Client().options(f"/widget/{mailbox.pk}/contact.json")["Access-Control-Allow-Headers"]
    )

    sent = contact(mailbox, identity)
    assert sent.status_code == 200 and sent.json()["verified"] is True
    assert "link" not in sent.json() and "/portal/" not in sent.content.decode()
    c = Conversation.objects.get()
    m = c.messages.get(kind=Message.Kind.CUSTOMER)
    assert not c.unverified and (m.sender_verified, m.verification) == (True, "SSO (JWT)")
    assert c.customer.external_id == "user-42"

    note_add(conversation=c, author=agent, text="INTERNAL: check the courier")
    reply_create(conversation=c, author=agent, text="It left our warehouse today.")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {identity}"}
    listing = Client().get(f"/widget/{mailbox.pk}/conversations.json", **auth).json()
    assert [row["subject"] for row in listing["conversations"]] == ["Where is my parcel?"]
    thread = Client().get(f"/widget/{mailbox.pk}/conversations/{c.number}.json", **auth).json()
    texts = [m["text"] for m in thread["messages"]]
    assert "It left our warehouse today." in texts and not any("INTERNAL" in t for t in texts)


def test_widget_identity_does_not_verify_someone_elses_address(sso, mailbox):
    victim = customer_for_address(address="victim@example.test", name="Vic")
    identity = identify(mailbox, token()).json()["identity"]
    sent = contact(mailbox, identity, email="victim@example.test")
    assert sent.json()["verified"] is False
    c = Conversation.objects.get()
    assert c.customer == victim and c.unverified
    assert c.messages.get(kind="customer").verification == "contact form, address not confirmed"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {identity}"}
    assert Client().get(f"/widget/{mailbox.pk}/conversations.json", **auth).json()["conversations"] == []
    assert Client().get(f"/widget/{mailbox.pk}/conversations/{c.number}.json", **auth).status_code == 404


def test_widget_identity_forged_expired_or_for_another_mailbox_is_refused(sso, mailbox):
    from happydesk.inbox.services import mailbox_create

    identity = identify(mailbox, token()).json()["identity"]
    customer = Customer.objects.get(external_id="user-42")
    other = mailbox_create(address="sales@acme.test", name="Sales", form_enabled=True)

    class Yesterday(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 13 * 3600)

    expired = Yesterday(salt=WIDGET_IDENTITY_SALT).sign_object(
        {"c": customer.pk, "m": mailbox.pk}, compress=True
    )
    forged = identity[:-4] + ("AAAA" if not identity.endswith("AAAA") else "BBBB")
    for bad, box in [(forged, mailbox), (expired, mailbox), (identity, other), ("x", mailbox)]:
        auth = {"HTTP_AUTHORIZATION": f"Bearer {bad}"}
        assert Client().get(f"/widget/{box.pk}/conversations.json", **auth).status_code == 401
        assert contact(box, bad).status_code == 401
    assert Client().get(f"/widget/{mailbox.pk}/conversations.json").status_code == 401
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(("why", "make"), _refusals(), ids=[r[0] for r in _refusals()])
def test_widget_identify_refusals_are_json_errors(sso, mailbox, why, make):
    r = identify(mailbox, make())
    assert r.status_code in (400, 403), why
    assert r["Access-Control-Allow-Origin"] == "*" and "error" in r.json() and "identity" not in r.json()


def test_widget_identify_replay_refused_even_after_sso_page(sso, mailbox):
    value = token()
    assert sso_get(Client(), value).status_code == 302
    r = identify(mailbox, value)
    assert r.status_code == 403 and "used already" in r.json()["error"]
