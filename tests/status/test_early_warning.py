"""Early warning: the scoring is a pure function; replaying a day of conversations checked every ten
minutes raises exactly one alert for a burst and none for an ordinary day."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Conversation, Message
from happydesk.mail.models import OutboundMail
from happydesk.status import early_warning
from happydesk.status.early_warning import Verdict, clusters, significant_words, unusual
from happydesk.status.models import EarlyWarning, IncidentLink, IncidentSettings

pytestmark = pytest.mark.django_db

# --- the pure parts -----------------------------------------------------------------------------------


def test_unusual_needs_a_real_jump_over_the_usual_level():
    assert unusual(12, [1, 0, 2, 1]) == Verdict(True, 1.0, 7.0)
    assert not unusual(5, [1, 2, 1, 2]).unusual  # five when 1-2 is usual happens by chance every day
    assert not unusual(4, [0, 0, 0, 0]).unusual  # below the minimum: a few emails are not an outage
    assert unusual(5, []).unusual  # a new install has no usual level yet: five at once is unusual
    assert not unusual(14, [10, 9, 12, 11]).unusual  # busy signals need a large jump...
    assert unusual(30, [10, 9, 12, 11]).unusual  # ...and get flagged when it comes
    assert unusual(6, [0, 0, 0, 40]).unusual  # one earlier outage does not make outages usual (median)


def test_significant_words_skip_stop_words_and_fold_plurals():
    words = significant_words(
        "Hi team, I can't log in! Logins fail with error 500 since this morning. Thanks"
    )
    assert words == {"log", "login", "fail", "error"}
    assert "access" in significant_words("no access") and "status" in significant_words("status page")


def test_signals_from_the_same_conversations_are_one_cluster():
    signals = {
        "word:login": set(range(12)),
        "word:error": set(range(10)),
        "tag:billing": {20, 21, 22, 23, 24},
    }
    verdicts = {k: unusual(len(v), [0, 1, 0, 0]) for k, v in signals.items()}
    found = clusters(signals, verdicts, in_subject={"word:login": 9, "word:error": 2})
    assert [c.keys for c in found] == [["word:login", "word:error"], ["tag:billing"]]
    assert found[0].conversation_ids == set(range(12))


def test_a_cluster_is_named_by_its_strongest_word_even_before_that_word_is_past_its_threshold():
    signals = {"word:error": set(range(6)), "word:login": set(range(6))}
    verdicts = {"word:error": unusual(6, [0, 0, 0, 0]), "word:login": unusual(6, [1, 1, 2, 1])}
    assert verdicts["word:error"].unusual and not verdicts["word:login"].unusual
    (found,) = clusters(signals, verdicts, in_subject={"word:login": 4, "word:error": 1})
    assert found.keys == ["word:login", "word:error"] and found.counts["word:login"] == 6


def test_the_sentence_agents_read():
    now = timezone.now()
    w = EarlyWarning(
        label="login", kind="word", count=12, usual=1.0, window_start=now - timedelta(hours=1), window_end=now
    )
    assert w.sentence == "12 conversations mention 'login' in the last hour; usual is 1"
    w.kind, w.label, w.usual = "tag", "billing", 0.5
    assert w.sentence == "12 conversations are tagged 'billing' in the last hour; usual is under 1"


# --- replaying days -----------------------------------------------------------------------------------

TOPICS = [
    ("Invoice for last month", "Could you resend the invoice for October? Our accountant needs a copy."),
    ("Export stops halfway", "The CSV export stops halfway through the contacts list."),
    ("Where is my parcel", "Tracking has not moved for four days, order 5521."),
    ("Change of address", "We moved offices; please update the billing address."),
    ("Slack notifications", "Notifications stopped arriving in our Slack channel."),
    ("Refund request", "We were charged twice this month, can we get a refund?"),
    ("Add a seat", "How do I add another seat for a new colleague?"),
    ("Can't log in", "Login fails with an error for me."),
]
BURST = [
    ("Can't log in", "Login fails with error 500 since a few minutes."),
    ("Login broken?", "Login page shows an error after the password."),
    ("Login error", "Every login attempt ends with an error."),
]


class Inbox:
    """Conversations written straight to the database with their real times (a replay, not a live run)."""

    def __init__(self, mailbox) -> None:  # type: ignore[no-untyped-def]
        self.mailbox = mailbox
        self.customers = [
            customer_for_address(address=f"c{i}@example.test", name=f"C {i}") for i in range(40)
        ]
        self.rows: list[tuple[datetime, str, str]] = []

    def add(self, at: datetime, subject: str, text: str) -> None:
        self.rows.append((at, subject, text))

    def ordinary_hours(self, start: datetime, hours: int, rng: random.Random) -> None:
        for hour in range(hours):
            base = start + timedelta(hours=hour)
            per_hour = 6 if 8 <= base.hour < 18 else 2
            for _ in range(per_hour):
                subject, text = rng.choice(TOPICS)
                self.add(base + timedelta(minutes=rng.randint(0, 59)), subject, text)

    def save(self) -> list[int]:
        conversations = Conversation.objects.bulk_create(
            Conversation(
                mailbox=self.mailbox,
                customer=self.customers[i % len(self.customers)],
                subject=subject,
                created_at=at,
                last_activity_at=at,
                last_customer_message_at=at,
            )
            for i, (at, subject, _) in enumerate(self.rows)
        )
        Message.objects.bulk_create(
            Message(conversation=c, kind=Message.Kind.CUSTOMER, text=text, subject=c.subject, created_at=at)
            for c, (at, _, text) in zip(conversations, self.rows, strict=True)
        )
        self.rows = []
        return [c.pk for c in conversations]


@pytest.fixture
def history(mailbox):
    """Four ordinary weeks before the day that is replayed (the last 24 hours)."""
    IncidentSettings.objects.update_or_create(pk=1, defaults={"early_warning": ["lead@acme.test"]})
    inbox = Inbox(mailbox)
    now = timezone.now().replace(second=0, microsecond=0)
    day_start = now - timedelta(hours=24)
    rng = random.Random(7)
    for week in range(1, 5):
        inbox.ordinary_hours(day_start - timedelta(days=7 * week) - timedelta(hours=2), 28, rng)
    inbox.save()
    return inbox, day_start, now


def replay(day_start: datetime, now: datetime) -> list[EarlyWarning]:
    """The worker's check every ten minutes through the day."""
    raised = []
    at = day_start + timedelta(minutes=10)
    while at <= now:
        raised += early_warning.early_warning_check(now=at)
        at += timedelta(minutes=10)
    return raised


