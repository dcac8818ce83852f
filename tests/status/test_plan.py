"""The incident plan as one action: steps in order with outcomes, matching and review, the bulk reply
(threaded, one per customer per round, at the worker's pace), late arrivals, updates, "fixed" once."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from happydesk.inbox.models import Conversation, Message
from happydesk.mail import outbound
from happydesk.mail.models import OutboundMail
from happydesk.replies.models import SavedReply
from happydesk.runtime.jobs import periodic_forget
from happydesk.runtime.models import PeriodicRun
from happydesk.status import plan, rounds, services
from happydesk.status.models import (
    Incident,
    IncidentLink,
    IncidentNotice,
    IncidentSettings,
    NoticeDelivery,
    PlanStep,
    Subscriber,
)
from tests.helpers import deliver

pytestmark = pytest.mark.django_db
Step, Outcome = PlanStep.Step, PlanStep.Outcome


@pytest.fixture
def quiet_mailbox(mailbox):
    """No auto-replies, so the outbox holds only what the plan sends."""
    mailbox.auto_reply_enabled = False
    mailbox.save()
    return mailbox


@pytest.fixture
def lists(db):
    config = IncidentSettings.current()
    config.early_warning = ["lead@acme.test", "cto@acme.test"]
    config.on_call = ["oncall@acme.test"]
    config.save()
    return config


def write(sender: str, subject: str, body: str) -> Conversation:
    """A customer's email, through the real inbound path (verified by our trusted mail server)."""
    raw = deliver(sender=sender, subject=subject, body=body, verified=True)
    assert raw.state == "processed", raw.reason
    return raw.message.conversation


@pytest.fixture
def outage(quiet_mailbox, lists):
    """Four customers who can't log in (one of them twice), one who asks about invoices."""
    return {
        "ana": write("Ana <ana@example.test>", "Can't log in", "Login fails with an error since 9:00."),
        "ben": write("Ben <ben@example.test>", "Sign-in broken", "The login page just spins."),
        "cy": write("cy@example.test", "Help!", "I cannot login to my account."),
        "ana2": write("Ana <ana@example.test>", "Still can't get in", "Login still fails for me."),
        "dee": write("Dee <dee@example.test>", "Login error 500", "Every login attempt shows error 500."),
        "eve": write("Eve <eve@example.test>", "Invoice copy", "Could you send my March invoice again?"),
    }


def declare(agent, **kwargs) -> Incident:  # type: ignore[no-untyped-def]
    fields = {
        "title": "Sign-in fails for some customers",
        "body": "Some customers see an error when they sign in. We're looking into it.",
        "author": agent,
        "keywords": ["login"],
    }
    return plan.incident_declare_with_plan(**{**fields, **kwargs})


def steps(incident: Incident) -> dict[int, PlanStep]:
    return {s.step: s for s in incident.plan.steps.all()}


def send_all() -> int:
    total = 0
    while sent := rounds.notices_send_due(limit=2):  # small batches, as the worker does
        total += sent
    return total


def test_declaring_runs_every_step_in_order_with_its_outcome(outage, agent):
    incident = declare(agent)
    s = steps(incident)
    assert list(s) == [1, 2, 3, 4, 5, 6]

    assert s[Step.WARN].outcome == Outcome.DONE and "lead@acme.test, cto@acme.test" in s[Step.WARN].detail
    warn = OutboundMail.objects.get(dedupe_key=f"status-plan:{incident.pk}:warn")
    assert warn.to == ["lead@acme.test", "cto@acme.test"] and "please confirm" in warn.subject
    assert f"/admin/status/incidents/{incident.pk}/" in warn.body_text

    if apps.is_installed("happydesk.community"):
        assert s[Step.FORUM].outcome == Outcome.DONE and incident.plan.known_issue_url
    else:
        assert s[Step.FORUM].outcome == Outcome.SKIPPED

    reply = SavedReply.objects.get(name="Incident: Sign-in fails for some customers")
    assert f"http://127.0.0.1:8000/status/incidents/{incident.pk}/" in reply.body
    assert "{{ customer.first_name }}" in reply.body and "Some customers see an error" in reply.body
    assert s[Step.SAVED_REPLY].outcome == Outcome.DONE

    linked = set(IncidentLink.objects.filter(incident=incident).values_list("conversation_id", flat=True))
    assert linked == {outage[k].pk for k in ("ana", "ben", "cy", "ana2", "dee")}
    assert s[Step.MATCH].outcome == Outcome.WAITING
    assert "Found 5 open conversations from 4 customers" in s[Step.MATCH].detail
    assert s[Step.SEND].outcome == Outcome.PENDING
    assert s[Step.NOTICE].outcome == Outcome.DONE
    assert Client().get("/status/notice.json").json()["notices"][0]["title"] == incident.title
    assert not Message.objects.filter(kind=Message.Kind.REPLY).exists()  # nothing to customers yet


