"""The whole .eml corpus through the real pipeline: over SMTP on loopback and through the HTTP raw
endpoint. Every message ends as a message (or a recognised duplicate) or as a quarantine entry with a
reason; nothing raises, nothing stays pending, nothing is silently dropped."""

from __future__ import annotations

import json
import smtplib
from pathlib import Path

import pytest
from django.test import Client

from happydesk.accounts.services import token_create
from happydesk.mail.inbound import process_pending
from happydesk.mail.models import RawMessage

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
FILES = sorted(CORPUS.glob("*.eml"))

pytestmark = pytest.mark.django_db(transaction=True)


def test_corpus_is_large_and_varied():
    assert len(FILES) >= 60


def _assert_all_settled(count: int) -> None:
    rows = list(RawMessage.objects.all())
    assert len(rows) == count
    for raw in rows:
        assert raw.state != RawMessage.State.PENDING, raw.origin
        if raw.state == RawMessage.State.QUARANTINED:
            assert raw.reason.strip(), raw.origin
            assert "internal error" not in raw.reason, f"{raw.origin}: {raw.reason}"
        else:
            assert raw.message_id is not None, raw.origin


def test_corpus_over_http_raw_endpoint(mailbox, agent):
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=agent, kind='mta')}")
    for path in FILES:
        r = api.post(
            f"/api/v1/mail/raw?mailbox={mailbox.address}",
            data=path.read_bytes(),
            content_type="message/rfc822",
        )
        assert r.status_code in (202, 400), path.name  # 400 only for an empty body
    process_pending(limit=10_000)
    _assert_all_settled(RawMessage.objects.count())
    quarantined = RawMessage.objects.filter(state=RawMessage.State.QUARANTINED).count()
    expected_failures = sum(1 for v in EXPECTED.values() if v["outcome"] != "parsed")
    # Every file the parser can read becomes a message; only the files meant to fail are quarantined
    # (plus bounces for replies we never sent, which must not open conversations).
    bounces = sum(1 for v in EXPECTED.values() if v.get("is_bounce"))
    assert quarantined <= expected_failures + bounces


def test_corpus_over_smtp(mailbox, smtp_listener):
    accepted = 0
    rejected: list[str] = []
    for path in FILES:
        data = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # as an MTA would send it
        try:
            with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
                s.sendmail("sender@example.test", [mailbox.address], data)
            accepted += 1
        except smtplib.SMTPDataError as exc:
            # A clear protocol error (e.g. a line over 998 octets): the sender keeps the message.
            assert exc.smtp_code in (500, 552, 554), (path.name, exc)
            rejected.append(path.name)
    process_pending(limit=10_000)
    assert accepted >= len(FILES) - 5
    _assert_all_settled(accepted)
