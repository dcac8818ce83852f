"""Demo community for `happydesk demo`: questions and answers about Acme (sensors, dashboards, alerts,
exports, integrations), an ideas board with votes and every status, one known issue, and announcements.

Written through the services with past times (`at=`) and `notify=False`, so history, counts and revisions
agree as they would in real use and nothing is queued or sent. Authors and voters are the demo's own
customers and agents; idea boards link to the demo conversations that asked for the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.community import services
from happydesk.community.models import Topic
from happydesk.customers.models import Customer
from happydesk.inbox.models import Conversation


@dataclass(frozen=True)
class Reply:
    by: str  # "agent" or "customer"
    body: str
    hours: float  # after the topic was posted
    accepted: bool = False
    helpful: int = 0


@dataclass(frozen=True)
class DemoTopic:
    title: str
    body: str
    days_ago: int
    replies: tuple[Reply, ...] = ()
    votes: int = 0


@dataclass(frozen=True)
class DemoIdea:
    key: str
    title: str
    body: str
    days_ago: int
    votes: int
    statuses: tuple[tuple[str, str, int], ...] = ()  # (status, note, days ago)
    comments: tuple[Reply, ...] = ()
    conversations: tuple[str, ...] = ()  # subject words of demo conversations to link
    merged: tuple[str, str] | None = None  # a duplicate (title, body) merged into this one
    extra: dict = field(default_factory=dict)


QUESTIONS: list[DemoTopic] = [
    DemoTopic(
        "How do I export a whole year of sensor readings to CSV?",
        "We need all readings from 2024 for an audit. The export dialog seems to stop at 90 days. "
        "Is there a way to get the full year in one file?",
        days_ago=41,
        votes=7,
        replies=(
            Reply(
                "agent",
                "The export dialog is limited to 90 days so the file stays small enough to open in a "
                "spreadsheet. For a full year:\n\n1. Open **Data → Exports** (not the dialog on a chart).\n"
                "2. Choose **Custom range** and pick Jan 1 to Dec 31.\n3. Select the sensors, then **Start export**.\n\n"
                "Large exports run in the background; you get an email with the download link when it's ready "
                "(usually a few minutes).",
                hours=2,
                accepted=True,
                helpful=9,
            ),
            Reply(
                "customer",
                "That worked, thank you! 2.3 million rows, arrived in about five minutes.",
                hours=20,
            ),
        ),
    ),
    DemoTopic(
        "Can I invite a colleague as read-only?",
        "Our facilities manager should see the dashboards but not change thresholds or delete sensors. "
        "Is there a role for that?",
        days_ago=33,
        votes=4,
        replies=(
            Reply(
                "agent",
                "Yes: invite them with the **Viewer** role (Settings → Team → Invite). Viewers see every "
                "dashboard and can export, but can't change sensors, alerts or billing.",
                hours=1.5,
                accepted=True,
                helpful=5,
            ),
        ),
    ),
    DemoTopic(
        "Webhook deliveries fail with 401 after rotating the secret",
        "We rotated the webhook signing secret yesterday and since then our endpoint rejects every "
        "delivery. We updated the secret on our side. What are we missing?",
        days_ago=27,
        replies=(
            Reply(
                "agent",
                "After a rotation, deliveries are signed with the **new** secret only, and the signature "
                "header is `Acme-Signature-256`. The most common cause of a 401 is still checking the old "
                "header name `X-Acme-Signature`, which we stopped sending last year. Could you check which "
                "header your code reads?",
                hours=3,
                accepted=True,
                helpful=3,
            ),
            Reply("customer", "That was it: our code still read the old header. All green now.", hours=6),
        ),
    ),
    DemoTopic(
        "Two-factor codes from my authenticator app are always rejected",
        "Every six-digit code I type is refused as invalid. I set up two-factor last week and it worked then.",
        days_ago=22,
        votes=3,
        replies=(
            Reply(
                "customer",
                "I had the same thing: the clock on my phone was a couple of minutes off. Turning on "
                "automatic date and time fixed it.",
                hours=4,
                accepted=True,
                helpful=6,
            ),
            Reply(
                "agent",
                "Thanks for sharing! Codes depend on the phone's clock, so that's the first thing to check. "
                "If you're locked out completely, use one of your backup codes or write to support.",
                hours=5,
                helpful=2,
            ),
        ),
    ),
    DemoTopic(
        "Is there a way to group dashboards by site?",
        "We have 14 warehouses and about 60 dashboards. Finding the right one is getting hard. "
        "Can dashboards be grouped?",
        days_ago=19,
        votes=5,
        replies=(
            Reply(
                "customer",
                "Not yet as far as I know. We prefix dashboard names with the site code (`BER - Cold room`), "
                "so the list sorts by site. There's an idea for folders on the ideas board worth voting for.",
                hours=8,
                helpful=4,
            ),
        ),
    ),
    DemoTopic(
        "What happens to our data if we downgrade to the Starter plan?",
        "We're thinking about moving from Team to Starter over the summer. Do we lose the history?",
        days_ago=15,
        replies=(
            Reply(
                "agent",
                "Nothing is deleted when you downgrade. Starter shows the last 30 days in charts, but the "
                "older readings stay stored, and you can still export them. If you upgrade again, the full "
                "history is back in the charts right away.",
                hours=2,
                accepted=True,
                helpful=4,
            ),
        ),
    ),
    DemoTopic(
        "Good alert thresholds for freezer sensors?",
        "We store vaccines at −20 °C. What thresholds and delays do other people use so we get warned "
        "early, but not every time someone opens the door?",
        days_ago=11,
        votes=6,
        replies=(
            Reply(
                "customer",
                "We alert at −15 °C with a **10 minute** delay. Door openings rarely last that long, and a "
                "real failure shows up well before anything is at risk.",
                hours=3,
                accepted=True,
                helpful=8,
            ),
            Reply(
                "customer",
                "Same here, plus a second rule at −10 °C with no delay that also sends SMS to the on-call phone.",
                hours=9,
                helpful=3,
            ),
        ),
    ),
    DemoTopic(
        "SSO with Azure AD: users land on a blank page",
        "After setting up SAML with Azure AD, users who sign in end up on a white page at /sso/callback. "
        "Any idea?",
        days_ago=8,
        replies=(
            Reply(
                "agent",
                "A blank page at the callback usually means the **Reply URL** in Azure doesn't match exactly: "
                "it must end with a slash, `…/sso/callback/`. If that's right, send us the time of a failed "
                "sign-in and we'll look at the logs.",
                hours=1,
                helpful=1,
            ),
        ),
    ),
    DemoTopic(
        "429 errors when polling the API every second",
        "Our script polls `/v2/readings/latest` every second for 40 sensors and gets 429 Too Many Requests "
        "after a minute. What's the limit?",
        days_ago=5,
        votes=2,
        replies=(
            Reply(
                "agent",
                "The limit is 600 requests per minute per API key. Instead of polling each sensor, call "
                "`/v2/readings/latest?sensors=all` once every few seconds (one request for all 40), or use "
                "webhooks so readings come to you.",
                hours=2,
                accepted=True,
                helpful=3,
            ),
        ),
    ),
    DemoTopic(
        "Battery level shows 0% right after replacing the batteries",
        "I put fresh batteries in two door sensors this morning and the dashboard still says 0%. "
        "Does it take time to update?",
        days_ago=1,
        votes=1,
    ),
]

IDEAS: list[DemoIdea] = [
    DemoIdea(
        "dark-mode",
        "Dark mode for the dashboard",
        "Our control room runs the dashboard on a wall screen all night. A dark theme would be much easier "
        "on the eyes.",
        days_ago=70,
        votes=18,
        statuses=(
            (
                "planned",
                "We're planning this for the next quarter, starting with the dashboard and charts.",
                20,
            ),
        ),
        comments=(Reply("customer", "Yes please! Same for the mobile app.", hours=30),),
        conversations=("dark mode", "dark theme"),
        merged=("Dark theme please", "The white background is too bright at night."),
    ),
    DemoIdea(
        "scheduled-reports",
        "Scheduled reports by email",
        "Every Monday I export the same report and send it to our quality team. It would be great if "
        "Acme could email it automatically.",
        days_ago=64,
        votes=12,
        statuses=(
            ("planned", "Thanks for all the votes: this is on our roadmap.", 40),
            (
                "in_progress",
                "We're building it now: daily, weekly or monthly, as PDF or CSV, to any address.",
                9,
            ),
        ),
        conversations=("scheduled reports", "reports be emailed"),
    ),
    DemoIdea(
        "xlsx-export",
        "Export to Excel (XLSX), not only CSV",
        "Opening CSV files in Excel mangles dates and decimal commas for us in Germany. A real XLSX export "
        "would avoid that.",
        days_ago=58,
        votes=9,
        statuses=(
            ("planned", "", 35),
            (
                "shipped",
                "Excel export is live: choose **XLSX** in any export. Dates and decimals keep your "
                "regional format. Thanks to everyone who voted!",
                3,
            ),
        ),
    ),
    DemoIdea(
        "sheets",
        "Sync readings to Google Sheets",
        "We'd love a live link to a Google Sheet so our team can build their own summaries.",
        days_ago=47,
        votes=6,
        conversations=("google sheets",),
    ),
    DemoIdea(
        "folders",
        "Folders to group dashboards by site",
        "With dozens of dashboards, folders (or tags) per site or customer would make them much easier to find.",
        days_ago=36,
        votes=11,
        statuses=(("planned", "Folders are planned; we'll share a preview here first.", 12),),
    ),
    DemoIdea(
        "sms-fallback",
        "SMS alerts as a fallback when email is slow",
        "When email was delayed last month we missed a freezer alert. An SMS fallback for critical alerts "
        "would give us peace of mind.",
        days_ago=30,
        votes=8,
    ),
    DemoIdea(
        "teams",
        "Microsoft Teams integration, like the Slack one",
        "We don't use Slack. Posting alerts to a Teams channel would help a lot.",
        days_ago=26,
        votes=7,
        statuses=(("planned", "", 10),),
    ),
    DemoIdea(
        "status-css",
        "Custom CSS for the public status page",
        "We'd like the status page to match our brand exactly.",
        days_ago=50,
        votes=2,
        statuses=(
            (
                "declined",
                "We won't add custom CSS: it breaks easily with updates and makes the page harder to "
                "read during an incident. You can already set your logo and accent colour.",
                25,
            ),
        ),
    ),
]

KNOWN_ISSUE = (
    "Slack alerts stop after a channel is renamed",
    "If a Slack channel that receives alerts is renamed, alerts stop arriving there. Reconnecting the "
    "channel under **Settings → Integrations → Slack** brings them back while we work on a fix.",
    6,
    ("slack notifications", "slack integration"),
)

ANNOUNCEMENTS = [
    (
        "Excel export is here",
        "You can now export readings, alerts and reports as **Excel (XLSX)** files, next to CSV.\n\n"
        "- Dates and decimals use your regional format\n- One sheet per sensor for multi-sensor exports\n\n"
        "Thanks to everyone who voted for this on the ideas board.",
        3,
    ),
    (
        "New: a Viewer role for read-only teammates",
        "Invite colleagues who should see dashboards without changing anything. Viewers can open every "
        "dashboard and export data, but can't edit sensors, alerts or billing.\n\n"
        "Find it under **Settings → Team → Invite**.",
        12,
    ),
    (
        "Dashboards load up to 3× faster",
        "We rebuilt how charts fetch their data. Dashboards with many sensors now open up to three times "
        "faster, especially over mobile connections. Nothing to do on your side.",
        30,
    ),
]
SCHEDULED = (
    "Microsoft Teams alerts: early access",
    "Teams integration is coming. Sign up for early access from **Settings → Integrations**.",
    5,
)


def _at(now: datetime, days_ago: float, hour: int = 10) -> datetime:
    base = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return min(base - timedelta(days=days_ago), now - timedelta(hours=1))


class _People:
    """Demo customers and agents handed out in turn, so authors and voters vary but stay stable."""

    def __init__(self) -> None:
        real = Q(
            conversations__status__in=[
                Conversation.Status.ACTIVE,
                Conversation.Status.PENDING,
                Conversation.Status.CLOSED,
            ]
        )
        with_address = Customer.objects.filter(emails__isnull=False)
        self.customers = list(with_address.filter(real).distinct().order_by("id"))
        self.spammers = list(with_address.exclude(real).distinct().order_by("id"))
        self.agents = list(
            User.objects.filter(is_active=True).exclude(role=User.Role.LIGHT).order_by("id")
        ) or list(User.objects.order_by("id"))
        self.turn = 0

    def customer(self) -> Customer:
        self.turn += 1
        return self.customers[(self.turn * 7) % len(self.customers)]

    def voters(self, count: int, *, skip: Customer | None = None) -> list[Customer]:
        start = (self.turn * 5) % len(self.customers)
        ring = self.customers[start:] + self.customers[:start]
        return [c for c in ring if c != skip][:count]

    def agent(self, i: int) -> User:
        return self.agents[i % len(self.agents)]


def _replies(people: _People, topic: Topic, replies: tuple[Reply, ...], at: datetime, i: int) -> None:
    accepted = None
    for n, r in enumerate(replies):
        author = people.agent(i + n) if r.by == "agent" else people.customer()
        if author == topic.author_customer:
            author = people.customer()
        when = at + timedelta(hours=r.hours)
        post = services.post_create(topic=topic, body=r.body, author=author, at=when, notify=False)
        for voter in people.voters(r.helpful, skip=post.author_customer):
            services.post_vote_add(post=post, customer=voter)
        if r.accepted:
            accepted = post
    if accepted is not None:
        services.answer_accept(topic=topic, post=accepted, actor=people.agent(i))


def _link(topic: Topic, words: tuple[str, ...], agent: User) -> None:
    match = Q()
    for w in words:
        match |= Q(subject__icontains=w)
    for conversation in (
        Conversation.objects.filter(match).exclude(status=Conversation.Status.SPAM).order_by("id")[:4]
    ):
        services.conversation_link(topic=topic, conversation=conversation, agent=agent)


@transaction.atomic
def load_demo_community(*, now: datetime | None = None) -> dict[str, int]:
    """Create the demo community up to `now`; returns how many of each thing were made."""
    now = now or timezone.now()
    people = _People()
    if not people.customers or not people.agents:
        return {}
    for i, q in enumerate(QUESTIONS):
        at = _at(now, q.days_ago, hour=9 + i % 8)
        author = people.customer()
        topic = services.topic_create(
            kind=Topic.Kind.QUESTION, title=q.title, body=q.body, author=author, at=at
        )
        for voter in people.voters(q.votes, skip=author):
            services.vote_add(topic=topic, customer=voter, at=at + timedelta(hours=1))
        _replies(people, topic, q.replies, at, i)

    for i, idea in enumerate(IDEAS):
        at = _at(now, idea.days_ago, hour=11 + i % 6)
        author = people.customer()
        topic = services.topic_create(
            kind=Topic.Kind.IDEA, title=idea.title, body=idea.body, author=author, at=at
        )
        for voter in people.voters(idea.votes - 1, skip=author):
            services.vote_add(topic=topic, customer=voter, at=at + timedelta(days=1))
        _replies(people, topic, idea.comments, at, i)
        if idea.conversations:
            _link(topic, idea.conversations, people.agent(i))
        if idea.merged:
            duplicate = services.topic_create(
                kind=Topic.Kind.IDEA,
                title=idea.merged[0],
                body=idea.merged[1],
                author=people.customer(),
                at=at + timedelta(days=6),
            )
            services.topic_merge(
                source=duplicate, target=topic, agent=people.agent(i), at=at + timedelta(days=7)
            )
        for status, note, days_ago in idea.statuses:
            services.topic_set_status(
                topic=topic,
                status=status,
                note=note,
                agent=people.agent(i),
                notify=False,
                at=_at(now, days_ago, hour=15),
            )

    title, body, days_ago, words = KNOWN_ISSUE
    issue = services.known_issue_post(title=title, body=body, author=people.agent(1), at=_at(now, days_ago))
    for voter in people.voters(5):
        services.vote_add(topic=issue, customer=voter, at=_at(now, days_ago - 1))
        services.follow_add(topic=issue, person=voter)
    _link(issue, words, people.agent(1))

    # A spammer's post waits for a moderator, so the queue shows how holding works.
    if people.spammers:
        services.topic_create(
            kind=Topic.Kind.QUESTION,
            title="Grow your dashboard traffic 10x",
            body="We offer SEO services and backlinks for any website. See our packages: "
            "https://seo-growth.example/packages https://seo-growth.example/prices "
            "https://seo-growth.example/contact",
            author=people.spammers[0],
            at=now - timedelta(hours=2),
        )

    for title, body, days_ago in ANNOUNCEMENTS:
        services.announcement_save(
            title=title, body=body, published_at=_at(now, days_ago, hour=8), author=people.agent(0)
        )
    title, body, days_ahead = SCHEDULED
    services.announcement_save(
        title=title, body=body, published_at=now + timedelta(days=days_ahead), author=people.agent(0)
    )
    return {
        "questions": len(QUESTIONS) + 1,
        "ideas": len(IDEAS),
        "known_issues": 1,
        "announcements": len(ANNOUNCEMENTS) + 1,
    }
