"""The admin's "Export data" and "Erase customer…" actions, over HTTP as a browser sends them, and as an
outsider would try them: another role, no session, no CSRF token, a wrong address, one customer's
address at another customer's URL. Real services and files throughout (privacy/views.py)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from happydesk.accounts.models import User
from happydesk.accounts.services import agent_create
from happydesk.audit.models import Action, AuditEntry
from happydesk.community import services as community
from happydesk.community.models import Topic
from happydesk.customers.models import Customer, CustomerEmail
from happydesk.inbox.models import Attachment, Conversation, Message
from happydesk.inbox.services import NewAttachment, note_add, reply_create
from happydesk.mail.models import RawMessage
from happydesk.privacy.erasure import ANONYMOUS
from tests.helpers import customer_conversation, deliver

pytestmark = pytest.mark.django_db

NAME = "Wilhelmina Fairweather"
ADDRESS = "wilhelmina.fairweather@example.test"
OTHER_NAME = "Osgood Pemberton"
OTHER = "osgood.pemberton@example.test"


@pytest.fixture(autouse=True)
def data_folder(settings, tmp_path):  # type: ignore[no-untyped-def]
    """This test's own data folder: raw mail and attachment files can be checked gone (or kept)."""
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "data" / "media"
    return settings.DATA_DIR


def world(mailbox, agent, name: str, address: str, tag: str) -> Customer:  # type: ignore[no-untyped-def]
    """A customer with a conversation holding an attachment, a reply and a note, a second one that came
    in as raw email from our trusted mail server (verified), and a community idea."""
    first = customer_conversation(
        mailbox,
        address=address,
        name=name,
        subject=f"Invoice {tag}",
        text=f"Hello, {name} here.",
        attachments=[NewAttachment(f"invoice-{tag}.pdf", "application/pdf", b"%PDF " + tag.encode())],
    )
    reply_create(conversation=first, author=agent, text="Thanks, we have it.")
    note_add(conversation=first, author=agent, text=f"{name} called too.")
    deliver(sender=f"{name} <{address}>", subject=f"Order {tag} late", verified=True)
    customer = first.customer
    community.topic_create(kind=Topic.Kind.IDEA, title=f"Dark mode {tag}", body="Please.", author=customer)
    return customer


def admin_client(agent: User, **kwargs) -> Client:  # type: ignore[no-untyped-def]
    client = Client(**kwargs)
    client.force_login(agent)
    return client


def role_client(role: str) -> Client:
    user = agent_create(email=f"{role}@acme.test", name=f"{role.title()} Person", role=role)
    client = Client()
    client.force_login(user)
    return client


def export_url(customer: Customer) -> str:
    return f"/admin/customers/{customer.pk}/export/"


def erase_url(customer: Customer) -> str:
    return f"/admin/customers/{customer.pk}/erase/"


def held(customer_id: int) -> dict[str, int]:
    """How many rows and files of theirs there are."""
    conversations = Conversation.objects.filter(customer_id=customer_id)
    messages = Message.objects.filter(conversation__in=conversations)
    files = Attachment.objects.filter(message__in=messages)
    raws = RawMessage.objects.filter(message__in=messages)
    on_disk = [Path(settings.MEDIA_ROOT) / a.file.name for a in files]
    on_disk += [Path(settings.DATA_DIR) / r.path for r in raws]
    return {
        "customer": Customer.objects.filter(pk=customer_id).count(),
        "conversations": conversations.count(),
        "messages": messages.count(),
        "attachments": files.count(),
        "raw": raws.count(),
        "files on disk": sum(p.exists() for p in on_disk),
    }


def customer_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action__in=[Action.CUSTOMER_EXPORTED, Action.CUSTOMER_ERASED]))


# -- Export -------------------------------------------------------------------------------------------


