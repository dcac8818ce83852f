"""Forms for the community pages: they validate input; the services decide and do the work."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.utils import timezone

from happydesk.community.models import STATUSES_BY_KIND, Topic
from happydesk.community.selectors import mailboxes

MARKDOWN_HELP = "Markdown works: **bold**, - lists, `code`, [link](https://…). Please leave out passwords and card numbers."


class TopicForm(forms.Form):
    title = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    body = forms.CharField(
        label="Details", max_length=20_000, widget=forms.Textarea(attrs={"rows": 9}), help_text=MARKDOWN_HELP
    )
    website = forms.CharField(  # honeypot for bots: hidden from people, out of the tab order
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )


class PostForm(forms.Form):
    body = forms.CharField(
        label="Your answer",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=MARKDOWN_HELP,
    )
    website = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"})
    )


class SignInForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=320)
    name = forms.CharField(
        label="Your name",
        max_length=200,
        required=False,
        help_text="Shown with your posts as first name and initial, once you have signed in.",
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[])
    note = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the idea, and in the email when it ships. Required to decline.",
    )

    def __init__(self, *args: Any, topic: Topic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (s.value, s.label) for s in STATUSES_BY_KIND[Topic.Kind(topic.kind)]
        ]
        self.fields["status"].initial = topic.status


class MoveForm(forms.Form):
    mailbox = forms.ModelChoiceField(queryset=mailboxes(), empty_label=None)
    text = forms.CharField(
        label="Your reply to the author",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 9}),
        help_text="Sent as a reply in the new conversation, with the link to it in the portal.",
    )
    post = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["mailbox"]).queryset = mailboxes()


class AnnouncementForm(forms.Form):
    title = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    body = forms.CharField(
        label="Text",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Markdown: ## Heading, **bold**, - list, [link](https://…).",
    )
    published_at = forms.DateTimeField(
        label="Publish at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text="Empty keeps it a draft; a date in the future schedules it. Times are in UTC.",
    )

    def clean_published_at(self) -> datetime | None:
        value = self.cleaned_data.get("published_at")
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value
