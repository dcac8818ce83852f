"""Several processes, as docs/scaling.md runs them: a real Redis and a real PostgreSQL, two web processes
(`happydesk serve --no-worker --no-smtp`) and two `happydesk worker` processes, all with REDIS_URL and
DATABASE_URL. Shows what REDIS_URL shares and what the database already guarantees:

a. presence and live updates across processes: an agent on web process 1 sees an agent on web process
   2, and back, and a reply sent through process 2 appears on the open page served by process 1;
b. a rate limit counts requests to both processes together: the contact form refuses the same request
   whether the requests went to one process or alternated between the two;
c. inbound mail and the outbox are each processed exactly once by the two workers, and both did some.

The test runs its own PostgreSQL, so it runs once per suite run (the SQLite pass) and sets up and reads
that database from its own processes (tests/scale_out_jobs.py, plain SQL): this process stays on the
suite's database.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

import happydesk
from tests.helpers import free_port, sign_in, stop
from tests.scale_out_jobs import AGENT_A, AGENT_B

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="starts its own PostgreSQL and Redis: run once per suite run, in the SQLite pass",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(happydesk.__file__).resolve().parents[1]  # this checkout's code, also in every child process
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
MAIL_COUNT = 200
CONTACT_LIMIT = 5  # portal.forms.CONTACT_LIMIT: submissions per client IP in ten minutes
WORKER_STARTED = re.compile(r"worker \S+-(\d+) started")
SENT = re.compile(r"outbound (\d+) sent")


class Proc:
    """A child process with its output in a log file, for the failure message."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}.log"
        with open(self.log, "wb") as out:
            self.popen = subprocess.Popen(
                args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def check(self) -> None:
        if self.popen.poll() is not None:
            pytest.fail(f"{self.name} exited with {self.popen.returncode}; its log:\n{self.output()[-6000:]}")


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: list[Proc] = []
        self.env: dict[str, str] = {}
        self.database_url = ""
        self.outbox = root / "outbox"  # EMAIL_URL: every worker writes the mail it sends here
        self.seeded: dict = {}
        self.web: list[tuple[str, int]] = []  # (base URL, port) of each web process
        self.workers: list[Proc] = []
        self.sql = None  # a plain psycopg connection to the cluster's database, for the assertions

    def start(self, name: str, *args: str, **extra_env: str) -> Proc:
        proc = Proc(name, list(args), {**self.env, **extra_env}, self.root)
        self.procs.append(proc)
        return proc

    def wait(self, what: str, predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        """Poll until predicate() holds; fails at once, with its log, if any process died meanwhile."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                proc.check()
            if predicate():
                return
            time.sleep(0.05)
        logs = "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in self.procs)
        pytest.fail(f"timed out after {timeout}s waiting for {what}\n{logs}")

    def job(self, *args: str) -> dict:
        """Run tests/scale_out_jobs.py against the cluster's database; its JSON answer."""
        done = subprocess.run(
            [sys.executable, "-m", "tests.scale_out_jobs", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"job {args} failed:\n{done.stdout}\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def cluster():  # type: ignore[no-untyped-def]
    """Redis, PostgreSQL (migrated and seeded), two web processes and two workers; all stopped after,
    and every log printed when the test failed (pytest shows teardown output of a failed test)."""
    import psycopg

    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.fail(
            f"{REDIS_SERVER} is missing: run scripts/system-packages.sh (apt-get install redis-server)"
        )
    root = Path(tempfile.mkdtemp(prefix="hd-scale-"))
    root.chmod(0o755)  # PostgreSQL runs as the postgres user and must reach its folder
    c = Cluster(root)
    pg_port, redis_port = free_port(), free_port()
    c.database_url = f"postgres://postgres@127.0.0.1:{pg_port}/happydesk"
    env = os.environ.copy()
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        PYTHONPATH=f"{SRC}{os.pathsep}{ROOT}",
        DATABASE_URL=c.database_url,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        HAPPYDESK_DATA_DIR=str(root / "data"),  # shared, as several hosts share storage (docs/scaling.md)
        HAPPYDESK_SECRET_KEY="scale-out-test-secret-shared-by-every-process",
        EMAIL_URL=f"file://{c.outbox}",
        HAPPYDESK_LOG_LEVEL="INFO",  # workers log "outbound N sent": who sent which row
    )
    c.env = env
    pg_started = False
    try:
        c.start(
            "redis",
            REDIS_SERVER,
            "--bind",
            "127.0.0.1",
            "--port",
            str(redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
        )
        subprocess.run([str(ROOT / "scripts/pg.sh"), "start", str(root / "pg"), str(pg_port)], check=True)
        pg_started = True
        with psycopg.connect(f"host=127.0.0.1 port={pg_port} user=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE happydesk")
        c.wait("redis", lambda: listening(redis_port))
        migrated = subprocess.run(
            [sys.executable, "-m", "happydesk.cli", "migrate", "--no-input", "-v", "0"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        for n in (1, 2):
            port = free_port()
            # Each web process is its own origin here; behind a balancer they would share one base URL.
            c.start(
                f"web{n}",
                sys.executable,
                "-m",
                "happydesk.cli",
                "serve",
                "--http",
                f"127.0.0.1:{port}",
                "--no-smtp",
                "--no-worker",
                HAPPYDESK_BASE_URL=f"http://127.0.0.1:{port}",
            )
            c.web.append((f"http://127.0.0.1:{port}", port))
        c.workers = [c.start(f"worker{n}", sys.executable, "-m", "happydesk.cli", "worker") for n in (1, 2)]
        c.seeded = c.job("seed")  # while the servers start
        c.wait("both web processes", lambda: all(listening(port) for _, port in c.web))
        c.wait("both workers", lambda: all(WORKER_STARTED.search(w.output()) for w in c.workers))
        c.sql = psycopg.connect(c.database_url, autocommit=True)
        yield c
    finally:
        for proc in reversed(c.procs):
            stop(proc.popen)
        if c.sql is not None:
            c.sql.close()
        if pg_started:
            subprocess.run([str(ROOT / "scripts/pg.sh"), "stop", str(root / "pg")], check=False)
        for proc in c.procs:
            print(f"--- {proc.name} (exit {proc.popen.returncode})\n{proc.output()[-4000:]}")
        shutil.rmtree(root, ignore_errors=True)


def query(c: Cluster, sql: str, *params) -> list[tuple]:  # type: ignore[no-untyped-def]
    return c.sql.execute(sql, params).fetchall()


def test_two_web_processes_and_two_workers_share_presence_limits_and_work(cluster, browser):
    c = cluster
    (web1, _), (web2, _) = c.web
    number = c.seeded["number"]
    started = time.monotonic()

    # a. Presence: Ada on web process 1, Ben on web process 2, on the same conversation.
    ada = browser.new_context().new_page()
    sign_in(ada, web1, AGENT_A[0], AGENT_A[2])  # lands on the list
    ben = browser.new_context().new_page()
    sign_in(ben, web2, AGENT_B[0], AGENT_B[2])
    ben.goto(f"{web2}/c/{number}/")
    # Ada's list shows Ben on the conversation (his announcement, or his answer to her list's roll call).
    expect(ada.locator(f'tr[data-number="{number}"] .presence-badge')).to_contain_text(
        "Ben Agent is viewing", timeout=10_000
    )
    ada.goto(f"{web1}/c/{number}/")
    # Ben's announcement reaches Ada's consumer in the other process (group send through Redis) ...
    expect(ada.locator("#presence")).to_contain_text("Ben Agent is viewing", timeout=10_000)
    # ... and Ada's answer to Ben's roll call reaches Ben's consumer (a send to one channel in process 2).
    expect(ben.locator("#presence")).to_contain_text("Ada Agent is viewing", timeout=10_000)
    ben.get_by_label("Reply", exact=True).type("Checking with the courier")
    expect(ada.locator("#presence")).to_contain_text("Ben Agent is replying", timeout=10_000)
    # A change made through process 2 reaches Ada's open page on process 1 (the live inbox, via Redis).
    ben.get_by_role("button", name="Send reply").click()
    expect(ada.locator("ol.thread li.msg", has_text="Checking with the courier")).to_be_visible(
        timeout=10_000
    )
    expect(ada.locator("#live-activity")).to_contain_text("1 new message since you opened")
    ben.context.close()  # Ben leaves: process 2 says so, process 1's page drops him
    expect(ada.locator("#presence")).to_be_hidden(timeout=10_000)
    ada.context.close()
    presence_done = time.monotonic()

    # b. The contact form's per-IP limit: the same answers whether every request goes to web process 1
    # or they alternate between the two (each run from its own loopback address, so its own counter).
    mailbox = c.seeded["mailbox"]
    total = CONTACT_LIMIT + 3
    alone = [contact(c.web[0][1], mailbox, "127.0.0.2", i) for i in range(total)]
    split = [contact(c.web[i % 2][1], mailbox, "127.0.0.3", i) for i in range(total)]
    expected = [200] * CONTACT_LIMIT + [429] * 3
    assert alone == expected, alone
    assert split == expected, f"alternating between the processes: {split}"
    # The accepted ones really were stored: 5 from each address.
    assert query(c, "SELECT count(*) FROM inbox_conversation WHERE subject LIKE 'Limit %%'") == [(10,)]
    limits_done = time.monotonic()

    # c. Exactly once: 200 inbound messages and 200 notices while both workers run.
    c.job("mail", str(MAIL_COUNT))
    c.wait(
        "the queues to drain",
        lambda: (
            query(
                c,
                "SELECT (SELECT count(*) FROM mail_rawmessage WHERE state = 'pending')"
                " + (SELECT count(*) FROM mail_outboundmail WHERE state IN ('queued', 'retry'))",
            )
            == [(0,)]
        ),
        timeout=60,
    )
    drained = time.monotonic()

    states = dict(query(c, "SELECT state, count(*) FROM mail_rawmessage GROUP BY state"))
    assert states == {"processed": MAIL_COUNT}, states
    per_message = Counter(
        dict(
            query(
                c,
                "SELECT message_id, count(*) FROM inbox_message"
                " WHERE kind = 'customer' AND message_id LIKE 'scale-%%' GROUP BY message_id",
            )
        )
    )
    assert len(per_message) == MAIL_COUNT and set(per_message.values()) == {1}, per_message.most_common(3)
    linked = query(c, "SELECT count(DISTINCT message_id) FROM mail_rawmessage WHERE message_id IS NOT NULL")
    assert linked == [(MAIL_COUNT,)]  # every raw row points at its own message
    # Who processed it: the lease holder is recorded on the row (inbound.claim_batch).
    claimed = dict(query(c, "SELECT claimed_by, count(*) FROM mail_rawmessage GROUP BY claimed_by"))
    pids = [str(w.popen.pid) for w in c.workers]
    by_worker = {pid: sum(n for owner, n in claimed.items() if owner.endswith(f"-{pid}")) for pid in pids}
    assert sum(by_worker.values()) == MAIL_COUNT, claimed
    assert all(by_worker.values()), f"one worker did all the inbound work: {claimed}"

    # The outbox: every row sent once, one file each, every file its own Message-ID.
    sent_rows = {row for (row,) in query(c, "SELECT id FROM mail_outboundmail WHERE state = 'sent'")}
    all_rows = query(c, "SELECT count(*) FROM mail_outboundmail")[0][0]
    assert len(sent_rows) == all_rows >= MAIL_COUNT
    files = sorted(c.outbox.glob("*.eml"))
    mails = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert len(files) == len(sent_rows), f"{len(files)} files for {len(sent_rows)} sent rows"
    assert len({m["Message-ID"] for m in mails}) == len(files), "a Message-ID was sent twice"
    notices = Counter(str(m["Subject"]) for m in mails if str(m["Subject"]).startswith("Scale notice "))
    assert sorted(notices) == sorted(f"Scale notice {i}" for i in range(MAIL_COUNT))
    assert set(notices.values()) == {1}
    # Who sent what: each worker logs the rows it sent; together exactly the sent rows, none twice.
    sent_by = [[int(n) for n in SENT.findall(w.output())] for w in c.workers]
    assert all(sent_by), f"one worker sent everything: {[len(s) for s in sent_by]}"
    assert sorted(sent_by[0] + sent_by[1]) == sorted(sent_rows)

    print(
        f"presence {presence_done - started:.1f}s, limits {limits_done - presence_done:.1f}s, "
        f"{MAIL_COUNT} inbound + {all_rows} outbound drained in {drained - limits_done:.1f}s; "
        f"inbound per worker {list(by_worker.values())}, sent per worker {[len(s) for s in sent_by]}"
    )


def contact(port: int, mailbox: int, source_ip: str, i: int) -> int:
    """One contact-form submission from `source_ip` to the web process on `port`: the form page for
    its CSRF cookie and token, then the POST; the POST's status (200 thanks, 429 over the limit)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source_ip, 0))
    try:
        conn.request("GET", f"/contact/{mailbox}/")
        page = conn.getresponse()
        body = page.read().decode()
        assert page.status == 200, (page.status, body[:500])
        cookie = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie") or "").group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        form = {
            "csrfmiddlewaretoken": token,
            "name": f"Limit {i}",
            "email": f"limit{i}-{source_ip}@example.test",
            "subject": f"Limit {source_ip} {i}",
            "message": "Testing the limit.",
        }
        conn.request(
            "POST",
            f"/contact/{mailbox}/",
            body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"},
        )
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()
