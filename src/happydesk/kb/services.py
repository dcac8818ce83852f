"""Knowledge base actions: save (keeping a version), publish, restore, feedback, views, article from a reply."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from happydesk.accounts.models import User
from happydesk.inbox.models import Mailbox, Message
from happydesk.kb.models import Article, ArticleFeedback, ArticleVersion, Category, Collection
from happydesk.kb.redact import Person, Redaction, clean_subject, redaction
from happydesk.kb.search_documents import article_search_refresh

# Path segments under /help/ that are pages of their own, so no collection may take them as its slug.
RESERVED_SLUGS = frozenset({"articles", "search", "sitemap", "feedback"})
MAX_COMMENT = 2000


def _slug(text: str, *, fallback: str = "article", max_length: int = 100) -> str:
    return slugify(text)[:max_length].strip("-") or fallback


def _unique_slug(text: str, taken: Callable[[str], bool], *, max_length: int = 80) -> str:
    base = _slug(text, fallback="untitled", max_length=max_length)[: max_length - 4]
    slug, n = base, 2
    while taken(slug) or slug in RESERVED_SLUGS:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def collection_create(
    *, name: str, description: str = "", internal_only: bool = False, position: int = 0
) -> Collection:
    """Add a collection; its slug comes from the name and never collides with /help/'s own pages."""
    name = name.strip()
    if not name:
        raise ValueError("A collection needs a name.")
    slug = _unique_slug(name, lambda s: Collection.objects.filter(slug=s).exists())
    return Collection.objects.create(
        name=name, slug=slug, description=description.strip(), internal_only=internal_only, position=position
    )


@transaction.atomic
def category_create(
    *,
    collection: Collection,
    name: str,
    description: str = "",
    flavour: str = Category.Flavour.ARTICLES,
    position: int = 0,
) -> Category:
    """Add a category to a collection, with a slug unique inside that collection."""
    name = name.strip()
    if not name:
        raise ValueError("A category needs a name.")
    slug = _unique_slug(name, lambda s: collection.categories.filter(slug=s).exists())
    return Category.objects.create(
        collection=collection,
        name=name,
        slug=slug,
        description=description.strip(),
        flavour=flavour,
        position=position,
    )


def _version_add(*, article: Article, author: User | None, note: str = "") -> ArticleVersion:
    last = article.versions.aggregate(n=Max("number"))["n"] or 0
    return ArticleVersion.objects.create(
        article=article,
        number=last + 1,
        title=article.title,
        body=article.body,
        author=author,
        note=note[:300],
        created_at=article.updated_at,
    )


@transaction.atomic
def article_save(
    *,
    title: str,
    body: str,
    author: User | None,
    article: Article | None = None,
    category: Category | None = None,
    internal_only: bool = False,
    related: Iterable[Article] | None = None,
    position: int | None = None,
    source_conversation_number: int | None = None,
    note: str = "",
    publish: bool = False,
) -> Article:
    """Create or update an article; every save that changes the title or body keeps a new version.

    `related=None` leaves the related articles as they are. `publish=True` publishes in the same step.
    """
    title = re.sub(r"\s+", " ", title).strip()
    if not title:
        raise ValueError("An article needs a title.")
    body = body.replace("\r\n", "\n")
    now = timezone.now()
    if article is None:
        row = Article(
            created_by=author, created_at=now, source_conversation_number=source_conversation_number
        )
        changed = True
    else:
        row = article
        # Lock the row so two agents saving at once get versions n and n+1, not a clash.
        stored = Article.objects.select_for_update().filter(pk=row.pk).values_list("title", "body").get()
        changed = stored != (title, body)
    row.title, row.body, row.category, row.internal_only = title, body, category, internal_only
    row.slug = _slug(title)
    if position is not None:
        row.position = position
    if changed:
        row.updated_at = now
    if article is None:
        row.save()
    else:  # never write the counters back: readers may have bumped them since this row was loaded
        row.save(
            update_fields=["title", "body", "category", "internal_only", "slug", "position", "updated_at"]
        )
    if related is not None:
        row.related.set([a for a in related if a.pk != row.pk])
    if changed:
        _version_add(article=row, author=author, note=note)
    if publish:
        article_publish(article=row)
    elif row.status == Article.Status.PUBLISHED:
        article_search_refresh(row)
    return row