def test_the_admin_downloads_the_customers_archive(mailbox, agent):
    customer = world(mailbox, agent, NAME, ADDRESS, "A1")
    first = customer.conversations.order_by("id").first()

    r = admin_client(agent).post(export_url(customer))

    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert r["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}-export.zip"'
    assert "no-store" in r["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        document = json.loads(archive.read("customer.json"))
        names = archive.namelist()
        assert (
            archive.read(
                f"attachments/{first.messages.get(kind='customer').attachments.get().pk}/invoice-A1.pdf"
            )
            == b"%PDF A1"
        )
    assert document["customer"]["addresses"] == [ADDRESS]
    subjects = {c["subject"] for c in document["conversations"]}
    assert subjects == {"Invoice A1", "Order A1 late"}
    texts = [m["text"] for c in document["conversations"] for m in c["messages"]]
    assert f"Hello, {NAME} here." in texts and f"{NAME} called too." in texts
    assert any(n.startswith("raw/") for n in names)  # the mail they sent, as it arrived

    (entry,) = customer_entries()
    assert entry.action == Action.CUSTOMER_EXPORTED and entry.target_id == str(customer.pk)
    assert entry.actor_id == agent.pk and entry.actor_email == agent.email and entry.ip == "127.0.0.1"
    assert held(customer.pk)["conversations"] == 2  # an export changes nothing


def test_export_is_a_post_only(mailbox, agent):
    customer = world(mailbox, agent, NAME, ADDRESS, "A1")
    assert admin_client(agent).get(export_url(customer)).status_code == 405
    assert customer_entries() == []


# -- The confirmation page ----------------------------------------------------------------------------


def test_the_confirmation_says_what_goes_and_what_stays(mailbox, agent):
    customer = world(mailbox, agent, NAME, ADDRESS, "A1")
    first = customer.conversations.order_by("id").first()

    r = admin_client(agent).get(erase_url(customer) + f"?from={first.number}")

    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    page = re.sub(r"\s+", " ", r.content.decode())
    assert f"Erase {NAME}?" in page and ADDRESS in page
    assert "<strong>2 conversations</strong>" in page
    # customer message, reply and note in the first; the raw mail's message and the auto-reply (if any)
    messages = Message.objects.filter(conversation__customer=customer).exclude(kind="event").count()
    assert f"<strong>{messages} messages</strong>, 1 private note among them" in page
    assert "<strong>2 files</strong>: 1 attachment, 1 raw email as received" in page
    assert "Kept" in page and f"(1 topic, 0 replies), shown as “{ANONYMOUS}”" in page
    assert f'href="/c/{first.number}/"' in page  # back to where they came from
    assert 'name="confirm"' in page and "Erase customer</button>" in page
    assert customer_entries() == []  # looking changes nothing


# -- Outsiders ----------------------------------------------------------------------------------------


def test_agents_and_light_agents_are_refused_everything(mailbox, agent):
    customer = world(mailbox, agent, NAME, ADDRESS, "A1")
    before = held(customer.pk)
    for role in (User.Role.AGENT, User.Role.LIGHT):
        client = role_client(role)
        for url in (export_url(customer), erase_url(customer), "/admin/customers/999999/erase/"):
            for method in ("get", "post"):
                r = getattr(client, method)(url, {"confirm": ADDRESS} if method == "post" else None)
                # The role check comes before any lookup: a missing customer is refused the same way.
                assert r.status_code == 403 and r.content == b"Admins only", (role, method, url)
    assert held(customer.pk) == before and customer_entries() == []


def test_anonymous_visitors_go_to_sign_in(mailbox, agent):
    customer = world(mailbox, agent, NAME, ADDRESS, "A1")
    for url in (export_url(customer), erase_url(customer)):
        for method in ("get", "post"):
            r = getattr(Client(), method)(url, {"confirm": ADDRESS} if method == "post" else None)
            assert r.status_code == 302 and r["Location"].startswith("/login/?next="), (method, url)
    assert held(customer.pk)["customer"] == 1 and customer_entries() == []


def test_a_post_without_the_csrf_token_is_refused(mailbox, agent):
    customer = world(mailbox, agent, NAME, ADDRESS, "A1")
    client = admin_client(agent, enforce_csrf_checks=True)
    assert client.post(export_url(customer)).status_code == 403
    assert client.post(erase_url(customer), {"confirm": ADDRESS}).status_code == 403
    assert held(customer.pk)["customer"] == 1 and customer_entries() == []

    # The same client with the page's token goes through: the refusal was the missing token.
    token = client.get(erase_url(customer)).cookies["csrftoken"].value
    r = client.post(erase_url(customer), {"confirm": ADDRESS, "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and held(customer.pk)["customer"] == 0


@pytest.mark.parametrize("typed", ["", "   ", "someone@example.test", ADDRESS + "x", "wilhelmina"])
def test_a_wrong_or_missing_address_erases_nothing(mailbox, agent, typed):
    customer = world(mailbox, agent, NAME, ADDRESS, "A1")
    before = held(customer.pk)

    r = admin_client(agent).post(erase_url(customer), {"confirm": typed})

    assert r.status_code == 400
    page = r.content.decode()
    assert 'name="confirm"' in page and "Erase customer</button>" in page  # the form again
    assert "This field is required." in page or "not this customer&#x27;s address: nothing was erased" in page
    assert held(customer.pk) == before and customer_entries() == []


def test_one_customers_address_at_another_customers_url_touches_neither(mailbox, agent):
    """The URL's id is the only handle on whom to erase: the typed address must be that customer's."""
    victim = world(mailbox, agent, NAME, ADDRESS, "A1")
    other = world(mailbox, agent, OTHER_NAME, OTHER, "B2")
    victim_before, other_before = held(victim.pk), held(other.pk)
    admin = admin_client(agent)

    r = admin.post(erase_url(other), {"confirm": ADDRESS, "customer": victim.pk, "customer_id": victim.pk})

    assert r.status_code == 400
    assert held(victim.pk) == victim_before and held(other.pk) == other_before
    assert customer_entries() == []

    # The address in another case, with spaces, at its own customer's URL: that customer, and only them.
    assert admin.post(erase_url(other), {"confirm": f"  {OTHER.upper()} "}).status_code == 302
    assert held(other.pk)["customer"] == 0 and held(victim.pk) == victim_before


# -- Erasure ------------------------------------------------------------------------------------------


def test_the_admin_erases_a_customer(mailbox, agent):
    victim = world(mailbox, agent, NAME, ADDRESS, "A1")
    other = world(mailbox, agent, OTHER_NAME, OTHER, "B2")
    victim_id, numbers = (
        victim.pk,
        list(victim.conversations.values_list("id", flat=True)),
    )  # number is the id
    before = held(victim.pk)
    assert before["attachments"] == 1 and before["raw"] == 1 and before["files on disk"] == 2
    other_before = held(other.pk)
    admin = admin_client(agent)

    r = admin.post(erase_url(victim), {"confirm": ADDRESS}, follow=True)

    assert r.redirect_chain == [("/inbox/", 302)] and r.status_code == 200
    assert "Customer erased" in r.content.decode()
    assert held(victim_id) == dict.fromkeys(before, 0)  # rows and files
    assert not CustomerEmail.objects.filter(address=ADDRESS).exists()
    assert not RawMessage.objects.filter(envelope_from__iexact=ADDRESS).exists()
    idea = Topic.objects.get(title="Dark mode A1")
    assert idea.author_customer_id is None  # kept, anonymous
    assert held(other.pk) == other_before

    (entry,) = customer_entries()
    assert entry.action == Action.CUSTOMER_ERASED and entry.target_id.startswith("ref-")
    assert entry.actor_id == agent.pk and entry.ip == "127.0.0.1"
    assert entry.details["customers"] == 1 and entry.details["conversations"] == 2
    text = " ".join(
        str(v) for v in (entry.target_type, entry.target_id, entry.target_label, entry.details)
    ).lower()
    for word in (*NAME.lower().split(), ADDRESS, "example.test"):
        assert word not in text, word
    assert entry.target_id != str(victim_id)  # not even their number

    # Nothing that pointed at them breaks: their pages are gone (404), the rest of the desk is fine.
    for number in numbers:
        assert admin.get(f"/c/{number}/").status_code == 404
    assert admin.get(erase_url(victim)).status_code == 404
    assert admin.post(erase_url(victim), {"confirm": ADDRESS}).status_code == 404
    assert admin.post(export_url(victim)).status_code == 404
    assert admin.get("/inbox/").status_code == 200
    r = admin.get("/inbox/?q=Wilhelmina")
    assert r.status_code == 200 and NAME not in r.content.decode()  # the search index forgot them
    assert admin.get(f"/c/{other.conversations.first().number}/").status_code == 200


# -- The sidebar panel --------------------------------------------------------------------------------


def sidebar(client: Client, number: int) -> str:
    page = client.get(f"/c/{number}/").content.decode()
    return page[page.index('class="customer-col"') :]


def test_the_panel_is_for_admins_on_a_verified_senders_conversation(mailbox, agent):
    customer = world(mailbox, agent, NAME, ADDRESS, "A1")
    convo = customer.conversations.order_by("id").first()

    column = sidebar(admin_client(agent), convo.number)
    assert f'action="/admin/customers/{customer.pk}/export/"' in column and "Export data" in column
    assert f'href="/admin/customers/{customer.pk}/erase/?from={convo.number}"' in column
    for role in (User.Role.AGENT, User.Role.LIGHT):
        column = sidebar(role_client(role), convo.number)
        assert (
            "Export data" not in column
            and "Erase customer" not in column
            and "/admin/customers/" not in column
        )

    # Anyone can type the customer's address: an unverified sender's conversation offers no handle on
    # the real customer's data (the sidebar's panels stay off it, as the rest of their details do).
    fake = deliver(sender=f"{NAME} <{ADDRESS}>", subject="Delete all my data").message.conversation
    assert fake.unverified and fake.customer_id == customer.pk
    column = sidebar(admin_client(agent), fake.number)
    assert "Export data" not in column and "/admin/customers/" not in column
