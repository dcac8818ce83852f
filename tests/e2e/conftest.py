"""Browser tests: every one runs under the site's Content-Security-Policy and fails on any violation."""

from __future__ import annotations

import pytest

from tests.csp_watch import CspWatch


@pytest.fixture(autouse=True)
def csp_violations(monkeypatch):  # type: ignore[no-untyped-def]
    """Watch every browser context the test makes (pytest-playwright's `page` and `context`, and the
    test's own `browser.new_context()` / `browser.new_page()`); fail the test, listing them, if the
    browser reported any Content-Security-Policy violation. Set up before those fixtures (autouse), so
    it is torn down after they closed their contexts and every report has arrived."""
    from playwright.sync_api import Browser

    watch = CspWatch()
    new_context, new_page = Browser.new_context, Browser.new_page

    def watched_context(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return watch.watch(new_context(self, *args, **kwargs))

    def watched_page(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        page = new_page(self, *args, **kwargs)  # at about:blank: the hooks apply from its first load on
        watch.watch(page.context)
        return page

    monkeypatch.setattr(Browser, "new_context", watched_context)
    monkeypatch.setattr(Browser, "new_page", watched_page)
    yield watch
    failure = watch.failure()
    if failure:
        pytest.fail(failure, pytrace=False)
