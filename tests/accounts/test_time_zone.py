"""Agents see every time in their own time zone, labelled; the browser tells us the zone the first
time, and a zone the agent chose is never replaced; snooze choices and the snoozed time agree."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation
from tests.helpers import customer_conversation

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def web(agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


def test_the_browser_sets_the_zone_once_and_a_chosen_one_stands(web, agent):
    assert web.post("/account/time-zone/", {"zone": "Mars/Olympus", "auto": "1"}).status_code == 400
    assert web.post("/account/time-zone/", {"zone": "Europe/Berlin", "auto": "1"}).status_code == 204
    agent.refresh_from_db()
    assert agent.timezone == "Europe/Berlin"
    web.post("/account/time-zone/", {"zone": "Asia/Tokyo"})  # the agent's own choice
    web.post("/account/time-zone/", {"zone": "America/Chicago", "auto": "1"})  # another browser, later
    assert User.objects.get(pk=agent.pk).timezone == "Asia/Tokyo"
    page = web.get("/inbox/").content.decode()
    assert 'class="tz-label"' in page and "in Asia/Tokyo" in page and ">Tokyo time</a>" in page
    assert 'id="tz-auto"' not in page


def test_a_zone_the_browser_names_but_the_list_leaves_out_is_taken_once(web, agent):
    """Browsers may report an alias we do not offer in the list (Etc/GMT+5): it is kept, so the page
    does not ask again on every load; the agent's own choice must still come from the list."""
    assert web.post("/account/time-zone/", {"zone": "Etc/GMT+5", "auto": "1"}).status_code == 204
    assert User.objects.get(pk=agent.pk).timezone == "Etc/GMT+5"
    assert 'id="tz-auto"' not in web.get("/inbox/").content.decode()
    web.post("/account/time-zone/", {"zone": "Etc/GMT+3"})  # not in the list: refused
    assert User.objects.get(pk=agent.pk).timezone == "Etc/GMT+5"


def test_agent_pages_show_times_in_the_agents_zone(web, agent, mailbox):
    at = datetime(2026, 12, 3, 23, 30, tzinfo=ZoneInfo("UTC"))
    c = customer_conversation(mailbox, address="c@example.test", name="C", subject="Late", text="Hi", at=at)
    Conversation.objects.filter(pk=c.pk).update(last_activity_at=at)
    User.objects.filter(pk=agent.pk).update(timezone="Asia/Tokyo")
    page = web.get("/inbox/?status=active").content.decode()
    assert 'title="Fri Dec 4, 08:30"' in page  # 23:30 UTC is 08:30 the next day in Tokyo
    User.objects.filter(pk=agent.pk).update(timezone="")
    assert 'title="Thu Dec 3, 23:30"' in web.get("/inbox/?status=active").content.decode()  # UTC


def test_snooze_until_tomorrow_is_nine_in_the_morning_where_the_agent_is(web, agent, mailbox):
    c = customer_conversation(mailbox, address="c@example.test", name="C", subject="Later", text="Hi")
    User.objects.filter(pk=agent.pk).update(timezone="Asia/Tokyo")
    web.post(f"/c/{c.number}/snooze/", {"until": "tomorrow"})
    c.refresh_from_db()
    tomorrow = (timezone.now().astimezone(TOKYO) + timedelta(days=1)).date()
    assert c.snoozed_until.astimezone(TOKYO) == datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, 9, tzinfo=TOKYO
    )
    page = web.get(f"/c/{c.number}/").content.decode()
    assert f"Snoozed until {c.snoozed_until.astimezone(TOKYO):%a %b %-d}, 09:00" in page
