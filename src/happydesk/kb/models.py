"""Knowledge base: collections of categories of Markdown articles, with every saved version kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Collection(models.Model):
    """A top-level shelf of the help centre; an internal-only one is for the team and never public."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    internal_only = models.BooleanField(default=False, help_text="Only signed-in agents see it.")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("kb_collection", args=[self.slug])


class Category(models.Model):
    """A group of articles in a collection; the FAQ flavour shows every question and answer on one page."""

    class Flavour(models.TextChoices):
        ARTICLES = "articles", "Articles"
        FAQ = "faq", "FAQ (questions and answers on one page)"

    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="categories")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    flavour = models.CharField(max_length=10, choices=Flavour.choices, default=Flavour.ARTICLES)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["collection", "slug"], name="kb_category_slug_per_collection")
        ]

    def __str__(self) -> str:
        return f"{self.collection.name} › {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("kb_category", args=[self.collection.slug, self.slug])

    @property
    def is_faq(self) -> bool:
        return self.flavour == self.Flavour.FAQ


class Article(models.Model):
    """One help article (or FAQ question) in Markdown. Customers see it only when published and public."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="articles"
    )
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=100, help_text="Only for readable URLs; the id finds the article.")
    body = models.TextField(blank=True, help_text="Markdown.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    internal_only = models.BooleanField(default=False, help_text="Only signed-in agents see it.")
    position = models.PositiveIntegerField(default=0)
    related = models.ManyToManyField("self", blank=True)
    source_conversation_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="The conversation whose reply this article started from."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    # Counters change with F() updates, never through a full save (they must not bump updated_at).
    view_count = models.PositiveIntegerField(default=0)
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The canonical public path; drafts and internal articles answer 404 there for customers."""
        return reverse("kb_article", args=[self.pk, self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def helpful_percent(self) -> int | None:
        votes = self.helpful_yes + self.helpful_no
        return round(100 * self.helpful_yes / votes) if votes else None


class ArticleVersion(models.Model):
    """The title and body as one save left them; restoring a version saves it again as a new one."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why this version exists, if not an edit.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="kb_version_number")]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleFeedback(models.Model):
    """A reader's "Was this helpful?" answer, with what they wrote if anything."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{'yes' if self.helpful else 'no'} on {self.article_id}"
