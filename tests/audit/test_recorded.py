"""Each audited action done the way people do it, over HTTP from their own address (or on the command
line, where there is no page): it appears once in the log, with the right actor, target and client
address, and no secret used along the way (password, token, TOTP key, recovery code, IMAP password,
share link) appears anywhere in the stored rows."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from happydesk.accounts.models import ApiToken
from happydesk.audit.models import Action, AuditEntry
from happydesk.audit.services import chain_verify
from happydesk.inbox.models import Mailbox
from happydesk.reports.models import ReportShare
from tests.accounts.test_two_factor import secret_from
from tests.audit.audit_helpers import (
    ADA_IP,
    ALEX_IP,
    PASSWORD,
    assert_no_secret,
    entries,
    only,
    signed_in,
)
from tests.helpers import run_command, totp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chain_stays_intact():  # type: ignore[no-untyped-def]
    yield
    assert chain_verify().intact


def test_a_wrong_password_then_the_right_one(alex):
    browser = Client(REMOTE_ADDR=ALEX_IP)
    r = browser.post("/login/", {"username": "alex@acme.test", "password": "wrong-horse-battery"})
    assert r.status_code == 200
    failed = only(Action.SIGNIN_FAILED)
    assert (failed.actor_id, failed.actor_email, failed.ip) == (None, "", ALEX_IP)
    assert (failed.target_type, failed.target_id, failed.target_label) == ("agent", str(alex.pk), alex.email)

    r = browser.post("/login/", {"username": "ALEX@acme.test ", "password": PASSWORD})
    assert r.status_code == 302
    done = only(Action.SIGNIN_SUCCEEDED)
    assert (done.actor_id, done.actor_email, done.ip, done.target_id) == (
        alex.pk,
        alex.email,
        ALEX_IP,
        str(alex.pk),
    )
    assert done.seq == failed.seq + 1
    assert_no_secret(PASSWORD, "wrong-horse-battery")


def test_what_a_stranger_types_as_the_account_is_not_kept():
    """People type their password into the email field (it only gets this far when it looks like an
    address); a failure naming no account keeps nothing of what was typed."""
    typed = "Tr0ub4dor-3x@hunter2.test"
    Client(REMOTE_ADDR="192.0.2.99").post("/login/", {"username": typed, "password": "x" * 12})
    failed = only(Action.SIGNIN_FAILED)
    assert (failed.target_id, failed.target_label, failed.details) == ("", "", {"account": "unknown"})
    assert failed.ip == "192.0.2.99"
    assert_no_secret(typed, typed.lower(), "x" * 12)


def test_a_forged_forwarded_for_is_not_the_address_recorded(alex):
    Client(REMOTE_ADDR=ALEX_IP).post(
        "/login/", {"username": alex.email, "password": "nope" * 4}, HTTP_X_FORWARDED_FOR="10.9.9.9"
    )
    assert only(Action.SIGNIN_FAILED).ip == ALEX_IP


def test_a_lockout_and_the_admins_unlock(alex, admin, settings):
    settings.AXES_FAILURE_LIMIT = 3
    attacker = Client(REMOTE_ADDR="192.0.2.66")
    for i in range(3):
        attacker.post("/login/", {"username": alex.email, "password": f"guess-{i}-guess-{i}"})
    assert attacker.post("/login/", {"username": alex.email, "password": PASSWORD}).status_code == 429
    for _ in range(20):  # hammering the locked account
        attacker.post("/login/", {"username": alex.email, "password": PASSWORD})
    Client(REMOTE_ADDR=ALEX_IP).post("/login/", {"username": alex.email, "password": PASSWORD})
    assert len(entries(Action.SIGNIN_FAILED)) == 3
    # The third failure locked it; refusals after that: one entry a minute per account and address.
    locked = entries(Action.SIGNIN_LOCKED_OUT)
    assert [(e.actor_id, e.ip, e.target_id) for e in locked] == [
        (None, "192.0.2.66", str(alex.pk)),
        (None, ALEX_IP, str(alex.pk)),
    ]

    assert admin.post(f"/admin/agents/{alex.pk}/unlock/").status_code == 302
    unlocked = only(Action.SIGNIN_UNLOCKED)
    assert (unlocked.actor_email, unlocked.ip, unlocked.target_label) == ("ada@acme.test", ADA_IP, alex.email)
    assert unlocked.details == {"note": "1 attempt records cleared"}
    assert_no_secret(PASSWORD, "guess-0-guess-0", "guess-2-guess-2")


def test_two_factor_from_setting_up_to_an_admin_reset(alex, ada, admin):
    me = signed_in(alex.email, ALEX_IP)
    page = me.get("/account/two-factor/setup/?new=1").content.decode()
    secret = secret_from(page)
    shown = me.post("/account/two-factor/setup/", {"code": totp(secret)}).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", shown)
    on = only(Action.TWO_FACTOR_ENABLED)
    assert (on.actor_id, on.ip, on.target_id) == (alex.pk, ALEX_IP, str(alex.pk))

    # New recovery codes, confirmed with a code from the app.
    renewed = me.post("/account/two-factor/recovery/", {"code": totp(secret, at=time.time() + 30)})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", renewed.content.decode())
    assert len(codes) == 10
    assert (only(Action.RECOVERY_CODES_RENEWED).actor_id, only(Action.RECOVERY_CODES_RENEWED).ip) == (
        alex.pk,
        ALEX_IP,
    )

    # Signing in from elsewhere: a wrong code, then a recovery code.
    phone = Client(REMOTE_ADDR="198.51.100.77")
    assert phone.post("/login/", {"username": alex.email, "password": PASSWORD}).status_code == 302
    phone.post("/login/code/", {"code": "000000"})
    wrong = entries(Action.SIGNIN_FAILED)[-1]
    assert (wrong.ip, wrong.target_id, wrong.details) == (
        "198.51.100.77",
        str(alex.pk),
        {"note": "wrong two-factor code"},
    )
    assert phone.post("/login/code/", {"code": codes[0]}).status_code == 302
    used = only(Action.RECOVERY_CODE_USED)
    assert (used.actor_id, used.ip, used.details) == (alex.pk, "198.51.100.77", {"note": "9 left"})
    assert entries(Action.SIGNIN_SUCCEEDED)[-1].ip == "198.51.100.77"

    # The admin requires it for everyone (after turning it on for herself), then stops requiring it.
    ada_secret = secret_from(admin.get("/account/two-factor/setup/?new=1").content.decode())
    admin.post("/account/two-factor/setup/", {"code": totp(ada_secret)})
    admin = signed_in_with_code(ada.email, ADA_IP, ada_secret)
    assert admin.post("/admin/agents/two-factor/", {"required": "1"}).status_code == 302
    assert admin.post("/admin/agents/two-factor/", {"required": "0"}).status_code == 302
    for action in (Action.TWO_FACTOR_REQUIRED, Action.TWO_FACTOR_OPTIONAL):
        policy = only(action)
        assert (policy.actor_id, policy.ip, policy.target_type) == (ada.pk, ADA_IP, "sign_in_policy")

    # Alex turns it off with a recovery code; an admin resets Ada's (she lost her phone).
    assert me.post("/account/two-factor/off/", {"code": codes[1]}).status_code == 302
    off = only(Action.TWO_FACTOR_DISABLED)
    assert (off.actor_id, off.ip, off.target_id) == (alex.pk, ALEX_IP, str(alex.pk))
    assert admin.post(f"/admin/agents/{ada.pk}/two-factor-reset/").status_code == 302
    reset = only(Action.TWO_FACTOR_RESET)
    assert (reset.actor_id, reset.ip, reset.target_id) == (ada.pk, ADA_IP, str(ada.pk))

    assert_no_secret(PASSWORD, secret, ada_secret, secret.lower(), *codes)
    assert_no_secret(*(c.upper() for c in codes))


def signed_in_with_code(email: str, ip: str, secret: str, at: float | None = None) -> Client:
    browser = Client(REMOTE_ADDR=ip)
    assert browser.post("/login/", {"username": email, "password": PASSWORD}).status_code == 302
    at = at if at is not None else time.time() + 30  # the code after the one used to set it up
    r = browser.post("/login/code/", {"code": totp(secret, at=at)})
    assert r.status_code == 302, r.content.decode()[:300]
    return browser


def test_the_agents_admin(ada, admin):
    new_password = "a-brand-new-passphrase"
    r = admin.post(
        "/admin/agents/new/",
        {"email": "sam@acme.test", "name": "Sam", "password": new_password, "role": "agent"},
    )
    assert r.status_code == 302
    sam = AuditEntry.objects.get(action=Action.AGENT_CREATED, target_label="sam@acme.test")
    assert (sam.actor_id, sam.ip, sam.details) == (ada.pk, ADA_IP, {"role": "agent", "password": "set"})
    sam_id = int(sam.target_id)

    admin.post(f"/admin/agents/{sam_id}/role/", {"role": "light"})
    role = only(Action.AGENT_ROLE_CHANGED)
    assert (role.actor_id, role.ip, role.target_id, role.details) == (
        ada.pk,
        ADA_IP,
        str(sam_id),
        {"from": "agent", "to": "light"},
    )
    admin.post(f"/admin/agents/{sam_id}/role/", {"role": "light"})  # no change: nothing recorded
    assert len(entries(Action.AGENT_ROLE_CHANGED)) == 1

    admin.post(f"/admin/agents/{sam_id}/active/", {"active": "0"})
    admin.post(f"/admin/agents/{sam_id}/active/", {"active": "0"})
    admin.post(f"/admin/agents/{sam_id}/active/", {"active": "1"})
    for action in (Action.AGENT_DEACTIVATED, Action.AGENT_ACTIVATED):
        entry = only(action)
        assert (entry.actor_id, entry.ip, entry.target_id) == (ada.pk, ADA_IP, str(sam_id))

    # The same form again with a new name and password: the change is named, the password is not.
    admin.post(
        "/admin/agents/new/",
        {"email": "sam@acme.test", "name": "Sam Jones", "password": new_password + "!", "role": ""},
    )
    changed = only(Action.AGENT_UPDATED)
    assert changed.details == {"changed": ["name", "password"], "password": "changed"}
    assert_no_secret(PASSWORD, new_password)


def test_api_tokens_made_on_the_command_line_and_revoked_over_the_web(ada, alex, admin):
    token = run_command("token", "create", "--agent", alex.email, "--name", "CI").strip()
    created = only(Action.API_TOKEN_CREATED)
    row = ApiToken.objects.get(prefix=token[:8])
    assert (created.actor_id, created.ip, created.target_id) == (None, "", str(row.pk))
    assert created.details == {"prefix": token[:8], "kind": "api", "name": "CI"}

    # Alex revokes a token of theirs; the admin revokes it again (already revoked: no second entry).
    me = signed_in(alex.email, ALEX_IP)
    assert me.post(f"/tokens/{row.pk}/revoke/").status_code == 302
    admin.post(f"/tokens/{row.pk}/revoke/")
    revoked = only(Action.API_TOKEN_REVOKED)
    assert (revoked.actor_id, revoked.ip, revoked.target_id) == (alex.pk, ALEX_IP, str(row.pk))
    assert revoked.details == {"prefix": token[:8], "kind": "api"}
    assert_no_secret(token, token[8:], row.digest)


MAILBOX_FORM = {
    "address": "billing@acme.test",
    "name": "Billing",
    "timezone": "UTC",
    "auto_reply_window_minutes": 60,
    "response_goal_minutes": 240,
    "imap_host": "imap.acme.test",
    "imap_port": 993,
    "imap_security": "ssl",
    "imap_username": "billing",
    "rating_mode": "closing",
    "rating_window_days": 30,
}


def test_mailbox_and_imap_edits(ada, admin):
    first, second = "imap-secret-one-1", "imap-secret-two-2"
    assert admin.post("/admin/mailboxes/new/", {**MAILBOX_FORM, "imap_password": first}).status_code == 302
    box = Mailbox.objects.get(address="billing@acme.test")
    created = only(Action.MAILBOX_CREATED)
    assert (created.actor_id, created.ip, created.target_id, created.target_label) == (
        ada.pk,
        ADA_IP,
        str(box.pk),
        "billing@acme.test",
    )
    assert created.details == {"imap_host": "imap.acme.test", "imap_password": "set"}

    edit = f"/admin/mailboxes/{box.pk}/"
    admin.post(edit, {**MAILBOX_FORM, "imap_password": ""})  # nothing changed: nothing recorded
    admin.post(
        edit, {**MAILBOX_FORM, "name": "Billing team", "imap_host": "mail.acme.test", "imap_password": second}
    )
    admin.post(
        edit,
        {**MAILBOX_FORM, "address": "invoices@acme.test", "imap_password": "", "imap_password_forget": "on"},
    )
    changes = [e.details for e in entries(Action.MAILBOX_UPDATED)]
    assert changes == [
        {
            "changed": ["imap_host", "imap_password", "name"],
            "values": {"imap_host": {"from": "imap.acme.test", "to": "mail.acme.test"}},
            "imap_password": "changed",
        },
        {
            "changed": ["address", "imap_host", "imap_password", "name"],
            "values": {
                "address": {"from": "billing@acme.test", "to": "invoices@acme.test"},
                "imap_host": {"from": "mail.acme.test", "to": "imap.acme.test"},
            },
            "imap_password": "removed",
        },
    ]
    assert {(e.actor_id, e.ip, e.target_id) for e in entries(Action.MAILBOX_UPDATED)} == {
        (ada.pk, ADA_IP, str(box.pk))
    }
    assert Mailbox.objects.get(pk=box.pk).address == "invoices@acme.test"
    assert_no_secret(first, second)


def test_report_exports_and_share_links(alex, admin, ada):
    me = signed_in(alex.email, ALEX_IP)
    assert me.get("/reports/export/conversations.csv?period=30").status_code == 200
    exported = only(Action.REPORT_EXPORTED)
    assert (exported.actor_id, exported.ip, exported.target_type, exported.target_id) == (
        alex.pk,
        ALEX_IP,
        "report",
        "conversations",
    )
    assert exported.details == {"table": "conversations", "filters": {"period": "30"}}

    assert me.post("/reports/shares/", {"query": "period=7", "name": "For the board"}).status_code == 302
    share = ReportShare.objects.get(name="For the board")
    made = only(Action.SHARE_LINK_CREATED)
    assert (made.actor_id, made.ip, made.target_id, made.target_label) == (
        alex.pk,
        ALEX_IP,
        str(share.pk),
        "For the board",
    )
    assert made.details == {"filters": {"period": "7"}}

    # Someone with the link downloads a table: no agent, their address, the link as the target.
    from happydesk.reports.services import share_link_token

    link = share_link_token(share)
    reader = Client(REMOTE_ADDR="192.0.2.150")
    assert reader.get(f"/reports/shared/{link}/export/conversations.csv").status_code == 200
    via_link = entries(Action.REPORT_EXPORTED)[-1]
    assert (via_link.actor_id, via_link.ip, via_link.target_type, via_link.target_id) == (
        None,
        "192.0.2.150",
        "report_share",
        str(share.pk),
    )
    assert via_link.details["via"] == "share link"

    assert admin.post(f"/reports/shares/{share.pk}/revoke/").status_code == 302
    admin.post(f"/reports/shares/{share.pk}/revoke/")
    revoked = only(Action.SHARE_LINK_REVOKED)
    assert (revoked.actor_id, revoked.ip, revoked.target_id) == (ada.pk, ADA_IP, str(share.pk))
    assert_no_secret(share.token, link)


def test_command_line_changes_are_recorded_without_an_agent(db):
    run_command("agent", "add", "ops@acme.test", "--name", "Ops", "--role", "agent")
    run_command("agent", "role", "ops@acme.test", "light")
    run_command("agent", "deactivate", "ops@acme.test")
    run_command("mailbox", "add", "help@acme.test", "--name", "Help", "--imap-password", "cli-imap-secret")
    made = [
        (e.action, e.actor_id, e.ip)
        for e in AuditEntry.objects.order_by("seq")
        if e.action != Action.SIGNIN_SUCCEEDED
    ]
    assert made == [
        (Action.AGENT_CREATED, None, ""),
        (Action.AGENT_ROLE_CHANGED, None, ""),
        (Action.AGENT_DEACTIVATED, None, ""),
        (Action.MAILBOX_CREATED, None, ""),
    ]
    assert_no_secret("cli-imap-secret")
