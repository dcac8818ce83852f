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

from tests.shared_fixtures import *  # noqa: E402,F403 - shared fixtures
