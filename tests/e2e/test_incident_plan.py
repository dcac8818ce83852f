"""In the browser: declare an incident, review the matched conversations (remove one), send the bulk
reply, post an update, resolve. A real SMTP server on loopback receives exactly one notice per affected
customer per step, threaded into that customer's conversation, and nothing for anyone else (not the
customer who wrote about the same thing before the plan's time window)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.utils import timezone

from happydesk.inbox.models import Conversation
from happydesk.mail import outbound
from happydesk.status import rounds
from happydesk.status.models import IncidentLink, IncidentSettings, NoticeDelivery
from tests import builders
from tests.e2e.test_status_page import axe_js, serious_violations  # noqa: F401 - the axe fixture
from tests.helpers import SHOTS, deliver, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LIST = ["lead@acme.test", "cto@acme.test"]


def write(sender: str, subject: str, body: str) -> Conversation:
    """A customer's email to support@acme.test, through the SMTP listener's path, arriving now."""
    raw = deliver(sender=sender, subject=subject, body=body)
    assert raw.state == "processed", raw.reason
    return raw.message.conversation


def run_worker() -> None:
    """What the worker does between steps: the plan's batches, then the outbox."""
    while rounds.notices_send_due(limit=5):
        pass
    while outbound.send_due():
        pass


def received(sink, start: int) -> list[tuple[str, object]]:
    """(recipient, parsed email) of every notice since `start`: not the early-warning list's mail, and
    not the usual auto-reply a new conversation gets ("we got your email")."""
    out = []
    for _, rcpts, data in sink.messages[start:]:
        email = message_from_bytes(data, policy=policy.default)
        if email["Auto-Submitted"] == "auto-replied":
            continue
        for rcpt in rcpts:
            if rcpt not in LIST:
                out.append((rcpt, email))
    return out


def customer_of(address: str) -> int:
    from happydesk.customers.models import CustomerEmail

    return CustomerEmail.objects.get(address=address).customer_id


def check_step(sink, start: int, incident, kind: str, expected: set[int]) -> None:  # type: ignore[no-untyped-def]
    """Exactly one notice per affected customer (by customer id) for this step, threaded into the
    conversation of theirs it answers, and none to anybody else."""
    got = received(sink, start)
    counts = Counter(customer_of(rcpt) for rcpt, _ in got)
    assert set(counts) == expected, (kind, set(counts) ^ expected)
    assert all(n == 1 for n in counts.values()), (kind, counts)
    for rcpt, email in got:
        delivery = NoticeDelivery.objects.select_related("conversation", "message").get(
            notice__incident=incident, notice__kind=kind, customer_id=customer_of(rcpt)
        )
        conversation = delivery.conversation
        customer_lines = conversation.messages.filter(kind="customer").exclude(message_id="")
        theirs, first = customer_lines.latest("created_at"), customer_lines.earliest("created_at")
        assert email["In-Reply-To"] == f"<{theirs.message_id}>", rcpt
        assert f"<{first.message_id}>" in email["References"], rcpt
        assert f"[#{conversation.number}]" in email["Subject"], rcpt
        assert email["Message-ID"] == f"<{delivery.message.message_id}>"


def linked_customers(incident) -> set[int]:  # type: ignore[no-untyped-def]
    return set(
        IncidentLink.objects.filter(incident=incident, removed=False).values_list(
            "conversation__customer_id", flat=True
        )
    )


