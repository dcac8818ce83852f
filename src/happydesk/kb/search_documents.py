"""What the knowledge base puts in the one customer-facing search (see search/content.py)."""

from __future__ import annotations

from collections.abc import Iterator

from happydesk.kb.models import Article
from happydesk.web.markdown import plain_text


def article_document(article: Article) -> dict | None:
    """The search entry of a published article (an FAQ answer if its category is an FAQ), else None."""
    if article.status != Article.Status.PUBLISHED or article.category_id is None:
        return None
    category = article.category
    votes = article.helpful_yes + article.helpful_no
    return {
        "kind": "faq" if category.is_faq else "article",
        "object_id": article.pk,
        "title": article.title,
        "body": plain_text(article.body),
        "url": article.get_absolute_url(),
        "internal": article.internal_only or category.collection.internal_only,
        "published_at": article.published_at,
        # Helpfulness with a prior of one yes and one no, so one vote does not decide.
        "helpful": (article.helpful_yes + 1) / (votes + 2),
    }


def article_search_refresh(article: Article) -> None:
    """Put the article in the search as it is now, or take it out when it is not published."""
    from happydesk.search.services import content_index, content_remove

    article = Article.objects.select_related("category__collection").get(pk=article.pk)
    doc = article_document(article)
    if doc is None:
        content_remove(kind="article", object_id=article.pk)
        content_remove(kind="faq", object_id=article.pk)
    else:
        content_remove(kind="faq" if doc["kind"] == "article" else "article", object_id=article.pk)
        content_index(**doc)


def documents() -> Iterator[dict]:
    """Every published article's entry (for a full reindex)."""
    for article in Article.objects.filter(status=Article.Status.PUBLISHED).select_related(
        "category__collection"
    ):
        doc = article_document(article)
        if doc is not None:
            yield doc
