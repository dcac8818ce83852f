"""The help centre's search as customers and the team meet it: a search with no result says the query
back and offers the community and the contact form; customers' searches are counted (agents' are not);
admins edit synonyms, other roles may not; the whole team reads what found nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.accounts.models import User
from happydesk.accounts.services import agent_create
from happydesk.kb.services import article_save, category_create, collection_create
from happydesk.search.models import SearchQueryDay, SynonymGroup

pytestmark = pytest.mark.django_db


def _client(role: str) -> Client:
    client = Client()
    client.force_login(agent_create(email=f"{role}@acme.test", name=role.title(), role=role))
    return client


@pytest.fixture
def help_centre(agent, mailbox):  # type: ignore[no-untyped-def]
    mailbox.form_enabled = True
    mailbox.save(update_fields=["form_enabled"])
    category = category_create(collection=collection_create(name="Using Acme"), name="Start")
    return article_save(
        title="Invite your team", body="Send invitations.", author=agent, category=category, publish=True
    )


def test_no_result_offers_the_community_and_the_contact_form_and_is_counted(help_centre, mailbox):
    r = Client().get("/help/search/", {"q": "zebra <b>stripes</b>"})
    html = r.content.decode()
    assert r.status_code == 200
    assert "We found nothing for “zebra &lt;b&gt;stripes&lt;/b&gt;”" in html
    assert 'href="/community/"' in html and f'href="/contact/{mailbox.pk}/"' in html
    Client().get("/help/search/", {"q": "Zebra stripes"})
    Client().get("/help/search/", {"q": "invite"})
    assert {(d.query, d.count, d.results) for d in SearchQueryDay.objects.all()} == {
        ("zebra b stripes b", 1, 0),
        ("zebra stripes", 1, 0),
        ("invite", 1, 1),
    }


def test_agents_searches_are_not_counted(help_centre, agent):
    client = Client()
    client.force_login(agent)
    assert client.get("/help/search/", {"q": "zebra"}).status_code == 200
    assert not SearchQueryDay.objects.exists()


def test_help_pages_carry_the_suggestion_box_and_script(help_centre):
    html = Client().get("/help/").content.decode()
    assert 'data-suggest="/search/suggest.json"' in html and "happydesk/suggest.js" in html


def test_synonyms_are_for_admins(agent):
    admin = Client()
    admin.force_login(agent)
    for role in (User.Role.AGENT, User.Role.LIGHT):
        client = _client(role)
        assert client.get("/admin/search/synonyms/").status_code == 403
        assert client.post("/admin/search/synonyms/", {"terms": "a, b"}).status_code == 403
    assert admin.post("/admin/search/synonyms/", {"terms": "invite, teammate"}).status_code == 302
    group = SynonymGroup.objects.get()
    assert "invite, teammate" in admin.get("/admin/search/synonyms/").content.decode()
    admin.post("/admin/search/synonyms/", {"group": group.pk, "action": "delete"})
    assert not SynonymGroup.objects.exists()


def test_the_whole_team_reads_searches_with_no_result(help_centre, agent):
    Client().get("/help/search/", {"q": "zebra"})
    Client().get("/help/search/", {"q": "zebra"})
    light = _client(User.Role.LIGHT)
    html = light.get("/reports/searches/").content.decode()
    assert "<td>zebra</td><td>2</td>" in html and "Write an article" not in html
    admin = Client()
    admin.force_login(agent)
    assert "/kb/new/?title=zebra" in admin.get("/reports/searches/").content.decode()
    assert Client().get("/reports/searches/").status_code == 302  # sign in first
