"""Customers: the people who write to us, with every address they write from."""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now


class Customer(models.Model):
    name = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # The customer's id in the company's own product, from a verified SSO token (JWT `external_id`).
    external_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.name or self.primary_email or f"Customer {self.pk}"

    @property
    def primary_email(self) -> str:
        # Works from prefetched addresses (lists prefetch them) without another query.
        emails = sorted(self.emails.all(), key=lambda e: e.pk)
        return emails[0].address if emails else ""

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name else ""


class CustomerEmail(models.Model):
    """One address of a customer. Addresses are stored lowercased and are unique across customers."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    address = models.CharField(max_length=320, unique=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.address
