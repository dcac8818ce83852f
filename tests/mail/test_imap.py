"""The IMAP fetcher against a real Dovecot: UID/UIDVALIDITY state, PEEK, dedupe, failures per mailbox."""

from __future__ import annotations

import io
from collections import Counter
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid

import pytest
from django.core.management import call_command
from imap_tools import MailBoxUnencrypted, MailMessageFlags

from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.inbox.services import mailbox_create
from happydesk.mail.inbound import process_pending
from happydesk.mail.models import ImapFolderState, RawMessage
from happydesk.mail.transports import imap
from tests.helpers import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "support@acme.test"


def email(subject: str, body: str = "Hello, my order has not arrived yet.\n", to: str = ADDRESS) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Casey Customer <casey@example.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.test")
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP_POLICY)


class Account:
    """One fresh IMAP account on the test Dovecot, used as "another client" (the customer's MTA, a phone)."""

    def __init__(self, dovecot) -> None:  # type: ignore[no-untyped-def]
        self.dovecot = dovecot
        self.user, self.password = dovecot.new_user()

    def client(self) -> MailBoxUnencrypted:
        return MailBoxUnencrypted(self.dovecot.host, port=self.dovecot.port).login(
            self.user, self.password, initial_folder=None
        )

    def append(self, data: bytes, folder: str = "INBOX", *, seen: bool = False) -> None:
        with self.client() as mb:
            mb.append(data, folder, flag_set=[MailMessageFlags.SEEN] if seen else [])

    def create(self, folder: str) -> None:
        with self.client() as mb:
            mb.folder.create(folder)

    def seen_by_subject(self, folder: str = "INBOX") -> dict[str, bool]:
        with self.client() as mb:
            mb.folder.set(folder, readonly=True)
            return {m.subject: MailMessageFlags.SEEN in m.flags for m in mb.fetch(mark_seen=False)}

    def mailbox(self, address: str = ADDRESS, folders: list[str] | None = None, **fields) -> Mailbox:
        settings = {
            "imap_host": self.dovecot.host,
            "imap_port": self.dovecot.port,
            "imap_security": "none",
            "imap_username": self.user,
            "imap_password": self.password,
            "imap_folders": folders or [],
        }
        return mailbox_create(address=address, name="Acme Support", **{**settings, **fields})


@pytest.fixture
def account(dovecot) -> Account:  # type: ignore[no-untyped-def]
    return Account(dovecot)


def customer_subjects() -> list[str]:
    return sorted(Message.objects.filter(kind=Message.Kind.CUSTOMER).values_list("subject", flat=True))


def test_appended_mail_becomes_conversations_in_chunks(account, monkeypatch):
    monkeypatch.setattr(imap, "CHUNK", 2)  # 5 messages -> 3 FETCH round trips
    mailbox = account.mailbox()
    for i in range(5):
        account.append(email(f"Order {i} missing"))
    assert imap.poll_all() == 5
    assert process_pending() == 5
    assert sorted(Conversation.objects.values_list("subject", flat=True)) == [
        f"Order {i} missing" for i in range(5)
    ]
    assert customer_subjects() == [f"Order {i} missing" for i in range(5)]
    assert set(RawMessage.objects.values_list("source", "mailbox", "state")) == {
        (RawMessage.Source.IMAP, mailbox.pk, RawMessage.State.PROCESSED)
    }
    state = ImapFolderState.objects.get(mailbox=mailbox, folder="INBOX")
    assert (state.last_uid, state.last_error) == (5, "")
    assert state.uidvalidity and state.last_polled_at
    origins = sorted(RawMessage.objects.values_list("origin", flat=True))
    assert origins[0] == f"imap 127.0.0.1 INBOX uidvalidity={state.uidvalidity} uid=1"


def test_polling_again_stores_nothing_then_only_the_new_mail(account):
    account.mailbox()
    account.append(email("First"))
    assert imap.poll_all() == 1
    assert imap.poll_all() == 0  # `UID 2:*` still matches UID 1 on the server: must be filtered out
    assert RawMessage.objects.count() == 1
    account.append(email("Second"))
    assert imap.poll_all() == 1
    process_pending()
    assert customer_subjects() == ["First", "Second"]


def test_read_mail_is_fetched_and_flags_are_left_alone(account):
    account.mailbox()
    account.append(email("Read on a phone"), seen=True)
    account.append(email("Nobody read this"))
    before = account.seen_by_subject()
    assert before == {"Read on a phone": True, "Nobody read this": False}
    assert imap.poll_all() == 2
    process_pending()
    assert customer_subjects() == ["Nobody read this", "Read on a phone"]
    assert account.seen_by_subject() == before  # BODY.PEEK: \Seen unchanged on the server


