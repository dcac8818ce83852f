"""Secret lookup tokens (happydesk/tokens.py): what we hand out opens the right thing, and a copy of the
database does not. The attack tests take every value stored in a row, straight from SQL, and try each
where the token goes: the portal link, the reply address, the status unsubscribe link."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings

from happydesk import tokens
from happydesk.inbox.models import Conversation, Message
from happydesk.status import services as status_services
from happydesk.status.models import Subscriber
from tests.helpers import customer_conversation, deliver_raw, make_email

CASEY = "Casey Customer <casey@example.test>"


def _stored(table: str, pk: int) -> list[str]:
    """Every text value of one row as the database holds it: what someone with a dump has."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608 (our own table name)
        row = cursor.fetchone()
    return [value for value in row if isinstance(value, str) and value]


def _token_like(table: str, pk: int) -> set[str]:
    """The stored values that could stand where a token goes (a path segment, an address tag)."""
    return {value for value in _stored(table, pk) if re.fullmatch(r"[\w-]+", value)}


def _answer_to(address: str) -> Message:
    """The customer's answer to this address, unverified (no DMARC pass): only a secret threads it."""
    raw = deliver_raw(
        make_email(sender=CASEY, to=address, subject="Re: Order", body="Still waiting.\n"),
        envelope_to=[address],
    )
    return Message.objects.get(raw=raw)


@pytest.fixture
def casey(mailbox):  # type: ignore[no-untyped-def]
    return customer_conversation(
        mailbox, address="casey@example.test", name="Casey", subject="Order", text="Where is my order?"
    )


def test_the_tokens_we_hand_out_are_not_in_the_database(casey):
    stored = " ".join(_stored("inbox_conversation", casey.pk))
    assert casey.token not in stored and casey.reply_token not in stored
    assert casey.link_selector in stored  # only the selector, which opens nothing by itself


@pytest.mark.django_db
def test_a_copy_of_the_database_opens_no_portal_link(casey):
    assert Client().get(f"/portal/c/{casey.token}/").status_code == 403  # ours: "send me a fresh link"
    candidates = _token_like("inbox_conversation", casey.pk)
    assert casey.link_selector in candidates
    for value in candidates:
        assert Client().get(f"/portal/c/{value}/").status_code == 404, value


def test_a_copy_of_the_database_threads_no_mail(casey, mailbox):
    for value in _token_like("inbox_conversation", casey.pk):
        message = _answer_to(mailbox.reply_address(value))
        assert message.conversation_id != casey.pk, value
    answer = _answer_to(mailbox.reply_address(casey.reply_token))
    assert answer.conversation_id == casey.pk and answer.threading_rule == "reply-token"


@pytest.mark.django_db
def test_a_copy_of_the_database_unsubscribes_nobody():
    subscriber = status_services.subscriber_add(email="sam@example.test")
    status_services.subscriber_confirm(token=subscriber.token)
    for value in _token_like("status_subscriber", subscriber.pk):
        assert Client().post(f"/status/unsubscribe/{value}/").status_code == 404, value
    subscriber.refresh_from_db()
    assert subscriber.is_active
    assert Client().post(f"/status/unsubscribe/{subscriber.token}/").status_code == 200
    subscriber.refresh_from_db()
    assert not subscriber.is_active


def test_a_changed_mac_or_another_purpose_opens_nothing(casey):
    token = casey.token
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert not Conversation.objects.filter(Conversation.with_token(flipped)).exists()
    # The same selector with the MAC of another purpose (the reply address's) is no portal link.
    other = tokens.issue("reply-address", casey.link_selector)
    assert not Conversation.objects.filter(Conversation.with_token(other)).exists()
    assert not Conversation.objects.filter(Conversation.with_token("")).exists()


def test_a_rotated_secret_key_keeps_links_while_it_is_a_fallback(casey, settings):
    token = casey.token
    old_key = settings.SECRET_KEY
    with override_settings(SECRET_KEY="a-new-key-" + "x" * 40, SECRET_KEY_FALLBACKS=[old_key]):
        assert Conversation.objects.filter(Conversation.with_token(token)).get() == casey
        assert casey.token != token  # what goes out from now on is made with the new key
    with override_settings(SECRET_KEY="a-new-key-" + "x" * 40, SECRET_KEY_FALLBACKS=[]):
        assert not Conversation.objects.filter(Conversation.with_token(token)).exists()


