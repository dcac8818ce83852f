"""The contact form, shared by the page (portal/views.py) and the widget (widget/views.py): one way in for
a stranger's message, rate-limited, with a honeypot for bots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest

from happydesk.customers.models import Customer
from happydesk.headers import header_text
from happydesk.inbox import services
from happydesk.inbox.models import Conversation, Mailbox
from happydesk.portal import services as portal_services
from happydesk.ratelimit import client_ip, over_limit
from happydesk.search.services import suggestion_event

MAX_FILES = 10


class TooMuchAttached(ValueError):
    """More files, or more bytes, than one message may carry."""


def uploaded_attachments(files: list[UploadedFile]) -> list[services.NewAttachment]:
    """The files a customer attached (the contact form, the portal's reply box): at most MAX_FILES,
    together no larger than a message may be (HAPPYDESK_MAX_MESSAGE_BYTES); TooMuchAttached says what is
    over. This keeps oversized files out of the database and the data folder; the upload itself has
    already been received (spooled by Django), so a cap on the request body belongs to the proxy."""
    if len(files) > MAX_FILES:
        raise TooMuchAttached(f"at most {MAX_FILES} files in one message")
    limit = settings.HAPPYDESK_MAX_MESSAGE_BYTES
    if sum(f.size or 0 for f in files) > limit:
        raise TooMuchAttached(f"the attachments come to more than {limit // (1024 * 1024)} MB")
    return [
        services.NewAttachment(f.name or "attachment", f.content_type or "application/octet-stream", f.read())
        for f in files
    ]


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField()
    topic = forms.ChoiceField(label="What's this about?", required=False)
    subject = forms.CharField(max_length=300)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 7}), max_length=50_000)
    feeling = forms.ChoiceField(
        label="How are you feeling?",
        choices=[("", "Rather not say"), *Conversation.Feeling.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    attachments = forms.FileField(required=False)
    website = forms.CharField(  # honeypot for bots: hidden from people, out of the tab order
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    tz_offset = forms.IntegerField(required=False, widget=forms.HiddenInput)
    tz_name = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, mailbox: Mailbox, **kwargs: Any) -> None:
        self.mailbox = mailbox
        super().__init__(*args, **kwargs)
        topics = [str(t) for t in mailbox.form_topics if str(t).strip()]
        if topics:
            cast(forms.ChoiceField, self.fields["topic"]).choices = [
                ("", "Choose one…"),
                *[(t, t) for t in topics],
            ]
        else:
            del self.fields["topic"]

    def clean_attachments(self) -> list[services.NewAttachment]:
        """The attached files, refused here (a form error, nothing stored) when over the limits."""
        try:
            return uploaded_attachments(self.files.getlist("attachments") if self.files else [])
        except TooMuchAttached as exc:
            raise forms.ValidationError(str(exc).capitalize() + ".") from exc

    def clean_name(self) -> str:
        """One line: the name may reach a header (and a pasted CR/LF must never add one)."""
        return header_text(self.cleaned_data["name"])

    def clean_subject(self) -> str:
        """One line: every reply's Subject is made from it, and a CR/LF would make replies unsendable."""
        subject = header_text(self.cleaned_data["subject"])
        if not subject:
            raise forms.ValidationError("This field is required.")
        return subject

    def submit(
        self,
        request: HttpRequest,
        *,
        channel: str,
        signed_in: Customer | None = None,
        signed_in_via: str = "",
    ) -> Conversation | None:
        """Open the conversation from a valid form (the page and the widget alike): rate-limited per
        client IP and per address, a bot's honeypot answer stores nothing (None), and a visit that saw
        suggestions is recorded as not deflected. Verified only when `signed_in` (portal session or
        SSO identity, `signed_in_via`) owns the typed address. Raises TooManyMessages over the limit."""
        data = self.cleaned_data
        ip = client_ip(request)
        if _over_limit(f"contact:ip:{ip}") or _over_limit(f"contact:email:{data['email'].lower()}"):
            raise TooManyMessages
        if data["website"]:  # a bot filled the hidden field: pretend all is well, store nothing
            return None
        offset = timedelta(minutes=-data["tz_offset"]) if data.get("tz_offset") is not None else None
        files = data.get("attachments") or []
        conversation = portal_services.conversation_from_form(
            mailbox=self.mailbox,
            name=data["name"],
            email=data["email"],
            subject=data["subject"],
            text=data["message"],
            topic=data.get("topic") or "",
            feeling=data.get("feeling") or "",
            attachments=files,
            customer_offset=offset,
            timezone_name=data.get("tz_name") or "",
            channel=channel,
            signed_in=signed_in,
            signed_in_via=signed_in_via,
        )
        if request.POST.get("session"):  # the visit saw suggestions and still wrote: not deflected
            source = "widget" if channel == Conversation.Channel.WIDGET else "form"
            suggestion_event(
                mailbox_id=self.mailbox.pk, key=request.POST["session"], source=source, event="submitted"
            )
        return conversation


CONTACT_LIMIT = 5  # submissions per client IP and per address in CONTACT_WINDOW
CONTACT_WINDOW = timedelta(minutes=10)


class TooManyMessages(Exception):
    """More contact-form submissions from one IP or address than CONTACT_LIMIT in CONTACT_WINDOW."""


def _over_limit(key: str) -> bool:
    """Count one submission for this key; True when over the limit for the window."""
    return over_limit(key, limit=CONTACT_LIMIT, window=CONTACT_WINDOW)
