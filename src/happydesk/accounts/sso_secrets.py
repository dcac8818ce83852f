"""Noticing SSO secret changes. The secrets are environment settings the app cannot change, so a change
happens outside it: `happydesk serve`, as it starts, compares a keyed fingerprint of every configured
secret with what the last start saw, and writes `sso.secret_changed` to the audit log (how many were
added and removed, never a secret or its fingerprint) when they differ. A deployment that serves
`happydesk.asgi`/`wsgi` with another server records changes only when `happydesk serve` next starts.
A rotated SECRET_KEY (the old one in SECRET_KEY_FALLBACKS) is not a change of the SSO secrets."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from happydesk.accounts.models import SecretFingerprints
from happydesk.audit.models import Action
from happydesk.audit.services import Target, record


def _configured() -> dict[str, list[str]]:
    """The SSO secrets by setting name, as this process has them."""
    oidc = settings.HAPPYDESK_OIDC_CLIENT_SECRET
    return {
        "HAPPYDESK_SSO_JWT_SECRET": list(settings.HAPPYDESK_SSO_JWT_SECRETS),
        "HAPPYDESK_OIDC_CLIENT_SECRET": [oidc] if oidc else [],
    }


def _fingerprints(secrets: list[str], key: str | None = None) -> list[str]:
    """Stable across restarts and processes, useless without SECRET_KEY (`key`): enough to notice a change."""
    return sorted(
        {
            salted_hmac("happydesk.sso-secret-fingerprint", s, secret=key, algorithm="sha256").hexdigest()[
                :24
            ]
            for s in secrets
        }
    )


@transaction.atomic
def sso_secrets_note_changes() -> list[str]:
    """Compare the configured SSO secrets with the last start's and audit each setting that changed;
    returns the names of those settings. Settings never set and still unset record nothing."""
    changed = []
    for setting, secrets in _configured().items():
        now = _fingerprints(secrets)
        row = SecretFingerprints.objects.select_for_update().filter(setting=setting).first()
        before = row.fingerprints if row is not None else []
        if now == before:
            continue
        if row is not None and any(
            _fingerprints(secrets, key) == before for key in settings.SECRET_KEY_FALLBACKS
        ):
            # SECRET_KEY was rotated, the SSO secrets were not: keep them under the new key, say nothing.
            SecretFingerprints.objects.filter(pk=row.pk).update(fingerprints=now)
            continue
        added, removed = len(set(now) - set(before)), len(set(before) - set(now))
        state = "set" if not before else ("removed" if not now else "changed")
        record(
            Action.SSO_SECRET_CHANGED,
            target=Target("setting", setting, setting),
            details={"secrets": state, "added": added, "removed": removed, "configured": len(now)},
        )
        SecretFingerprints.objects.update_or_create(
            setting=setting, defaults={"fingerprints": now, "changed_at": timezone.now()}
        )
        changed.append(setting)
    return changed
