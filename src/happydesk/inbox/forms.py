"""The agent's forms on inbox pages, and the mailbox admin form."""

from typing import Any

from django import forms
from django.core.validators import validate_email

from happydesk.inbox.models import Mailbox


class AddressesField(forms.CharField):
    """Email addresses separated by commas, semicolons or spaces; each one checked, duplicates dropped."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 5000)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        out: list[str] = []
        for part in text.replace(";", ",").replace(" ", ",").split(","):
            address = part.strip().strip("<>").lower()
            if address and address not in out:
                out.append(address)
        return out

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError("Give at least one address.")
        for address in value:
            try:
                validate_email(address)
            except forms.ValidationError as exc:
                raise forms.ValidationError(f"“{address}” is not an email address.") from exc
        if len(value) > 20:
            raise forms.ValidationError("At most 20 addresses.")

    def run_validators(self, value: Any) -> None:  # max_length applies to the typed text, checked above
        return None


class ReplyForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea, max_length=200_000)
    then = forms.ChoiceField(
        choices=[
            ("", "Send"),  # an open conversation becomes pending (waiting on the customer); others stay
            ("active", "Send and keep open"),
            ("pending", "Send and set pending"),
            ("closed", "Send and close"),
            ("snooze:tomorrow", "Send and snooze until tomorrow"),
            ("snooze:monday", "Send and snooze until Monday"),
        ],
        required=False,
    )
    attachments = forms.FileField(required=False)
    seen = forms.IntegerField(required=False, widget=forms.HiddenInput)
    take = forms.BooleanField(required=False)  # "Take it when I reply"
    take_shown = forms.BooleanField(required=False, widget=forms.HiddenInput)  # the box was on the form
    # Absent (an older page, the API): the conversation's copy list; present, even empty, replaces it.
    cc = AddressesField()
    bcc = AddressesField()


class ForwardForm(forms.Form):
    to = AddressesField(required=True)
    note = forms.CharField(widget=forms.Textarea, max_length=20_000, required=False)
    message = forms.IntegerField(required=False)


class NewConversationForm(forms.Form):
    """An agent writes first: to a customer, from one of the mailboxes."""

    to = forms.EmailField(max_length=320)
    subject = forms.CharField(max_length=998)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=200_000)
    mailbox = forms.ModelChoiceField(queryset=Mailbox.objects.order_by("name"), empty_label=None)
    cc = AddressesField(label="Cc")


class TagForm(forms.Form):
    name = forms.CharField(max_length=100)


class SnoozeForm(forms.Form):
    until = forms.ChoiceField(
        choices=[("hour", ""), ("tomorrow", ""), ("monday", ""), ("week", ""), ("wake", "")]
    )


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea, max_length=200_000)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("active", "Active"), ("pending", "Pending"), ("closed", "Closed"), ("spam", "Spam")]
    )


class MailboxForm(forms.ModelForm):
    """Admin form for a mailbox: identity, promises to customers, and optional IMAP fetching."""

    class Meta:
        model = Mailbox
        fields = [
            "address",
            "name",
            "signature",
            "auto_reply_enabled",
            "auto_reply_text",
            "auto_reply_window_minutes",
            "timezone",
            "response_goal_minutes",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_password",
            "form_enabled",
            "call_link",
            "rating_mode",
            "rating_window_days",
            "rating_alert",
        ]
        widgets = {
            "signature": forms.Textarea(attrs={"rows": 3}),
            "auto_reply_text": forms.Textarea(attrs={"rows": 3}),
            # Never sent back to the browser: the page would hand the password to anyone who can read it.
            "imap_password": forms.PasswordInput(render_value=False),
        }

    imap_folders_text = forms.CharField(
        label="IMAP folders", required=False, help_text="One per line; empty fetches INBOX."
    )
    form_topics_text = forms.CharField(
        label="Contact form: “What's this about?” choices",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line; empty hides the question.",
    )

    imap_password_forget = forms.BooleanField(label="Remove the saved IMAP password", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["imap_folders_text"].initial = "\n".join(self.instance.imap_folders)
            self.fields["form_topics_text"].initial = "\n".join(self.instance.form_topics)
        if self.instance.pk and self.instance.imap_password:
            self.fields[
                "imap_password"
            ].help_text = "A password is saved (encrypted). Leave empty to keep it."
        else:
            del self.fields["imap_password_forget"]

    def clean_imap_password(self) -> str:
        """Empty keeps the saved password, unless the admin asked to remove it."""
        typed = self.cleaned_data.get("imap_password") or ""
        if typed or not self.instance.pk or self.data.get(self.add_prefix("imap_password_forget")):
            return typed
        return self.instance.imap_password

    def clean_address(self) -> str:
        return self.cleaned_data["address"].strip().lower()

    def clean_timezone(self) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        value = self.cleaned_data["timezone"].strip() or "UTC"
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError("Unknown time zone; use a name like Europe/Berlin.") from exc
        return value

    def topics(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data.get("form_topics_text", "").splitlines() if t.strip()]

    def folders(self) -> list[str]:
        return [f.strip() for f in self.cleaned_data.get("imap_folders_text", "").splitlines() if f.strip()]
