"""The conversation page's feature panels: one table (runtime/panels.py) that this test pins, each panel
rendered where its slot is, and the sidebar's panels kept from an unverified sender's page."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.accounts.models import User
from happydesk.feedback.models import RatingRequest
from happydesk.feedback.services import rating_token
from happydesk.inbox import panels
from happydesk.inbox.services import reply_create
from happydesk.replies.services import saved_reply_save
from happydesk.runtime.panels import PANELS
from tests.helpers import deliver

pytestmark = pytest.mark.django_db


def test_the_panel_table_is_this_and_is_installed():
    """A new panel is a deliberate change: added here and in runtime/panels.py together."""
    assert dict(PANELS) == {
        "list_top": ("mail/_inbound_held_panel.html", "status/_inbox_panel.html"),
        "composer": ("replies/_saved_reply_picker.html",),
        "message_actions": ("kb/_article_from_reply.html",),
        "sidebar": (
            "community/_conversation_ideas.html",
            "feedback/_past_ratings.html",
            "privacy/_customer_privacy.html",
        ),
    }
    assert panels.installed() == dict(PANELS)


def test_a_table_that_leaves_out_a_slot_or_invents_one_is_refused():
    with pytest.raises(ValueError, match="slots"):
        panels.panels_install({"composer": (), "sidebar": ()})  # type: ignore[typeddict-item]
    with pytest.raises(ValueError, match="slots"):
        panels.panels_install({**PANELS, "footer": ("x.html",)})  # type: ignore[dict-item]
    assert panels.installed() == dict(PANELS)


def _page(user: User, number: int) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/c/{number}/")
    assert response.status_code == 200
    return response.content.decode()


def test_each_panel_renders_in_its_slot(mailbox, agent):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    saved_reply_save(name="Refund steps", body="Here is how refunds work.")
    rated = deliver(subject="Order late", verified=True).message.conversation
    reply_create(conversation=rated, author=agent, text="It ships today.", status="closed")
    Client().post(f"/rate/{rating_token(RatingRequest.objects.get())}/great/")
    c = deliver(subject="Another question", verified=True).message.conversation
    reply_create(conversation=c, author=agent, text="Looking into it.")

    page = _page(agent, c.number)
    composer = page[page.index('class="composer"') :]
    assert 'id="saved-reply"' in composer and "Refund steps" in composer  # replies, above the reply box
    assert page.count("Make an article") == 1  # kb, under the one reply
    sidebar = page[page.index('class="customer-col"') :]
    assert "Ratings" in sidebar and "Great" in sidebar and f"#{rated.number}" in sidebar  # feedback
    assert 'id="cm-ideas-title"' in sidebar  # community
    assert "Export data" in sidebar and "Erase customer…" in sidebar  # privacy, for the admin

    light = User.objects.create_user(email="lee@acme.test", password="x" * 12, name="Lee", role="light")
    light_page = _page(light, c.number)
    assert "Make an article" not in light_page  # the kb panel's own rule
    assert "privacy-panel" not in light_page  # the privacy panel's: admins only


def test_an_unverified_senders_page_shows_no_sidebar_panel(mailbox, agent):
    """Anyone may type a customer's address: the real customer's ratings and ideas stay off the page."""
    mailbox.auto_reply_enabled = False
    mailbox.save()
    rated = deliver(subject="Order late", verified=True).message.conversation
    reply_create(conversation=rated, author=agent, text="It ships today.", status="closed")
    Client().post(f"/rate/{rating_token(RatingRequest.objects.get())}/great/")
    fake = deliver(subject="Change my email").message.conversation
    assert fake.unverified and fake.customer_id == rated.customer_id

    page = _page(agent, fake.number)
    sidebar = page[page.index('class="customer-col"') :]
    assert "Unverified sender" in sidebar
    assert "past-ratings" not in sidebar and "Great" not in sidebar and f"#{rated.number}" not in sidebar
    assert "cm-ideas-title" not in sidebar
    assert "privacy-panel" not in sidebar  # no handle on the real customer's data from a stranger's mail
