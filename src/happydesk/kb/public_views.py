"""The public help centre under /help/: thin views over kb.selectors, one service call per POST.

Customers see published articles in public collections only; anything else answers 404, never a hint
that it exists. Signed-in agents also read internal articles here, marked as such.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.views.decorators.http import require_POST

from happydesk.kb import selectors, services
from happydesk.kb.forms import FeedbackForm
from happydesk.web.markdown import description, render_markdown

FEEDBACK_SESSION_KEY = "kb_feedback"


def _is_agent(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and request.user.is_active)


def _page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """Render with what every help page shows: the search box, the contact link, canonical URLs."""
    return render(
        request,
        template,
        {
            "is_agent": _is_agent(request),
            "contact_mailbox_id": selectors.contact_mailbox_id(),
            "q": request.GET.get("q", "").strip()[:200],
            "community_url": _community_url(),
            **context,
        },
    )


def _canonical(path: str) -> str:
    return settings.BASE_URL + path


def help_home(request: HttpRequest) -> HttpResponse:
    internal = _is_agent(request)
    return _page(
        request,
        "kb/help_home.html",
        {
            "collections": selectors.reader_collections(include_internal=internal),
            "popular": selectors.popular_articles(include_internal=internal),
            "canonical": _canonical("/help/"),
        },
    )


def help_search(request: HttpRequest) -> HttpResponse:
    """One search over the help centre, the community, ideas and announcements (search/content.py);
    agents also find internal articles."""
    from happydesk.search.services import search_record

    q = request.GET.get("q", "").strip()[:200]
    agent = _is_agent(request)
    found = selectors.help_search(q, internal=agent) if q else None
    if found is not None and not agent:  # what customers look for (and miss); agents' searches don't count
        search_record(q=q, results=len(found.results))
    return _page(
        request,
        "kb/help_search.html",
        {
            "results": found.results if found else [],
            "corrected": found.corrected if found else "",
            "searched": bool(q),
            "canonical": _canonical("/help/search/"),
        },
    )


def _community_url() -> str:
    """The community's home, where a question nobody has written up yet can be asked (if installed)."""
    from django.apps import apps
    from django.urls import reverse

    return reverse("community_home") if apps.is_installed("happydesk.community") else ""


def collection(request: HttpRequest, collection_slug: str) -> HttpResponse:
    internal = _is_agent(request)
    found = selectors.collection_for_reader(collection_slug, include_internal=internal)
    if found is None:
        raise Http404("No such collection")
    sections = selectors.collection_sections(found, include_internal=internal)
    if not sections:
        raise Http404("No such collection")
    return _page(
        request,
        "kb/help_collection.html",
        {"collection": found, "sections": sections, "canonical": _canonical(found.get_absolute_url())},
    )


def category(request: HttpRequest, collection_slug: str, category_slug: str) -> HttpResponse:
    internal = _is_agent(request)
    found = selectors.category_for_reader(collection_slug, category_slug, include_internal=internal)
    if found is None:
        raise Http404("No such category")
    articles = list(selectors.category_articles(found, include_internal=internal))
    if not articles:
        raise Http404("No such category")
    if found.is_faq:
        items = [(a, render_markdown(a.body)) for a in articles]
    else:
        items = [(a, description(a.body)) for a in articles]
    return _page(
        request,
        "kb/help_category.html",
        {"category": found, "items": items, "canonical": _canonical(found.get_absolute_url())},
    )


def article(request: HttpRequest, article_id: int, slug: str) -> HttpResponse:
    internal = _is_agent(request)
    found = selectors.article_for_reader(article_id, include_internal=internal)
    if found is None:
        raise Http404("No such article")
    if slug != found.slug:  # an old title's URL: send readers and crawlers to the current one
        return redirect(found.get_absolute_url(), permanent=True)
    if not internal:
        services.article_view_record(article_id=found.pk)  # agents reading don't count as customers
    voted = found.pk in request.session.get(FEEDBACK_SESSION_KEY, [])
    return _page(
        request,
        "kb/help_article.html",
        {
            "article": found,
            "body_html": render_markdown(found.body),
            "meta_description": description(found.body),
            "related": selectors.related_for_reader(found, include_internal=internal),
            "voted": voted,
            "thanks": request.GET.get("thanks") == "1" and voted,
            "feedback_form": FeedbackForm(),
            "canonical": _canonical(found.get_absolute_url()),
        },
    )


def article_short(request: HttpRequest, article_id: int) -> HttpResponse:
    """/help/articles/<id>/: the link agents paste; it lands on the canonical URL."""
    found = selectors.article_for_reader(article_id, include_internal=_is_agent(request))
    if found is None:
        raise Http404("No such article")
    return redirect(found.get_absolute_url(), permanent=True)


@require_POST
def feedback(request: HttpRequest, article_id: int) -> HttpResponse:
    found = selectors.article_for_reader(article_id, include_internal=_is_agent(request))
    if found is None:
        raise Http404("No such article")
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose Yes or No.", status=400)
    seen: list[int] = request.session.get(FEEDBACK_SESSION_KEY, [])
    if found.pk not in seen:  # one answer per article per browser session
        services.feedback_record(
            article=found, helpful=form.cleaned_data["helpful"] == "yes", comment=form.cleaned_data["comment"]
        )
        request.session[FEEDBACK_SESSION_KEY] = [*seen, found.pk][-200:]
    return redirect(f"{found.get_absolute_url()}?thanks=1#feedback")


def sitemap(request: HttpRequest) -> HttpResponse:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for entry in selectors.sitemap_entries():
        lastmod = f"<lastmod>{entry.lastmod:%Y-%m-%d}</lastmod>" if entry.lastmod else ""
        lines.append(f"<url><loc>{escape(_canonical(entry.path))}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return HttpResponse("\n".join(lines) + "\n", content_type="application/xml; charset=utf-8")
