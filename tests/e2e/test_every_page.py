"""In the browser: every agent page (as an admin, and the pages a light agent sees) and every customer page
(help centre, community, portal, contact form, status page, rating page) works on a phone and passes axe.

At 390x844 (a phone held upright) each page must not scroll sideways, its primary navigation must be
reachable (visible, or behind a visible menu control that opens it), and its primary action (the composer's
Send on a conversation, the submit button on a form) must sit inside the screen's width once scrolled into
view. At 1280 px axe-core runs on each page and any serious or critical violation fails the test, listed.
The pages come from the demo workspace, so every page with an id has realistic content to show. One browser
context per role, one tab reused for every page: the whole tour takes about a minute."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from happydesk.accounts.portal import portal_token_issue
from happydesk.accounts.services import agent_create
from happydesk.community.models import Announcement, Topic
from happydesk.feedback.models import RatingRequest, ReviewSample
from happydesk.feedback.services import rating_token
from happydesk.inbox.models import Conversation, Mailbox, SavedView
from happydesk.kb.models import Article, Category, Collection
from happydesk.replies.models import SavedReply
from happydesk.runtime.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, load_demo
from happydesk.status.models import Component, Incident
from tests.e2e.test_status_page import axe_js, serious_violations  # noqa: F401 - the axe fixture
from tests.helpers import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
# Set HAPPYDESK_PHONE_SHOTS to a folder to keep a screenshot of every page at both widths (to look at them).
SHOTS = os.environ.get("HAPPYDESK_PHONE_SHOTS")
LIGHT_EMAIL, LIGHT_PASSWORD = "lee.light@acme.test", "light-agent-horse-battery"

# The primary navigation of each kind of page: the agent's top bar, the help centre's and the community's
# headers, the portal's and the status page's own links back.
AGENT_NAV = ".topbar nav"
HELP_NAV = ".kb-head-links"
COMMUNITY_NAV = ".cm-nav"


@dataclass(frozen=True)
class Check:
    path: str
    nav: str | None = None  # the primary navigation (CSS), when the page has one
    action: str | None = None  # the page's primary action (CSS, the first match)


SUBMIT = "main button[type=submit].primary, main button.primary"


def agent_pages(*, admin: bool) -> list[Check]:
    """What an agent opens, with an id from the demo for the pages about one thing."""
    open_conv = (
        Conversation.objects.filter(status="active", security_flag__isnull=True).order_by("-pk").first()
    )
    assert open_conv is not None
    pages = [
        Check("/inbox/", AGENT_NAV),
        Check(f"/c/{open_conv.number}/", AGENT_NAV, ".composer button[type=submit].primary"),
        Check("/replies/", AGENT_NAV),
        Check("/account/two-factor/", AGENT_NAV),
        Check("/account/tokens/", AGENT_NAV),
        Check("/account/time-zone/", AGENT_NAV, SUBMIT),
        Check("/reports/searches/", AGENT_NAV),
    ]
    if view := SavedView.objects.first():
        pages.append(Check(f"/inbox/?view={view.pk}", AGENT_NAV))
    if not admin:  # a light agent's pages; the knowledge base and moderation answer them 403
        return pages
    article = Article.objects.order_by("pk").first()
    incident = Incident.objects.order_by("-pk").first()
    component = Component.objects.order_by("pk").first()
    mailbox = Mailbox.objects.order_by("pk").first()
    reply = SavedReply.objects.order_by("pk").first()
    assert article and incident and component and mailbox and reply
    pages += [
        Check("/inbox/?status=closed", AGENT_NAV),
        Check("/replies/new/", AGENT_NAV, SUBMIT),
        Check(f"/replies/{reply.pk}/", AGENT_NAV, SUBMIT),
        Check("/kb/new/", AGENT_NAV, SUBMIT),
        Check("/kb/", AGENT_NAV),
        Check("/kb/structure/", AGENT_NAV),
        Check(f"/kb/articles/{article.pk}/", AGENT_NAV, SUBMIT),
        Check(f"/kb/articles/{article.pk}/history/", AGENT_NAV),
        Check("/ratings/", AGENT_NAV),
        Check("/staffing/", AGENT_NAV),
        Check("/reviews/", AGENT_NAV),
        Check("/reports/", AGENT_NAV),
        Check("/reports/settings/", AGENT_NAV),
        Check("/community/manage/", AGENT_NAV),
        Check("/community/manage/announcements/", AGENT_NAV),
        Check("/community/manage/announcements/new/", AGENT_NAV, SUBMIT),
        Check("/admin/status/", AGENT_NAV),
        Check("/admin/status/incidents/new/", AGENT_NAV, SUBMIT),
        Check(f"/admin/status/incidents/{incident.pk}/", AGENT_NAV),
        Check("/admin/status/settings/", AGENT_NAV, SUBMIT),
        Check("/admin/status/security/", AGENT_NAV),
        Check("/admin/status/maintenance/new/", AGENT_NAV, SUBMIT),
        Check("/admin/status/components/new/", AGENT_NAV, SUBMIT),
        Check(f"/admin/status/components/{component.pk}/", AGENT_NAV, SUBMIT),
        Check("/admin/mailboxes/", AGENT_NAV),
        Check("/admin/mailboxes/new/", AGENT_NAV, SUBMIT),
        Check(f"/admin/mailboxes/{mailbox.pk}/", AGENT_NAV, SUBMIT),
        Check("/admin/agents/", AGENT_NAV),
        Check("/admin/agents/new/", AGENT_NAV, SUBMIT),
        Check("/admin/quarantine/", AGENT_NAV),
        Check("/admin/audit/", AGENT_NAV),
        Check("/admin/search/synonyms/", AGENT_NAV),
        Check(f"/c/{open_conv.number}/customer/", AGENT_NAV, SUBMIT),
    ]
    if not open_conv.unverified:
        pages.append(
            Check(f"/admin/customers/{open_conv.customer_id}/erase/", AGENT_NAV, ".erase-form button")
        )
    if sample := ReviewSample.objects.order_by("pk").first():
        pages.append(Check(f"/reviews/samples/{sample.pk}/", AGENT_NAV))
    return pages


def customer_pages() -> list[Check]:
    """What a customer opens without signing in."""
    article = (
        Article.objects.filter(
            status=Article.Status.PUBLISHED, internal_only=False, category__collection__internal_only=False
        )
        .order_by("pk")
        .first()
    )
    collection = Collection.objects.filter(internal_only=False).order_by("pk").first()
    category = Category.objects.filter(collection__internal_only=False).order_by("pk").first()
    question = Topic.objects.filter(kind=Topic.Kind.QUESTION).order_by("pk").first()
    idea = Topic.objects.filter(kind=Topic.Kind.IDEA).order_by("pk").first()
    announcement = Announcement.objects.order_by("pk").first()
    incident = Incident.objects.order_by("-pk").first()
    mailbox = Mailbox.objects.order_by("pk").first()
    request = RatingRequest.objects.order_by("pk").first()
    assert article and collection and category and question and idea and announcement and incident
    assert mailbox and request
    return [
        Check("/help/", HELP_NAV, ".kb-hero button[type=submit], main button[type=submit]"),
        Check(article.get_absolute_url(), HELP_NAV),
        Check("/help/search/?q=password", HELP_NAV),
        Check(collection.get_absolute_url(), HELP_NAV),
        Check(category.get_absolute_url(), HELP_NAV),
        Check("/community/", COMMUNITY_NAV),
        Check("/community/search/?q=export", COMMUNITY_NAV),
        Check("/community/sign-in/", COMMUNITY_NAV, SUBMIT),
        Check(question.get_absolute_url(), COMMUNITY_NAV),
        Check("/community/ideas/", COMMUNITY_NAV),
        Check(idea.get_absolute_url(), COMMUNITY_NAV),
        Check("/community/known-issues/", COMMUNITY_NAV),
        Check("/community/announcements/", COMMUNITY_NAV),
        Check(announcement.get_absolute_url(), COMMUNITY_NAV),
        Check("/portal/", None, SUBMIT),
        Check(f"/contact/{mailbox.pk}/", None, SUBMIT),
        Check("/status/", None),
        Check("/status/history/", None),
        Check(f"/status/incidents/{incident.pk}/", None),
        Check("/status/subscribe/", None, SUBMIT),
        Check(f"/rate/{rating_token(request)}/great/", None, SUBMIT),
        Check("/login/", None, "button[type=submit]"),
    ]


PHONE_PROBLEMS = """([nav, action]) => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) {
    const clipped = (e) => {  // inside something that scrolls or clips on its own: not the page's width
      for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible') return true;
      }
      return false;
    };
    const all = [...document.querySelectorAll('body *')].filter((e) => {
      const r = e.getBoundingClientRect();
      return r.width && r.right > width + 1 && !e.closest('[hidden]');
    });
    const unclipped = all.filter((e) => !clipped(e));
    const wide = (unclipped.length ? unclipped : all).filter((e, _, all) => !all.includes(e.parentElement)).slice(0, 4)
      .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
        + ' right=' + Math.round(e.getBoundingClientRect().right));
    problems.push(`scrolls sideways: ${document.documentElement.scrollWidth}px wide (${wide.join(', ')})`);
  }
  return problems;
}"""


def visible_in_width(page, locator, *, scroll: bool = True) -> bool:  # type: ignore[no-untyped-def]
    """Shown, and inside the screen's width (scrolled into view first, unless `scroll` is off: a link
    that shows only once its hidden-scrollbar strip is swiped sideways is not reachable)."""
    if not locator.count() or not locator.is_visible():
        return False
    if scroll:
        locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    return bool(box) and box["x"] >= -1 and box["x"] + box["width"] <= width + 1 and box["width"] > 0


def nav_reachable(page, nav: str) -> bool:  # type: ignore[no-untyped-def]
    """Every link of the navigation on screen, either at once or after opening the visible menu control."""
    page.evaluate("window.scrollTo(0, 0)")
    links = page.locator(f"{nav} a")
    if links.count() and all(
        visible_in_width(page, links.nth(i), scroll=False) for i in range(links.count())
    ):
        return True
    menu = page.locator(f"summary:has(+ {nav}), details:has({nav}) > summary, [aria-controls]").first
    if not menu.count() or not visible_in_width(page, menu):
        return False
    menu.click()
    ok = links.count() > 0 and all(
        visible_in_width(page, links.nth(i), scroll=False) for i in range(links.count())
    )
    menu.click()  # closed again, as found
    return ok


def tour(page, base: str, checks: list[Check], axe_js: Path, who: str) -> list[str]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Open each page on a phone, then on a desk; what is wrong, one line per problem."""
    problems: list[str] = []
    for check in checks:
        where = f"{who} {check.path}"
        page.set_viewport_size(PHONE)
        response = page.goto(base + check.path)
        if response is None or response.status >= 400:
            problems.append(f"{where}: answered {response and response.status}")
            continue
        problems += [f"{where}: {p}" for p in page.evaluate(PHONE_PROBLEMS, [check.nav, check.action])]
        if check.nav and not nav_reachable(page, check.nav):
            problems.append(f"{where}: the navigation ({check.nav}) is not reachable at 390 px")
        if check.action and not visible_in_width(page, page.locator(check.action).first):
            problems.append(f"{where}: the primary action ({check.action}) is not on screen at 390 px")
        if SHOTS:
            name = f"{who}{check.path}".replace("/", "_").replace("?", "_")[:80]
            page.screenshot(path=f"{SHOTS}/{name}-390.png", full_page=True)
        page.set_viewport_size(DESK)
        # A desk is no excuse either: the inbox's list once ran 24 px past 1280 with long previews.
        problems += [
            f"{where} at 1280 px: {p}" for p in page.evaluate(PHONE_PROBLEMS, [check.nav, check.action])
        ]
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/{name}-1280.png", full_page=True)
        problems += [f"{where}: axe {v}" for v in serious_violations(page, axe_js)]
    return problems


