"""Export and erasure as an auditor checks them: the customer's mail arrives as raw email, is answered,
noted, rated, searched and talked about in the community; after `happydesk customers erase`, no byte of
the data folder (the SQLite file and its WAL, raw mail, attachments, the file outbox) holds their name
or address in any common spelling, and another customer's data is exactly as it was."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import CommandError
from django.db import connection
from django.forms.models import model_to_dict

from happydesk.community import services as community
from happydesk.community.models import Post, Topic
from happydesk.customers.models import Customer, CustomerEmail
from happydesk.feedback.models import Rating, RatingRequest
from happydesk.feedback.services import rating_record
from happydesk.inbox.models import Attachment, Conversation, ConversationDocument, Message
from happydesk.inbox.services import note_add, reply_create
from happydesk.mail.models import OutboundMail, RawMessage
from happydesk.mail.outbound import send_due
from happydesk.privacy.erasure import ANONYMOUS, retention_erase
from happydesk.search.engines import engine
from happydesk.status.models import Subscriber
from happydesk.status.services import subscriber_add
from tests.helpers import deliver, deliver_raw, run_command

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: the bytes must reach the file

NAME = "Zéphyrine Quillfeather"
ADDRESS = "Zephyrine.Quillfeather@example.test"
OTHER_NAME = "Bartholomew Ostrander"
OTHER = "bartholomew.ostrander@example.test"


def spellings(name: str, address: str) -> list[bytes]:
    """Every form the name and address could take in a file: as written, lowercased, without accents,
    each word of the name, their FTS stems, RFC 2047 and base64 encodings."""
    words = [*name.split(), "Zephyrine"]
    forms = {name, name.lower(), address, address.lower(), address.split("@")[0].lower()}
    forms |= {w for w in words} | {w.lower() for w in words} | {"quillfeath"}
    out = {f.encode() for f in forms}
    out |= {f.encode("utf-16-le") for f in (name, address)}
    out |= {base64.b64encode(f.encode()).rstrip(b"=") for f in (name, address, address.lower())}
    out.add(b"Z=C3=A9phyrine")  # RFC 2047 Q / quoted-printable
    out.add(base64.b64encode(name.encode())[:12])  # RFC 2047 B starts the same way
    return sorted(out)


def with_attachment(*, sender: str, subject: str, body: str, payload: bytes, filename: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "support@acme.test", subject
    msg["Message-ID"] = make_msgid(domain="example.test")
    msg.set_content(body)
    msg.add_attachment(payload, maintype="application", subtype="pdf", filename=filename)
    return msg.as_bytes(policy=SMTP_POLICY)


def customer_world(agent, name: str, address: str, tag: str):  # type: ignore[no-untyped-def]
    """A customer with two conversations by raw email (one with an attachment), replies, a note that
    names them, a rating, a community idea and answer, and a status subscription."""
    sender = f"{name} <{address}>"
    deliver(sender=sender, subject=f"Order {tag} missing", body=f"Hi, {name} here. Where is my order?\n")
    deliver_raw(
        with_attachment(
            sender=sender,
            subject=f"Invoice {tag}",
            body="Invoice attached.\n",
            payload=b"%PDF " + address.encode(),
            filename=f"invoice-{name.split()[-1].lower()}.pdf",
        ),
        envelope_to=["support@acme.test"],
        envelope_from=address,
    )
    customer = CustomerEmail.objects.get(address=address.lower()).customer
    first, second = customer.conversations.order_by("id")
    note_add(conversation=first, author=agent, text=f"{name} ({address}) called about this too.")
    reply_create(
        conversation=first, author=agent, text=f"Hi {name.split()[0]}, it ships today.", status="closed"
    )
    reply_create(conversation=second, author=agent, text="Thanks, we got the invoice.")
    rating_record(
        request=RatingRequest.objects.get(conversation=first), value="great", comment="Quick, thanks"
    )
    idea = community.topic_create(
        kind=Topic.Kind.IDEA,
        title=f"Export to CSV {tag}",
        body="It would help our team a lot.",
        author=customer,
    )
    community.post_create(topic=idea, body="Also for the monthly invoices, please.", author=agent)
    answer = community.post_create(topic=idea, body="And a weekly schedule would be great.", author=customer)
    subscriber_add(email=address)
    send_due(limit=50)  # the replies and the subscription mail go out (into the file outbox)
    return SimpleNamespace(customer=customer, conversations=[first, second], idea=idea, answer=answer)


def snapshot(customer: Customer) -> dict:
    """Everything about a customer, rows and file bytes, to compare before and after."""
    conversations = Conversation.objects.filter(customer=customer).order_by("id")
    messages = Message.objects.filter(conversation__in=conversations).order_by("id")
    raws = RawMessage.objects.filter(message__in=messages).order_by("id")
    data = Path(settings.DATA_DIR)
    return {
        "customer": model_to_dict(customer),
        "emails": list(customer.emails.values_list("address", flat=True)),
        "conversations": [model_to_dict(c, exclude=["tags"]) for c in conversations],
        "messages": [model_to_dict(m) for m in messages],
        "documents": list(ConversationDocument.objects.filter(conversation__in=conversations).values()),
        "ratings": list(Rating.objects.filter(customer=customer).values()),
        "outbox": list(OutboundMail.objects.filter(message__in=messages).values()),
        "topics": list(Topic.objects.filter(author_customer=customer).values()),
        "posts": list(Post.objects.filter(author_customer=customer).values()),
        "raw": {r.path: hashlib.sha256((data / r.path).read_bytes()).hexdigest() for r in raws},
        "attachments": {
            a.file.name: hashlib.sha256(a.file.read()).hexdigest()
            for a in Attachment.objects.filter(message__in=messages)
        },
        "subscriber": list(Subscriber.objects.filter(email=customer.primary_email).values()),
    }


@pytest.fixture
def data_folder(settings, tmp_path):  # type: ignore[no-untyped-def]
    """A data folder of this test's own (raw mail, attachments, and sent mail as .eml files, as the
    default install keeps it), so files earlier tests left cannot blur the search."""
    data = tmp_path / "data"
    settings.DATA_DIR = data
    settings.MEDIA_ROOT = data / "media"
    settings.EMAIL_BACKEND = "happydesk.mail.backends.OutboxDirectoryBackend"
    settings.EMAIL_FILE_PATH = str(data / "outbox")
    return data


@pytest.fixture
def world(mailbox, agent, data_folder):  # type: ignore[no-untyped-def]
    return SimpleNamespace(
        zephyrine=customer_world(agent, NAME, ADDRESS, "A1"),
        other=customer_world(agent, OTHER_NAME, OTHER, "B2"),
    )


def data_files() -> list[Path]:
    """Every file of the data folder, and the database's files (the suite keeps one test database)."""
    files = [p for p in Path(settings.DATA_DIR).rglob("*") if p.is_file()]
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        files += [p for p in name.parent.glob(name.name + "*") if p.is_file()]  # -wal, -shm too
    return files


