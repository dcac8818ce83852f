"""SSO secrets are environment settings: a change is noticed when a web process starts with other
secrets than the last start had, and lands in the audit log with counts, never a secret."""

from __future__ import annotations

import pytest

from happydesk.accounts.sso_secrets import sso_secrets_note_changes
from happydesk.audit.models import Action, AuditEntry
from tests.audit.audit_helpers import assert_no_secret
from tests.helpers import free_port, start_serve, stop

OLD, NEW = "jwt-secret-old-" + "a" * 30, "jwt-secret-new-" + "b" * 30


def _changes() -> list[tuple[str, dict]]:
    return [
        (e.target_id, e.details)
        for e in AuditEntry.objects.filter(action=Action.SSO_SECRET_CHANGED).order_by("seq")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_restart_with_a_rotated_jwt_secret_is_in_the_audit_log():
    """Real `happydesk serve` starts: first with one secret, then with the new one added (rotation),
    then with the old one removed, then unchanged."""
    for secrets in (OLD, f"{NEW},{OLD}", NEW, NEW):
        http, smtp = free_port(), free_port()
        stop(start_serve(http, smtp, HAPPYDESK_SSO_JWT_SECRET=secrets))
    assert _changes() == [
        ("HAPPYDESK_SSO_JWT_SECRET", {"secrets": "set", "added": 1, "removed": 0, "configured": 1}),
        ("HAPPYDESK_SSO_JWT_SECRET", {"secrets": "changed", "added": 1, "removed": 0, "configured": 2}),
        ("HAPPYDESK_SSO_JWT_SECRET", {"secrets": "changed", "added": 0, "removed": 1, "configured": 1}),
    ]
    assert_no_secret(OLD)
    assert_no_secret(NEW)


@pytest.mark.django_db
def test_the_oidc_client_secret_set_changed_and_removed(settings):
    assert sso_secrets_note_changes() == []  # never set, still unset: nothing to say
    settings.HAPPYDESK_OIDC_CLIENT_SECRET = "oidc-secret-1"
    assert sso_secrets_note_changes() == ["HAPPYDESK_OIDC_CLIENT_SECRET"]
    assert sso_secrets_note_changes() == []
    settings.HAPPYDESK_OIDC_CLIENT_SECRET = "oidc-secret-2"
    sso_secrets_note_changes()
    settings.HAPPYDESK_OIDC_CLIENT_SECRET = ""
    sso_secrets_note_changes()
    assert [d["secrets"] for _, d in _changes()] == ["set", "changed", "removed"]
    assert_no_secret("oidc-secret-1")
    assert_no_secret("oidc-secret-2")


@pytest.mark.django_db
def test_rotating_the_secret_key_is_not_an_sso_secret_change(settings):
    settings.HAPPYDESK_OIDC_CLIENT_SECRET = "oidc-secret-1"
    assert sso_secrets_note_changes() == ["HAPPYDESK_OIDC_CLIENT_SECRET"]
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" + "n" * 40, [old]
    assert sso_secrets_note_changes() == []  # same SSO secret, new key: nothing to report
    assert sso_secrets_note_changes() == []  # and stored under the new key from now on
    settings.SECRET_KEY_FALLBACKS = []
    assert sso_secrets_note_changes() == []
    settings.HAPPYDESK_OIDC_CLIENT_SECRET = "oidc-secret-2"
    assert sso_secrets_note_changes() == ["HAPPYDESK_OIDC_CLIENT_SECRET"]
    assert [d["secrets"] for _, d in _changes()] == ["set", "changed"]