def test_every_page_works_on_a_phone_and_passes_axe(browser, live_server, axe_js):  # noqa: F811
    load_demo(conversations=40)
    agent_create(email=LIGHT_EMAIL, name="Lee Light", password=LIGHT_PASSWORD, role="light")
    customer = (
        Conversation.objects.filter(status="active", security_flag__isnull=True)
        .order_by("-pk")
        .first()
        .customer
    )
    issued = portal_token_issue(address=customer.primary_email)
    assert issued is not None
    base = live_server.url
    problems: list[str] = []

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, base, DEMO_ADMIN_EMAIL, DEMO_PASSWORD)
    problems += tour(page, base, agent_pages(admin=True), axe_js, "admin")
    context.close()

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, base, LIGHT_EMAIL, LIGHT_PASSWORD)
    problems += tour(page, base, agent_pages(admin=False), axe_js, "light agent")
    context.close()

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    problems += tour(page, base, customer_pages(), axe_js, "visitor")
    page.goto(f"{base}/portal/login/{issued[1]}/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/portal/")
    signed_in = [Check("/portal/", None)]
    if link := page.locator("main a[href*='/portal/c/']").first.get_attribute("href"):
        signed_in.append(Check(link, None, SUBMIT))
    problems += tour(page, base, signed_in, axe_js, "customer")
    context.close()

    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
