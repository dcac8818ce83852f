"""Email subscriptions: double opt-in, one email per update per confirmed subscriber, one-click unsubscribe."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from happydesk.status import mail, services
from happydesk.status.models import Incident, StatusMail, Subscriber
from happydesk.status.tasks import status_mail_send

pytestmark = pytest.mark.django_db
St = Incident.State


def link_in(body: str, kind: str) -> str:
    return re.search(rf"http://\S+(/status/{kind}/[^/\s]+/)", body).group(1)


def subscribe_and_confirm(client: Client, email: str) -> Subscriber:
    assert client.post("/status/subscribe/", {"email": email}).status_code == 200
    mail.send_due()
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
    mail.send_due()
    django_mail.outbox.clear()

    incident = services.incident_declare(title="Delayed emails", body="Alerts arrive late.")
    services.incident_update(incident=incident, state=St.IDENTIFIED, body="A queue fell behind.")
    services.incident_resolve(incident=incident, body="All caught up.")
    assert StatusMail.objects.filter(kind="update").count() == 3
    assert mail.send_due() == 3
    assert mail.send_due() == 0  # nothing is sent twice

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
    assert mail.send_due() == 0 and django_mail.outbox == []
    assert Client().post(unsubscribe).status_code == 200  # repeating it is harmless


def test_unsubscribing_cancels_mail_still_queued():
    sub = Subscriber.objects.create(email="a@example.test", confirmed_at=timezone.now())
    services.incident_declare(title="X", body="x")
    services.subscriber_unsubscribe(token=sub.token)
    assert mail.send_due() == 0
    assert list(StatusMail.objects.values_list("state", flat=True)) == ["cancelled"]
    assert django_mail.outbox == []


def test_subscribing_again_is_quiet_for_active_and_throttled_for_pending():
    now = timezone.now()
    pending = services.subscriber_add(email="p@example.test", at=now)
    services.subscriber_add(email="p@example.test", at=now + timedelta(minutes=1))
    assert StatusMail.objects.filter(subscriber=pending, kind="confirm").count() == 1
    services.subscriber_add(email="p@example.test", at=now + timedelta(minutes=11))
    assert StatusMail.objects.filter(subscriber=pending, kind="confirm").count() == 2

    active = Subscriber.objects.create(email="a@example.test", confirmed_at=now)
    services.subscriber_add(email="A@example.test")
    assert not StatusMail.objects.filter(subscriber=active).exists()


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
    assert not StatusMail.objects.exists()
    update = services.incident_update(incident=incident, state=St.IDENTIFIED, body="y")
    assert StatusMail.objects.filter(update=update).count() == 3
    with pytest.raises(IntegrityError), transaction.atomic():  # never two emails for one update
        services._notify_subscribers(update)
    assert StatusMail.objects.count() == 3


def test_the_task_sends_and_a_failure_is_retried_later(monkeypatch, django_capture_on_commit_callbacks):
    Subscriber.objects.create(email="r@example.test", confirmed_at=timezone.now())
    with django_capture_on_commit_callbacks() as callbacks:
        services.incident_declare(title="X", body="x")
    assert len(callbacks) == 1  # a worker is asked to send after commit

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert status_mail_send.call() == 1
    row = StatusMail.objects.get()
    assert (row.state, row.attempts) == ("retry", 1) and row.next_attempt_at > timezone.now()
    monkeypatch.undo()
    StatusMail.objects.update(next_attempt_at=timezone.now())
    assert status_mail_send.call() == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(django_mail.outbox) == 1