@transaction.atomic
def article_publish(*, article: Article) -> Article:
    """Make the article visible on /help/ (to agents only if it or its collection is internal)."""
    if article.category_id is None:
        raise ValueError("Choose a category before publishing.")
    article.status = Article.Status.PUBLISHED
    if article.published_at is None:
        article.published_at = timezone.now()
    Article.objects.filter(pk=article.pk).update(status=article.status, published_at=article.published_at)
    article_search_refresh(article)
    return article


@transaction.atomic
def article_unpublish(*, article: Article) -> Article:
    """Take the article off /help/; it stays as a draft with its history."""
    article.status = Article.Status.DRAFT
    Article.objects.filter(pk=article.pk).update(status=article.status)
    article_search_refresh(article)
    return article


@transaction.atomic
def article_version_restore(*, article: Article, version: ArticleVersion, author: User | None) -> Article:
    """Put an old version's title and body back; that is recorded as a new version, never a rewind."""
    if version.article_id != article.pk:
        raise ValueError("That version belongs to another article.")
    Article.objects.select_for_update().filter(pk=article.pk).values_list("pk").get()  # see article_save
    row = article
    row.title, row.body = version.title, version.body
    row.slug = _slug(version.title)
    row.updated_at = timezone.now()
    row.save(update_fields=["title", "body", "slug", "updated_at"])
    _version_add(article=row, author=author, note=f"Restored version {version.number}")
    article_search_refresh(row)
    return row


@transaction.atomic
def feedback_record(*, article: Article, helpful: bool, comment: str = "") -> ArticleFeedback:
    """Keep a reader's answer to "Was this helpful?" and count it on the article."""
    row = ArticleFeedback.objects.create(
        article=article, helpful=helpful, comment=comment.strip()[:MAX_COMMENT]
    )
    counter = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    article_search_refresh(article)  # helpfulness breaks ties in the search
    return row


def article_view_record(*, article_id: int) -> None:
    """Count one reading: a single UPDATE, no row load, safe under concurrent readers."""
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + 1)


def _reply_person(message: Message, author: User) -> Person:
    """Who the conversation says is in this reply: the customer by name, the names they signed their
    messages with, their addresses and company, every agent who wrote in it; and our mail domains."""
    conversation = message.conversation
    customer = conversation.customer
    thread = list(conversation.messages.select_related("author").exclude(kind=Message.Kind.EVENT))
    signed = {m.from_name.strip() for m in thread if m.kind == Message.Kind.CUSTOMER and m.from_name.strip()}
    agents = {author, *(m.author for m in thread if m.author is not None)}
    if conversation.assignee is not None:
        agents.add(conversation.assignee)
    agent_names = {n for a in agents for n in (a.name, a.first_name) if n}
    domains = {a.rsplit("@", 1)[-1] for a in Mailbox.objects.values_list("address", flat=True) if "@" in a}
    return Person(
        name=customer.name,
        emails=tuple(customer.emails.values_list("address", flat=True)),
        company=customer.company,
        agent_names=tuple(sorted(agent_names)),
        other_names=tuple(sorted(signed - {customer.name})),
        own_domains=tuple(sorted(domains)),
    )


def _only_replies(message: Message) -> None:
    if message.kind != Message.Kind.REPLY:
        raise ValueError("Only a reply from the team can become an article.")