def test_matching_by_tag_and_time_window(outage, agent):
    from happydesk.inbox.services import conversation_tag

    conversation_tag(conversation=outage["eve"], names=["sso"])
    old = outage["ben"]
    Conversation.objects.filter(pk=old.pk).update(last_customer_message_at=timezone.now() - timedelta(days=3))
    incident = declare(agent, keywords=["login"], tags=["sso"], since=timezone.now() - timedelta(hours=2))
    reasons = dict(IncidentLink.objects.filter(incident=incident).values_list("conversation_id", "reason"))
    assert reasons[outage["eve"].pk] == "tagged sso"
    assert reasons[outage["ana"].pk] == "mentions “login”"
    assert old.pk not in reasons  # outside the window


def test_the_bulk_reply_reaches_each_customer_once_threaded_into_their_conversation(outage, agent, smtp_sink):
    incident = declare(agent)
    plan.link_remove(incident=incident, conversation=outage["cy"], actor=agent)
    outbound.send_due()  # the early-warning email
    smtp_sink.messages.clear()

    rounds.plan_send_first(incident=incident, author=agent)
    assert steps(incident)[Step.SEND].outcome == Outcome.RUNNING
    assert Message.objects.filter(kind=Message.Kind.REPLY).count() == 0  # the request sends nothing
    assert rounds.notices_send_due(limit=2) == 2  # the pace: a batch per worker tick
    assert send_all() == 1
    assert send_all() == 0  # never twice

    assert outbound.send_due() == 3 and outbound.send_due() == 0
    got = {}
    for _, rcpts, data in smtp_sink.wait_for(3):
        (to,) = rcpts
        assert to not in got, f"{to} got two"
        got[to] = message_from_bytes(data, policy=policy.default)
    assert set(got) == {"ana@example.test", "ben@example.test", "dee@example.test"}  # not cy, not eve
    for to, email in got.items():
        conversation = Conversation.objects.get(
            customer__emails__address=to, pk__in=[c.pk for c in outage.values()], messages__kind="reply"
        )
        theirs = conversation.messages.filter(kind="customer").latest("created_at")
        assert email["In-Reply-To"] == f"<{theirs.message_id}>"
        assert f"<{theirs.message_id}>" in email["References"]
        assert f"[#{conversation.number}]" in email["Subject"]
        body = email.get_body(("plain",)).get_content()
        assert f"/status/incidents/{incident.pk}/" in body and "{{" not in body
    assert got["ana@example.test"].get_body(("plain",)).get_content().startswith("Hi Ana,")
    # Ana wrote twice: the reply went to her latest conversation only.
    assert outage["ana2"].messages.filter(kind="reply").count() == 1
    assert outage["ana"].messages.filter(kind="reply").count() == 0
    s = steps(incident)
    assert s[Step.SEND].outcome == Outcome.DONE and "Replied to 3 customers" in s[Step.SEND].detail
    assert s[Step.MATCH].outcome == Outcome.DONE and "1 removed" in s[Step.MATCH].detail


def test_the_first_reply_goes_once_and_customers_without_a_name_are_greeted(outage, agent):
    incident = declare(agent)
    rounds.plan_send_first(incident=incident, author=agent)
    with pytest.raises(services.StatusError):
        rounds.plan_send_first(incident=incident, author=agent)
    send_all()
    reply = outage["cy"].messages.get(kind="reply")
    assert reply.text.startswith("Hi there,") and reply.author == agent
    assert NoticeDelivery.objects.filter(state="sent").count() == 4