@pytest.mark.django_db(transaction=True)
def test_tokens_mailed_before_the_upgrade_still_work_and_are_kept_only_as_digests(mailbox):
    """A reply address and a portal link from before this release are in customers' mailboxes: after
    the migration they still thread and open, and the database keeps neither."""
    casey = customer_conversation(
        mailbox, address="casey@example.test", name="Casey", subject="Order", text="Where is my order?"
    )
    sam = status_services.subscriber_add(email="sam@example.test")
    old_link, old_reply, old_sub = (
        "Zq3_legacyLinkToken-ab",
        "0123456789abcdef",
        "legacy-subscriber-token-" + "k" * 19,
    )
    MigrationExecutor(connection).migrate(
        [("inbox", "0016_imap_password_encrypted"), ("status", "0003_security_flags_to_inbox")]
    )
    with connection.cursor() as cursor:  # as the tokens were stored before this release
        cursor.execute(
            "UPDATE inbox_conversation SET token = %s, reply_token = %s WHERE id = %s",
            [old_link, old_reply, casey.pk],
        )
        cursor.execute("UPDATE status_subscriber SET token = %s WHERE id = %s", [old_sub, sam.pk])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    stored = " ".join(_stored("inbox_conversation", casey.pk) + _stored("status_subscriber", sam.pk))
    for old in (old_link, old_reply, old_sub):
        assert old not in stored
    assert tokens.legacy_digest("reply-address", old_reply) in stored  # kept, keyed
    assert hashlib.sha256(old_reply.encode()).hexdigest() not in stored  # not a hash a dump can search
    # What the migration stored opens nothing itself: each stored value tried where a token goes.
    for value in _token_like("inbox_conversation", casey.pk):
        assert Client().get(f"/portal/c/{value}/").status_code == 404, value
        assert _answer_to(mailbox.reply_address(value)).conversation_id != casey.pk, value
    for value in _token_like("status_subscriber", sam.pk):
        assert not Subscriber.objects.filter(Subscriber.with_token(value)).exists(), value
    assert Conversation.objects.filter(Conversation.with_token(old_link)).get().pk == casey.pk
    assert _answer_to(mailbox.reply_address(old_reply)).conversation_id == casey.pk
    assert Subscriber.objects.filter(Subscriber.with_token(old_sub)).get().pk == sam.pk
    # New mail carries the new tokens, which work too.
    casey.refresh_from_db()
    assert (
        casey.token != old_link
        and _answer_to(mailbox.reply_address(casey.reply_token)).conversation_id == casey.pk
    )


@pytest.mark.django_db
def test_a_link_from_before_an_unsubscribe_cannot_confirm_the_next_subscription():
    """Subscribing again starts over with a fresh token: the old confirm link (mailed the first time)
    must not confirm the new subscription, whoever typed the address in this time."""
    first = status_services.subscriber_add(email="sam@example.test")
    old_token = first.token
    status_services.subscriber_confirm(token=old_token)
    status_services.subscriber_unsubscribe(token=old_token)
    again = status_services.subscriber_add(email="sam@example.test")
    assert again.token != old_token
    assert status_services.subscriber_confirm(token=old_token) is None
    again.refresh_from_db()
    assert again.confirmed_at is None
    # The same for a link mailed before this release, kept as a legacy digest.
    status_services.subscriber_unsubscribe(token=again.token)
    Subscriber.objects.filter(pk=again.pk).update(
        legacy_digest=tokens.legacy_digest("status-subscriber", "pre-upgrade-link")
    )
    assert Subscriber.objects.filter(Subscriber.with_token("pre-upgrade-link")).exists()  # it did open it
    status_services.subscriber_add(email="sam@example.test")
    assert status_services.subscriber_confirm(token="pre-upgrade-link") is None