def test_changed_uidvalidity_refetches_without_duplicate_messages(account):
    account.create("Tickets")
    mailbox = account.mailbox(folders=["Tickets"])
    first, second = email("One"), email("Two")
    account.append(first, "Tickets")
    account.append(second, "Tickets")
    assert imap.poll_all() == 2
    process_pending()
    old = ImapFolderState.objects.get(mailbox=mailbox, folder="Tickets")
    assert old.last_uid == 2

    # The folder is recreated (a server migration, a restore): same mail, new UIDVALIDITY, UIDs from 1.
    with account.client() as mb:
        mb.folder.delete("Tickets")
        mb.folder.create("Tickets")
    account.append(first, "Tickets")
    account.append(second, "Tickets")
    account.append(email("Three, new"), "Tickets")  # UID 3: missed if we trusted the old last_uid

    assert imap.poll_all() == 3
    process_pending()
    new = ImapFolderState.objects.get(mailbox=mailbox, folder="Tickets")
    assert new.uidvalidity != old.uidvalidity
    assert new.last_uid == 3
    assert Counter(RawMessage.objects.values_list("state", flat=True)) == {
        RawMessage.State.PROCESSED: 3,
        RawMessage.State.DUPLICATE: 2,
    }
    assert customer_subjects() == ["One", "Three, new", "Two"]


def test_same_mail_in_two_folders_is_one_message(account):
    account.create("Support")
    mailbox = account.mailbox(folders=["INBOX", "Support"])
    data = email("Copied by a server rule")
    account.append(data, "INBOX")
    account.append(data, "Support")
    assert imap.poll_mailbox(mailbox) == 2
    process_pending()
    assert customer_subjects() == ["Copied by a server rule"]
    assert sorted(RawMessage.objects.values_list("state", flat=True)) == ["duplicate", "processed"]
    assert ImapFolderState.objects.filter(mailbox=mailbox, last_uid=1).count() == 2


def test_mail_fetch_command(account):
    account.mailbox()
    account.append(email("Via the command line"))
    out = io.StringIO()
    call_command("mail", "fetch", stdout=out, stderr=io.StringIO())
    assert "fetched 1 new messages" in out.getvalue()
    assert RawMessage.objects.filter(source=RawMessage.Source.IMAP).count() == 1


def test_broken_mailboxes_are_recorded_and_do_not_stop_the_others(account, dovecot):
    wrong = account.mailbox(address="billing@acme.test", imap_password="wrong")
    refused = account.mailbox(address="sales@acme.test", imap_port=free_port())
    good_account = Account(dovecot)
    good = good_account.mailbox(address=ADDRESS)
    good_account.append(email("Still fetched"))
    account.append(email("Waiting behind a wrong password", to="billing@acme.test"))

    assert imap.poll_all() == 1
    errors = dict(ImapFolderState.objects.values_list("mailbox", "last_error"))
    assert errors[good.pk] == ""
    assert errors[wrong.pk].startswith("error: connect/login") and "auth" in errors[wrong.pk].lower()
    assert errors[refused.pk].startswith("error: connect/login")

    wrong.imap_password = account.password
    wrong.save()
    assert imap.poll_all() == 1
    assert ImapFolderState.objects.get(mailbox=wrong).last_error == ""


def test_too_large_message_is_skipped_recorded_and_passed(account, settings):
    settings.HAPPYDESK_MAX_MESSAGE_BYTES = 4000
    mailbox = account.mailbox()
    account.append(email("Huge", body=("x" * 70 + "\n") * 100))
    account.append(email("Small"))
    assert imap.poll_all() == 1
    state = ImapFolderState.objects.get(mailbox=mailbox)
    assert state.last_uid == 2
    assert state.last_error.startswith("skipped uid=1 ")
    assert imap.poll_all() == 0
    state.refresh_from_db()
    assert "skipped uid=1 " in state.last_error  # an admin still sees it after the next poll
    process_pending()
    assert customer_subjects() == ["Small"]


def test_crash_mid_folder_never_skips_a_message(account, monkeypatch):
    mailbox = account.mailbox()
    for i in range(3):
        account.append(email(f"Message {i}"))
    real_store_raw = imap.store_raw
    calls = []

    def failing_second(data, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_store_raw(data, **kwargs)

    monkeypatch.setattr(imap, "store_raw", failing_second)
    assert imap.poll_all() == 1
    state = ImapFolderState.objects.get(mailbox=mailbox)
    assert state.last_uid == 1 and "disk full" in state.last_error

    monkeypatch.setattr(imap, "store_raw", real_store_raw)
    assert imap.poll_all() == 2
    process_pending()
    assert customer_subjects() == ["Message 0", "Message 1", "Message 2"]
