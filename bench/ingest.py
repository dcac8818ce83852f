"""Ingest benchmarks: SMTP acceptance -> processed, and `happydesk mail import`, against the floor of
parsing the same messages with the standard library alone, on the database in DATABASE_URL.

Run through `make bench` (scripts/bench.sh), which runs it once on SQLite and once on PostgreSQL and
merges the figures into bench/results.json.
"""

from __future__ import annotations

import json
import os
import random
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBJECTS = [
    "Refund for order {n}",
    "Cannot log in",
    "Invoice {n} has the wrong address",
    "Export to CSV fails",
    "Charged twice",
    "Where is my parcel {n}?",
    "API returns 429",
    "Feature request: dark mode",
]
BODY = (
    "Hello,\n\nI have a question about my account. {line}\n\nThanks a lot,\n{name}\n\n"
    "On Mon, 2 Nov 2026 at 10:00, Acme Support <support@acme.test> wrote:\n> Earlier message\n> quoted here\n"
)


def corpus(n: int, seed: int = 7) -> list[bytes]:
    """Realistic-shaped mail: plain and multipart/alternative, quoted history, a few attachments."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        name = f"Customer {i % 300}"
        msg = EmailMessage()
        msg["From"] = f"{name} <customer{i % 300}@example.test>"
        msg["To"] = "support@acme.test"
        msg["Subject"] = rnd.choice(SUBJECTS).format(n=1000 + i)
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(domain="bench.example.test")
        text = BODY.format(line=" ".join(["Lorem ipsum dolor sit amet."] * rnd.randint(1, 12)), name=name)
        msg.set_content(text)
        if i % 2:
            msg.add_alternative(
                "<html><body><p>" + text.replace("\n", "<br>") + "</p></body></html>", subtype="html"
            )
        if i % 10 == 0:
            msg.add_attachment(
                os.urandom(20_000), maintype="application", subtype="pdf", filename="invoice.pdf"
            )
        out.append(msg.as_bytes(policy=policy.SMTP))
    return out


def parse_floor(messages: list[bytes]) -> float:
    """Messages per second for parsing with the standard library alone (bytes -> body text)."""
    parser = BytesParser(policy=policy.default)
    started = time.perf_counter()
    for data in messages:
        msg = parser.parsebytes(data)
        body = msg.get_body(("plain", "html"))
        if body is not None:
            body.get_content()
        for part in msg.iter_attachments():
            part.get_content()
    return len(messages) / (time.perf_counter() - started)


def happydesk(*args: str, env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "happydesk.cli", *args], env=env, check=True, **kw)


def count_state(env: dict) -> dict:
    """Raw message counts by state, read with a plain driver connection (cheap enough to poll)."""
    sql = "SELECT state, COUNT(*) FROM mail_rawmessage GROUP BY state"
    if env.get("DATABASE_URL"):
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            return dict(conn.execute(sql).fetchall())
    import sqlite3

    conn = sqlite3.connect(Path(env["HAPPYDESK_DATA_DIR"]) / "happydesk.sqlite3", timeout=30)
    try:
        return dict(conn.execute(sql).fetchall())
    finally:
        conn.close()


def fresh_env(engine: str, base: Path) -> dict:
    env = os.environ.copy()
    env["DJANGO_SETTINGS_MODULE"] = "happydesk.settings"
    env["HAPPYDESK_DATA_DIR"] = str(base)
    env["HAPPYDESK_LOG_LEVEL"] = "WARNING"
    if engine == "postgresql":
        env["DATABASE_URL"] = os.environ["BENCH_PG_URL"]
        subprocess.run(
            ["psql", os.environ["BENCH_PG_ADMIN_URL"], "-qc", "DROP DATABASE IF EXISTS bench"], check=True
        )
        subprocess.run(["psql", os.environ["BENCH_PG_ADMIN_URL"], "-qc", "CREATE DATABASE bench"], check=True)
    else:
        env.pop("DATABASE_URL", None)
    happydesk("migrate", "-v", "0", env=env)
    happydesk("mailbox", "add", "support@acme.test", "--name", "Acme Support", env=env, capture_output=True)
    return env


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    import socket

    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(port)


def bench_smtp(engine: str, messages: list[bytes], clients: int = 4) -> dict:
    """Throughput from the first SMTP connection until every message is processed by the worker."""
    with tempfile.TemporaryDirectory() as tmp:
        env = fresh_env(engine, Path(tmp))
        smtp, http = free_port(), free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "happydesk.cli",
                "serve",
                "--smtp",
                f"127.0.0.1:{smtp}",
                "--http",
                f"127.0.0.1:{http}",
            ],
            env=env,
            start_new_session=True,
        )
        try:
            wait_port(smtp)
            chunks = [messages[i::clients] for i in range(clients)]

            def send(chunk: list[bytes]) -> None:
                with smtplib.SMTP("127.0.0.1", smtp) as s:
                    for data in chunk:
                        s.sendmail("customer@example.test", ["support@acme.test"], data)

            started = time.perf_counter()
            threads = [threading.Thread(target=send, args=(c,)) for c in chunks]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            accepted = time.perf_counter() - started
            while True:
                states = count_state(env)
                if states.get("pending", 0) == 0 and sum(states.values()) >= len(messages):
                    break
                time.sleep(0.1)
            total = time.perf_counter() - started
            latencies = []
            for i in range(20):  # one message at a time: SMTP 250 -> conversation exists
                data = corpus(1, seed=1000 + i)[0]
                before = sum(count_state(env).get(k, 0) for k in ("processed",))
                t0 = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", smtp) as s:
                    s.sendmail("latency@example.test", ["support@acme.test"], data)
                while sum(count_state(env).get(k, 0) for k in ("processed",)) <= before:
                    time.sleep(0.01)
                latencies.append(time.perf_counter() - t0)
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
    return {"accept_s": accepted, "total_s": total, "states": states, "latencies": latencies}


def bench_import(engine: str, messages: list[bytes]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = fresh_env(engine, Path(tmp) / "data")
        mbox = Path(tmp) / "bench.mbox"
        with open(mbox, "wb") as fh:
            for data in messages:
                fh.write(b"From bench@example.test Mon Nov 23 10:00:00 2026\n")
                fh.write(data.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From "))
                fh.write(b"\n")
        started = time.perf_counter()
        happydesk("mail", "import", str(mbox), env=env, capture_output=True)
        total = time.perf_counter() - started
        states = count_state(env)
    return {"total_s": total, "states": states}


def throughput(name: str, engine: str, n: int, seconds: float, floor: float, note: str) -> dict:
    rate = n / seconds
    return {
        "name": name,
        "engine": engine,
        "n": n,
        "unit": "msg/s",
        "value": round(rate, 1),
        "floor": round(floor, 1),
        "ratio": round(rate / floor, 3),
        "note": note,
    }


def main() -> None:
    engine = sys.argv[1]
    n = int(os.environ.get("BENCH_N", "1000"))
    workers = os.environ.get("HAPPYDESK_WORKERS", "2")
    messages = corpus(n)
    floor = statistics.median(parse_floor(messages) for _ in range(3))
    smtp = bench_smtp(engine, messages)
    lat = sorted(smtp["latencies"])
    imp = bench_import(engine, messages)
    results = [
        throughput(
            "smtp_ingest",
            engine,
            n,
            smtp["total_s"],
            floor,
            f"4 SMTP clients, {workers} workers; accepted in {smtp['accept_s']:.2f}s, "
            f"processed by {smtp['total_s']:.2f}s; {smtp['states']}",
        ),
        {
            "name": "smtp_to_conversation_latency",
            "engine": engine,
            "n": len(lat),
            "unit": "s",
            "median": round(statistics.median(lat), 3),
            "p95": round(lat[int(len(lat) * 0.95) - 1], 3),
            "floor": round(1 / floor, 5),
            "ratio": round(statistics.median(lat) * floor, 1),
            "note": "one message at a time, SMTP 250 to processed (worker polls every 0.2 s when idle)",
        },
        throughput(
            "mail_import",
            engine,
            n,
            imp["total_s"],
            floor,
            f"one mbox, store + process (one process per CPU) incl. start-up; {imp['states']}",
        ),
    ]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
