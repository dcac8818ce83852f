"""Page benchmarks at scale: inbox first page, conversation page and conversation search, with N
conversations (4 messages each), as server time through Django's full request path (middleware, view,
template), against a floor view that runs one indexed query, measured in the same run.

`python bench/pages.py sqlite|postgresql` (scripts/bench.sh runs both); BENCH_PAGES_N sets the size.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))
from common import figure as _figure  # noqa: E402
from common import setup, timed  # noqa: E402

ENGINE, N = setup("pages", 100_000)

from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from happydesk.accounts.models import User  # noqa: E402
from happydesk.accounts.services import agent_create  # noqa: E402
from happydesk.customers.models import Customer, CustomerEmail  # noqa: E402
from happydesk.inbox.indexing import reindex_all  # noqa: E402
from happydesk.inbox.models import Conversation, Mailbox, Message  # noqa: E402
from happydesk.inbox.triage import standing  # noqa: E402

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


def generate() -> float:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Conversation.objects.exists():  # kept from an earlier run (BENCH_PAGES_DIR)
        return 0.0
    rnd = random.Random(3)
    mailbox = Mailbox.objects.create(address="support@bench.test", name="Bench Support")
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Customer {i}") for i in range(N // 5)], batch_size=2000
    )
    CustomerEmail.objects.bulk_create(
        [CustomerEmail(customer=c, address=f"c{c.pk}@example.test") for c in customers], batch_size=2000
    )
    now = timezone.now()
    statuses = ["closed"] * 85 + ["active"] * 8 + ["pending"] * 7
    for start in range(0, N, 5000):
        batch = []
        for i in range(start, min(N, start + 5000)):
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
            fixed = standing(feeling=c.feeling, text=f"{c.subject}\n{c.preview}")
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
    if ENGINE == "postgresql":  # what autovacuum does on a live database: statistics and visibility map
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def figure(name: str, samples: list[float], floor: list[float]) -> dict:
    note = f"{len(samples)} requests, server time through the full Django request path"
    return _figure(name, ENGINE, N, samples, floor, note)


def main() -> None:
    seconds = generate()
    agent = User.objects.filter(email="bench@bench.test").first() or agent_create(
        email="bench@bench.test", name="Bench Agent", password="bench-password"
    )
    client = Client()
    client.force_login(agent)
    some = Conversation.objects.order_by("-id").values_list("pk", flat=True)[N // 2]
    with override_settings(ROOT_URLCONF="floor_urls"):
        floor = timed(client, f"/floor/{some}/", 50)
        results = [
            figure("inbox_first_page", timed(client, "/inbox/", 30), floor),
            figure("conversation_page", timed(client, f"/c/{some}/", 50), floor),
            figure("conversation_search", timed(client, "/inbox/?q=refund+invoice&status=all", 30), floor),
            figure("conversation_search_common_word", timed(client, "/inbox/?q=w0&status=all", 30), floor),
        ]
    for r in results:
        r["note"] += f"; {N} conversations, {Message.objects.count()} messages generated in {seconds:.0f}s"
    print(json.dumps(results))


if __name__ == "__main__":
    main()
