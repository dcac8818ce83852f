"""Shared test setup: Debian's chromium for Playwright, browser tests last, real servers as fixtures."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the main thread; the ORM must still work in those tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # type: ignore[no-untyped-def]
    """pytest-playwright's browser, launched from Debian's chromium (never `playwright install`)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    # Once the session-scoped sync browser exists, asyncio tests cannot start their own loop: run
    # browser tests last.
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


def _fresh_asgiref_executor_in_child() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


os.register_at_fork(after_in_child=_fresh_asgiref_executor_in_child)


def _commit_hooks_as_in_production() -> None:
    """Inside a test's rolled-back transaction nothing commits, so Django would never run on_commit
    callbacks (the core's events are dispatched that way). Run them when the code under test leaves its
    own outermost atomic block, or at once outside one, exactly where a real commit would run them."""
    from django.db import transaction
    from django.db.backends.base.base import BaseDatabaseWrapper

    def only_test_atomics(connection) -> bool:  # type: ignore[no-untyped-def]
        return connection.in_atomic_block and all(
            getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
        )

    def run_pending(connection) -> None:  # type: ignore[no-untyped-def]
        while connection.run_on_commit:
            _, func, _ = connection.run_on_commit.pop(0)
            func()

    atomic_exit = transaction.Atomic.__exit__

    def exit_and_commit(self, exc_type, exc_value, traceback):  # type: ignore[no-untyped-def]
        atomic_exit(self, exc_type, exc_value, traceback)
        connection = transaction.get_connection(self.using)
        own = not getattr(self, "_from_testcase", False)
        if exc_type is None and own and only_test_atomics(connection) and not connection.needs_rollback:
            run_pending(connection)

    on_commit = BaseDatabaseWrapper.on_commit

    def on_commit_now_outside_code_atomics(self, func, robust=False):  # type: ignore[no-untyped-def]
        if only_test_atomics(self):
            func()  # as in autocommit mode: nothing of the code's is open
            return
        on_commit(self, func, robust)

    transaction.Atomic.__exit__ = exit_and_commit  # type: ignore[method-assign]
    BaseDatabaseWrapper.on_commit = on_commit_now_outside_code_atomics  # type: ignore[method-assign]


_commit_hooks_as_in_production()


@pytest.fixture(autouse=True)
def auto_reply_unheld(settings):  # type: ignore[no-untyped-def]
    """Auto-replies wait 20 s in the outbox in production (mail.autoreply.hold), so an incident reply
    can replace them; tests of what they say send them at once. Tests of the hold set it themselves."""
    settings.HAPPYDESK_AUTO_REPLY_HOLD_SECONDS = 0


@pytest.fixture(autouse=True)
def no_undo_hold(settings):  # type: ignore[no-untyped-def]
    """Replies leave at once in tests (most send right after replying); the undo-send tests set a hold."""
    settings.HAPPYDESK_UNDO_SEND_SECONDS = 0


@pytest.fixture(autouse=True)
def receiver_errors():  # type: ignore[no-untyped-def]
    """A receiver that fails is only logged in production (the others still run); in a test it fails
    the test. A test of that robustness clears the list it gets."""
    import logging

    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.ERROR)
    logger = logging.getLogger("happydesk.inbox.events")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    if records:
        pytest.fail("event receiver failed: " + "; ".join(r.getMessage() for r in records), pytrace=False)


from tests.shared_fixtures import *  # noqa: E402,F403 - shared fixtures