def test_conversations_arriving_later_are_linked_and_answered_once(outage, agent):
    incident = declare(agent)
    rounds.plan_send_first(incident=incident, author=agent)
    send_all()
    late = write("Fay <fay@example.test>", "Login loop", "Login sends me back to the login page.")
    link = IncidentLink.objects.get(incident=incident, conversation=late)
    assert link.how == IncidentLink.How.AUTO
    assert late.messages.filter(kind="reply").count() == 1  # answered as it arrived
    assert send_all() == 0
    # Writing again in a linked conversation links nothing new and sends nothing new.
    write("Fay <fay@example.test>", f"Re: Login loop [#{late.number}]", "Still looping on login.")
    assert send_all() == 0
    # An unrelated email is not linked.
    other = write("Gus <gus@example.test>", "Refund", "Please refund order 7.")
    assert not IncidentLink.objects.filter(conversation=other).exists()


def test_a_keyword_late_in_a_long_message_links_it(outage, agent):
    incident = declare(agent)
    late = write(
        "Gil <gil@example.test>",
        "A question",
        "Good morning, I hope you are well. I have been trying since breakfast and the whole team "
        "here is waiting: our login just fails.",
    )
    assert IncidentLink.objects.filter(incident=incident, conversation=late).exists()


def test_an_arrival_costs_one_query_when_no_incident_is_open(quiet_mailbox, django_assert_num_queries):
    from happydesk.inbox.events import MessageReceived
    from happydesk.status.arrivals import incident_link_arrival

    conversation = write("Hal <hal@example.test>", "Login", "Login fails.")
    message = conversation.messages.get()
    arrived = MessageReceived(conversation_id=conversation.pk, message_id=message.pk, opened=True)
    with django_assert_num_queries(2):  # the message, then the open incidents: none
        incident_link_arrival(arrived)


def test_a_removed_conversation_is_never_linked_again_automatically(outage, agent):
    incident = declare(agent)
    plan.link_remove(incident=incident, conversation=outage["dee"], actor=agent)
    assert plan.plans_sweep() == 0
    deliver(
        sender="Dee <dee@example.test>",
        subject=f"Re: Login error 500 [#{outage['dee'].number}]",
        body="Login?",
        verified=True,
    )
    assert IncidentLink.objects.get(conversation=outage["dee"]).removed
    plan.link_add(incident=incident, conversation=outage["dee"], actor=agent)  # an agent may add it back
    assert not IncidentLink.objects.get(conversation=outage["dee"]).removed


def test_the_sweep_links_conversations_tagged_after_they_arrived(outage, agent):
    from happydesk.inbox.services import conversation_tag

    incident = declare(agent, keywords=[], tags=["sso"])
    assert not IncidentLink.objects.filter(incident=incident).exists()
    conversation_tag(conversation=outage["eve"], names=["sso"])
    assert plan.plans_sweep() == 1
    assert IncidentLink.objects.get(incident=incident).how == IncidentLink.How.AUTO


def test_updates_and_the_final_message_go_once_to_every_linked_customer(outage, agent):
    subscriber = Subscriber.objects.create(email="ben@example.test", confirmed_at=timezone.now())
    stranger = Subscriber.objects.create(email="sam@example.test", confirmed_at=timezone.now())
    incident = declare(agent)
    rounds.plan_send_first(incident=incident, author=agent)
    send_all()
    update = rounds.plan_update(
        incident=incident, state=Incident.State.IDENTIFIED, body="A certificate expired.", author=agent
    )
    assert send_all() == 4
    assert outage["ana2"].messages.filter(kind="reply", text__contains="A certificate expired.").count() == 1
    # Ben is linked and subscribed: he hears it once, in his conversation, not also by subscriber mail.
    mails = OutboundMail.objects.filter(kind="status-update")
    assert mails.get(dedupe_key=f"status-sub:{subscriber.pk}:update:{update.pk}").state == "cancelled"
    assert mails.get(dedupe_key=f"status-sub:{stranger.pk}:update:{update.pk}").state == "queued"

    rounds.plan_resolve(incident=incident, body="Renewed the certificate; sign-in works.", author=agent)
    assert send_all() == 4 and send_all() == 0
    final = outage["dee"].messages.filter(kind="reply").order_by("created_at").last()
    assert "is fixed" in final.text and "Renewed the certificate" in final.text
    assert outage["dee"].messages.filter(kind="reply").count() == 3  # first, update, fixed
    assert IncidentNotice.objects.filter(incident=incident, kind="final").count() == 1
    assert Incident.objects.get(pk=incident.pk).state == "resolved"
    if apps.is_installed("happydesk.community"):  # the forum's known issue is marked fixed too
        from happydesk.community.models import Topic

        assert Topic.objects.get(pk=incident.plan.known_issue_id).status == "fixed"
        assert "marked fixed" in steps(incident)[Step.FORUM].detail
    # Resolved: nothing is linked or answered any more.
    write("Hal <hal@example.test>", "Login", "Login fails")
    assert send_all() == 0 and IncidentLink.objects.filter(incident=incident).count() == 5


