"""The team's knowledge base pages under /kb/: list, editor with preview, history with diff and restore,
collections and categories, and "Make an article" from a reply. Light agents read /help/ but don't edit."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, team_required
from happydesk.inbox.access import access_conversation_for_agent
from happydesk.inbox.models import Message
from happydesk.kb import selectors, services
from happydesk.kb.forms import ArticleForm, CategoryForm, CollectionForm
from happydesk.kb.models import Article, Category, Collection
from happydesk.web.markdown import render_markdown

View = Callable[..., HttpResponse]


def _article_or_404(article_id: int) -> Article:
    found = selectors.article_for_agent(article_id)
    if found is None:
        raise Http404("No such article")
    return found


@team_required
def article_list(request: AgentRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in Article.Status.values:
        status = ""
    q = request.GET.get("q", "").strip()[:200]
    page = Paginator(selectors.agent_articles(status=status or None, q=q), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "kb/agent_list.html",
        {"page": page, "status": status, "q": q, "statuses": Article.Status.choices},
    )


@team_required
def article_edit(request: AgentRequest, article_id: int | None = None) -> HttpResponse:
    article = _article_or_404(article_id) if article_id else None
    initial = (
        {
            "title": article.title,
            "category": article.category,
            "internal_only": article.internal_only,
            "body": article.body,
            "related": list(article.related.all()),
            "position": article.position,
        }
        if article
        else {"category": request.GET.get("category"), "title": request.GET.get("title", "")[:200]}
    )
    form = ArticleForm(request.POST or None, initial=initial, article=article)
    preview_html = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        action = data.get("action") or "save"
        if action == "preview":
            preview_html = render_markdown(data["body"])
        else:
            try:
                saved = services.article_save(
                    article=article,
                    title=data["title"],
                    body=data["body"],
                    category=data["category"],
                    internal_only=data["internal_only"],
                    related=data["related"],
                    position=data["position"],
                    author=request.user,
                    publish=action == "publish",
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                published = saved.status == Article.Status.PUBLISHED
                flash.success(
                    request,
                    "Published." if action == "publish" else "Saved." + (" It is live." if published else ""),
                )
                return redirect("kb_article_edit", article_id=saved.pk)
    context: dict[str, object] = {"form": form, "article": article, "preview_html": preview_html}
    if article is not None:
        context |= {
            "public_url": settings.BASE_URL + article.get_absolute_url(),
            "feedback": selectors.feedback_comments(article),
        }
    return render(request, "kb/agent_edit.html", context)


@team_required
@require_POST
def article_unpublish(request: AgentRequest, article_id: int) -> HttpResponse:
    article = _article_or_404(article_id)
    services.article_unpublish(article=article)
    flash.success(request, "Unpublished: customers no longer see it. It is kept as a draft.")
    return redirect("kb_article_edit", article_id=article.pk)


def _version_number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@team_required
def article_history(request: AgentRequest, article_id: int) -> HttpResponse:
    article = _article_or_404(article_id)
    versions = selectors.article_versions(article)
    by_number = {v.number: v for v in versions}
    new = by_number.get(_version_number(request.GET.get("to")) or 0) or (versions[0] if versions else None)
    old = by_number.get(_version_number(request.GET.get("from")) or 0)
    if old is None and new is not None:
        old = by_number.get(new.number - 1)
    diff = services.version_diff(old=old, new=new) if old and new and old.pk != new.pk else None
    return render(
        request,
        "kb/agent_history.html",
        {"article": article, "versions": versions, "old": old, "new": new, "diff": diff},
    )


@team_required
@require_POST
def version_restore(request: AgentRequest, article_id: int, version_id: int) -> HttpResponse:
    article = _article_or_404(article_id)
    version = article.versions.filter(pk=version_id).first()
    if version is None:
        raise Http404("No such version")
    services.article_version_restore(article=article, version=version, author=request.user)
    flash.success(request, f"Version {version.number} restored as a new version.")
    return redirect("kb_article_history", article_id=article.pk)


@team_required
def article_from_reply(request: AgentRequest, number: int, message_id: int) -> HttpResponse:
    """The step before the draft: every replacement listed (original -> placeholder), each one ticked to
    redact; unticking keeps it as written and the preview follows, from the server (htmx on change, or
    the Preview button without JavaScript). "Create draft article" saves it with those choices."""
    conversation = access_conversation_for_agent(request.user, number)
    message = conversation.messages.filter(pk=message_id, kind=Message.Kind.REPLY).first()
    if message is None:
        raise Http404("No such reply")
    title, found = services.reply_redaction(message=message, author=request.user)
    items = found.items()
    keep: frozenset[str] = frozenset()
    if request.method == "POST":
        # Kept as written: only what the page showed and the agent unticked. An item the page did not
        # show (the thread changed since) is redacted, never kept unseen.
        shown, redacted = set(request.POST.getlist("shown")), set(request.POST.getlist("redact"))
        keep = frozenset(i.key for i in items if i.key in shown and i.key not in redacted)
        title = request.POST.get("title", "").strip()[:300] or title
        if request.POST.get("action") == "create":
            article = services.article_from_reply(
                message=message, author=request.user, keep=keep, title=title
            )
            taken = len(items) - len(keep)
            flash.success(
                request,
                f"Draft started from your reply: {taken} item{'s' if taken != 1 else ''} redacted"
                + (f", {len(keep)} kept as written" if keep else "")
                + ". Read it once more for anything personal before publishing.",
            )
            return redirect("kb_article_edit", article_id=article.pk)
    context = {
        "c": conversation,
        "m": message,
        "title": title,
        "items": [(item, item.key not in keep) for item in items],
        "preview_html": found.preview_html(keep),
    }
    if request.headers.get("HX-Request"):
        return render(request, "kb/_from_reply_preview.html", context)
    return render(request, "kb/agent_from_reply.html", context)


@team_required
def structure(request: AgentRequest) -> HttpResponse:
    kind = request.POST.get("kind")
    collection_form = CollectionForm(request.POST if kind == "collection" else None, prefix="collection")
    category_form = CategoryForm(request.POST if kind == "category" else None, prefix="category")
    if request.method == "POST":
        form = collection_form if kind == "collection" else category_form
        if form.is_valid():
            data = form.cleaned_data
            if kind == "collection":
                created: Collection | Category = services.collection_create(
                    name=data["name"], description=data["description"], internal_only=data["internal_only"]
                )
            else:
                created = services.category_create(
                    collection=data["collection"],
                    name=data["name"],
                    description=data["description"],
                    flavour=data["flavour"],
                )
            flash.success(request, f"“{created.name}” added.")
            return redirect("kb_structure")
    collections = selectors.collections_for_editor()
    return render(
        request,
        "kb/agent_structure.html",
        {"collections": collections, "collection_form": collection_form, "category_form": category_form},
    )


SEARCH_REPORT_DAYS = 30


@login_required
def searches_without_results(request: AgentRequest) -> HttpResponse:
    """What customers searched the help centre for and found nothing over the last 30 days, with a
    link to write that article (for everyone on the team but light agents; they read it like every
    report). The searches are recorded by the search app; the article is written here."""
    from happydesk.accounts.models import User
    from happydesk.search.selectors import searches_without_results as unanswered

    return render(
        request,
        "kb/searches_without_results.html",
        {
            "rows": unanswered(days=SEARCH_REPORT_DAYS),
            "days": SEARCH_REPORT_DAYS,
            "can_write": request.user.role != User.Role.LIGHT,
        },
    )
