"""Serving benchmark: the sign-in page, a conversation page and a contact-form post over real HTTP on
loopback, with N conversations, each a ratio to a static file fetched from the same server in the same
run. Two serving models of the same code and database:

- before: Django's ASGI handler under uvicorn (what `happydesk serve` ran until ADR 0007): every request's
  view runs on a fresh thread, so it opens a fresh database connection;
- after: `happydesk serve` as shipped (ADR 0007): pages on Django's WSGI handler in a fixed pool of
  threads under the same uvicorn loop, websockets on Channels.

Also counts the database file handles each server holds after its requests (connection reuse).
`python bench/serving.py sqlite|postgresql` (scripts/bench.sh runs both, on the page benchmark's data).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from common import figure, setup  # noqa: E402

ENGINE, N = setup("serving", 100_000)

from corpus import generate  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from happydesk.accounts.models import User  # noqa: E402
from happydesk.accounts.services import agent_create  # noqa: E402
from happydesk.inbox.models import Conversation, Mailbox  # noqa: E402

RUNS = int(os.environ.get("BENCH_SERVING_RUNS", "200"))
CONTACT_IPS = 20  # the contact form allows 5 posts per client IP in ten minutes: one loopback IP per 5
STATIC = "/static/happydesk/app.css"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(model: str, port: int) -> subprocess.Popen:
    """One server on `port` with this run's data directory and database."""
    if model == "before":
        command = [
            *("-m", "uvicorn", "--factory", "django.core.asgi:get_asgi_application"),
            *("--host", "127.0.0.1", "--port", str(port), "--lifespan", "off"),
            *("--no-access-log", "--log-level", "warning"),
        ]
    else:
        command = ["-m", "happydesk.cli", "serve", "--no-smtp", "--no-worker", "--http", f"127.0.0.1:{port}"]
    env = {**os.environ, "HAPPYDESK_BASE_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, *command], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", STATIC)
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{model} server did not start on port {port}")


def timed_get(conn: http.client.HTTPConnection, url: str, cookie: str, runs: int) -> list[float]:
    """Wall time of `runs` GETs on one kept-alive connection (after 10 to warm it), sorted."""
    headers = {"Cookie": cookie} if cookie else {}
    out = []
    for i in range(runs + 10):
        t = time.perf_counter()
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        response.read()
        if i >= 10:
            out.append(time.perf_counter() - t)
        assert response.status == 200, (url, response.status)
    return sorted(out)


def timed_contact_posts(port: int, mailbox_id: int, round_: str) -> list[float]:
    """Contact-form posts as strangers would send them: each client IP fetches the form, then posts 5
    messages from 5 addresses, each one timed from request to response."""
    url = f"/contact/{mailbox_id}/"
    out = []
    for k in range(CONTACT_IPS):
        conn = http.client.HTTPConnection("127.0.0.1", port, source_address=(f"127.0.{k + 1}.{k + 2}", 0))
        conn.request("GET", url)
        form = conn.getresponse()
        html = form.read()
        cookie = "; ".join(
            part.split(";")[0]
            for part in form.msg.get_all("Set-Cookie") or []
            if part.startswith("csrftoken")
        )
        token = CSRF_FIELD.search(html)
        assert token and cookie, "no CSRF token on the contact form"
        for i in range(5):
            body = (
                f"csrfmiddlewaretoken={token.group(1).decode()}&name=Bench+Customer+{k}"
                f"&email=s{round_}{k}x{i}%40example.test&subject=Serving+bench+{round_}+{k}+{i}"
                f"&message=Hello%2C+my+order+has+not+arrived+yet.&tz_offset=60"
            ).encode()
            headers = {
                "Cookie": cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{port}{url}",
            }
            t = time.perf_counter()
            conn.request("POST", url, body=body, headers=headers)
            response = conn.getresponse()
            page = response.read()
            out.append(time.perf_counter() - t)
            assert response.status == 200 and b"Thanks" in page, (response.status, page[:300])
        conn.close()
    return sorted(out)


def database_handles(pid: int) -> int:
    """Open file descriptors of `pid` on the SQLite database (its -wal and -shm files included), or TCP
    sockets to PostgreSQL's port."""
    if ENGINE == "sqlite":
        name = str(settings.DATABASES["default"]["NAME"])
        fds = Path(f"/proc/{pid}/fd")
        return sum(1 for fd in fds.iterdir() if os.path.realpath(fd).startswith(name))
    port = int(settings.DATABASES["default"].get("PORT") or 5432)
    out = subprocess.run(["ss", "-tnp"], capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines() if f":{port} " in line and f"pid={pid}," in line)


def measure(model: str, cookie: str, conversation: int, mailbox_id: int) -> dict[str, list[float] | int]:
    port = free_port()
    proc = start(model, port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        results: dict[str, list[float] | int] = {
            "static_file": timed_get(conn, STATIC, "", RUNS),
            "sign_in_page": timed_get(conn, "/login/", "", RUNS),
            "conversation_page": timed_get(conn, f"/c/{conversation}/", cookie, RUNS),
        }
        results["contact_post"] = timed_contact_posts(port, mailbox_id, model)
        results["database_handles"] = database_handles(proc.pid)
        conn.close()
        return results
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    seconds = generate(ENGINE, N)
    agent = User.objects.filter(email="bench@bench.test").first() or agent_create(
        email="bench@bench.test", name="Bench Agent", password="bench-password"
    )
    client = Client(HTTP_HOST="127.0.0.1")  # the default base URL's host: ALLOWED_HOSTS has no "testserver"
    client.force_login(agent)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    conversation = Conversation.objects.order_by("-id").values_list("pk", flat=True)[N // 2]
    mailbox = Mailbox.objects.order_by("pk").first()
    assert mailbox is not None
    measured = {model: measure(model, cookie, conversation, mailbox.pk) for model in ("before", "after")}
    floor = measured["after"]["static_file"]
    assert isinstance(floor, list)
    rows = []
    for name in ("static_file", "sign_in_page", "conversation_page", "contact_post"):
        for model in ("before", "after"):
            samples = measured[model][name]
            assert isinstance(samples, list)
            note = (
                f"{model}: {len(samples)} requests over HTTP on loopback; ratio to a static file from "
                f"`happydesk serve`; {N} conversations (generated in {seconds:.0f}s)"
            )
            rows.append(figure(f"serve_{name}[{model}]", ENGINE, N, samples, floor, note))
    for model in ("before", "after"):
        rows.append(
            {
                "name": f"serve_database_handles[{model}]",
                "engine": ENGINE,
                "n": N,
                "unit": "handles",
                "value": measured[model]["database_handles"],
                "floor": "-",
                "ratio": "-",
                "note": f"{model}: open database handles of the server process after {4 * RUNS + 120} requests",
            }
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
