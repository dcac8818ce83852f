"""Early warning: the scoring is a pure function; replaying a day of conversations checked every ten
minutes raises exactly one alert for a burst and none for an ordinary day."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Conversation, Message
from happydesk.mail.models import OutboundMail
from happydesk.status import early_warning
from happydesk.status.early_warning import (
    Usual,
    burst_terms,
    clusters,
    conversation_terms,
    matches_profile,
    significant_words,
)
from happydesk.status.models import EarlyWarning, IncidentLink, IncidentSettings

pytestmark = pytest.mark.django_db

# --- the pure parts -----------------------------------------------------------------------------------


def _usual(*docs: str, repeat: int = 1) -> Usual:
    """What is usual: the terms of these ordinary conversations, each `repeat` times."""
    counts = Counter(t for text in docs for t in conversation_terms(subject="", text=text))
    return Usual(Counter({k: v * repeat for k, v in counts.items()}), len(docs) * repeat)


def _window(*texts: str) -> dict[int, frozenset[str]]:
    return {i: conversation_terms(subject="", text=t) for i, t in enumerate(texts)}


ORDINARY = (
    "Please resend the invoice for December, our account needs it.",
    "The CSV export of our data stops halfway.",
    "How do I add a new sensor to the gateway?",
    "We were charged twice in December, please refund.",
    "Login fails with an error for me.",
    "The report is not showing last week.",
)


def test_a_burst_term_is_frequent_now_and_unusual_normally():
    usual = _usual(*ORDINARY, repeat=30)
    window = _window(
        *(["All sensors offline since 2pm."] * 6 + ["Invoice for December please, account 7."] * 6)
    )
    keys = [b.key for b in burst_terms(window, usual)]
    assert "word:offline" in keys  # six now, never before
    assert (
        "word:december" not in keys and "word:invoice" not in keys
    )  # six now, but that is their usual share
    assert "word:sensor" not in keys  # usual in this mailbox, and no more often than usual now
    assert burst_terms(_window(*["All sensors offline"] * 4), usual) == []  # four are not a burst


def test_a_new_install_has_no_usual_yet_and_five_at_once_are_unusual():
    keys = [b.key for b in burst_terms(_window(*["Webhooks return 502"] * 5), Usual({}, 0))]
    assert "word:webhook" in keys


def test_significant_words_skip_stop_words_and_fold_plurals():
    words = significant_words(
        "Hi team, I can't log in! Logins fail with error 500 since this morning. Thanks"
    )
    assert words == {"log", "login", "fail", "error"}
    assert "access" in significant_words("no access") and "status" in significant_words("status page")


def test_one_group_for_a_burst_in_many_wordings_and_no_common_word_pulls_others_in():
    usual = _usual(*ORDINARY, repeat=30)
    outage = [
        "All sensors offline on the dashboard.",
        "Sensors offline, gateway shows red.",
        "Gateway red, no data from any sensor.",
        "Every sensor offline since 14:00.",
        "Gateway offline, no data.",
        "Sensoren offline, Gateway rot.",
        "No data from the sensors, gateway red.",
    ]
    others = [
        "Our invoice shows the wrong VAT number for December.",
        "Charged twice for December on our account.",
        "The December report is not showing our account data.",
    ]
    found = clusters(_window(*outage, *others), usual)
    (group,) = found
    assert group.conversation_ids == set(range(len(outage)))
    assert group.label_key in {"word:offline", "word:gateway"}
    assert "word:offline" in group.members[0] and "word:gateway" in group.members[1]  # why each matched
    # A conversation arriving later joins on several distinctive terms, never on one common word.
    assert matches_profile(group.profile, conversation_terms(subject="", text="Gateway red and offline"))
    assert not matches_profile(group.profile, conversation_terms(subject="", text="December data export"))


def test_the_sentence_agents_read():
    now = timezone.now()
    w = EarlyWarning(
        label="login", kind="word", count=12, usual=1.0, window_start=now - timedelta(hours=1), window_end=now
    )
    assert w.sentence == "12 conversations are about 'login' in the last hour; usual is 1"
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
        f"{warning.count} conversations are about 'login' in the last hour; usual is"
    )
    alerts = OutboundMail.objects.filter(kind="status-early-warning")
    assert alerts.count() == 1 and alerts.get().to == ["lead@acme.test"]
    assert "are about 'login'" in alerts.get().subject
    assert f"/admin/status/incidents/new/?warning={warning.pk}" in alerts.get().body_text
    # Checking again, as the next worker tick would: still one.
    assert early_warning.early_warning_check(now=now) == [] and EarlyWarning.objects.count() == 1

    # The agent sees it on the inbox, with one click to declare it, pre-filled.
    client = Client()
    client.force_login(agent)
    inbox_page = client.get("/inbox/").content.decode()
    assert "are about &#x27;login&#x27; in the last hour" in inbox_page
    assert f"/admin/status/incidents/new/?warning={warning.pk}" in inbox_page
    form = client.get(f"/admin/status/incidents/new/?warning={warning.pk}").content.decode()
    assert "Customers report problems with login" in form
    assert form.count('name="warning_conversations"') == len(warning.conversation_ids)
    assert "<mark>login</mark>" in form and "matched on" in form  # why each one is in the warning
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
    assert "are about &#x27;login&#x27;" not in client.get("/inbox/").content.decode()  # declared: gone


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


def test_the_agent_unticks_a_conversation_and_only_the_ticked_ones_are_linked(history, agent):
    inbox, day_start, now = history
    for i in range(8):
        inbox.add(now - timedelta(minutes=40 - i), "Webhooks failing", "Our webhooks return 502 errors.")
    ids = inbox.save()
    (warning,) = early_warning.early_warning_check(now=now)
    assert warning.reasons_for(ids[0])[:1] == ["webhook"]
    client = Client()
    client.force_login(agent)
    kept = ids[1:]
    r = client.post(
        "/admin/status/incidents/new/",
        {
            "title": "Webhooks fail",
            "impact": "minor",
            "state": "investigating",
            "body": "Looking into it.",
            "run_plan": "on",
            "since_hours": "3",
            "warning": warning.pk,
            "warning_review": "1",
            "warning_conversations": [str(i) for i in kept],
        },
    )
    assert r.status_code == 302
    warning.refresh_from_db()
    links = IncidentLink.objects.filter(incident=warning.incident)
    assert set(links.values_list("conversation_id", flat=True)) == set(kept)
    assert all(link.reason.startswith("early warning: webhook") for link in links)

    # Later arrivals join when they share enough of the burst's distinctive words, not one common word.
    from happydesk.status.plan import link_arrival

    same, other = (
        Conversation.objects.create(
            mailbox=inbox.mailbox, customer=inbox.customers[0], subject=subject, last_customer_message_at=now
        )
        for subject in ("Webhook failing again", "Question about our invoice")
    )
    (link,) = link_arrival(conversation=same, text="Our webhooks return 502 since an hour.")
    assert link.reason.startswith("early warning: webhook") and link.how == IncidentLink.How.AUTO
    assert link_arrival(conversation=other, text="Could you resend the invoice, it failed to arrive?") == []
