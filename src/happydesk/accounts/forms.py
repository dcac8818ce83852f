"""Sign-in and agent admin forms."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from happydesk.accounts.models import User


class AgentChoiceField(forms.ModelChoiceField):
    """A choice of agent, each shown by name (or address, for one without a name)."""

    def label_from_instance(self, obj: User) -> str:
        return obj.name or obj.email


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self) -> str:
        """Emails are stored lowercase; the lockout counts the same account however it is typed."""
        return self.cleaned_data["username"].strip().lower()


class AgentForm(forms.Form):
    email = forms.EmailField()
    name = forms.CharField(max_length=200)
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text=f"At least {settings.PASSWORD_MIN_LENGTH} characters, not a common password. "
        "Leave empty to keep the current one.",
    )
    role = forms.ChoiceField(
        choices=[("admin", "Admin"), ("agent", "Agent"), ("light", "Light agent")],
        required=False,
        initial="agent",
        help_text="Light agents add notes and never see security reports.",
    )