def found_in_files(needles: list[bytes]) -> list[tuple[str, bytes]]:
    found = []
    for path in data_files():
        content = path.read_bytes() + str(path.relative_to(path.anchor)).encode()  # names count too
        found += [(str(path), n) for n in needles if n in content]
    return found


def found_in_rows(needles: list[str]) -> list[tuple[str, str]]:
    """Every row of every table, as text, searched for the needles (the query-level check)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor, include_views=False):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608  # names from the database itself
            for row in cursor.fetchall():
                text = " ".join(str(v) for v in row).lower()
                found += [(table, n) for n in needles if n.lower() in text]
    return found


def test_the_world_holds_the_customer_before_erasure(world):
    """The check can see the data: before erasure the raw mail, the outbox and the database name them."""
    needles = spellings(NAME, ADDRESS)
    where = {Path(p).suffix or Path(p).name for p, _ in found_in_files(needles)}
    assert ".eml" in where and ".pdf" in where  # raw mail, sent mail, the attachment
    assert any("sqlite3" in p for p, _ in found_in_files(needles)) or connection.vendor != "sqlite"
    assert engine().search("quillfeather", limit=10)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search_fts, row)")
            cursor.execute("SELECT term FROM temp.terms WHERE term LIKE 'quill%'")
            assert cursor.fetchall()  # the index check below would see the name
            cursor.execute("DROP TABLE temp.terms")


def test_erase_leaves_no_byte_of_the_customer_and_the_other_untouched(world, capsys):
    other_before = snapshot(world.other.customer)
    idea = world.zephyrine.idea

    out = run_command("customers", "erase", ADDRESS, "--yes")

    assert "erased customer" in out and "conversations" in out
    assert not Customer.objects.filter(pk=world.zephyrine.customer.pk).exists()
    assert not Conversation.objects.filter(pk__in=[c.pk for c in world.zephyrine.conversations]).exists()
    # Community contributions are kept, under the anonymous name.
    idea.refresh_from_db()
    assert idea.author_customer is None and idea.author_name == ANONYMOUS
    assert Post.objects.get(pk=world.zephyrine.answer.pk).author_name == ANONYMOUS
    assert not engine().search("quillfeather", limit=10)

    assert found_in_rows([NAME, ADDRESS, "Quillfeather", "Zephyrine"]) == []
    # The file level: raw mail, attachments, sent mail, and on SQLite the database with its free pages,
    # WAL and FTS segments (PostgreSQL's files are its own: the row check above is the promise there).
    assert found_in_files(spellings(NAME, ADDRESS)) == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # FTS5 terms are prefix-compressed: ask the index itself
            cursor.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search_fts, row)")
            cursor.execute("SELECT term FROM temp.terms WHERE term LIKE 'quill%' OR term LIKE 'zephyr%'")
            assert cursor.fetchall() == []
            cursor.execute("DROP TABLE temp.terms")

    assert snapshot(world.other.customer) == other_before
    assert found_in_files([OTHER.encode()])  # the other customer's raw mail is still there


def test_erase_asks_first(world, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="nothing erased"):
        run_command("customers", "erase", ADDRESS)
    assert CustomerEmail.objects.filter(address=ADDRESS.lower()).exists()


def test_export_reads_back(world, tmp_path):
    target = tmp_path / "export.zip"

    run_command("customers", "export", ADDRESS, "--output", str(target))

    assert target.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
        document = json.loads(archive.read("customer.json"))
        names = archive.namelist()
        assert document["customer"]["name"] == NAME
        assert document["customer"]["addresses"] == [ADDRESS.lower()]
        conversations = document["conversations"]
        assert [c["subject"] for c in conversations] == ["Order A1 missing", "Invoice A1"]
        kinds = [m["kind"] for m in conversations[0]["messages"]]
        assert {"customer", "note", "reply"} <= set(kinds)
        assert document["ratings"][0]["value"] == "great"
        assert document["community"]["topics"][0]["title"] == "Export to CSV A1"
        assert document["community"]["posts"][0]["body"] == "And a weekly schedule would be great."
        assert document["status_subscriptions"][0]["email"] == ADDRESS.lower()
        files = [a for m in conversations[1]["messages"] for a in m["attachments"]]
        assert files[0]["filename"] == "invoice-quillfeather.pdf"
        assert archive.read(files[0]["file"]) == b"%PDF " + ADDRESS.encode()
        raws = [m["raw"] for c in conversations for m in c["messages"] if m["raw"]]
        assert len(raws) == 2 and all(r in names for r in raws)
        assert b"Where is my order?" in archive.read(raws[0])
        # Nothing about the other customer.
        assert OTHER.encode() not in b"".join(archive.read(n) for n in names)


def test_retention_erases_old_closed_conversations_only(world, settings):
    from datetime import timedelta

    from django.utils import timezone

    closed, open_ = world.zephyrine.conversations
    Conversation.objects.filter(pk=closed.pk).update(last_activity_at=timezone.now() - timedelta(days=40))
    Conversation.objects.filter(pk=open_.pk).update(last_activity_at=timezone.now() - timedelta(days=40))

    assert retention_erase(days=0) == {}  # off by default
    counts = retention_erase(days=30)

    assert counts["conversations"] == 1
    assert not Conversation.objects.filter(pk=closed.pk).exists()
    assert Conversation.objects.filter(pk=open_.pk).exists()  # still active: kept
    assert Customer.objects.filter(pk=world.zephyrine.customer.pk).exists()


def test_the_worker_job_follows_the_retention_setting(world, settings):
    from datetime import timedelta

    from django.utils import timezone

    from happydesk.privacy.jobs import JOBS

    (job,) = JOBS
    closed = world.zephyrine.conversations[0]
    raw = [Path(settings.DATA_DIR) / r.path for r in RawMessage.objects.filter(message__conversation=closed)]
    assert raw and all(p.exists() for p in raw)
    Conversation.objects.filter(pk=closed.pk).update(last_activity_at=timezone.now() - timedelta(days=400))
    settings.HAPPYDESK_RETENTION_DAYS = 0
    assert job.run() == 0 and Conversation.objects.filter(pk=closed.pk).exists()
    settings.HAPPYDESK_RETENTION_DAYS = 365
    assert job.run() == 1 and not Conversation.objects.filter(pk=closed.pk).exists()
    assert not any(p.exists() for p in raw)  # the raw mail files went with it


def test_export_and_erasure_are_in_the_audit_log_by_number_only(mailbox):
    from happydesk.audit.models import Action, AuditEntry
    from happydesk.privacy.erasure import customer_erase
    from happydesk.privacy.export import customer_export
    from tests.helpers import customer_conversation

    convo = customer_conversation(
        mailbox, address="zed.quill@example.test", name="Zed Quill", subject="Forget me", text="Please"
    )
    number = convo.customer_id
    customer_export(customer=convo.customer)
    customer_erase(customer=convo.customer, scrub=False)
    entries = {e.action: e for e in AuditEntry.objects.filter(target_type="customer")}
    assert set(entries) == {Action.CUSTOMER_EXPORTED, Action.CUSTOMER_ERASED}
    assert entries[Action.CUSTOMER_EXPORTED].target_id == str(number)
    assert entries[Action.CUSTOMER_ERASED].target_id.startswith("ref-")  # not the erased customer's id
    erased = entries[Action.CUSTOMER_ERASED]
    assert erased.details["customers"] == 1 and erased.details["conversations"] == 1
    for entry in entries.values():
        text = f"{entry.target_label} {entry.details}".lower()
        assert "zed" not in text and "quill" not in text and "example.test" not in text


def test_erase_takes_the_address_off_another_customers_conversation_that_cc_d_it(world):
    """The other customer wrote with the erased customer in Cc: that conversation and message stay
    (they are the other customer's), but no row of it names the erased address any more."""
    deliver(
        sender=f"{OTHER_NAME} <{OTHER}>",
        subject="Looping in a colleague",
        body="Please keep my colleague informed.\n",
        headers={"Cc": f"{NAME} <{ADDRESS}>"},
    )
    theirs = Conversation.objects.get(subject="Looping in a colleague")
    assert ADDRESS.lower() in [a.lower() for a in theirs.cc + theirs.messages.get().cc]

    run_command("customers", "erase", ADDRESS, "--yes")

    theirs.refresh_from_db()
    message = theirs.messages.get()
    assert theirs.customer == world.other.customer and message.text.startswith("Please keep")
    assert ADDRESS.lower() not in [a.lower() for a in theirs.cc + message.cc + message.to]


def test_erase_takes_the_address_off_an_agents_bcc_and_counts_only_what_changed(world, agent):
    """An agent's reply in another customer's conversation Bcc'd the erased customer: the reply stays,
    their address goes. A look-alike address (the erased one inside a longer one) is neither touched nor
    counted in the audit entry."""
    from happydesk.audit.models import Action, AuditEntry
    from happydesk.inbox.services import reply_create

    theirs = world.other.conversations[0]
    lookalike = "x" + ADDRESS.lower()
    reply = reply_create(conversation=theirs, author=agent, text="Copying your colleague.", bcc=[ADDRESS])
    Message.objects.filter(pk=reply.pk).update(cc=[lookalike])

    run_command("customers", "erase", ADDRESS, "--yes")

    reply.refresh_from_db()
    assert reply.text == "Copying your colleague." and reply.bcc == [] and reply.cc == [lookalike]
    entry = AuditEntry.objects.filter(action=Action.CUSTOMER_ERASED).latest("seq")
    counts = {k: v for k, v in entry.details.items() if "address" in k or "unlist" in k}
    assert counts and all(v == 1 for v in counts.values()), entry.details


def test_the_export_holds_every_message_the_erasure_would_remove(mailbox):
    """A message sent from the customer's address into another customer's conversation, not linked to
    them: erasure removes it, so the archive they asked for first must hold it too."""
    from happydesk.inbox.services import message_receive
    from happydesk.privacy.export import customer_export
    from tests.helpers import customer_conversation

    mine = customer_conversation(
        mailbox, address="ivy.stone@example.test", name="Ivy Stone", subject="Mine", text="Hello"
    )
    other = customer_conversation(
        mailbox, address="bo.other@example.test", name="Bo Other", subject="Theirs", text="Hi"
    )
    message_receive(
        conversation=other,
        customer=other.customer,
        from_name="Ivy Stone",
        from_address="IVY.STONE@example.test",
        subject="Re: Theirs",
        text="Chiming in from Ivy",
    )
    with zipfile.ZipFile(io.BytesIO(customer_export(customer=mine.customer))) as archive:
        exported = archive.read("customer.json").decode()
    assert "Chiming in from Ivy" in exported and "Hello" in exported
