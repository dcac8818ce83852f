"""In the browser: the embeddable widget on a company's own page, served from another origin than
Happydesk. A customer searches, gets a suggestion and reads the article inside the panel; writes to us
through the widget (with how they feel); the host page's hostile CSS neither breaks the widget nor gets
changed by it; an open incident shows as a banner. Deflection events are recorded for the visit."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone

from happydesk.inbox.models import Conversation
from happydesk.search.models import SuggestionSession
from tests.helpers import SHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".cache" / "axe" / "4.14.1" / "node_modules" / "axe-core" / "axe.min.js"

CALM_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Sensors: plant monitoring</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { margin: 0; font: 17px/1.6 Georgia, "Times New Roman", serif; color: #2b2b2b; background: #fbf8f3; }
  header { display: flex; align-items: center; gap: 2rem; padding: 1.1rem 3rem; background: #173b2f; color: #f3efe6; }
  header strong { font: 700 1.25rem/1 Georgia, serif; letter-spacing: .02em; }
  header nav a { color: #cfe3d6; margin-right: 1.4rem; text-decoration: none; font-size: .95rem; }
  main { max-width: 40rem; padding: 3rem; }
  h1 { font-size: 2.3rem; line-height: 1.2; margin: 0 0 1rem; color: #173b2f; }
  .lead { font-size: 1.2rem; color: #4a4a4a; }
  .cards { display: flex; gap: 1rem; margin-top: 2rem; }
  .card { flex: 1; padding: 1rem 1.2rem; background: #fff; border: 1px solid #e6dfd2; border-radius: 6px; font-size: .95rem; }
  .card h2 { font-size: 1.05rem; margin: 0 0 .3rem; color: #173b2f; }
</style></head>
<body>
<header><strong>Acme Sensors</strong><nav><a href="#">Product</a><a href="#">Pricing</a><a href="#">Docs</a></nav></header>
<main>
  <h1>Know how your plants are doing, from anywhere.</h1>
  <p class="lead">Wireless soil and climate sensors for greenhouses, with alerts before anything wilts.</p>
  <div class="cards">
    <section class="card"><h2>Live readings</h2><p>Moisture, light and temperature every five minutes.</p></section>
    <section class="card"><h2>Smart alerts</h2><p>A text or an email when a bed needs water.</p></section>
  </div>
</main>
__WIDGET__
</body></html>"""

HOSTILE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hostile host</title>
<style>
  * { all: unset; color: red !important; font-size: 40px !important; font-family: "Comic Sans MS", cursive !important; }
  head, style, script, title { display: none !important; }
  p, h1, main, div { display: block; }
  button { display: none !important; }
  div, span, section, aside, ul, li { position: static !important; z-index: 0 !important; }
  happydesk-widget { display: none !important; opacity: 0 !important; visibility: hidden !important; }
  :root { --accent: hotpink; }
</style></head>
<body>
<main>
  <h1 id="title">A page that styles everything</h1>
  <p id="probe">Every element here is red and large, <a id="link" href="#">links too</a>.</p>
  <button id="own-button" type="button">Hidden by the page itself</button>
</main>
__WIDGET__
</body></html>"""

PROBE_STYLES = """() => {
  const props = ["color", "font-size", "font-family", "display", "margin-top", "padding-top", "line-height",
    "background-color", "position", "z-index", "visibility", "box-sizing", "text-decoration-line"];
  const out = {};
  for (const sel of ["html", "body", "main", "#title", "#probe", "#link", "#own-button"]) {
    const cs = getComputedStyle(document.querySelector(sel));
    out[sel] = Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)]));
  }
  out.sheets = document.styleSheets.length;
  out.head = document.head.innerHTML;
  out.inline = [document.documentElement.getAttribute("style"), document.body.getAttribute("style")];
  out.bodyTags = Array.from(document.body.children).map((e) => e.localName);
  return out;
}"""

SETTLED = """() => {
  const host = document.querySelector("happydesk-widget");
  const running = [...document.getAnimations(), ...(host && host.shadowRoot ? host.shadowRoot.getAnimations() : [])];
  return running.every((a) => a.playState !== "running");
}"""


def settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until no transition or animation runs on the page or in the widget (not a fixed time)."""
    page.wait_for_function(SETTLED, timeout=5000)


