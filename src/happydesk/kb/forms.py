"""Forms for the knowledge base pages: they validate input; the services do the work."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from happydesk.kb.models import Article, Category, Collection
from happydesk.kb.selectors import categories_for_editor


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        internal = " (internal)" if obj.collection.internal_only else ""
        faq = " · FAQ" if obj.is_faq else ""
        return f"{obj.collection.name}{internal} › {obj.name}{faq}"


class ArticleForm(forms.Form):
    ACTIONS = ("preview", "save", "publish", "unpublish")

    title = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    category = CategoryChoiceField(queryset=Category.objects.none(), required=False, empty_label="Choose…")
    internal_only = forms.BooleanField(
        required=False,
        label="Internal only",
        help_text="Only signed-in agents can read it, even when published.",
    )
    body = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 22, "class": "kb-markdown", "spellcheck": "true"}),
        help_text="Markdown: ## Heading, **bold**, - list, 1. steps, [link](https://…), `code`, > note.",
    )
    related = forms.ModelMultipleChoiceField(
        queryset=Article.objects.none(),
        required=False,
        label="Related articles",
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Shown under the article. Hold Ctrl or ⌘ to pick several.",
    )
    position = forms.IntegerField(min_value=0, required=False, help_text="Order within the category.")
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS], widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, article: Article | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(CategoryChoiceField, self.fields["category"]).queryset = categories_for_editor()
        others = Article.objects.order_by("title").only("id", "title")
        related = cast(forms.ModelMultipleChoiceField, self.fields["related"])
        related.queryset = others.exclude(pk=article.pk) if article else others

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("action") == "publish" and not data.get("category"):
            self.add_error("category", "Choose a category before publishing.")
        return data


class CollectionForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    internal_only = forms.BooleanField(required=False, label="Internal only (agents only)")


class CategoryForm(forms.Form):
    collection = forms.ModelChoiceField(queryset=Collection.objects.order_by("position", "name"))
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    flavour = forms.ChoiceField(choices=Category.Flavour.choices)


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No")])
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
