"""Happiness report benchmark: the report page for the last 90 days over N conversations (default
1,000,000), as server time through Django's full request path, against a floor view that runs one indexed
aggregate query over the conversation table (a COUNT over the same 90 days), measured in the same run.

The conversations are spread over the last 90 days in two mailboxes (two time zones), three channels, 25
tags, with replies, resolutions, reopens, rating requests, ratings and saved-reply uses, written with
bulk_create in big batches; then the daily rollup is built (`happydesk reports rebuild`, timed) and the
incremental refresh is timed after a hundred new conversations.

`python bench/report.py sqlite|postgresql` (scripts/bench.sh runs both); BENCH_REPORT_N sets N,
BENCH_REPORT_DIR keeps the generated data between runs.
"""

from __future__ import annotations

import json
import math
import random
import time
from datetime import timedelta

from common import figure as _figure
from common import setup, timed

ENGINE, N = setup("report", 1_000_000)

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402

from happydesk.accounts.models import User  # noqa: E402
from happydesk.accounts.services import agent_create  # noqa: E402
from happydesk.customers.models import Customer  # noqa: E402
from happydesk.feedback.models import Rating, RatingRequest  # noqa: E402
from happydesk.inbox.models import Conversation, Mailbox, Message, Tag  # noqa: E402
from happydesk.replies.models import SavedReply, SavedReplyUse  # noqa: E402
from happydesk.reports.models import DailyFact  # noqa: E402
from happydesk.reports.rollup import rollup_rebuild, rollup_refresh  # noqa: E402

BATCH = 20000
TAGS = [f"topic-{i:02d}" for i in range(25)]
CHANNELS = ["email"] * 70 + ["form"] * 20 + ["chat"] * 10


def floor(request: HttpRequest) -> HttpResponse:
    """One indexed aggregate query over the conversation table: how many arrived in the last 90 days."""
    since = timezone.now() - timedelta(days=90)
    n = Conversation.objects.filter(created_at__gte=since).aggregate(n=Count("id"))["n"]
    return HttpResponse(str(n))


urlpatterns = [path("floor/", floor), path("", include("happydesk.urls"))]


