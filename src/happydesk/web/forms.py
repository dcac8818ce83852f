from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class ReplyForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea, max_length=200_000)
    then = forms.ChoiceField(
        choices=[("", "Send"), ("pending", "Send and set pending"), ("closed", "Send and close")],
        required=False,
    )
    attachments = forms.FileField(required=False)


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea, max_length=200_000)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("active", "Active"), ("pending", "Pending"), ("closed", "Closed"), ("spam", "Spam")]
    )
