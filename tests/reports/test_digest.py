"""Telling the company: the weekly digest goes exactly once per week through the outbox to the list, the
conversation of the day once per day, customer details masked when the settings say so."""

from __future__ import annotations

import random
from datetime import date, datetime
from email import message_from_bytes, policy
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from happydesk.mail import outbound
from happydesk.mail.models import OutboundMail
from happydesk.reports import digest
from happydesk.reports.jobs import JOBS as REPORT_JOBS
from happydesk.reports.models import ReportSend, ReportSettings
from happydesk.runtime.worker import run_once
from tests.reports.conftest import NY

pytestmark = pytest.mark.django_db
LIST = ["everyone@acme.test", "product@acme.test"]


@pytest.fixture
def audience(built):  # type: ignore[no-untyped-def]
    ReportSettings.objects.update_or_create(
        pk=1, defaults={"recipients": LIST, "mask_customers": True, "send_hour": 9}
    )
    return built


def bodies(sink, n: int) -> list:  # type: ignore[no-untyped-def]
    outbound.send_due()
    return [message_from_bytes(data, policy=policy.default) for _, _, data in sink.wait_for(n)]


def test_the_weekly_digest_goes_once_per_week_to_the_list(audience, smtp_sink):
    monday = date(2025, 3, 10)
    assert digest.digest_week(monday) == (date(2025, 3, 3), date(2025, 3, 9))
    send = digest.digest_send(today=monday)
    assert send is not None and send.key == "2025-W10"
    assert digest.digest_send(today=date(2025, 3, 12)) is None  # later that week: already sent
    assert digest.digest_send(today=monday) is None
    assert OutboundMail.objects.filter(kind="report-digest").count() == 1

    (mail,) = bodies(smtp_sink, 1)
    assert sorted(smtp_sink.messages[0][1]) == LIST
    assert mail["Subject"] == "Support last week: 10 conversations, happiness 40 (Mar 3 to Mar 9)"
    text = mail.get_body(("plain",)).get_content()
    assert "1. billing: 3 conversations (+2 on the week before)" in text
    assert '"c1: help, write me at [email]"' in text  # an example, masked
    assert "Within 1 h (calendar hours): 44% (the week before: 33%)" in text
    assert "Happiness score: 40 (the week before: 100), 5 ratings" in text
    assert '"Quick and clear, thank you! [customer], [email]" (great)' in text
    assert "casey" not in text.lower()
    html = mail.get_body(("html",)).get_content()
    assert "billing" in html and "/reports/?start=2025-03-03&amp;end=2025-03-09" in html

    nxt = digest.digest_send(today=date(2025, 3, 17))  # the next week: a new digest
    assert nxt is not None and nxt.key == "2025-W11"
    assert ReportSend.objects.filter(kind="digest").count() == 2


def test_the_digest_is_due_on_monday_morning_and_the_worker_sends_it(audience):
    assert digest.digest_due(datetime(2025, 3, 10, 8, 59, tzinfo=NY))  # 12:59 in the default UTC
    row = ReportSettings.objects.get()
    row.timezone = "America/New_York"
    row.save()
    assert not digest.digest_due(datetime(2025, 3, 10, 8, 59, tzinfo=NY))
    assert digest.digest_due(datetime(2025, 3, 10, 9, 0, tzinfo=NY))
    assert digest.digest_due(datetime(2025, 3, 12, 3, 0, tzinfo=NY))  # missed Monday: caught up
    digest.digest_send(today=date(2025, 3, 12))
    assert not digest.digest_due(datetime(2025, 3, 12, 10, 0, tzinfo=NY))
    row.digest_enabled = False
    row.save()
    assert not digest.digest_due(datetime(2025, 3, 17, 10, 0, tzinfo=NY))
    # The worker's periodic job: this week's digest (for last week), once, however often it runs.
    row.digest_enabled, row.send_hour = True, 0
    row.save()
    run_once(REPORT_JOBS)
    run_once(REPORT_JOBS)
    assert ReportSend.objects.filter(kind="digest").count() == 2


def test_conversation_of_the_day_once_a_day_masked(audience, smtp_sink):
    today = date(2025, 3, 5)  # rated great in the week before: c1, c8, t1 (p1 too long ago... 8 days)
    picked = {digest.conversation_of_the_day_pick(today=today, rng=random.Random(n)).pk for n in range(20)}
    assert picked == {audience.c["c1"].pk, audience.c["c8"].pk, audience.c["t1"].pk}
    send = digest.conversation_of_the_day_send(today=today, rng=random.Random(0))
    assert send is not None and send.key == "2025-03-05" and send.conversation_id in picked
    assert digest.conversation_of_the_day_send(today=today) is None  # once a day
    again = digest.conversation_of_the_day_send(today=date(2025, 3, 6), rng=random.Random(0))
    assert again is not None and again.conversation_id != send.conversation_id  # never the same one twice
    mails = bodies(smtp_sink, 2)
    assert all(m["Subject"].startswith("Conversation of the day: ") for m in mails)
    for m in mails:
        text = m.get_body(("plain",)).get_content()
        assert "The customer" in text and "Answer" in text and "casey" not in text.lower()


def test_commands_print_and_send(audience, smtp_sink):
    out = StringIO()
    call_command("reports", "digest", "--today", "2025-03-10", stdout=out)
    assert "Subject: Support last week" in out.getvalue() and not OutboundMail.objects.exists()
    out = StringIO()
    call_command("reports", "digest", "--send", "--today", "2025-03-10", stdout=out)
    assert "queued the weekly digest 2025-W10" in out.getvalue()
    with pytest.raises(CommandError, match="already went"):
        call_command("reports", "digest", "--send", "--today", "2025-03-11")
    call_command("reports", "digest", "--send", "--force", "--today", "2025-03-11", stdout=StringIO())
    assert OutboundMail.objects.filter(kind="report-digest").count() == 2
    out = StringIO()
    call_command("reports", "conversation-of-the-day", "--send", "--today", "2025-03-05", stdout=out)
    assert "queued the conversation of the day 2025-03-05" in out.getvalue()
    out = StringIO()
    call_command("reports", "rebuild", stdout=out)
    assert "rebuilt" in out.getvalue()
    ReportSettings.objects.filter(pk=1).update(recipients=[])
    with pytest.raises(CommandError, match="no recipients"):
        call_command("reports", "digest", "--send", "--force")