WIDGET_STYLES = """() => {
  const root = document.querySelector("happydesk-widget").shadowRoot;
  const cs = (el) => getComputedStyle(el);
  const launcher = root.querySelector(".launcher");
  const host = cs(document.querySelector("happydesk-widget"));
  return {
    launcher: {fontSize: cs(launcher).fontSize, color: cs(launcher).color, background: cs(launcher).backgroundColor,
               display: cs(launcher).display, fontFamily: cs(launcher).fontFamily},
    host: {display: host.display, visibility: host.visibility, opacity: host.opacity, position: host.position,
           zIndex: host.zIndex},
  };
}"""


@pytest.fixture
def host_site():  # type: ignore[no-untyped-def]
    """A company's own site: plain HTML pages on 127.0.0.1, a different origin from Happydesk."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            body = pages.get(self.path.split("?", 1)[0])
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", pages=pages)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def site(host_site, live_server, mailbox, settings):  # type: ignore[no-untyped-def]
    """The calm and the hostile page, each with the one script tag pointing at Happydesk."""
    settings.BASE_URL = live_server.url  # absolute links in the JSON point at this test's server
    tag = f'<script src="{live_server.url}/widget.js" data-mailbox="{mailbox.pk}" async></script>'
    host_site.pages["/"] = CALM_PAGE.replace("__WIDGET__", tag)
    host_site.pages["/hostile.html"] = HOSTILE_PAGE.replace("__WIDGET__", tag)
    host_site.pages["/hostile-bare.html"] = HOSTILE_PAGE.replace("__WIDGET__", "")
    host_site.tag = tag
    assert not host_site.url.startswith(live_server.url)
    return host_site


@pytest.fixture
def kb(agent):  # type: ignore[no-untyped-def]
    from happydesk.kb.models import Category
    from happydesk.kb.services import article_save, category_create, collection_create

    guides = collection_create(name="Using Acme Sensors")
    account = category_create(collection=guides, name="Account & sign-in")
    data = category_create(collection=guides, name="Your data")
    faq = category_create(collection=guides, name="Questions", flavour=Category.Flavour.FAQ)
    two_step = article_save(
        title="Turn on two-step sign-in",
        body="Open **Settings → Security** and choose *Turn on two-step sign-in*. "
        "Scan the code with an authenticator app and type the six digits it shows.",
        author=agent,
        category=account,
        publish=True,
    )
    reset = article_save(
        title="Reset your password",
        body=(
            "If you forgot your password, you can choose a new one in a minute.\n\n"
            "1. Open the sign-in page and click **Forgot password?**\n"
            "2. Enter the email address you sign in with.\n"
            "3. Open the email we send you and choose a new password.\n\n"
            "The link in the email works for one hour. If it has expired, ask for a new one.\n\n"
            f"For extra safety, [turn on two-step sign-in](/help/articles/{two_step.pk}/)."
        ),
        author=agent,
        category=account,
        publish=True,
    )
    export = article_save(
        title="Export your readings to CSV",
        body="Choose **Readings → Export**, pick the sensors and the dates, and download the CSV file.",
        author=agent,
        category=data,
        publish=True,
    )
    article_save(
        title="What makes a good password",
        body="Use at least 12 characters. A few unrelated words make a password that is long and easy to remember.",
        author=agent,
        category=account,
        publish=True,
    )
    article_save(
        title="How often should I change my password?",
        body="Only when you think someone else knows it; changing a strong password often does not help.",
        author=agent,
        category=faq,
        publish=True,
    )
    trial = article_save(
        title="Is there a free trial?", body="Yes: **30 days**, no card needed.", author=agent, category=faq,
        publish=True,
    )  # fmt: skip
    return SimpleNamespace(reset=reset, two_step=two_step, export=export, trial=trial)


def widget_ready(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the launcher is there and the mailbox's settings have arrived."""
    page.get_by_role("button", name=re.compile(r"^Help")).wait_for()
    page.wait_for_function(
        "() => { const h = document.querySelector('happydesk-widget');"
        " return h && !h.shadowRoot.querySelector('#hd-tab-contact').hidden; }"
    )


def shadow_focus(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "() => { const a = document.querySelector('happydesk-widget').shadowRoot.activeElement;"
        " return a ? (a.id || a.className) : ''; }"
    )