def test_resolving_stops_a_first_reply_still_going_out(outage, agent):
    incident = declare(agent)
    rounds.plan_send_first(incident=incident, author=agent)
    assert rounds.notices_send_due(limit=1) == 1
    rounds.plan_resolve(incident=incident, body="Fixed.", author=agent)
    send_all()
    kinds = list(NoticeDelivery.objects.values_list("notice__kind", flat=True))
    assert kinds.count("first") == 1 and kinds.count("final") == 4  # nobody hears "working on it" after


def test_placeholders_left_in_the_reply_are_refused_before_sending(outage, agent):
    incident = declare(agent)
    with pytest.raises(services.StatusError, match=r"\[ETA\]"):
        rounds.plan_send_first(
            incident=incident, author=agent, text="Hi {{ customer.first_name }}, fixed by [ETA]."
        )
    assert not IncidentNotice.objects.exists()


def test_minimum_contact_reminder_once_per_silence(outage, agent):
    incident = declare(agent)
    outbound.send_due()
    now = timezone.now()
    assert rounds.contact_reminders_due(now=now + timedelta(minutes=30)) == 0
    assert rounds.contact_reminders_due(now=now + timedelta(minutes=61)) == 1
    rounds.contact_reminders_due(now=now + timedelta(minutes=75))
    reminders = OutboundMail.objects.filter(subject__startswith="[Reminder]")
    assert reminders.count() == 1 and reminders.get().to == ["lead@acme.test", "cto@acme.test"]
    r = Client()
    r.force_login(agent)
    assert (
        "Customers have heard nothing"
        not in r.get(f"/admin/status/incidents/{incident.pk}/").content.decode()
    )
    rounds.plan_update(incident=incident, state="identified", body="Still on it.", author=agent)
    assert rounds.contact_reminders_due(now=timezone.now() + timedelta(minutes=30)) == 0


def test_the_worker_sends_the_bulk_reply_at_its_pace(outage, agent, lists):
    from happydesk.runtime.worker import run_once

    lists.replies_per_minute = 12  # one per 5-second tick
    lists.save()
    incident = declare(agent)
    rounds.plan_send_first(incident=incident, author=agent)
    run_once()
    assert NoticeDelivery.objects.count() == 1
    run_once()  # the same tick: nothing more
    assert NoticeDelivery.objects.count() == 1
    PeriodicRun.objects.filter(name="status-replies").update(
        last_run_at=timezone.now() - timedelta(seconds=6)
    )
    periodic_forget()  # as a fresh worker process would see it
    run_once()
    assert NoticeDelivery.objects.count() == 2


def test_the_plan_page_shows_steps_links_and_light_agents_only_look(outage, agent):
    from happydesk.accounts.services import agent_create

    incident = declare(agent)
    client = Client()
    client.force_login(agent)
    page = client.get(f"/admin/status/incidents/{incident.pk}/").content.decode()
    for name in (
        "Tell the early-warning list",
        "Write one answer for everyone",
        "Reply to everyone affected",
    ):
        assert name in page
    assert "Send to 4 customers" in page and f"#{outage['dee'].number}" in page
    r = client.post(f"/admin/status/incidents/{incident.pk}/links/{outage['dee'].number}/remove/")
    assert r.status_code == 302 and IncidentLink.objects.get(conversation=outage["dee"]).removed
    r = client.post(f"/admin/status/incidents/{incident.pk}/send/", {"text": incident.plan.saved_reply.body})
    assert r.status_code == 302 and IncidentNotice.objects.filter(kind="first").exists()

    light = agent_create(email="lee@acme.test", name="Lee Light", password="long-password-1")
    light.role = light.Role.LIGHT
    light.save()
    viewer = Client()
    viewer.force_login(light)
    page = viewer.get(f"/admin/status/incidents/{incident.pk}/").content.decode()
    assert "Tell the early-warning list" in page and "Post an update" not in page
    assert (
        viewer.post(
            f"/admin/status/incidents/{incident.pk}/links/", {"number": outage["eve"].number}
        ).status_code
        == 403
    )


