"""`happydesk serve` as a real process tree: SMTP in, conversation out; and kill -9 in the middle of a burst."""

from __future__ import annotations

import signal
import smtplib
import threading
import time
from email.utils import make_msgid

import pytest

from happydesk.inbox.models import Conversation, Message
from happydesk.mail.models import RawMessage
from tests.helpers import free_port, make_email, start_serve, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_until(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_email_over_smtp_becomes_a_conversation_and_page_shows_it(mailbox, agent):
    http, smtp = free_port(), free_port()
    proc = start_serve(http, smtp)
    try:
        started = time.monotonic()
        with smtplib.SMTP("127.0.0.1", smtp) as s:
            s.sendmail("casey@example.test", ["support@acme.test"], make_email(subject="Served over SMTP"))
        assert wait_until(lambda: Conversation.objects.filter(subject="Served over SMTP").exists(), 15)
        print(f"SMTP accept -> conversation: {time.monotonic() - started:.2f}s")
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{http}/login/") as r:
            assert r.status == 200 and b"Sign in" in r.read()
    finally:
        stop(proc)


def test_kill_9_during_a_burst_loses_nothing_and_duplicates_nothing(mailbox):
    """1,000 deliveries from 4 concurrent SMTP clients; the whole process tree gets SIGKILL midway and is
    restarted. Every message acknowledged with 250 must end up exactly once, in exactly one conversation."""
    http, smtp = free_port(), free_port()
    port = {"smtp": smtp}
    proc = start_serve(http, smtp)
    total, clients = 1000, 4
    acked: list[str] = []
    lock = threading.Lock()
    server_up = threading.Event()
    server_up.set()
    give_up = time.monotonic() + 400  # senders are bounded in time, whatever happens to the server

    def sender(index: int) -> None:
        # Like a real MTA's queue: each message is built once and the same bytes are retried.
        todo = [
            (mid, make_email(sender=f"burst{index}@example.test", subject=f"Burst {mid}", message_id=mid))
            for mid in (make_msgid(domain=f"c{index}.example.test") for _ in range(total // clients))
        ]
        conn = None
        while todo and time.monotonic() < give_up:
            server_up.wait(60)
            try:
                if conn is None:
                    conn = smtplib.SMTP("127.0.0.1", port["smtp"], timeout=10)
                mid, data = todo[0]
                conn.sendmail(f"burst{index}@example.test", ["support@acme.test"], data)
                with lock:
                    acked.append(mid)
                todo.pop(0)
            except (smtplib.SMTPException, OSError):
                # Not acknowledged: like a real MTA, try again later (possibly a duplicate delivery).
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.quit()

    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    try:
        assert wait_until(lambda: len(acked) >= 300, 180), f"only {len(acked)} acked before the kill"
        server_up.clear()
        stop(proc, signal.SIGKILL)
        killed_at = len(acked)
        proc = start_serve(http, smtp)
        server_up.set()
        for t in threads:
            t.join(timeout=300)
        assert len(acked) == total, f"only {len(acked)} of {total} acknowledged after the restart"
        assert wait_until(lambda: not RawMessage.objects.filter(state="pending").exists(), 240), (
            f"still pending: {list(RawMessage.objects.filter(state='pending').values_list('id', 'claimed_by', 'claimed_until')[:5])}"
        )
    finally:
        give_up = 0  # noqa: F841 - read by the sender threads through the closure
        server_up.set()
        stop(proc)
    counts: dict[str, int] = {}
    for mid, _conv in Message.objects.filter(kind="customer").values_list("message_id", "conversation_id"):
        counts[mid] = counts.get(mid, 0) + 1
    missing = [m for m in acked if counts.get(m.strip("<>"), 0) == 0]
    doubled = [m for m in acked if counts.get(m.strip("<>"), 0) > 1]
    print(
        f"killed after {killed_at} acks; raw rows {RawMessage.objects.count()}; "
        f"duplicates absorbed {RawMessage.objects.filter(state='duplicate').count()}"
    )
    quarantined = list(RawMessage.objects.filter(state="quarantined").values_list("reason", flat=True))
    assert not quarantined, quarantined
    assert not missing, f"{len(missing)} acknowledged messages lost"
    assert not doubled, f"{len(doubled)} messages stored twice"
    assert not RawMessage.objects.filter(state="quarantined").exists()
    burst = Conversation.objects.filter(subject__startswith="Burst ").count()
    assert burst == total, f"{burst} burst conversations for {total} messages"
