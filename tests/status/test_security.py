"""Security reports: recognised by form topic or words, flagged, hidden from light agents everywhere they
could look (list, search, conversation page, API), and escalated to on-call once, at any hour."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.accounts.services import agent_create, token_create
from happydesk.inbox.models import Conversation, SecurityFlag
from happydesk.inbox.security import security_reason, security_words
from happydesk.mail import outbound
from happydesk.mail.models import OutboundMail
from happydesk.portal.services import conversation_from_form
from happydesk.status import plan
from happydesk.status.models import IncidentLink, IncidentSettings
from tests.helpers import deliver

pytestmark = pytest.mark.django_db

SECRET_SUBJECT = "Stored XSS in the profile page"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("I found a stored XSS in your profile page", ["XSS"]),
        ("Your login form is vulnerable to SQL injection", ["vulnerability", "SQL injection"]),
        ("This looks like CVE-2024-3094 in your appliance", ["CVE"]),
        (
            "I'd like to report a security issue under responsible disclosure",
            ["security issue", "disclosure"],
        ),
        ("There was a data breach? My email is on a leak list", ["data breach"]),
        ("My account was hacked overnight", ["account takeover"]),
        ("A working exploit for your upload endpoint", ["exploit"]),
    ],
)
def test_security_words_are_recognised(text, found):
    assert security_words(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "How do I change my security settings?",
        "Where do I find the password reset?",
        "Export to CSV stops at 1,000 rows",
        "Can you explain the invoice breakdown?",
        "The sources page is blank",
    ],
)
def test_ordinary_questions_are_not_security_reports(text):
    assert security_reason(subject="Question", text=text) is None


def test_the_contact_forms_topic_is_enough():
    assert security_reason(subject="Hi", text="See attached.", topic="Report a security issue")
    assert security_reason(subject="Hi", text="See attached.", topic="Billing") is None


@pytest.fixture
def on_call(db):
    config = IncidentSettings.current()
    config.on_call = ["oncall@acme.test"]
    config.early_warning = ["lead@acme.test"]
    config.save()
    return config


@pytest.fixture
def report(mailbox, on_call):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    raw = deliver(
        sender="Riley Researcher <riley@example.test>",
        subject=SECRET_SUBJECT,
        body="The display name field is not escaped: <script>alert(1)</script>. Happy to share details.",
    )
    return raw.message.conversation


@pytest.fixture
def light(db):
    user = agent_create(email="lee@acme.test", name="Lee Light", password="long-password-1")
    user.role = user.Role.LIGHT
    user.save()
    return user


def test_a_report_is_flagged_and_hidden_from_light_agents_everywhere(report, light, agent, mailbox):
    from tests.helpers import deliver as deliver_again

    deliver_again(sender="casey@example.test", subject="Order help", body="Where is my order?")
    flag = SecurityFlag.objects.get(conversation=report)
    assert flag.active and flag.reason == "mentions XSS"

    viewer = Client()
    viewer.force_login(light)
    for path in ("/inbox/", "/inbox/?status=all", "/inbox/?q=profile", f"/inbox/?q=%23{report.number}"):
        page = viewer.get(path).content.decode()
        assert SECRET_SUBJECT not in page, path
    assert "Order help" in viewer.get("/inbox/").content.decode()  # the rest of the inbox is there
    assert viewer.get(f"/c/{report.number}/").status_code == 404
    assert viewer.post(f"/c/{report.number}/note/", {"text": "x"}).status_code == 404
    assert viewer.get("/admin/status/security/").status_code == 404
    # The same customer's ordinary conversation: its sidebar must not list the report either.
    deliver_again(
        sender="Riley Researcher <riley@example.test>", subject="Invoice copy", body="Please resend."
    )
    ordinary = Conversation.objects.get(subject="Invoice copy")
    page = viewer.get(f"/c/{ordinary.number}/").content.decode()
    assert page and SECRET_SUBJECT not in page and f"#{report.number}" not in page

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=light)}")
    assert api.get(f"/api/v1/conversations/{report.number}").status_code == 404
    listed = api.get("/api/v1/conversations?status=active").json()
    assert sorted(c["subject"] for c in listed) == ["Invoice copy", "Order help"]
    assert api.get("/api/v1/conversations?q=xss").json() == []

    # Full agents see it, with the reason.
    full = Client()
    full.force_login(agent)
    assert SECRET_SUBJECT in full.get("/inbox/").content.decode()
    assert full.get(f"/c/{report.number}/").status_code == 200
    assert "mentions XSS" in full.get("/admin/status/security/").content.decode()
    # Nothing public shows it.
    for path in ("/status/", "/status/api.json", "/status/notice.json", "/status/feed.atom"):
        assert SECRET_SUBJECT not in Client().get(path).content.decode()


def test_on_call_is_told_once_with_a_link_and_without_the_report(report, smtp_sink):
    deliver(
        sender="Riley Researcher <riley@example.test>",
        subject=f"Re: {SECRET_SUBJECT} [#{report.number}]",
        body="Also: the XSS works in the admin view. Exploit attached.",
        verified=True,
    )
    assert Conversation.objects.count() == 1
    alerts = OutboundMail.objects.filter(kind="status-security")
    assert alerts.count() == 1 and alerts.get().dedupe_key == f"status-security:{report.pk}:notice"
    assert outbound.send_due() == 1 and outbound.send_due() == 0
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    email = message_from_bytes(data, policy=policy.default)
    body = email.get_body(("plain",)).get_content()
    assert rcpts == ["oncall@acme.test"]
    assert email["Subject"] == f"[Security report] #{report.number}: {SECRET_SUBJECT}"
    assert email["Importance"] == "high"
    assert f"http://127.0.0.1:8000/c/{report.number}/" in body and "<script>" not in body


def test_on_call_full_agents_get_the_report_text_with_links_defanged(
    mailbox, on_call, agent, light, smtp_sink
):
    on_call.on_call = [agent.email, light.email, "pager@ops.example"]
    on_call.save()
    mailbox.auto_reply_enabled = False
    mailbox.save()
    deliver(
        sender="Riley Researcher <riley@example.test>",
        subject=SECRET_SUBJECT,
        body="Stored XSS: open https://app.acme.test/profile?name=<script>alert(1)</script> and see.",
    )
    assert outbound.send_due() == 2
    got = {}
    for _, rcpts, data in smtp_sink.wait_for(2):
        email = message_from_bytes(data, policy=policy.default)
        got[tuple(rcpts)] = email.get_body(("plain",)).get_content()
    full = got[(agent.email,)]
    assert "Stored XSS: open hxxps://app[.]acme.test/profile" in full and "https://app.acme" not in full
    others = got[tuple(sorted([light.email, "pager@ops.example"]))]
    assert "Stored XSS: open" not in others and "only in the conversation, for full agents" in others


def test_full_agents_see_the_mark_in_the_list_and_on_the_page(report, light, agent):
    full = Client()
    full.force_login(agent)
    row = full.get("/inbox/").content.decode().split(SECRET_SUBJECT)[0].rsplit("<tr", 1)[1]
    assert "security report" in row
    page = full.get(f"/c/{report.number}/").content.decode()
    assert 'id="security-note"' in page and "mentions XSS" in page


def test_escalation_at_any_hour_and_to_admins_when_nobody_is_on_call(mailbox, agent):
    from happydesk.customers.services import customer_for_address
    from happydesk.inbox.services import conversation_open, message_receive

    saturday_night = datetime(2026, 11, 28, 3, 12, tzinfo=ZoneInfo("UTC"))
    customer = customer_for_address(address="night@example.test", name="Night Owl")
    conversation = conversation_open(mailbox=mailbox, customer=customer, subject="Weekend", at=saturday_night)
    message_receive(
        conversation=conversation,
        customer=customer,
        from_name="Night Owl",
        from_address="night@example.test",
        subject="Weekend",
        text="I think there is a SQL injection in your search.",
        at=saturday_night,
    )
    alert = OutboundMail.objects.get(kind="status-security")
    assert alert.to == [agent.email]  # no on-call list yet: every admin
    assert alert.state == "queued" and alert.next_attempt_at <= timezone.now()  # due now, not on Monday


def test_a_security_topic_on_the_contact_form_flags_it(mailbox, on_call):
    c = conversation_from_form(
        mailbox=mailbox,
        name="Pat",
        email="pat@example.test",
        subject="Something I noticed",
        text="Please get in touch, I'd rather not write details here.",
        topic="Security vulnerability",
    )
    assert SecurityFlag.objects.get(conversation=c).reason.startswith("contact form topic")
    assert OutboundMail.objects.filter(kind="status-security", to=["oncall@acme.test"]).count() == 1


def test_flagged_conversations_are_never_linked_to_an_incident(report, agent):
    incident = plan.incident_declare_with_plan(
        title="Profile page broken", body="Looking into it.", author=agent, keywords=["profile"]
    )
    assert not IncidentLink.objects.filter(incident=incident).exists()
    deliver(
        sender="riley@example.test",
        subject=f"Re: x [#{report.number}]",
        body="The profile page again",
        verified=True,
    )
    assert not IncidentLink.objects.filter(incident=incident).exists()


def test_admins_clear_a_false_alarm_and_agents_flag_by_hand(report, light, agent, mailbox):
    full = Client()
    full.force_login(agent)
    assert full.post(f"/admin/status/security/{report.number}/clear/").status_code == 302
    assert not SecurityFlag.objects.get(conversation=report).active
    viewer = Client()
    viewer.force_login(light)
    assert viewer.get(f"/c/{report.number}/").status_code == 200
    deliver(
        sender="riley@example.test",
        subject=f"Re: x [#{report.number}]",
        body="More XSS details",
        verified=True,
    )
    assert not SecurityFlag.objects.get(conversation=report).active  # cleared stays cleared
    assert viewer.post("/admin/status/security/flag/", {"number": report.number}).status_code == 404
    assert full.post("/admin/status/security/flag/", {"number": report.number}).status_code == 302
    assert SecurityFlag.objects.get(conversation=report).active
    assert viewer.get(f"/c/{report.number}/").status_code == 404
    assert OutboundMail.objects.filter(kind="status-security").count() == 1  # on-call was told once
