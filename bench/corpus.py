"""The benchmarks' help desk at scale: N conversations of 4 messages each, with Zipf-distributed text, as
the page and serving benchmarks share it (run after `common.setup`)."""

from __future__ import annotations

import random
import time
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from happydesk.customers.models import Customer, CustomerEmail
from happydesk.inbox.indexing import reindex_all
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.inbox.triage import standing

WORDS = [
    "refund",
    "invoice",
    "login",
    "password",
    "export",
    "shipping",
    "parcel",
    "charged",
    "twice",
    "account",
    "billing",
    "plan",
    "upgrade",
    "cancel",
    "integration",
    "slack",
    "api",
    "token",
    "error",
    "dashboard",
    "slow",
    "report",
    "csv",
    "team",
    "invite",
]


# Message text follows a Zipf law over a 3,000-word vocabulary, with a few words of the conversation's
# topic: a word like "refund" is in a few percent of conversations, as in a real help desk, while the
# most common filler word is in nearly all of them (the worst case, measured as its own figure).
FILLER = [f"w{i}" for i in range(3000)]
ZIPF = [1 / (rank + 1) for rank in range(len(FILLER))]


def generate(engine: str, n: int) -> float:
    """Migrate, then create n conversations of 4 messages each and index them; returns the seconds it took
    (0 when the data directory already holds them)."""
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Conversation.objects.exists():  # kept from an earlier run (BENCH_PAGES_DIR)
        return 0.0
    rnd = random.Random(3)
    mailbox = Mailbox.objects.create(address="support@bench.test", name="Bench Support")
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Customer {i}") for i in range(n // 5)], batch_size=2000
    )
    CustomerEmail.objects.bulk_create(
        [CustomerEmail(customer=c, address=f"c{c.pk}@example.test") for c in customers], batch_size=2000
    )
    now = timezone.now()
    statuses = ["closed"] * 85 + ["active"] * 8 + ["pending"] * 7
    for start in range(0, n, 5000):
        batch = []
        for i in range(start, min(n, start + 5000)):
            at = now - timedelta(minutes=rnd.randint(10, 90 * 24 * 60))
            status = rnd.choice(statuses)
            batch.append(
                Conversation(
                    mailbox=mailbox,
                    customer=customers[i % len(customers)],
                    subject=" ".join(rnd.sample(WORDS, 4)).capitalize(),
                    status=status,
                    created_at=at,
                    last_activity_at=at + timedelta(hours=2),
                    preview="…",
                    last_customer_message_at=at,
                    waiting_since=at if status == "active" else None,
                    message_count=4,
                )
            )
        for c in batch:  # the clock-free triage points, as the services store them
            fixed = standing(feeling=c.feeling, text=c.preview)  # not their first message
            c.priority_points, c.priority_reasons = fixed.score, fixed.reasons
        convs = Conversation.objects.bulk_create(batch, batch_size=2000)
        messages = []
        for c in convs:
            topic = c.subject.lower().split()[:3]
            for k, kind in enumerate(["customer", "reply", "customer", "reply"]):
                words = rnd.choices(topic, k=6) + rnd.choices(FILLER, weights=ZIPF, k=34)
                rnd.shuffle(words)
                messages.append(
                    Message(
                        conversation=c,
                        kind=kind,
                        text=" ".join(words),
                        from_address=f"c{c.customer_id}@example.test",
                        created_at=c.created_at + timedelta(minutes=30 * k),
                        message_id=f"b{c.pk}.{k}@bench.test",
                    )
                )
        Message.objects.bulk_create(messages, batch_size=4000)
    reindex_all(batch=2000)
    if engine == "postgresql":  # what autovacuum does on a live database: statistics and visibility map
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started
