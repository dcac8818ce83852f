"""The audit log's one table. Rows are only ever added (by `audit.services.record`): the model, its
manager and, underneath, database triggers (migration 0001) refuse every change and every deletion."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnly(Exception):
    """An audit entry cannot be changed or deleted, and is added only through audit.services.record."""


class Action(models.TextChoices):
    """The fixed vocabulary of what the log records. A new kind of entry is a new value here."""

    SIGNIN_SUCCEEDED = "signin.succeeded", "Signed in"
    SIGNIN_FAILED = "signin.failed", "Sign-in failed"
    SIGNIN_LOCKED_OUT = "signin.locked_out", "Sign-in refused: locked out"
    SIGNIN_UNLOCKED = "signin.unlocked", "Sign-in lockout lifted"
    TWO_FACTOR_ENABLED = "two_factor.enabled", "Two-factor sign-in turned on"
    TWO_FACTOR_DISABLED = "two_factor.disabled", "Two-factor sign-in turned off"
    TWO_FACTOR_RESET = "two_factor.reset", "Two-factor sign-in reset by an admin"
    TWO_FACTOR_REQUIRED = "two_factor.required", "Two-factor sign-in required for everyone"
    TWO_FACTOR_OPTIONAL = "two_factor.optional", "Two-factor sign-in no longer required"
    RECOVERY_CODES_RENEWED = "recovery_codes.renewed", "New recovery codes made"
    RECOVERY_CODE_USED = "recovery_codes.used", "Recovery code used"
    AGENT_CREATED = "agent.created", "Agent created"
    AGENT_UPDATED = "agent.updated", "Agent changed"
    AGENT_ROLE_CHANGED = "agent.role_changed", "Agent's role changed"
    AGENT_DEACTIVATED = "agent.deactivated", "Agent deactivated"
    AGENT_ACTIVATED = "agent.activated", "Agent reactivated"
    API_TOKEN_CREATED = "api_token.created", "API token created"
    API_TOKEN_REVOKED = "api_token.revoked", "API token revoked"
    MAILBOX_CREATED = "mailbox.created", "Mailbox created"
    MAILBOX_UPDATED = "mailbox.updated", "Mailbox changed"
    REPORT_EXPORTED = "report.exported", "Report exported"
    SHARE_LINK_CREATED = "share_link.created", "Report share link created"
    SHARE_LINK_REVOKED = "share_link.revoked", "Report share link revoked"
    AUDIT_EXPORTED = "audit.exported", "Audit log exported"
    # The SSO secrets are environment settings (HAPPYDESK_SSO_JWT_SECRET, HAPPYDESK_OIDC_CLIENT_SECRET):
    # a web process that starts with other secrets than the last start records this (sso_secrets.py).
    SSO_SECRET_CHANGED = "sso.secret_changed", "SSO secret changed"
    # For the customer data commands (issue 12): details hold counts only, the target an opaque reference.
    CUSTOMER_EXPORTED = "customer.exported", "Customer data exported"
    CUSTOMER_ERASED = "customer.erased", "Customer data erased"


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    """Reads only: every bulk write a queryset offers is refused (rows come from record, one by one)."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnly("audit entries cannot be changed")

    def delete(self) -> NoReturn:
        raise AppendOnly("audit entries cannot be deleted")

    def _raw_delete(self, using: Any) -> NoReturn:
        raise AppendOnly("audit entries cannot be deleted")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        raise AppendOnly("audit entries cannot be changed")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly("audit entries are added one by one, through audit.services.record")


AuditManager = models.Manager.from_queryset(AuditQuerySet)


class AuditEntry(models.Model):
    """One thing that happened: when, who (and from which address), what, to what, and a few details.

    `seq` numbers the entries without gaps and `hash` chains each to the one before (services.py), so an
    entry changed, removed or slipped in outside the app shows up in `happydesk audit verify`."""

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # No database constraint and DO_NOTHING on purpose: deleting an agent must not touch the log (SET_NULL
    # would be an UPDATE, which the triggers refuse). The id then points nowhere; actor_email says who.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    ip = models.CharField(max_length=45, blank=True)  # ratelimit.client_ip; empty off the web
    details = models.JSONField(default=dict, blank=True)  # never a secret (services.record checks)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = AuditManager()

    class Meta:
        ordering = ["-seq"]
        base_manager_name = "objects"  # related lookups and Django's deletion collector refuse too
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_email or '-'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert once; saving an entry that is already stored is refused."""
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AppendOnly("audit entries cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly("audit entries cannot be deleted")
