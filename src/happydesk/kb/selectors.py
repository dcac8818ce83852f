"""Knowledge base reads shared by /help/ and the agent pages (searching is in search/content.py).

"Reader" functions take `include_internal`: customers get only published articles in public collections;
signed-in agents also get internal ones. Drafts are never on /help/ for anyone; agents preview in /kb/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from happydesk.kb.models import Article, ArticleVersion, Category, Collection
from happydesk.search.content import ContentSearch, content_search


def reader_articles(*, include_internal: bool = False) -> QuerySet[Article]:
    """Articles a reader may open: published, in a category, and public unless `include_internal`."""
    qs = Article.objects.filter(status=Article.Status.PUBLISHED, category__isnull=False)
    if not include_internal:
        qs = qs.filter(internal_only=False, category__collection__internal_only=False)
    return qs


def public_articles() -> QuerySet[Article]:
    """What anyone on the internet may read (and what the sitemap lists)."""
    return reader_articles(include_internal=False)


def reader_collections(*, include_internal: bool = False) -> list[Collection]:
    """Collections with their categories and how many readable articles each holds (empty ones hidden)."""
    readable = Q(articles__status=Article.Status.PUBLISHED)
    if not include_internal:
        readable &= Q(articles__internal_only=False)
    categories = Category.objects.annotate(article_count=Count("articles", filter=readable)).filter(
        article_count__gt=0
    )
    qs = Collection.objects.prefetch_related(Prefetch("categories", queryset=categories))
    if not include_internal:
        qs = qs.filter(internal_only=False)
    return [c for c in qs if c.categories.all()]


def collection_for_reader(slug: str, *, include_internal: bool = False) -> Collection | None:
    """The collection at /help/<slug>/, or None when it does not exist for this reader."""
    qs = Collection.objects.filter(slug=slug)
    if not include_internal:
        qs = qs.filter(internal_only=False)
    return qs.first()


def category_for_reader(
    collection_slug: str, category_slug: str, *, include_internal: bool = False
) -> Category | None:
    """The category at /help/<collection>/<category>/, or None when it does not exist for this reader."""
    qs = Category.objects.select_related("collection").filter(
        collection__slug=collection_slug, slug=category_slug
    )
    if not include_internal:
        qs = qs.filter(collection__internal_only=False)
    return qs.first()


def category_articles(category: Category, *, include_internal: bool = False) -> QuerySet[Article]:
    """The readable articles of one category, in the team's order."""
    return (
        reader_articles(include_internal=include_internal)
        .filter(category=category)
        .order_by("position", "title")
    )


def collection_sections(
    collection: Collection, *, include_internal: bool = False, per_category: int = 8
) -> list[tuple[Category, list[Article], int]]:
    """A collection page: each category with its first articles and its total count."""
    articles = list(
        reader_articles(include_internal=include_internal)
        .filter(category__collection=collection)
        .order_by("position", "title")
        .only("id", "slug", "title", "category_id", "internal_only")
    )
    by_category: dict[int | None, list[Article]] = {}
    for a in articles:
        by_category.setdefault(a.category_id, []).append(a)
    return [
        (cat, by_category[cat.pk][:per_category], len(by_category[cat.pk]))
        for cat in collection.categories.all()
        if cat.pk in by_category
    ]


def article_for_reader(article_id: int, *, include_internal: bool = False) -> Article | None:
    """One readable article with its category and collection, or None (the page answers 404)."""
    return (
        reader_articles(include_internal=include_internal)
        .select_related("category__collection")
        .filter(pk=article_id)
        .first()
    )


def related_for_reader(article: Article, *, include_internal: bool = False, limit: int = 5) -> list[Article]:
    """The articles the team linked, then the most read of the same category, all readable."""
    visible = reader_articles(include_internal=include_internal).exclude(pk=article.pk)
    chosen = list(visible.filter(pk__in=article.related.values("pk")).order_by("title")[:limit])
    if len(chosen) < limit and article.category_id:
        chosen += list(
            visible.filter(category_id=article.category_id)
            .exclude(pk__in=[a.pk for a in chosen])
            .order_by("-view_count", "title")[: limit - len(chosen)]
        )
    return chosen