def test_confirming_and_unknown_placeholders(outage, agent):
    incident = declare(agent)
    client = Client()
    client.force_login(agent)
    assert client.post(f"/admin/status/incidents/{incident.pk}/confirm/").status_code == 302
    detail = steps(incident)[Step.WARN].detail
    assert "Confirmed by Alex Agent" in detail
    with pytest.raises(services.StatusError, match="eta"):
        rounds.plan_send_first(
            incident=incident, author=agent, text="Hi {{ customer.first_name }}, by {{ eta }}."
        )


def test_a_reply_that_cannot_be_sent_is_recorded_not_retried(outage, agent, monkeypatch):
    incident = declare(agent)
    rounds.plan_send_first(incident=incident, author=agent, text="Hi {{ customer.company }}, we know.")
    assert send_all() == 4 and send_all() == 0
    failed = NoticeDelivery.objects.filter(state="failed")
    assert failed.count() == 4 and "customer.company" in failed.first().error
    assert "4 could not be sent" in steps(incident)[Step.SEND].detail

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr("happydesk.inbox.services.reply_create", broken)
    rounds.plan_update(incident=incident, state="identified", body="Found it.", author=agent)
    assert send_all() == 4 and send_all() == 0
    assert NoticeDelivery.objects.filter(notice__kind="update", error="RuntimeError: disk full").count() == 4


def test_incident_settings_are_for_admins(agent, db):
    from happydesk.accounts.services import agent_create

    client = Client()
    client.force_login(agent)
    form = {
        "early_warning": "Lead@acme.test\ncto@acme.test, lead@acme.test",
        "on_call": "oncall@acme.test",
        "contact_every_minutes": 45,
        "replies_per_minute": 60,
        "reply_template": "Hi {{ customer.first_name }}, {title}: {url}",
    }
    assert client.post("/admin/status/settings/", {**form, "on_call": "not an address"}).status_code == 200
    assert client.post("/admin/status/settings/", form).status_code == 302
    config = IncidentSettings.current()
    assert config.early_warning == ["lead@acme.test", "cto@acme.test"] and config.contact_every_minutes == 45
    other = agent_create(email="sam@acme.test", name="Sam", password="long-password-1")
    client.force_login(other)
    assert client.get("/admin/status/settings/").status_code == 200
    assert client.post("/admin/status/settings/", form).status_code == 403


def test_during_an_incident_a_new_customer_gets_one_message_not_an_auto_reply_and_then_the_incident_reply(
    outage, agent, smtp_sink, settings
):
    settings.HAPPYDESK_AUTO_REPLY_HOLD_SECONDS = 20
    outage["ana"].mailbox.auto_reply_enabled = True
    outage["ana"].mailbox.save()
    incident = declare(agent)
    rounds.plan_send_first(incident=incident, author=agent)
    send_all()
    outbound.send_due()
    smtp_sink.messages.clear()

    late = write("Fay <fay@example.test>", "Login loop", "Login sends me back to the login page.")
    unrelated = write("Gus <gus@example.test>", "Refund", "Please refund order 7.")
    # The hold passes (the worker would send every row due then).
    OutboundMail.objects.filter(state="queued").update(next_attempt_at=timezone.now())
    outbound.send_due()
    got: dict[str, list] = {}
    for _, rcpts, data in smtp_sink.wait_for(2):
        for to in rcpts:
            got.setdefault(to, []).append(message_from_bytes(data, policy=policy.default))
    assert outbound.send_due() == 0
    (fay_mail,) = got["fay@example.test"]  # exactly one message: the incident reply
    body = fay_mail.get_body(("plain",)).get_content()
    assert f"/status/incidents/{incident.pk}/" in body and f"[#{late.number}]" in fay_mail["Subject"]
    withdrawn = late.messages.get(kind="auto_reply")
    assert withdrawn.delivery == "" and "replaced by the incident reply" in withdrawn.delivery_error
    (gus_mail,) = got["gus@example.test"]  # not about the incident: the auto-reply, as always
    assert "We've got your message" in gus_mail.get_body(("plain",)).get_content()
    assert not IncidentLink.objects.filter(conversation=unrelated).exists()
