"""Every browser test runs with the Content-Security-Policy on and fails on any violation of it.

`CspWatch` hooks every browser context a test makes (pytest-playwright's `page`/`context`, and
`browser.new_context()` / `browser.new_page()` called by the test itself): a script Chromium runs in each
document before the page's own listens for `securitypolicyviolation` and hands each one to Python, and
console errors naming the Content Security Policy (Chromium's own line for each blocked load or script)
are kept as well. At the end of the test the fixture fails it, listing them (tests/e2e/conftest.py).

The one place not watched is the sandboxed frame of a formatted email: refusing the remote content an
email asks for is that frame's job (its own policy says so), it runs no script to report with, and all
its console lines come from about:srcdoc, so none of them is counted (a refusal by the page's policy in
there neither). What the frame must still show (the styles and inline images of an email) is checked by
tests/e2e/test_csp.py instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Runs in every frame of every page before the page's scripts (Playwright's init script, which a page's
# own policy does not govern). Capture on document: violations of elements in shadow roots reach it too.
LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  const report = window.__happydeskCspViolation;
  if (typeof report !== "function") return;
  report({
    directive: e.effectiveDirective || e.violatedDirective,
    blocked: e.blockedURI,
    source: e.sourceFile,
    line: e.lineNumber,
    sample: e.sample,
    disposition: e.disposition,
    page: location.href,
  });
}, true);
"""

CONSOLE_MARK = "Content Security Policy"
EMAIL_FRAME_URL = "about:srcdoc"


@dataclass
class CspWatch:
    """The violations seen in the browser during one test, from every context it made."""

    violations: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def watch(self, context: Any) -> Any:
        """Hook one browser context (once); returns it."""
        if any(c is context for c in self.contexts):
            return context
        self.contexts.append(context)
        context.expose_binding("__happydeskCspViolation", self._on_violation)
        context.add_init_script(LISTENER)
        context.on("console", self._on_console)
        return context

    def _on_violation(self, source: dict, report: dict) -> None:
        self.violations.append(
            "{page}: {disposition} {directive} blocked {blocked!r} ({source}:{line}) {sample!r}".format(
                **{k: report.get(k, "") for k in ("page", "disposition", "directive", "blocked", "source")},
                line=report.get("line", ""),
                sample=report.get("sample", ""),
            )
        )

    def _on_console(self, message: Any) -> None:
        if message.type != "error" or CONSOLE_MARK not in message.text:
            return
        where = (message.location or {}).get("url", "")
        if where == EMAIL_FRAME_URL:  # the email frame refusing what an email asks for: its purpose
            return
        self.violations.append(f"console at {where or '?'}: {message.text}")

    def take(self) -> list[str]:
        """The violations so far (each listed once), forgotten from here on."""
        seen = list(dict.fromkeys(self.violations))
        self.violations.clear()
        return seen

    def failure(self) -> str | None:
        """The message a test fails with, or None when the browser saw no violation."""
        found = self.take()
        if not found:
            return None
        lines = "\n  ".join(found)
        return f"Content-Security-Policy violations in the browser ({len(found)}):\n  {lines}"