def test_the_incident_plan_end_to_end(page, live_server, smtp_sink, axe_js, mailbox, agent):  # noqa: F811
    builders.status_components({"Product": ["Dashboard"]}, since=timezone.now() - timedelta(days=30))
    config = IncidentSettings.current()
    config.early_warning = LIST
    config.save()
    ana = write(
        "Ana Alves <ana@example.test>",
        "Can't log in since this morning",
        "Login fails with 'Something went wrong'.",
    )
    ben = write(
        "Ben Brandt <ben@example.test>", "Login broken", "The login page spins forever, then shows an error."
    )
    cho = write("Cho Chen <cho@example.test>", "Sign-in error", "Every login attempt ends on an error page.")
    ana2 = write(
        "Ana Alves <ana@example.test>", "Still no login", "Our whole team is locked out now. Login fails."
    )
    dev = write("Dev Das <dev@example.test>", "Login problem?", "Is login down? I get an error.")
    eve = write(
        "Eve Ek <eve@example.test>", "Invoice for October", "Could you send the October invoice again?"
    )
    # About the same thing, but five hours ago: outside the three hours the plan looks back.
    gus = builders.conversation_at(
        mailbox,
        address="gus@example.test",
        name="Gus Gray",
        subject="Login error",
        text="Login fails for me too.",
        at=timezone.now() - timedelta(hours=5),
    )
    run_worker()  # auto-replies to the new conversations go out first
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1000})

    # Declare from the agent UI.
    sign_in(page, live_server.url, agent.email, "correct-horse-battery")
    page.goto(f"{live_server.url}/admin/status/")
    page.get_by_role("link", name="Declare an incident").click()
    page.get_by_label("Title").fill("Sign-in fails for some customers")
    page.get_by_label("Impact").select_option("major")
    page.get_by_label("First update").fill(
        "Some customers see an error when they sign in. We're looking into it and will update within the hour."
    )
    page.get_by_label("Product: Dashboard").select_option("partial_outage")
    page.get_by_label("Words customers use").fill("login")
    page.get_by_label("Conversations with customer messages in").select_option("3")
    start = len(smtp_sink.messages)
    page.get_by_role("button", name="Declare and run the plan").click()
    page.get_by_role("heading", name="Incident plan").wait_for()
    from happydesk.status.models import Incident

    incident = Incident.objects.get(title="Sign-in fails for some customers")
    steps = page.locator(".plan-step")
    assert steps.count() == 6
    assert "Emailed 2 people to confirm" in steps.nth(0).inner_text()
    assert "Saved reply “Incident: Sign-in fails for some customers” is ready" in steps.nth(2).inner_text()
    assert "Waiting for you" in steps.nth(3).inner_text()
    assert "Done" in steps.nth(5).inner_text()

    # Review: everything that matched is listed; one is taken out.
    links = IncidentLink.objects.filter(incident=incident)
    for c in (ana, ben, cho, ana2, dev):
        assert links.filter(conversation=c).exists()
        assert page.locator(f"#link-{c.number}").is_visible()
    assert not links.filter(conversation__in=[eve, gus]).exists()
    page.get_by_role("button", name=f"Remove #{cho.number}").click()
    page.get_by_text(f"Removed #{cho.number}").wait_for()
    assert IncidentLink.objects.get(conversation=cho).removed
    assert serious_violations(page, axe_js) == []

    run_worker()
    warned = [rcpts for _, rcpts, _ in smtp_sink.messages[start:]]
    assert warned == [LIST]  # step 1: the early-warning list, once, and nobody else yet

    # Send the bulk reply.
    affected = linked_customers(incident)
    assert affected == {ana.customer_id, ben.customer_id, dev.customer_id}  # Ana once, for two
    start = len(smtp_sink.messages)
    page.get_by_role("button", name=f"Send to {len(affected)} customers").click()
    page.get_by_text(f"Sending to {len(affected)} customers, one reply each.").wait_for()
    run_worker()
    # A customer who writes in after the bulk reply is linked and answered too.
    fay = write("Fay Fox <fay@example.test>", "Login loop", "Login sends me back to the login page.")
    run_worker()
    affected.add(fay.customer_id)
    check_step(smtp_sink, start, incident, "first", affected)
    assert ana2.messages.filter(kind="reply").count() == 1 and ana.messages.filter(kind="reply").count() == 0
    page.reload()
    assert "Replied to" in page.locator(".plan-step").nth(4).inner_text()
    assert page.locator(f"#link-{fay.number}").is_visible()

    # Post an update to every linked customer.
    start = len(smtp_sink.messages)
    page.get_by_label("State", exact=True).select_option("identified")
    page.get_by_label("Update", exact=True).fill(
        "We found the cause: an expired certificate on one sign-in server. A fix is rolling out."
    )
    assert page.get_by_label("Reply to every linked customer").is_checked()
    page.get_by_role("button", name="Post update").click()
    page.get_by_text("Update posted.").wait_for()
    run_worker()
    check_step(smtp_sink, start, incident, "update", affected)
    page.reload()
    page.locator(".plan-step").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "incident-plan.png"), full_page=True)

    # Resolve: one final "fixed" message, once.
    start = len(smtp_sink.messages)
    page.get_by_label("Final update").fill("The certificate is renewed and sign-in works for everyone again.")
    page.get_by_role("button", name="Resolve incident").click()
    page.get_by_text("Resolved.").first.wait_for()
    run_worker()
    run_worker()
    check_step(smtp_sink, start, incident, "final", affected)
    fixed = received(smtp_sink, start)[0][1].get_body(("plain",)).get_content()
    assert "is fixed" in fixed and f"/status/incidents/{incident.pk}/" in fixed
    # Nobody unaffected ever heard from us about it.
    everyone = {rcpt for rcpt, _ in received(smtp_sink, 0)}
    assert not {"cho@example.test", "eve@example.test", "gus@example.test"} & everyone
    assert {customer_of(r) for r in everyone} == affected
