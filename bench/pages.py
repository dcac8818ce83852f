"""Page benchmarks at scale: inbox first page, conversation page and conversation search, with N
conversations (4 messages each), as server time through Django's full request path (middleware, view,
template), against a floor view that runs one indexed query, measured in the same run.

`python bench/pages.py sqlite|postgresql` (scripts/bench.sh runs both); BENCH_PAGES_N sets the size.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import figure as _figure  # noqa: E402
from common import setup, timed  # noqa: E402

ENGINE, N = setup("pages", 100_000)

from corpus import generate  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from happydesk.accounts.models import User  # noqa: E402
from happydesk.accounts.services import agent_create  # noqa: E402
from happydesk.inbox.models import Conversation, Message  # noqa: E402


def figure(name: str, samples: list[float], floor: list[float]) -> dict:
    note = f"{len(samples)} requests, server time through the full Django request path"
    return _figure(name, ENGINE, N, samples, floor, note)


def main() -> None:
    seconds = generate(ENGINE, N)
    agent = User.objects.filter(email="bench@bench.test").first() or agent_create(
        email="bench@bench.test", name="Bench Agent", password="bench-password"
    )
    client = Client(HTTP_HOST="127.0.0.1")  # the default base URL's host: ALLOWED_HOSTS has no "testserver"
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
