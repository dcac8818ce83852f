"""Admin → Audit log over HTTP: admins read, filter, page through and export it; agents and light agents
are refused; and nobody, an admin included, finds a route (page or API) that changes or removes an
entry."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from happydesk.accounts.services import token_create
from happydesk.audit.models import Action, AuditEntry
from happydesk.audit.selectors import CSV_COLUMNS
from happydesk.audit.services import Target, chain_verify, record
from tests.audit.audit_helpers import ADA_IP, ALEX_IP, LEE_IP, only, signed_in

pytestmark = pytest.mark.django_db


def all_patterns(resolvers=None, prefix=""):  # type: ignore[no-untyped-def]
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from all_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def stored_rows() -> list[tuple]:
    """Every audit row, every column, as the database holds them, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuditEntry._meta.db_table} ORDER BY seq")
        return cursor.fetchall()


def exported(client: Client, **filters: str) -> list[dict[str, str]]:
    r = client.post("/admin/audit/export.csv", filters)
    assert r.status_code == 200 and r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    return rows


def test_admins_read_it_newest_first_with_who_what_and_from_where(ada, admin, alex):
    page = admin.get("/admin/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Audit log" in html and "Signed in" in html and ADA_IP in html
    # Newest first: Ada's sign-in (the newest entry) is listed before Alex being created.
    assert html.index("Signed in") < html.index("Agent created")
    assert '<a href="/admin/audit/">Audit log</a>' in html  # in the Admin menu


def test_agents_and_light_agents_are_refused(ada, alex, lee):
    for who, ip in ((alex, ALEX_IP), (lee, LEE_IP)):
        client = signed_in(who.email, ip)
        assert client.get("/admin/audit/").status_code == 403
        assert client.post("/admin/audit/export.csv", {}).status_code == 403
        assert "/admin/audit/" not in client.get("/inbox/").content.decode()  # no menu link either
    anonymous = Client()
    for method, url in (("get", "/admin/audit/"), ("post", "/admin/audit/export.csv")):
        r = getattr(anonymous, method)(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert not AuditEntry.objects.filter(action=Action.AUDIT_EXPORTED).exists()


def _seed(ada, alex) -> None:  # type: ignore[no-untyped-def]
    record(Action.MAILBOX_UPDATED, actor=ada, target=Target("mailbox", 3, "billing@acme.test"), ip=ADA_IP)
    record(
        Action.API_TOKEN_REVOKED, actor=alex, target=Target("api_token", 9, "hd_Ab12… of alex"), ip=ALEX_IP
    )
    record(Action.MAILBOX_UPDATED, actor=alex, target=Target("mailbox", 4, "sales@acme.test"), ip=ALEX_IP)


def test_filters_by_action_actor_days_and_text(ada, alex, admin):
    _seed(ada, alex)

    def shown(**query: str) -> str:
        r = admin.get("/admin/audit/", query)
        assert r.status_code == 200
        return r.content.decode()

    html = shown(action="mailbox.updated")
    assert "billing@acme.test" in html and "sales@acme.test" in html and "hd_Ab12" not in html
    html = shown(action="mailbox.updated", actor="alex@")
    assert "sales@acme.test" in html and "billing@acme.test" not in html
    html = shown(q="BILLING")
    assert "billing@acme.test" in html and "sales@acme.test" not in html
    html = shown(q="api_token")
    assert "hd_Ab12" in html and "billing@acme.test" not in html
    today = timezone.now().date()
    assert "billing@acme.test" in shown(since=today.isoformat(), until=today.isoformat())
    assert "No entries match" in shown(until=(today - timedelta(days=1)).isoformat())
    assert "No entries match" in shown(since=(today + timedelta(days=1)).isoformat())
    # What cannot be read is left out, never an error.
    assert "billing@acme.test" in shown(action="drop table", since="yesterday", page="x")


def test_pages_of_fifty(ada, admin):
    for i in range(120):
        record(Action.REPORT_EXPORTED, actor=ada, target=Target("report", "goals", f"export {i:03d}"))
    first = admin.get("/admin/audit/", {"action": "report.exported"}).content.decode()
    assert "export 119" in first and "export 070" in first and "export 069" not in first
    assert "Page 1 of 3" in first and "action=report.exported&amp;page=2" in first
    last = admin.get("/admin/audit/", {"action": "report.exported", "page": "3"}).content.decode()
    assert "export 019" in last and "export 000" in last and "export 020" not in last


def test_the_csv_export_round_trips_the_filtered_rows_and_is_itself_recorded(ada, alex, admin):
    _seed(ada, alex)
    record(
        Action.MAILBOX_UPDATED,
        actor=ada,
        target=Target("mailbox", 5, '=HYPERLINK("http://x")'),  # a spreadsheet formula, as a label
        details={"changed": ["name"], "values": {"address": {"from": "a@x", "to": "b@x"}}},
    )
    rows = exported(admin, action="mailbox.updated")
    wanted = list(AuditEntry.objects.filter(action="mailbox.updated").order_by("-seq"))
    assert [int(r["seq"]) for r in rows] == [e.seq for e in wanted]
    assert list(rows[0]) == CSV_COLUMNS
    for row, entry in zip(rows, wanted, strict=True):
        label = row["target_label"]
        assert (label[1:] if label.startswith("'=") else label) == entry.target_label
        assert row["actor_email"] == entry.actor_email and row["ip"] == entry.ip
        assert row["action"] == entry.action and row["target_id"] == entry.target_id
        assert json.loads(row["details"]) == entry.details and row["hash"] == entry.hash
        assert row["at"] == entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    assert rows[0]["target_label"] == '\'=HYPERLINK("http://x")'  # never run as a formula

    export = only(Action.AUDIT_EXPORTED)
    assert (export.actor_id, export.ip, export.details) == (
        ada.pk,
        ADA_IP,
        {"filters": {"action": "mailbox.updated"}, "rows": 3},
    )
    # Unfiltered, the file holds every entry up to the click, and not the export's own entry.
    everything = exported(admin)
    newest = AuditEntry.objects.order_by("-seq").first()
    assert newest is not None and newest.action == Action.AUDIT_EXPORTED
    assert [int(r["seq"]) for r in everything] == list(range(newest.seq - 1, 0, -1))
    assert newest.details == {"filters": {}, "rows": newest.seq - 1}


def test_no_route_changes_or_removes_an_entry(ada, alex, admin):
    _seed(ada, alex)
    before = stored_rows()
    entry = AuditEntry.objects.order_by("seq").first()
    assert entry is not None
    routes = sorted(p for p in all_patterns() if "audit" in p)
    assert routes == ["admin/audit/", "admin/audit/export.csv"]

    tries = []
    for url in ("/admin/audit/", f"/admin/audit/{entry.pk}/", f"/admin/audit/{entry.seq}/delete/"):
        for method in ("post", "put", "patch", "delete"):
            body = {"action": "signin.failed", "actor_email": "nobody@acme.test"}
            tries.append(getattr(admin, method)(url, body, content_type="application/json").status_code)
    assert set(tries) <= {404, 405}
    export = admin.put("/admin/audit/export.csv", {"seq": entry.seq}, content_type="application/json")
    assert export.status_code == 405

    # Through the API, with an admin's token: there is no audit endpoint to write to (or read).
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=ada)}")
    for method in ("get", "post", "put", "patch", "delete"):
        for url in ("/api/v1/audit", f"/api/v1/audit/{entry.pk}", f"/api/v1/audit-log/{entry.pk}"):
            assert getattr(api, method)(url, {}, content_type="application/json").status_code in (404, 405)
    schema = json.dumps(api.get("/api/v1/openapi.json").json())
    assert "audit" not in schema.lower()

    after = stored_rows()
    assert after[: len(before)] == before  # every entry as it was; only new ones since (the token)
    assert [AuditEntry.objects.get(seq=row[1]).action for row in after[len(before) :]] == [
        Action.API_TOKEN_CREATED
    ]
    assert chain_verify().intact
