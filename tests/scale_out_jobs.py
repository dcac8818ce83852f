"""The Django side of tests/e2e/test_scale_out.py, run as its own process on that test's PostgreSQL
(`python -m tests.scale_out_jobs seed|mail N`): the test process itself stays on the suite's database.
Prints one JSON line for the test to read."""

from __future__ import annotations

import json
import os
import sys

AGENT_A = ("ada@acme.test", "Ada Agent", "ada-password-1")
AGENT_B = ("ben@acme.test", "Ben Agent", "ben-password-2")


def seed() -> dict:
    """A mailbox with its contact form on (and no auto-replies, so the outbox holds only what the test
    queues), two agents, and one conversation for them to open."""
    from happydesk.accounts.services import agent_create
    from happydesk.inbox.services import mailbox_create
    from tests.helpers import customer_conversation

    mailbox = mailbox_create(
        address="support@acme.test", name="Acme Support", form_enabled=True, auto_reply_enabled=False
    )
    for email, name, password in (AGENT_A, AGENT_B):
        agent_create(email=email, name=name, password=password, admin=True)
    conversation = customer_conversation(
        mailbox,
        address="casey@example.test",
        name="Casey Customer",
        subject="Where is my parcel?",
        text="It has not arrived.",
    )
    return {"mailbox": mailbox.pk, "number": conversation.number}


def mail(count: int) -> dict:
    """`count` inbound messages stored as a transport stores them (bytes, then a pending row) and `count`
    notices queued in the outbox, interleaved, while the workers are already running."""
    from happydesk.mail.models import RawMessage
    from happydesk.mail.outbound import notice_enqueue
    from happydesk.mail.store import store_raw
    from tests.helpers import make_email

    for i in range(count):
        data = make_email(
            sender=f"Customer {i} <customer{i}@example.test>",
            subject=f"Scale inbound {i}",
            message_id=f"<scale-{i}@example.test>",
        )
        # From another server (the raw HTTP path): no DNS lookups for sender authentication.
        store_raw(data, source=RawMessage.Source.HTTP, envelope_to=["support@acme.test"])
        notice_enqueue(
            to=[f"reader{i}@example.test"], subject=f"Scale notice {i}", text=f"Notice {i}", kind="test"
        )
    return {"stored": count, "queued": count}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happydesk.settings")
    import django

    django.setup()
    job, *args = argv
    result = seed() if job == "seed" else mail(int(args[0]))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
