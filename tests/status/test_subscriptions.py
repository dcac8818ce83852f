"""Email subscriptions: double opt-in, one email per update per confirmed subscriber, one-click unsubscribe.
Status mail goes through the shared outbox (`mail.OutboundMail`, sent by `outbound.send_due`)."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.test import Client
from django.utils import timezone

from happydesk.mail import outbound
from happydesk.mail.models import OutboundMail
from happydesk.status import services
from happydesk.status.models import Incident, Subscriber

pytestmark = pytest.mark.django_db
St = Incident.State


def status_mail(**filters):  # type: ignore[no-untyped-def]
    return OutboundMail.objects.filter(kind__startswith="status-", **filters)


def link_in(body: str, kind: str) -> str:
    return re.search(rf"http://\S+(/status/{kind}/[^/\s]+/)", body).group(1)


def subscribe_and_confirm(client: Client, email: str) -> Subscriber:
    assert client.post("/status/subscribe/", {"email": email}).status_code == 200
    outbound.send_due()
    confirmation = django_mail.outbox[-1]
    assert confirmation.to == [email.lower()]
    path = link_in(confirmation.body, "confirm")
    assert "Confirm subscription" in client.get(path).content.decode()
    assert client.post(path).status_code == 200
    return Subscriber.objects.get(email=email.lower())


def test_double_opt_in_then_one_email_per_update_then_unsubscribe():
    client = Client()
    assert client.post("/status/subscribe/", {"email": "pending@example.test"}).status_code == 200
    confirmed = subscribe_and_confirm(client, "Casey@Example.test")
    assert confirmed.is_active
    outbound.send_due()
    django_mail.outbox.clear()

    incident = services.incident_declare(title="Delayed emails", body="Alerts arrive late.")
    services.incident_update(incident=incident, state=St.IDENTIFIED, body="A queue fell behind.")
    services.incident_resolve(incident=incident, body="All caught up.")
    assert status_mail(kind="status-update").count() == 3
    assert outbound.send_due() == 3
    assert outbound.send_due() == 0  # nothing is sent twice

    sent = django_mail.outbox
    assert [m.to for m in sent] == [["casey@example.test"]] * 3  # the unconfirmed address got nothing
    assert [m.subject for m in sent] == [
        "[Investigating] Delayed emails",
        "[Identified] Delayed emails",
        "[Resolved] Delayed emails",
    ]
    first = sent[0]
    assert "Alerts arrive late." in first.body and f"/status/incidents/{incident.pk}/" in first.body
    unsubscribe = link_in(first.body, "unsubscribe")
    assert first.extra_headers["List-Unsubscribe"] == f"<http://127.0.0.1:8000{unsubscribe}>"
    assert first.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.extra_headers["References"] == sent[2].extra_headers["References"]
    message = first.message()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"

    # GET only asks (a link scanner unsubscribes nobody); the RFC 8058 POST has no CSRF token.
    assert "Unsubscribe" in Client().get(unsubscribe).content.decode()
    assert Subscriber.objects.get(pk=confirmed.pk).is_active
    one_click = Client(enforce_csrf_checks=True).post(
        unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert one_click.status_code == 200
    assert not Subscriber.objects.get(pk=confirmed.pk).is_active

    django_mail.outbox.clear()
    services.incident_declare(title="Another", body="Again.")
    assert outbound.send_due() == 0 and django_mail.outbox == []
    assert Client().post(unsubscribe).status_code == 200  # repeating it is harmless


def test_unsubscribing_cancels_mail_still_queued():
    sub = Subscriber.objects.create(email="a@example.test", confirmed_at=timezone.now())
    services.incident_declare(title="X", body="x")
    services.subscriber_unsubscribe(token=sub.token)
    assert outbound.send_due() == 0
    assert list(status_mail().values_list("state", flat=True)) == ["cancelled"]
    assert django_mail.outbox == []


def test_subscribing_again_is_quiet_for_active_and_throttled_for_pending():
    now = timezone.now()
    pending = services.subscriber_add(email="p@example.test", at=now)
    services.subscriber_add(email="p@example.test", at=now + timedelta(minutes=1))
    assert status_mail(kind="status-confirm", to=["p@example.test"]).count() == 1
    services.subscriber_add(email="p@example.test", at=now + timedelta(minutes=11))
    assert status_mail(kind="status-confirm", to=["p@example.test"]).count() == 2
    assert status_mail(dedupe_key__startswith=f"status-sub:{pending.pk}:confirm:").count() == 2

    active = Subscriber.objects.create(email="a@example.test", confirmed_at=now)
    services.subscriber_add(email="A@example.test")
    assert not status_mail(dedupe_key__startswith=f"status-sub:{active.pk}:").exists()


def test_confirmation_links_expire_and_resubscribing_gets_a_new_token():
    now = timezone.now()
    sub = services.subscriber_add(email="late@example.test", at=now - timedelta(days=8))
    assert services.subscriber_confirm(token=sub.token) is None
    assert Client().post(f"/status/confirm/{sub.token}/").status_code == 404
    assert services.subscriber_confirm(token="nope") is None

    ok = services.subscriber_add(email="ok@example.test")
    assert services.subscriber_confirm(token=ok.token).is_active
    old_token = ok.token
    services.subscriber_unsubscribe(token=old_token)
    again = services.subscriber_add(email="ok@example.test")
    assert again.token != old_token and again.confirmed_at is None
    assert services.subscriber_confirm(token=old_token) is None


def test_bots_filling_the_honeypot_subscribe_nobody():
    r = Client().post("/status/subscribe/", {"email": "bot@example.test", "website": "http://spam"})
    assert r.status_code == 200 and "Check your inbox" in r.content.decode()
    assert not Subscriber.objects.exists()
    assert Client().post("/status/subscribe/", {"email": "not-an-email"}).status_code == 400


def test_silent_updates_and_exactly_one_row_per_subscriber_per_update():
    for i in range(3):
        Subscriber.objects.create(email=f"s{i}@example.test", confirmed_at=timezone.now())
    Subscriber.objects.create(
        email="left@example.test", confirmed_at=timezone.now(), unsubscribed_at=timezone.now()
    )
    incident = services.incident_declare(title="X", body="x", notify=False)
    assert not status_mail().exists()
    update = services.incident_update(incident=incident, state=St.IDENTIFIED, body="y")
    assert status_mail(dedupe_key__endswith=f":update:{update.pk}").count() == 3
    services._notify_subscribers(update)  # never two emails for one update: the key holds it to one
    assert status_mail().count() == 3
    assert sorted(r.to[0] for r in status_mail()) == [f"s{i}@example.test" for i in range(3)]


def test_the_worker_sends_and_a_failure_is_retried_later(monkeypatch):
    from happydesk.runtime.worker import run_once

    Subscriber.objects.create(email="r@example.test", confirmed_at=timezone.now())
    services.incident_declare(title="X", body="x")

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    run_once()
    row = status_mail().get()
    assert (row.state, row.attempts) == ("retry", 1) and row.next_attempt_at > timezone.now()
    monkeypatch.undo()
    status_mail().update(next_attempt_at=timezone.now())
    run_once()
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(django_mail.outbox) == 1


def test_status_mail_over_real_smtp_keeps_its_list_headers(smtp_sink):
    from email import message_from_bytes, policy

    sub = Subscriber.objects.create(email="real@example.test", confirmed_at=timezone.now())
    incident = services.incident_declare(title="Slow sync", body="Sync is slow.")
    assert outbound.send_due() == 1 and outbound.send_due() == 0
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    message = message_from_bytes(data, policy=policy.default)
    assert rcpts == ["real@example.test"]
    assert message["Subject"] == "[Investigating] Slow sync"
    assert message["List-Unsubscribe"].strip() == f"<http://127.0.0.1:8000/status/unsubscribe/{sub.token}/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Precedence"] == "bulk" and message["Auto-Submitted"] == "auto-generated"
    assert message["References"] == f"<status-incident-{incident.pk}@127.0.0.1>"
    # Unsubscribing cancels what is still queued for them, and nothing else.
    other = Subscriber.objects.create(email="other@example.test", confirmed_at=timezone.now())
    services.incident_update(incident=incident, state=St.IDENTIFIED, body="Found it.")
    services.subscriber_unsubscribe(token=sub.token)
    assert outbound.send_due() == 1
    assert [r for _, r, _ in smtp_sink.wait_for(2)][1] == [other.email]