def test_an_ordinary_day_raises_nothing(history):
    inbox, day_start, now = history
    inbox.ordinary_hours(day_start, 24, random.Random(11))
    inbox.save()
    assert replay(day_start, now) == []
    assert not EarlyWarning.objects.exists()
    assert not OutboundMail.objects.filter(kind="status-early-warning").exists()


def test_a_burst_raises_exactly_one_alert(history, agent):
    inbox, day_start, now = history
    inbox.ordinary_hours(day_start, 24, random.Random(11))
    burst_start = now - timedelta(minutes=50)
    for i in range(12):
        subject, text = BURST[i % len(BURST)]
        inbox.add(burst_start + timedelta(minutes=3 * i), subject, text)
    inbox.save()

    raised = replay(day_start, now)
    assert len(raised) == 1
    (warning,) = EarlyWarning.objects.all()
    assert warning.label == "login" and warning.kind == "word" and warning.count >= 12
    assert warning.usual <= 1
    assert warning.sentence.startswith(
        f"{warning.count} conversations mention 'login' in the last hour; usual is"
    )
    alerts = OutboundMail.objects.filter(kind="status-early-warning")
    assert alerts.count() == 1 and alerts.get().to == ["lead@acme.test"]
    assert "mention 'login'" in alerts.get().subject
    assert f"/admin/status/incidents/new/?warning={warning.pk}" in alerts.get().body_text
    # Checking again, as the next worker tick would: still one.
    assert early_warning.early_warning_check(now=now) == [] and EarlyWarning.objects.count() == 1

    # The agent sees it on the inbox, with one click to declare it, pre-filled.
    client = Client()
    client.force_login(agent)
    inbox_page = client.get("/inbox/").content.decode()
    assert "mention &#x27;login&#x27; in the last hour" in inbox_page
    assert f"/admin/status/incidents/new/?warning={warning.pk}" in inbox_page
    form = client.get(f"/admin/status/incidents/new/?warning={warning.pk}").content.decode()
    assert "Customers report problems with login" in form and 'value="login"' in form
    r = client.post(
        "/admin/status/incidents/new/",
        {
            "title": "Sign-in fails",
            "impact": "major",
            "state": "investigating",
            "body": "Looking into it.",
            "run_plan": "on",
            "keywords": "login",
            "since_hours": "3",
            "warning": warning.pk,
        },
    )
    assert r.status_code == 302
    warning.refresh_from_db()
    linked = set(
        IncidentLink.objects.filter(incident=warning.incident).values_list("conversation_id", flat=True)
    )
    assert set(warning.conversation_ids) <= linked
    assert "mention &#x27;login&#x27;" not in client.get("/inbox/").content.decode()  # declared: gone


def test_dismissing_hides_it_and_the_burst_stays_quiet(history, agent):
    inbox, day_start, now = history
    for i in range(8):
        inbox.add(now - timedelta(minutes=40 - i), "Webhooks failing", "Our webhooks return 502 errors.")
    inbox.save()
    (warning,) = early_warning.early_warning_check(now=now)
    assert warning.label == "webhook" and warning.count == 8
    client = Client()
    client.force_login(agent)
    assert (
        client.post(f"/admin/status/warnings/{warning.pk}/dismiss/", {"next": "/inbox/"})["Location"]
        == "/inbox/"
    )
    assert early_warning.early_warning_check(now=now + timedelta(minutes=10)) == []
    assert "Early warning" not in client.get("/inbox/").content.decode()