def fast_insert(model, rows: list[dict]) -> None:  # type: ignore[no-untyped-def]
    """INSERT many rows with executemany: what bulk_create does, without compiling SQL per row (that was
    most of the generation time). Columns not given take the field's default, prepared once."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = set(rows[0])
    constant = {
        f.attname: f.get_db_prep_save(f.get_default(), connection) for f in fields if f.attname not in given
    }
    datetimes = {f.attname for f in fields if f.get_internal_type() == "DateTimeField"}
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    adapt = connection.ops.adapt_datetimefield_value
    values = [
        [
            (adapt(row[f.attname]) if f.attname in datetimes else row[f.attname])
            if f.attname in row
            else constant[f.attname]
            for f in fields
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        for i in range(0, len(values), 5000):
            cursor.executemany(sql, values[i : i + 5000])


def generate() -> float:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Conversation.objects.exists():  # kept from an earlier run (BENCH_REPORT_DIR)
        return 0.0
    rnd = random.Random(5)
    mailboxes = [
        Mailbox.objects.create(address="support@bench.test", name="Support", timezone="America/New_York"),
        Mailbox.objects.create(
            address="eu@bench.test",
            name="Support EU",
            timezone="Europe/Berlin",
            business_hours={str(d): [["08:00", "18:00"]] for d in range(5)},
        ),
    ]
    agents = [
        agent_create(email=f"agent{i}@bench.test", name=f"Agent {i}", password="bench-password")
        for i in range(8)
    ]
    tags = [Tag.objects.create(name=name) for name in TAGS]
    tag_weights = [1 / (i + 1) for i in range(len(tags))]
    saved = [SavedReply.objects.create(name=f"Saved reply {i}", body="Hello") for i in range(12)]
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Customer {i}") for i in range(N // 20)], batch_size=5000
    )
    now = timezone.now()
    statuses = ["closed"] * 85 + ["active"] * 8 + ["pending"] * 7
    for start in range(0, N, BATCH):
        with transaction.atomic():
            batch = []
            for i in range(start, min(N, start + BATCH)):
                at = now - timedelta(seconds=rnd.randint(600, 90 * 86400))
                status = rnd.choice(statuses)
                wait = min(rnd.lognormvariate(math.log(2400), 1.6), 20 * 86400)
                first = at + timedelta(seconds=wait) if status != "active" or rnd.random() < 0.5 else None
                if first and first > now:
                    first = None
                resolved = (
                    first + timedelta(seconds=rnd.lognormvariate(math.log(20000), 1.2))
                    if first and status == "closed"
                    else None
                )
                if resolved and resolved > now:
                    resolved, status = None, "pending"
                batch.append(
                    Conversation(
                        mailbox=mailboxes[i % 2],
                        customer=customers[i % len(customers)],
                        subject="Help",
                        status=status if first or status == "active" else "active",
                        channel=rnd.choice(CHANNELS),
                        created_at=at,
                        last_activity_at=resolved or first or at,
                        first_response_at=first,
                        resolved_at=resolved,
                        message_count=2 if first else 1,
                    )
                )
            convs = Conversation.objects.bulk_create(batch, batch_size=5000)
            messages, links, uses = [], [], []
            for c in convs:
                messages.append(
                    {"conversation_id": c.pk, "kind": "customer", "text": "Hi", "created_at": c.created_at}
                )
                if c.first_response_at:
                    agent = agents[rnd.randrange(len(agents))]
                    reply = {"conversation_id": c.pk, "kind": "reply", "author_id": agent.pk, "text": "Hello"}
                    messages.append({**reply, "created_at": c.first_response_at})
                    if rnd.random() < 0.4:
                        messages.append({**reply, "created_at": c.first_response_at + timedelta(hours=2)})
                    if rnd.random() < 0.1:
                        uses.append(
                            {
                                "saved_reply_id": rnd.choice(saved).pk,
                                "agent_id": agent.pk,
                                "conversation_id": c.pk,
                                "used_at": c.first_response_at,
                            }
                        )
                if c.resolved_at and rnd.random() < 0.04:
                    messages.append(
                        {
                            "conversation_id": c.pk,
                            "kind": "event",
                            "event": json.dumps({"type": "reopened", "from": "closed", "by": "customer"}),
                            "created_at": c.resolved_at - timedelta(minutes=5),
                        }
                    )
                links.extend(
                    {"conversation_id": c.pk, "tag_id": tag.pk}
                    for tag in set(rnd.choices(tags, tag_weights, k=rnd.choice([1, 1, 2])))
                )
            # fast_insert takes the columns from the first row: give every row the same keys.
            fast_insert(Message, [{"author_id": None, "event": "{}", "text": "", **m} for m in messages])
            fast_insert(Conversation.tags.through, links)
            fast_insert(SavedReplyUse, uses)
            by_id = {c.pk: c for c in convs}
            first_reply = {}
            for conversation_id, message_id, author_id in (
                Message.objects.filter(
                    conversation_id__gte=min(by_id), conversation_id__lte=max(by_id), kind="reply"
                )
                .order_by("created_at")
                .values_list("conversation_id", "id", "author_id")
            ):
                first_reply.setdefault(conversation_id, (message_id, author_id))
            requests, rated = [], []
            for conversation_id, (message_id, author_id) in first_reply.items():
                c = by_id[conversation_id]
                if c.resolved_at and rnd.random() < 0.35:
                    request = RatingRequest(
                        conversation=c,
                        message_id=message_id,
                        customer_id=c.customer_id,
                        created_at=c.resolved_at,
                    )
                    requests.append(request)
                    if rnd.random() < 0.45 and c.resolved_at + timedelta(hours=1) < now:
                        rated.append((request, author_id))
            RatingRequest.objects.bulk_create(requests, batch_size=5000)
            Rating.objects.bulk_create(
                [
                    Rating(
                        request=r,
                        conversation=r.conversation,
                        customer_id=r.customer_id,
                        agent_id=author_id,
                        mailbox_id=r.conversation.mailbox_id,
                        value=rnd.choices(["great", "okay", "not_good"], [75, 17, 8])[0],
                        comment=rnd.choice(["", "", "", "Thanks!", "Took a while."]),
                        created_at=r.created_at + timedelta(hours=1),
                        updated_at=r.created_at + timedelta(hours=1),
                    )
                    for r, author_id in rated
                ],
                batch_size=5000,
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def figure(name: str, samples: list[float], floor_samples: list[float], note: str) -> dict:
    return _figure(name, ENGINE, N, samples, floor_samples, note)


def main() -> None:
    seconds = generate()
    started = time.perf_counter()
    rollup_rebuild()
    rebuild = time.perf_counter() - started
    # The worker's incremental refresh after a hundred new conversations with a reply each.
    mailbox, agent = Mailbox.objects.first(), User.objects.filter(email__endswith="@bench.test").first()
    customer = Customer.objects.first()
    fresh = Conversation.objects.bulk_create(
        [
            Conversation(mailbox=mailbox, customer=customer, subject="New", first_response_at=timezone.now())
            for _ in range(100)
        ]
    )
    Message.objects.bulk_create(
        [Message(conversation=c, kind="reply", author=agent, text="Hi") for c in fresh]
    )
    started = time.perf_counter()
    rollup_refresh()
    refresh = time.perf_counter() - started

    client = Client(HTTP_HOST="127.0.0.1")  # the default base URL's host: ALLOWED_HOSTS has no "testserver"
    client.force_login(agent)
    rows = DailyFact.objects.filter(tag=0).count()
    note = (
        f"{N} conversations, {Message.objects.count()} messages, {Rating.objects.count()} ratings generated in "
        f"{seconds:.0f}s; rollup rebuild {rebuild:.1f}s ({DailyFact.objects.count()} rows, {rows} untagged), "
        f"incremental refresh after 100 new conversations {refresh:.2f}s; floor: COUNT over created_at >= 90 days"
    )
    with override_settings(ROOT_URLCONF=__name__):
        floor_samples = timed(client, "/floor/", 20)
        tag = TAGS[0]
        results = [
            figure("happiness_report_90d", timed(client, "/reports/?period=90", 20), floor_samples, note),
            figure(
                "happiness_report_90d_tag",
                timed(client, f"/reports/?period=90&tag={tag}", 20),
                floor_samples,
                note,
            ),
            figure(
                "happiness_report_90d_agents",
                timed(client, "/reports/?period=90&view=agents", 20),
                floor_samples,
                note,
            ),
            figure(
                "happiness_report_csv",
                timed(client, "/reports/export/top_issues.csv?period=90", 20),
                floor_samples,
                note,
            ),
        ]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