def wait_until(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def serious_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "async () => (await axe.run({include: [['happydesk-widget']]}, {resultTypes: ['violations']}))"
        ".violations.filter((v) => ['serious', 'critical'].includes(v.impact))"
        ".map((v) => v.id + ': ' + v.help + ' ' + JSON.stringify(v.nodes.map((n) => n.target)))"
    )


def search_and_read(page, kb) -> None:  # type: ignore[no-untyped-def]
    """Type a prefix of an article's title, get the suggestion, open it, read it in the panel."""
    search = page.get_by_label("Search for answers")
    search.press_sequentially("passw", delay=40)
    suggestion = page.get_by_role("option").filter(has_text="Reset your password")
    suggestion.wait_for()
    assert "Article" in suggestion.inner_text()
    suggestion.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("The link in the email works for one hour.").wait_for()
    assert dialog.get_by_role("heading", name="Reset your password").is_visible()


def test_search_suggest_and_read_article_in_panel(page, site, live_server, mailbox, agent, kb):
    from happydesk.community.services import announcement_save

    announcement_save(
        title="New: alerts by text message",
        body="Get a text when a bed needs water.",
        published_at=timezone.now() - timedelta(days=2),
        author=agent,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 760})
    page.goto(site.url + "/")
    widget_ready(page)

    # What's new since the last visit: a badge on the launcher until the panel opens.
    launcher = page.get_by_role("button", name=re.compile(r"^Help"))
    assert launcher.get_attribute("aria-expanded") == "false"
    assert "1 new announcement" in launcher.inner_text() or "1" in launcher.inner_text()
    launcher.click()
    dialog = page.get_by_role("dialog", name="Help from Acme Support")
    dialog.wait_for()
    assert launcher.get_attribute("aria-expanded") == "true"
    assert shadow_focus(page) == "hd-q"  # focus moved into the dialog, onto the search box
    seen = page.evaluate(f"() => localStorage.getItem('happydesk:{mailbox.pk}:announcements-seen')")
    assert seen and seen[:4] == str(timezone.now().year)

    # Suggestions as you type, with kind labels and highlighted snippets; arrows move through them.
    search = page.get_by_label("Search for answers")
    search.press_sequentially("passw", delay=40)
    suggestion = page.get_by_role("option").filter(has_text="Reset your password")
    suggestion.wait_for()
    assert "Article" in suggestion.inner_text()
    assert suggestion.locator("mark").count() >= 1
    search.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant") == "hd-opt-0"
    page.mouse.move(10, 10)
    page.get_by_role("option").nth(2).wait_for()
    settled(page)  # the panel's fade-in is over: the picture shows it at rest
    page.screenshot(path=str(SHOTS / "widget-search.png"))

    # Click it: the article is read inside the panel, with a way back and a link to the full page.
    suggestion.click()
    dialog.get_by_text("The link in the email works for one hour.").wait_for()
    assert dialog.get_by_role("heading", name="Reset your password").is_visible()
    assert dialog.get_by_role("listitem").filter(has_text="Forgot password?").count() == 1
    new_tab = dialog.get_by_role("link", name="Open in a new tab")
    assert (
        new_tab.get_attribute("href") == f"{live_server.url}/help/articles/{kb.reset.pk}-reset-your-password/"
    )
    assert new_tab.get_attribute("target") == "_blank"
    page.screenshot(path=str(SHOTS / "widget-article.png"))

    # A link to another article inside the article opens that one in the panel too.
    dialog.get_by_role("link", name="turn on two-step sign-in").click()
    dialog.get_by_text("Scan the code with an authenticator app").wait_for()
    dialog.get_by_role("button", name="Back").click()
    assert shadow_focus(page) == "hd-q"
    assert page.get_by_role("option").filter(has_text="Reset your password").is_visible()

    # Keyboard: back on the list, the article just read is still highlighted and Enter opens it again;
    # Esc closes the panel and focus returns to the launcher.
    highlighted = search.get_attribute("aria-activedescendant")
    assert "Reset your password" in page.locator(f"#{highlighted}").inner_text()
    search.press("Enter")
    dialog.get_by_text("The link in the email works for one hour.").wait_for()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert shadow_focus(page) == "launcher"

    # Deflection: this visit saw suggestions and opened one (and has not written to us).
    visit = wait_until(
        lambda: SuggestionSession.objects.filter(
            mailbox=mailbox, source="widget", opened_at__isnull=False
        ).first()
    )
    assert visit.shown_at is not None and visit.submitted_at is None

    # What's new lists the announcement; on the next visit there is nothing new and no badge.
    launcher.click()
    dialog.get_by_role("tab", name=re.compile("What's new")).click()
    assert dialog.get_by_role("link", name="New: alerts by text message").is_visible()
    page.reload()
    widget_ready(page)
    assert launcher.inner_text().strip() == "Help"
    launcher.click()
    assert not dialog.get_by_role("tab", name=re.compile("What's new")).is_visible()

    # The open panel passes axe-core (which checks inside open shadow roots) with no serious issues,
    # on the search tab and on the contact form.
    if AXE.is_file():
        page.add_script_tag(path=str(AXE))
        assert serious_violations(page) == []
        dialog.get_by_role("tab", name="Write to us").click()
        dialog.get_by_label("Your name").wait_for()
        assert serious_violations(page) == []


