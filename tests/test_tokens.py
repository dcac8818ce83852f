"""API tokens: kinds (an MTA token posts raw mail and nothing else; no other token posts raw mail),
who may hold one, listing and revoking them from the screens and the CLI."""

from __future__ import annotations

import pytest
from django.core.management import CommandError
from django.test import Client

from happydesk.accounts.models import ApiToken
from happydesk.accounts.services import (
    AgentChangeRefused,
    agent_create,
    agent_deactivate,
    agent_set_role,
    token_create,
)
from happydesk.mail.models import RawMessage
from tests.helpers import make_email, password_sign_in
from tests.helpers import run_command as run

pytestmark = pytest.mark.django_db


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def post_raw(token: str, subject: str = "Raw"):  # type: ignore[no-untyped-def]
    return bearer(token).post(
        "/api/v1/mail/raw", data=make_email(subject=subject), content_type="message/rfc822"
    )


def api_routes(token: str) -> list[tuple[str, str]]:
    schema = bearer(token).get("/api/v1/openapi.json").json()
    return [
        (method, path.replace("{number}", "1").replace("{incident_id}", "1").replace("{link_id}", "1"))
        for path, methods in schema["paths"].items()
        for method in methods
    ]


def test_only_an_mta_token_posts_raw_mail_and_it_posts_nothing_else(agent, mailbox):
    mta = run("token", "create", "--agent", agent.email, "--mta", "--name", "postfix").strip()
    api = token_create(user=agent)
    assert ApiToken.objects.get(prefix=mta[:8]).kind == "mta"
    assert post_raw(mta).status_code == 202
    assert post_raw(api).status_code == 401
    assert RawMessage.objects.count() == 1
    routes = api_routes(api)
    assert ("post", "/api/v1/mail/raw") in routes and len(routes) > 8
    for method, path in routes:
        if path == "/api/v1/mail/raw":
            continue
        r = getattr(bearer(mta), method)(path, content_type="application/json")
        assert r.status_code in (401, 403), (method, path, r.status_code)
    assert bearer(api).get("/api/v1/mailboxes").status_code == 200


def test_light_and_deactivated_agents_tokens_cannot_post_raw_mail(agent, mailbox):
    lee = agent_create(email="lee@acme.test", name="Lee", role="light")
    with pytest.raises(AgentChangeRefused):
        token_create(user=lee, kind="mta")
    with pytest.raises(CommandError, match="light agent"):
        run("token", "create", "--agent", lee.email, "--mta")
    assert post_raw(token_create(user=lee)).status_code == 401  # her API token: not for raw mail
    # An MTA token whose owner later became a light agent, or was deactivated, stops at once.
    sam = agent_create(email="sam@acme.test", name="Sam")
    dee = agent_create(email="dee@acme.test", name="Dee")
    sam_mta, dee_mta = token_create(user=sam, kind="mta"), token_create(user=dee, kind="mta")
    assert post_raw(sam_mta).status_code == 202 and post_raw(dee_mta).status_code == 202
    agent_set_role(agent=sam, role="light")
    agent_deactivate(agent=dee)
    assert post_raw(sam_mta).status_code == 401
    assert post_raw(dee_mta).status_code == 401
    assert RawMessage.objects.count() == 2


def test_cli_lists_and_revokes_tokens(agent):
    sam = agent_create(email="sam@acme.test", name="Sam")
    a = token_create(user=agent, name="laptop")
    s = token_create(user=sam, name="zapier")
    m = token_create(user=agent, name="postfix", kind="mta")
    assert bearer(a).get("/api/v1/mailboxes").status_code == 200  # now it has been used
    listing = run("token", "list")
    assert listing.splitlines()[0] == "id\tprefix\tagent\tname\tkind\tcreated\tlast used\trevoked"
    rows = {line.split("\t")[1]: line.split("\t") for line in listing.splitlines()[1:]}
    assert set(rows) == {a[:8], s[:8], m[:8]}
    assert rows[a[:8]][2:5] == [agent.email, "laptop", "api"] and rows[a[:8]][6] != "-"
    assert rows[m[:8]][4] == "mta" and rows[m[:8]][6] == "-" and rows[m[:8]][7] == "-"
    assert a not in listing and s not in listing  # never the secret itself
    assert {line.split("\t")[1] for line in run("token", "list", "--agent", sam.email).splitlines()[1:]} == {
        s[:8]
    }
    assert "revoked" in run("token", "revoke", a[:8])
    assert bearer(a).get("/api/v1/mailboxes").status_code == 401
    s_id = str(ApiToken.objects.get(prefix=s[:8]).pk)
    run("token", "revoke", s_id)
    assert bearer(s).get("/api/v1/mailboxes").status_code == 401
    assert bearer(m).get("/api/v1/mailboxes").status_code == 401  # an MTA token was never API
    row = [line for line in run("token", "list").splitlines() if line.split("\t")[1] == a[:8]][0]
    assert row.split("\t")[7] != "-"
    with pytest.raises(CommandError, match="no token"):
        run("token", "revoke", "hd_nope")
    # Two tokens with the same prefix: the id decides.
    ApiToken.objects.filter(prefix=m[:8]).update(prefix=s[:8])
    with pytest.raises(CommandError, match="several"):
        run("token", "revoke", s[:8])


def test_screens_list_and_revoke_tokens(agent, mailbox):
    sam = agent_create(email="sam@acme.test", name="Sam", password="long-password-2")
    lee = agent_create(email="lee@acme.test", name="Lee", password="long-password-1", role="light")
    sam_token = token_create(user=sam, name="sams-script")
    lee_token = token_create(user=lee, name="lees-script")
    sam_row, lee_row = ApiToken.objects.get(name="sams-script"), ApiToken.objects.get(name="lees-script")
    sam_browser, lee_browser, admin = Client(), Client(), Client()
    assert password_sign_in(sam_browser, "sam@acme.test", "long-password-2")
    assert password_sign_in(lee_browser, "lee@acme.test", "long-password-1")
    assert password_sign_in(admin, agent.email, "correct-horse-battery")

    page = sam_browser.get("/account/tokens/").content.decode()
    assert sam_token[:8] in page and "sams-script" in page and "API" in page
    assert lee_token[:8] not in page and sam_token not in page
    # Lee guesses Sam's token id: as if it did not exist.
    assert lee_browser.post(f"/tokens/{sam_row.pk}/revoke/").status_code == 404
    assert bearer(sam_token).get("/api/v1/mailboxes").status_code == 200
    # Each revokes their own ...
    assert lee_browser.post(f"/tokens/{lee_row.pk}/revoke/").status_code == 302
    assert bearer(lee_token).get("/api/v1/mailboxes").status_code == 401
    # ... and an admin anyone's, from the agent's page.
    page = admin.get(f"/admin/agents/{sam.pk}/").content.decode()
    assert sam_token[:8] in page and "never" not in page.split(sam_token[:8])[1][:400]
    r = admin.post(f"/tokens/{sam_row.pk}/revoke/", {"next": "agent"})
    assert r.status_code == 302 and r["Location"] == f"/admin/agents/{sam.pk}/"
    assert bearer(sam_token).get("/api/v1/mailboxes").status_code == 401
    sam_row.refresh_from_db()
    assert sam_row.revoked_at is not None
    assert ">Revoke</button>" not in admin.get(f"/admin/agents/{sam.pk}/").content.decode()
    assert Client().post(f"/tokens/{sam_row.pk}/revoke/").status_code == 302  # strangers: sign in
