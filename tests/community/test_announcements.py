"""Announcements with a publish date, and "new since your last visit" for the portal and the widget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.community import services
from happydesk.community.models import AnnouncementsSeen
from happydesk.community.selectors import announcements_last_seen, announcements_since
from tests.community.conftest import portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def news(agent):  # type: ignore[no-untyped-def]
    now = timezone.now()

    def make(title: str, days: float | None) -> object:
        at = None if days is None else now - timedelta(days=days)
        return services.announcement_save(
            title=title, body=f"**{title}** details.", published_at=at, author=agent
        )

    return {
        "old": make("Dashboards load faster", 30),
        "recent": make("A Viewer role", 5),
        "today": make("Excel export is here", 0.1),
        "future": make("Teams alerts beta", -3),
        "draft": make("Price changes", None),
    }


def titles(rows) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.title for a in rows]


def test_only_published_announcements_show_newest_first(news, client):
    assert titles(announcements_since(None)) == [
        "Excel export is here",
        "A Viewer role",
        "Dashboards load faster",
    ]
    body = client.get("/community/announcements/").content.decode()
    assert "Excel export is here" in body and "<strong>Excel export is here</strong>" in body
    assert "Teams alerts beta" not in body and "Price changes" not in body
    assert client.get(news["future"].get_absolute_url()).status_code == 404
    assert client.get(news["draft"].get_absolute_url()).status_code == 404
    assert client.get(news["today"].get_absolute_url()).status_code == 200


def test_future_announcements_appear_when_their_date_comes(news):
    from happydesk.community.models import Announcement

    Announcement.objects.filter(pk=news["future"].pk).update(
        published_at=timezone.now() - timedelta(minutes=1)
    )
    assert titles(announcements_since(None))[0] == "Teams alerts beta"


def test_new_since_the_customers_last_look(news, people):
    assert announcements_last_seen(people.ann) is None
    assert len(announcements_since(people.ann)) == 3  # never looked: all of them are new
    services.announcements_seen(customer=people.ann, at=timezone.now() - timedelta(days=10))
    assert titles(announcements_since(people.ann)) == ["Excel export is here", "A Viewer role"]
    since = timezone.now() - timedelta(days=1)
    assert titles(announcements_since(people.ann, since)) == ["Excel export is here"]  # the widget's own date
    assert titles(announcements_since(None, since)) == ["Excel export is here"]
    services.announcements_seen(
        customer=people.ann, at=timezone.now() - timedelta(days=20)
    )  # never goes back
    assert titles(announcements_since(people.ann)) == ["Excel export is here", "A Viewer role"]
    services.announcements_seen(customer=people.ann)
    assert announcements_since(people.ann) == []
    assert AnnouncementsSeen.objects.filter(customer=people.ann).count() == 1


def test_the_portal_shows_new_ones_at_the_top_until_read(news, people):
    client = portal_client(people.ann)
    services.announcements_seen(customer=people.ann, at=timezone.now() - timedelta(days=10))
    page = client.get("/portal/").content.decode()
    assert "New since your last visit" in page
    assert page.index("Excel export is here") < page.index("Your conversations</h1>") + 2000
    assert "Dashboards load faster" not in page
    client.post("/community/announcements/seen/")
    assert "New since your last visit" not in client.get("/portal/").content.decode()


def test_reading_the_announcements_page_counts_as_looking(news, people):
    client = portal_client(people.bo)
    assert len(announcements_since(people.bo)) == 3
    client.get("/community/announcements/")
    assert announcements_since(people.bo) == []
    Client().get("/community/announcements/")  # anonymous visitors leave no record
    assert AnnouncementsSeen.objects.count() == 1


def test_agents_manage_announcements(agent_client):
    r = agent_client.post(
        "/community/manage/announcements/new/",
        {"title": "Scheduled maintenance", "body": "On **Sunday**.", "published_at": "2031-01-05T08:00"},
    )
    assert r.status_code == 302
    listing = agent_client.get("/community/manage/announcements/").content.decode()
    assert "Scheduled maintenance" in listing and "Scheduled" in listing
    assert "Scheduled maintenance" not in Client().get("/community/announcements/").content.decode()
    assert Client().get("/community/manage/announcements/").status_code == 302