def test_contact_form_in_widget_with_feeling(page, site, live_server, mailbox, agent, smtp_sink, kb):
    mailbox.form_topics = ["Billing", "A bug", "Something else"]
    mailbox.auto_reply_enabled = False
    mailbox.save()
    page.goto(site.url + "/hostile.html")
    widget_ready(page)
    page.get_by_role("button", name=re.compile(r"^Help")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("tab", name="Write to us").click()

    dialog.get_by_label("Your name").fill("Riley Rivera")
    dialog.get_by_label("Email").fill("riley@")  # not an address yet: the server says so
    dialog.get_by_label("What's this about?").select_option("A bug")
    dialog.get_by_label("Subject").fill("I can't reset my password")
    dialog.get_by_label("Message").fill("The reset email never arrives, I tried three times today.")
    # While they write, answers that might help appear above the send button.
    dialog.get_by_text("These might answer your question").wait_for()
    assert dialog.get_by_role("button", name="Reset your password").is_visible()
    dialog.get_by_label("Worried").check()
    dialog.get_by_role("button", name="Send message").scroll_into_view_if_needed()
    page.mouse.move(5, 5)
    dialog.screenshot(path=str(SHOTS / "widget-contact.png"))
    dialog.get_by_role("button", name="Send message").click()

    error = dialog.get_by_text("Enter a valid email address.")
    error.wait_for()
    assert dialog.get_by_label("Email").get_attribute("aria-invalid") == "true"
    assert shadow_focus(page) == "hd-f-email"
    assert not Conversation.objects.exists()

    dialog.get_by_label("Email").fill("riley@example.test")
    dialog.get_by_role("button", name="Send message").click()
    dialog.get_by_text("Thanks, we've got it").wait_for()
    # No link to the conversation: whoever typed the address may not own it; the way in goes by email.
    dialog.get_by_text("please confirm there that the message is yours").wait_for()
    assert dialog.get_by_role("link", name="Follow your conversation").count() == 0

    c = Conversation.objects.get()
    assert (c.channel, c.feeling, c.topic, c.subject) == (
        "widget",
        "worried",
        "A bug",
        "I can't reset my password",
    )
    assert (c.customer.name, c.customer.primary_email) == ("Riley Rivera", "riley@example.test")
    assert f"#{c.number}" in dialog.inner_text()
    # The same visit saw suggestions and then wrote to us anyway: not deflected.
    visit = SuggestionSession.objects.get(mailbox=mailbox)
    assert visit.source == "widget" and visit.shown_at is not None and visit.submitted_at is not None


def test_host_page_styles_untouched_and_widget_unbroken(page, site, live_server, mailbox, kb):
    page.goto(site.url + "/hostile-bare.html")
    before = page.evaluate(PROBE_STYLES)
    assert before["#probe"]["color"] == "rgb(255, 0, 0)" and before["#probe"]["font-size"] == "40px"

    page.evaluate(
        "([src, mailbox]) => { const s = document.createElement('script'); s.src = src;"
        " s.dataset.mailbox = mailbox; s.async = true; document.body.append(s); }",
        [f"{live_server.url}/widget.js", str(mailbox.pk)],
    )
    widget_ready(page)
    launcher = page.get_by_role("button", name=re.compile(r"^Help"))
    launcher.click()
    page.get_by_role("dialog").wait_for()

    after = page.evaluate(PROBE_STYLES)
    assert after["bodyTags"] == [*before["bodyTags"], "script", "happydesk-widget"]
    del before["bodyTags"], after["bodyTags"]
    assert after == before  # no stylesheet, inline style or computed style of the page changed

    # The page hides every button, resets everything and even tries to hide the widget: it still shows,
    # in its own font and size, at the bottom right, above the page.
    assert launcher.is_visible()
    box = launcher.bounding_box()
    viewport = page.viewport_size
    assert (
        box["x"] + box["width"] > viewport["width"] - 40
        and box["y"] + box["height"] > viewport["height"] - 40
    )
    page.mouse.move(5, 5)  # not hovering: the launcher in its resting colour
    settled(page)  # the hover transition is over
    styles = page.evaluate(WIDGET_STYLES)
    assert styles["launcher"]["fontSize"] == "15px"
    assert styles["launcher"]["color"] == "rgb(255, 255, 255)"
    assert styles["launcher"]["background"] == "rgb(47, 111, 222)"
    assert "Comic" not in styles["launcher"]["fontFamily"]
    assert styles["host"] == {
        "display": "block", "visibility": "visible", "opacity": "1", "position": "fixed", "zIndex": "2147483000",
    }  # fmt: skip
    # And it works there.
    search_and_read(page, kb)


def test_open_incident_shows_a_banner(page, site, live_server, mailbox):
    from happydesk.status.services import incident_declare

    incident = incident_declare(
        title="Sensor readings arrive late",
        body="Some readings arrive up to 15 minutes late. Nothing is lost.",
        notify=False,
    )
    page.set_viewport_size({"width": 1280, "height": 760})
    page.goto(site.url + "/")
    widget_ready(page)
    page.get_by_role("button", name=re.compile(r"^Help")).click()
    dialog = page.get_by_role("dialog")
    banner = dialog.get_by_role("status").filter(has_text="Sensor readings arrive late")
    banner.wait_for()
    assert "Investigating" in banner.inner_text()
    link = banner.get_by_role("link", name="Sensor readings arrive late")
    assert link.get_attribute("href") == f"{live_server.url}/status/incidents/{incident.pk}/"
    assert (
        dialog.get_by_role("link", name="System status").get_attribute("href") == f"{live_server.url}/status/"
    )
    assert dialog.get_by_role("link", name="Help centre").get_attribute("href") == f"{live_server.url}/help/"
    page.mouse.move(10, 10)
    settled(page)
    page.screenshot(path=str(SHOTS / "widget-incident.png"))

    # On a phone the panel takes the whole width.
    page.set_viewport_size({"width": 375, "height": 700})
    box = dialog.bounding_box()
    assert box["x"] == 0 and box["width"] == 375


def test_the_widget_works_on_a_host_page_with_a_strict_policy(page, site, live_server, mailbox, agent, kb):
    """A company whose own site has a strict Content-Security-Policy needs to allow only our origin for
    scripts, connections and images: the widget adds no inline style or script the page would refuse
    (the suite fails on any violation), and a table's alignment survives, set through the CSSOM."""
    from happydesk.kb.services import article_save

    article_save(
        title="Plans and prices",
        body="| Plan | Price |\n|:-----|------:|\n| Basic | $5 |\n| Greenhouse | $19 |\n",
        author=agent,
        category=kb.reset.category,
        publish=True,
    )
    policy = (
        f"default-src 'none'; script-src {live_server.url}; connect-src {live_server.url}; "
        f"img-src 'self' data: {live_server.url}; style-src 'self'; base-uri 'none'; form-action 'none'"
    )
    host = CALM_PAGE.replace("<style>", "<!--").replace("</style>", "-->")  # the page's own CSS is inline
    host = host.replace("<head>", f'<head><meta http-equiv="Content-Security-Policy" content="{policy}">')
    site.pages["/strict.html"] = host.replace("__WIDGET__", site.tag)
    page.goto(site.url + "/strict.html")
    widget_ready(page)
    page.get_by_role("button", name=re.compile(r"^Help")).click()
    search_and_read(page, kb)

    page.get_by_role("button", name="Back").click()
    search = page.get_by_label("Search for answers")
    search.fill("")
    search.press_sequentially("plans", delay=40)
    page.get_by_role("option").filter(has_text="Plans and prices").click()
    price = page.get_by_role("dialog").get_by_role("cell", name="$19")
    price.wait_for()
    assert price.evaluate("td => getComputedStyle(td).textAlign") == "right"
    assert page.evaluate("() => document.querySelector('happydesk-widget').style.position") == "fixed"
