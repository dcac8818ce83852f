"""Forms of the report settings page: the digest list, a day's business volume, a month's support cost."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.validators import validate_email

from happydesk.reports.hours import zone


class SettingsForm(forms.Form):
    recipients = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Send to",
        help_text="One address per line (e.g. everyone@ your company). Empty: nothing is sent.",
    )
    mask_customers = forms.BooleanField(
        required=False, label="Mask customer details (names, emails, phone numbers) in these mails"
    )
    digest_enabled = forms.BooleanField(required=False, label="Weekly digest (Mondays)")
    conversation_of_the_day = forms.BooleanField(required=False, label="Conversation of the day")
    send_hour = forms.IntegerField(min_value=0, max_value=23, label="Send at (hour)")
    timezone = forms.CharField(max_length=64, label="Time zone", help_text="e.g. Europe/Berlin")
    baseline_tags = forms.CharField(
        required=False,
        label="Baseline tags",
        help_text="Comma-separated tags whose normal daily count the report shows (empty: the biggest three).",
    )
    currency = forms.CharField(max_length=8, label="Currency")

    def clean_recipients(self) -> list[str]:
        addresses = []
        for line in self.cleaned_data["recipients"].replace(",", "\n").splitlines():
            address = line.strip()
            if address:
                validate_email(address)
                addresses.append(address.lower())
        return sorted(set(addresses))

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"].strip()
        if str(zone(name)) != name and name != "UTC":
            raise forms.ValidationError("Unknown time zone.")
        return name

    def clean_baseline_tags(self) -> list[str]:
        return [t.strip().lower() for t in self.cleaned_data["baseline_tags"].split(",") if t.strip()]


class VolumeForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    metric = forms.CharField(max_length=50, help_text="e.g. orders, active-users, transactions")
    value = forms.IntegerField(min_value=0)


class CostForm(forms.Form):
    month = forms.CharField(widget=forms.TextInput(attrs={"type": "month"}), help_text="YYYY-MM")
    amount = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2)

    def clean_month(self) -> date:
        try:
            year, month = self.cleaned_data["month"].split("-")[:2]
            return date(int(year), int(month), 1)
        except (ValueError, TypeError) as exc:
            raise forms.ValidationError("Use YYYY-MM.") from exc
