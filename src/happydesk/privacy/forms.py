"""The erasure's confirmation: the admin types the address of the customer the URL names."""

from __future__ import annotations

from typing import Any

from django import forms

from happydesk.customers.models import Customer


class EraseConfirmForm(forms.Form):
    """Valid only when `confirm` is one of this customer's own addresses (any case, spaces around
    ignored). The customer comes from the URL and nowhere else, so no typed value can point the
    erasure at someone else: another customer's address at this customer's URL is refused."""

    confirm = forms.CharField(
        label="Type the customer's email address to confirm",
        max_length=320,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "inputmode": "email",
            }
        ),
    )

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.addresses = {e.lower() for e in customer.emails.values_list("address", flat=True)}

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip().lower()
        if typed not in self.addresses:
            raise forms.ValidationError("That is not this customer's address: nothing was erased.")
        return typed
