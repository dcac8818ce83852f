"""The report pages: agents only, charts with their tables, CSV export of every table, share links that
work without login and are refused once revoked, the admins' settings, and the business-volume API."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from django.test import Client

from happydesk.accounts.services import agent_create, token_create
from happydesk.reports.models import BusinessVolume, ReportSettings, ReportShare, SupportCost
from happydesk.reports.report import TABLE_KEYS
from happydesk.reports.services import share_link_token

pytestmark = pytest.mark.django_db
WEEK_QUERY = "start=2025-03-03&end=2025-03-09"


@pytest.fixture
def agent_client(built) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(built.bob)
    return client


def test_the_report_is_for_agents_and_shows_charts_with_tables(
    built, agent_client, django_assert_max_num_queries
):
    assert Client().get("/reports/").status_code == 302  # to the sign-in page
    with django_assert_max_num_queries(30):
        page = agent_client.get(f"/reports/?{WEEK_QUERY}")
    assert page.status_code == 200
    html = page.content.decode()
    svgs = re.findall(r"<svg class=\"chart\".*?</svg>", html, re.S)
    assert len(svgs) == 4  # goals, daily volume, heat map, happiness trend
    for svg in svgs:
        assert "<title id=" in svg and "<desc id=" in svg and 'role="img"' in svg
    assert "Within 1 h (calendar): 44% (previous 33%)" in html  # the chart's description carries the numbers
    for key in TABLE_KEYS:
        if key not in ("agents", "comments"):  # the comments are a list, with their own CSV link
            assert f'id="table-{key}"' in html, key
    assert "/reports/export/comments.csv?" in html
    assert "Each agent" in html and 'id="table-agents"' not in html  # the team first; agents on a tab
    agents = agent_client.get(f"/reports/?{WEEK_QUERY}&view=agents").content.decode()
    assert 'id="table-agents"' in agents and "Alice Agent" in agents and "not a ranking" in agents


def test_every_table_exports_as_csv_with_the_same_filters(built, agent_client):
    for key in TABLE_KEYS:
        r = agent_client.get(f"/reports/export/{key}.csv?{WEEK_QUERY}")
        assert r.status_code == 200 and r["Content-Type"].startswith("text/csv"), key
        assert f"happiness-{key}-2025-03-03-2025-03-09.csv" in r["Content-Disposition"]
        assert list(csv.reader(io.StringIO(r.content.decode())))[0], key
    goals = list(
        csv.reader(io.StringIO(agent_client.get(f"/reports/export/goals.csv?{WEEK_QUERY}").content.decode()))
    )
    assert goals[0] == ["Goal", "Hours counted", "This period", "Previous period", "Change"]
    assert goals[1] == ["Within 1 h", "calendar", "44.4", "33.3", "11.1"]
    speed = agent_client.get(f"/reports/export/speed.csv?{WEEK_QUERY}").content.decode()
    assert "This period (minutes)" in speed and "150.0" in speed  # the 9000 s median, in minutes
    billing = agent_client.get(f"/reports/export/conversations.csv?{WEEK_QUERY}&tag=billing").content.decode()
    assert "Conversations,3,1,2" in billing
    assert agent_client.get("/reports/export/nope.csv").status_code == 404
    assert Client().get("/reports/export/goals.csv").status_code == 302


def test_csv_cells_cannot_become_formulas(built, agent_client):
    from happydesk.inbox.services import conversation_tag
    from happydesk.reports.rollup import rollup_refresh

    conversation_tag(conversation=built.c["c1"], names=["=HYPERLINK(evil)"])
    rollup_refresh()
    text = agent_client.get(f"/reports/export/top_issues.csv?{WEEK_QUERY}").content.decode()
    assert "'=hyperlink(evil)" in text


def test_share_link_opens_without_login_and_is_refused_after_revoke(built, agent_client):
    r = agent_client.post(
        "/reports/shares/", {"query": WEEK_QUERY + "&mailbox=", "name": "For the product team"}
    )
    assert r.status_code == 302
    share = ReportShare.objects.get()
    assert share.filters == {"start": "2025-03-03", "end": "2025-03-09"} and share.created_by == built.bob
    link = f"/reports/shared/{share_link_token(share)}/"
    assert share.token in link  # the random token, signed
    page = agent_client.get("/reports/").content.decode()
    assert share_link_token(share) in page and "Revoke" in page

    visitor = Client()
    shared = visitor.get(link)
    assert shared.status_code == 200 and shared["X-Robots-Tag"].startswith("noindex")
    html = shared.content.decode()
    assert "For the product team" in html and "Happiness report" in html and "<svg" in html
    # The team's figures only: no agents, no customer names or addresses, no links to conversations.
    for private in ("Alice Agent", "Bob Agent", "Casey", "casey@example.test", "/c/", "table-agents", "csrf"):
        assert private not in html, private
    assert "[email]" in html  # the comment's address, masked
    assert visitor.get(link + "export/top_issues.csv").status_code == 200
    assert visitor.get(link + "export/agents.csv").status_code == 404
    assert "casey@example.test" not in visitor.get(link + "export/comments.csv").content.decode()
    # Forged or altered links are refused before any lookup.
    assert visitor.get(f"/reports/shared/{share.token}/").status_code == 404  # unsigned
    assert visitor.get(link.replace(share.token, share.token[:-2] + "xx")).status_code == 404

    assert agent_client.post(f"/reports/shares/{share.pk}/revoke/").status_code == 302
    assert visitor.get(link).status_code == 410
    assert visitor.get(link + "export/top_issues.csv").status_code == 410
    assert Client().post(f"/reports/shares/{share.pk}/revoke/").status_code == 302  # sign in first


def test_settings_are_for_admins_and_record_volume_and_cost(built):
    agent = Client()
    agent.force_login(built.bob)
    assert agent.get("/reports/settings/").status_code == 403
    admin = Client()
    admin.force_login(built.alice)
    assert admin.get("/reports/settings/").status_code == 200
    r = admin.post(
        "/reports/settings/",
        {
            "form": "settings",
            "recipients": "everyone@acme.test\nProduct@Acme.test",
            "mask_customers": "on",
            "digest_enabled": "on",
            "send_hour": "8",
            "timezone": "Europe/Berlin",
            "baseline_tags": "refund, Billing",
            "currency": "EUR",
        },
    )
    assert r.status_code == 302
    row = ReportSettings.objects.get()
    assert row.recipients == ["everyone@acme.test", "product@acme.test"]
    assert (row.mask_customers, row.digest_enabled, row.conversation_of_the_day) == (True, True, False)
    assert row.baseline_tags == ["refund", "billing"] and row.timezone == "Europe/Berlin"
    bad = admin.post(
        "/reports/settings/",
        {
            "form": "settings",
            "recipients": "not an address",
            "send_hour": "8",
            "timezone": "Mars/Base",
            "currency": "EUR",
        },
    )
    assert bad.status_code == 200 and "Unknown time zone" in bad.content.decode()
    admin.post(
        "/reports/settings/",
        {"form": "volume", "volume-date": "2025-03-09", "volume-metric": "Orders", "volume-value": "250"},
    )
    assert BusinessVolume.objects.get(date=date(2025, 3, 9)).value == 250
    admin.post("/reports/settings/", {"form": "cost", "cost-month": "2025-04", "cost-amount": "4200.50"})
    assert str(SupportCost.objects.get(month=date(2025, 4, 1)).amount) == "4200.50"


def test_business_volume_api(built):
    admin = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=built.alice)}")
    body = {"date": "2025-03-09", "metric": "Orders", "value": 120}
    r = admin.post("/api/v1/business-volume", body, content_type="application/json")
    assert r.status_code == 201 and r.json() == {
        "date": "2025-03-09",
        "metric": "orders",
        "value": 120,
        "source": "api",
    }
    r = admin.post("/api/v1/business-volume", {**body, "value": 130}, content_type="application/json")
    assert r.status_code == 201 and BusinessVolume.objects.get(date=date(2025, 3, 9)).value == 130  # replaced
    assert (
        admin.post(
            "/api/v1/business-volume", {**body, "value": -1}, content_type="application/json"
        ).status_code
        == 422
    )
    assert admin.get("/api/v1/business-volume?metric=orders&since=2025-03-08").json()[0]["value"] == 130
    light = agent_create(email="light@acme.test", name="Light", password="long-password-3")
    other = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=light)}")
    assert other.post("/api/v1/business-volume", body, content_type="application/json").status_code == 403
    assert Client().post("/api/v1/business-volume", body, content_type="application/json").status_code == 401
    # The week's contacts per transaction now includes Sunday's orders.
    from happydesk.reports.filters import Filters
    from happydesk.reports.report import build_report

    (orders,) = build_report(Filters(date(2025, 3, 3), date(2025, 3, 9), period=None)).tables["business"].rows
    assert orders[1:3] == [730, 10]