def popular_articles(*, include_internal: bool = False, limit: int = 6) -> list[Article]:
    """The most read articles, for the help centre's front page."""
    return list(
        reader_articles(include_internal=include_internal)
        .select_related("category__collection")
        .order_by("-view_count", "title")[:limit]
    )


def _terms(q: str) -> list[str]:
    return [t for t in re.findall(r"\w[\w'’-]*", q.lower()) if len(t) > 1][:8]


@dataclass(frozen=True)
class SitemapEntry:
    path: str
    lastmod: datetime | None


def sitemap_entries() -> list[SitemapEntry]:
    """Every public page worth indexing: the front page, categories with articles, and each article."""
    articles = list(
        public_articles()
        .select_related("category__collection")
        .order_by("pk")
        .only("id", "slug", "updated_at", "category__slug", "category__collection__slug")
    )
    newest: dict[int, datetime] = {}
    categories: dict[int, Category] = {}
    for a in articles:
        assert a.category is not None
        categories[a.category.pk] = a.category
        newest[a.category.pk] = max(newest.get(a.category.pk, a.updated_at), a.updated_at)
    entries = [SitemapEntry("/help/", max(newest.values(), default=None))]
    entries += [SitemapEntry(c.get_absolute_url(), newest[c.pk]) for c in categories.values()]
    entries += [SitemapEntry(a.get_absolute_url(), a.updated_at) for a in articles]
    return entries


def agent_articles(*, status: str | None = None, q: str = "") -> QuerySet[Article]:
    """Every article for the agents' list, newest edits first, optionally by status or words."""
    qs = Article.objects.select_related("category__collection").order_by("-updated_at")
    if status:
        qs = qs.filter(status=status)
    for term in _terms(q):
        qs = qs.filter(Q(title__icontains=term) | Q(body__icontains=term))
    return qs


def article_for_agent(article_id: int) -> Article | None:
    """Any article, draft or internal, for the editor."""
    return Article.objects.select_related("category__collection", "created_by").filter(pk=article_id).first()


def article_versions(article: Article) -> list[ArticleVersion]:
    """Every version, newest first, with its author."""
    return list(article.versions.select_related("author").order_by("-number"))


def categories_for_editor() -> QuerySet[Category]:
    """Categories to file an article under, grouped by collection."""
    return Category.objects.select_related("collection").order_by(
        "collection__position", "collection__name", "position", "name"
    )


def contact_mailbox_id() -> int | None:
    """The mailbox whose contact form "Still need help?" leads to: the first one that offers a form."""
    from happydesk.inbox.models import Mailbox

    return Mailbox.objects.filter(form_enabled=True).order_by("pk").values_list("pk", flat=True).first()


def collections_for_editor() -> QuerySet[Collection]:
    """Every collection with its categories and how many articles (any status) each holds."""
    categories = Category.objects.annotate(article_count=Count("articles")).order_by("position", "name")
    return Collection.objects.prefetch_related(Prefetch("categories", queryset=categories)).order_by(
        "position", "name"
    )


def feedback_comments(article: Article, *, limit: int = 10) -> list:
    """The latest readers' comments on an article, for its editor."""
    return list(article.feedback.exclude(comment="").order_by("-created_at")[:limit])


HELP_SEARCH_LIMIT = 20


def help_search(q: str, *, internal: bool = False) -> ContentSearch:
    """The search /help/ runs: one search over articles, FAQ, community, ideas and announcements
    (search/content.py), internal articles only for agents. The quality measurement runs this too."""
    return content_search(q, internal=internal, limit=HELP_SEARCH_LIMIT) if q else ContentSearch([])