def reply_redaction(*, message: Message, author: User) -> tuple[str, Redaction]:
    """The title and the redacted body an article from this reply would start with, every replacement
    listed so the agent can check them (and keep any as written) before the draft is saved."""
    _only_replies(message)
    person = _reply_person(message, author)
    title = clean_subject(message.conversation.subject, person) or "New article"
    return title, redaction(message.text, person)


@transaction.atomic
def article_from_reply(
    *, message: Message, author: User, keep: Iterable[str] = (), title: str = ""
) -> Article:
    """A draft article that starts from an agent's reply, without the customer's details (except the
    items whose keys the agent chose to keep), linked back to the conversation it came from."""
    suggested, found = reply_redaction(message=message, author=author)
    conversation = message.conversation
    return article_save(
        title=title.strip() or suggested,
        body=found.text(frozenset(keep)),
        author=author,
        source_conversation_number=conversation.number,
        note=f"Started from a reply in conversation #{conversation.number}",
    )


@dataclass(frozen=True)
class VersionDiff:
    """What changed between two versions: the titles, and the body as HTML with <ins> and <del>."""

    old: ArticleVersion
    new: ArticleVersion
    body_html: SafeString
    added: int
    removed: int

    @property
    def title_changed(self) -> bool:
        return self.old.title != self.new.title


def _words(line: str) -> list[str]:
    return re.split(r"(\s+)", line)


def _word_diff(old: str, new: str) -> tuple[str, str]:
    """Two lines with only the changed words marked, so a one-word edit in a paragraph stands out."""
    a, b = _words(old), _words(new)
    runs = [
        (tag != "equal", "".join(a[i1:i2]), "".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    ]
    # A lone space between two changes joins them: one highlighted phrase, not a row of single words.
    merged: list[list] = []
    for i, (changed, old_text, new_text) in enumerate(runs):
        between = 0 < i < len(runs) - 1 and not old_text.strip() and runs[i - 1][0] and runs[i + 1][0]
        if (changed or between) and merged and merged[-1][0]:
            merged[-1][1] += old_text
            merged[-1][2] += new_text
        else:
            merged.append([changed or between, old_text, new_text])
    left: list[str] = []
    right: list[str] = []
    for changed, old_text, new_text in merged:
        old_part, new_part = escape(old_text), escape(new_text)
        if not changed:
            left.append(old_part)
            right.append(new_part)
            continue
        if old_part:
            left.append(f"<del>{old_part}</del>")
        if new_part:
            right.append(f"<ins>{new_part}</ins>")
    return "".join(left), "".join(right)


def diff_html(old: str, new: str, *, context: int = 3) -> tuple[str, int, int]:
    """Body lines around each change: removed lines in <del>, added ones in <ins>; every line escaped."""
    a, b = old.splitlines(), new.splitlines()
    out: list[str] = []
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if out:
            out.append('<span class="diff-gap" aria-label="unchanged lines">⋯</span>')
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [f'<span class="diff-line">{escape(x) or " "}</span>' for x in a[i1:i2]]
                continue
            removed += i2 - i1
            added += j2 - j1
            if tag == "replace" and i2 - i1 == j2 - j1:
                pairs = [_word_diff(x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=True)]
                out += [f'<span class="diff-line diff-old">{left or " "}</span>' for left, _ in pairs]
                out += [f'<span class="diff-line diff-new">{right or " "}</span>' for _, right in pairs]
                continue
            out += [f'<del class="diff-line">{escape(x) or " "}</del>' for x in a[i1:i2]]
            out += [f'<ins class="diff-line">{escape(x) or " "}</ins>' for x in b[j1:j2]]
    return "\n".join(out), added, removed


def version_diff(*, old: ArticleVersion, new: ArticleVersion) -> VersionDiff:
    """Compare two versions of the same article."""
    if old.article_id != new.article_id:
        raise ValueError("Versions of different articles cannot be compared.")
    body, added, removed = diff_html(old.body, new.body)
    return VersionDiff(old=old, new=new, body_html=mark_safe(body), added=added, removed=removed)  # noqa: S308
