"""The happiness report put together: headline figures, tables (each exportable as CSV) and charts, for a
period beside the previous one. The agents' page, the shared page, the CSV export and the digest all read
this; the shared variant leaves out the per-agent table and masks what customers wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.safestring import SafeString

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation
from happydesk.reports import buckets, charts, selectors
from happydesk.reports.filters import Filters
from happydesk.reports.masking import mask_text
from happydesk.reports.selectors import Totals
from happydesk.reports.tables import Figure, Table, change

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
GOALS = (("1 h", "1h"), ("6 h", "6h"), ("24 h", "24h"))
TABLE_KEYS = (
    "goals",
    "speed",
    "conversations",
    "happiness",
    "daily",
    "channels",
    "weekdays",
    "heatmap",
    "timezones",
    "top_issues",
    "saved_replies",
    "baselines",
    "business",
    "cost",
    "comments",
    "agents",
)
SHARED_TABLES = tuple(k for k in TABLE_KEYS if k != "agents")


@dataclass
class Report:
    filters: Filters
    previous: Filters
    headline: list[Figure]
    tables: dict[str, Table]
    charts: dict[str, SafeString] = field(default_factory=dict)
    comments: list[dict] = field(default_factory=list)
    currency: str = ""
    shared: bool = False


def _row(label: str, cur: float | None, prev: float | None, kind: str) -> list:
    delta, _ = change(cur, prev, kind)
    return [label, cur, prev, delta]


def _goal_share(t: Totals, name: str) -> float | None:
    return t.share(name, "responded")


def _p(hist: list[int], p: float) -> float | None:
    return buckets.percentile(hist, p)


def _days_of(f: Filters) -> list[date]:
    return [f.start + timedelta(days=i) for i in range(f.days)]


def build_report(
    f: Filters,
    *,
    shared: bool = False,
    with_agents: bool = False,
    full: bool = False,
    viewer: User | None = None,
) -> Report:
    """Everything the report page shows for these filters; `full` keeps every row (for CSV). Rows that
    quote a conversation show only what `viewer` may see (none: what every agent may see)."""
    settings_row = selectors.report_settings()
    cur, prev = selectors.totals(f)
    currency = settings_row.currency
    tables: dict[str, Table] = {}

    # -- speed ---------------------------------------------------------------------------------------
    goals = Table(
        "goals",
        "First response within the goal",
        [
            ("Goal", "text"),
            ("Hours counted", "text"),
            ("This period", "pct"),
            ("Previous period", "pct"),
            ("Change", "dpts"),
        ],
        note="Share of the conversations that got a first response. Business hours count only the "
        "team's working hours in each mailbox's time zone.",
    )
    for label, key in GOALS:
        for hours, prefix in (("calendar", "frt_"), ("business", "bfrt_")):
            c, p = _goal_share(cur, prefix + key), _goal_share(prev, prefix + key)
            goals.rows.append([f"Within {label}", hours, c, p, change(c, p, "pct")[0]])
    tables["goals"] = goals

    speed = Table(
        "speed",
        "Response and resolution times",
        [("Figure", "text"), ("This period", "dur"), ("Previous period", "dur"), ("Change", "drel")],
        note="Percentiles are read from the rollup's time buckets (exact to the bucket, see the docs).",
    )
    for label, attr in (
        ("first response, calendar hours", "frt"),
        ("first response, business hours", "bfrt"),
        ("resolution time", "res"),
    ):
        for name, p in (("Median", 0.5), ("90th percentile", 0.9)):
            speed.rows.append(
                _row(f"{name} {label}", _p(getattr(cur, attr), p), _p(getattr(prev, attr), p), "dur")
            )
    tables["speed"] = speed

    # -- conversations -------------------------------------------------------------------------------
    tables["conversations"] = _figure_table(
        "conversations",
        "Conversations",
        [
            ("Conversations", cur.ints["conversations"], prev.ints["conversations"], "int"),
            ("Answered", cur.ints["responded"], prev.ints["responded"], "int"),
            (
                "Not answered yet",
                cur.ints["conversations"] - cur.ints["responded"],
                prev.ints["conversations"] - prev.ints["responded"],
                "int",
            ),
            ("Resolved", cur.ints["resolved"], prev.ints["resolved"], "int"),
            ("Replies per resolved conversation", cur.replies_per_resolved, prev.replies_per_resolved, "num"),
            (
                "Reopen rate",
                cur.share("reopened", "ever_resolved"),
                prev.share("reopened", "ever_resolved"),
                "pct",
            ),
            (
                "Arrived outside business hours",
                cur.share("outside_hours", "conversations"),
                prev.share("outside_hours", "conversations"),
                "pct",
            ),
        ],
        note="Reopen rate: of the conversations that were resolved, the share a customer or agent opened "
        "again after closing.",
    )
    tables["happiness"] = _figure_table(
        "happiness",
        "Happiness",
        [
            ("Happiness score", cur.score, prev.score, "score"),
            ("Ratings", cur.ratings, prev.ratings, "int"),
            ("Great", cur.ints["great"], prev.ints["great"], "int"),
            ("Okay", cur.ints["okay"], prev.ints["okay"], "int"),
            ("Not good", cur.ints["not_good"], prev.ints["not_good"], "int"),
            ("Rating requests", cur.ints["rating_requests"], prev.ints["rating_requests"], "int"),
            ("Response rate", cur.response_rate, prev.response_rate, "pct"),
        ],
        note="Score = (great − not good) ÷ all ratings × 100, from −100 to 100.",
    )

    # -- volume --------------------------------------------------------------------------------------
    days = _days_of(f)
    daily = Table(
        "daily",
        "Conversations per day",
        [
            ("Date", "text"),
            ("Weekday", "text"),
            ("Conversations", "int"),
            ("Ratings", "int"),
            ("Happiness score", "score"),
        ],
    )
    for d in days:
        great, okay, bad = cur.daily_ratings.get(d, (0, 0, 0))
        total = great + okay + bad
        daily.rows.append(
            [
                d.isoformat(),
                WEEKDAY_NAMES[d.weekday()],
                cur.daily[d],
                total,
                round(100 * (great - bad) / total) if total else None,
            ]
        )
    tables["daily"] = daily

    channels = Table(
        "channels",
        "Volume by channel",
        [
            ("Channel", "text"),
            ("Conversations", "int"),
            ("Share", "pct"),
            ("Previous period", "int"),
            ("Change", "dint"),
            ("Within 1 h", "pct"),
        ],
    )
    labels = dict(Conversation.Channel.choices)
    total = cur.ints["conversations"]
    for channel in sorted(
        set(cur.channels) | set(prev.channels), key=lambda c: -cur.channels[c]["conversations"]
    ):
        c, p = cur.channels[channel], prev.channels[channel]
        channels.rows.append(
            [
                labels.get(channel, channel),
                c["conversations"],
                c["conversations"] / total if total else None,
                p["conversations"],
                c["conversations"] - p["conversations"],
                c["frt_1h"] / c["responded"] if c["responded"] else None,
            ]
        )
    tables["channels"] = channels

    weekdays = Table(
        "weekdays",
        "Weekdays and weekends",
        [
            ("Day", "text"),
            ("Conversations", "int"),
            ("Per day", "num"),
            ("Within 1 h", "pct"),
            ("Median first response", "dur"),
            ("Previous period per day", "num"),
        ],
        note="By the day conversations arrived, in each mailbox's time zone.",
    )
    count_days = {wd: sum(1 for d in days if d.weekday() == wd) for wd in range(7)}
    prev_days = {wd: sum(1 for d in _days_of(f.previous()) if d.weekday() == wd) for wd in range(7)}
    groups = [(WEEKDAY_NAMES[wd], (wd,)) for wd in range(7)] + [
        ("Weekdays (Mon–Fri)", (0, 1, 2, 3, 4)),
        ("Weekend (Sat–Sun)", (5, 6)),
    ]
    for label, wds in groups:
        n = sum(cur.weekdays[wd]["conversations"] for wd in wds)
        pn = sum(prev.weekdays[wd]["conversations"] for wd in wds)
        responded = sum(cur.weekdays[wd]["responded"] for wd in wds)
        within = sum(cur.weekdays[wd]["frt_1h"] for wd in wds)
        hist = buckets.empty()
        for wd in wds:
            buckets.add_into(hist, cur.weekday_frt[wd])
        nd, pd = sum(count_days[wd] for wd in wds), sum(prev_days[wd] for wd in wds)
        weekdays.rows.append(
            [
                label,
                n,
                n / nd if nd else None,
                within / responded if responded else None,
                _p(hist, 0.5),
                pn / pd if pd else None,
            ]
        )
    tables["weekdays"] = weekdays

    heat = Table(
        "heatmap",
        "Arrivals by weekday and hour",
        [("Weekday", "text")] + [(f"{h:02d}", "int") for h in range(24)],
        note="Hours in each mailbox's own time zone.",
    )
    for wd in range(7):
        heat.rows.append([WEEKDAY_NAMES[wd], *cur.heat[wd]])
    tables["heatmap"] = heat

    tables["timezones"] = _zones_table(cur, prev)

    # -- top issues ----------------------------------------------------------------------------------
    top = Table(
        "top_issues",
        "Top issues",
        [
            ("Tag", "text"),
            ("Conversations", "int"),
            ("Previous period", "int"),
            ("Change", "dint"),
            ("Last 7 days", "int"),
            ("7 days before", "int"),
            ("Week over week", "dint"),
        ],
        note="Tags ranked by the conversations that arrived with them.",
    )
    for issue in selectors.top_issues(f, limit=None if full else 15):
        top.rows.append(
            [
                issue.tag,
                issue.current,
                issue.previous,
                issue.current - issue.previous,
                issue.week,
                issue.week_before,
                issue.week - issue.week_before,
            ]
        )
    tables["top_issues"] = top

    saved = Table(
        "saved_replies",
        "Saved replies used most",
        [("Saved reply", "text"), ("Uses", "int"), ("Previous period", "int"), ("Change", "dint")],
        note="An answer sent again and again is a candidate for a fix in the product or the docs.",
    )
    most = [pk for pk, _ in cur.saved.most_common(None if full else 10)]
    names = selectors.saved_reply_names(most)
    for pk in most:
        saved.rows.append(
            [names.get(pk, "(deleted)"), cur.saved[pk], prev.saved[pk], cur.saved[pk] - prev.saved[pk]]
        )
    tables["saved_replies"] = saved

    base = Table(
        "baselines",
        "Baselines: a normal day",
        [
            ("Tag", "text"),
            ("Typical day", "num"),
            ("Typical weekday", "num"),
            ("Typical weekend day", "num"),
            ("Busiest day", "int"),
            (f"On {f.end:%b} {f.end.day}", "int"),
        ],
        note="Median conversations per day over the 8 weeks ending with the period.",
    )
    for b in selectors.baselines(f, settings_row.baseline_tags or None):
        base.rows.append([b.tag, b.median_day, b.median_weekday, b.median_weekend, b.busiest, b.last_day])
    tables["baselines"] = base

    # -- the business --------------------------------------------------------------------------------
    business = Table(
        "business",
        "Contacts per transaction",
        [
            ("Business figure", "text"),
            ("Volume", "int"),
            ("Conversations", "int"),
            ("Per 1,000", "num"),
            ("Previous per 1,000", "num"),
            ("Change", "drel"),
        ],
        note="Conversations on the days the figure was posted, per 1,000 units of it.",
    )
    for v in selectors.contacts_per_transaction(f, cur, prev):
        now_rate = v.per_thousand(v.conversations, v.volume)
        before = v.per_thousand(v.previous_conversations, v.previous_volume)
        business.rows.append(
            [v.metric, v.volume, v.conversations, now_rate, before, change(now_rate, before, "num")[0]]
        )
    tables["business"] = business

    cost = Table(
        "cost",
        "Cost per conversation",
        [
            ("Period", "text"),
            ("Support cost", "money"),
            ("Conversations", "int"),
            ("Cost per conversation", "money"),
        ],
        currency=currency,
    )
    if f.filtered:
        cost.note = "The support cost is the whole team's: shown for the unfiltered report only."
    else:
        cost.note = "The monthly support cost spread over the days of each month."
        for label, period, t in (("This period", f, cur), ("Previous period", f.previous(), prev)):
            spent = selectors.support_cost(period.start, period.end)
            n = t.ints["conversations"]
            per = float(spent) / n if spent is not None and n else None
            cost.rows.append([label, float(spent) if spent is not None else None, n, per])
    tables["cost"] = cost

    # -- comments and agents -------------------------------------------------------------------------
    comments = selectors.recent_comments(f, viewer=None if shared else viewer)
    for c in comments:
        name = c.pop("customer_name", "") or ""
        if shared:  # nothing that names the customer or leads to the conversation
            c["comment"], c["conversation_id"] = mask_text(c["comment"], (name,)), None
    tables["comments"] = Table(
        "comments",
        "Recent comments",
        [("Date", "text"), ("Rating", "text"), ("Comment", "text")],
        rows=[
            [c["created_at"].date().isoformat(), c["value"].replace("_", " "), c["comment"]] for c in comments
        ],
    )
    if with_agents and not shared:
        tables["agents"] = _agents_table(f)

    headline = [
        Figure(
            "conversations", "Conversations", cur.ints["conversations"], prev.ints["conversations"], "int", ""
        ),
        Figure(
            "frt_1h",
            "Answered within 1 h",
            _goal_share(cur, "frt_1h"),
            _goal_share(prev, "frt_1h"),
            "pct",
            hint="calendar hours",
        ),
        Figure(
            "bfrt_1h",
            "Within 1 business hour",
            _goal_share(cur, "bfrt_1h"),
            _goal_share(prev, "bfrt_1h"),
            "pct",
            hint="in working hours",
        ),
        Figure("median_frt", "Median first response", _p(cur.frt, 0.5), _p(prev.frt, 0.5), "dur", "lower"),
        Figure("score", "Happiness score", cur.score, prev.score, "score", hint=f"{cur.ratings:,} ratings"),
        Figure(
            "replies_per_resolved",
            "Replies per resolved",
            cur.replies_per_resolved,
            prev.replies_per_resolved,
            "num",
            "lower",
        ),
        Figure(
            "reopen_rate",
            "Reopen rate",
            cur.share("reopened", "ever_resolved"),
            prev.share("reopened", "ever_resolved"),
            "pct",
            "lower",
        ),
    ]
    report = Report(f, f.previous(), headline, tables, comments=comments, currency=currency, shared=shared)
    report.charts = _charts(report, cur)
    return report


def _figure_table(
    key: str, title: str, spec: list[tuple[str, float | None, float | None, str]], note: str = ""
) -> Table:
    """A table of figures of different kinds (counts, shares, scores), each with its change."""
    table = Table(
        key,
        title,
        [("Figure", "text"), ("This period", "text"), ("Previous period", "text"), ("Change", "text")],
        note=note,
    )
    for label, cur, prev, kind in spec:
        delta, delta_kind = change(cur, prev, kind)
        table.add([label, cur, prev, delta], ["text", kind, kind, delta_kind or "text"])
    return table


def _zones_table(cur: Totals, prev: Totals) -> Table:
    mailboxes = selectors.mailboxes_by_id()
    table = Table(
        "timezones",
        "Each time zone's hours",
        [
            ("Time zone", "text"),
            ("Mailboxes", "text"),
            ("Conversations", "int"),
            ("Outside business hours", "pct"),
            ("Previous period", "int"),
            ("Outside hours before", "pct"),
        ]
        + [(f"{h:02d}", "int") for h in range(24)],
        note="Arrivals by local hour in each mailbox's time zone.",
    )
    zones: dict[str, list[int]] = {}
    for mailbox_id in set(cur.zone_count) | set(prev.zone_count):
        mailbox = mailboxes.get(mailbox_id)
        if mailbox is None:
            continue
        zones.setdefault(mailbox.timezone or "UTC", []).append(mailbox_id)
    for name, ids in sorted(zones.items()):
        hours = [sum(cur.zone_hours[i][h] for i in ids) for h in range(24)]
        n, pn = sum(cur.zone_count[i] for i in ids), sum(prev.zone_count[i] for i in ids)
        outside, before = sum(cur.zone_outside[i] for i in ids), sum(prev.zone_outside[i] for i in ids)
        names = ", ".join(sorted(mailboxes[i].name for i in ids))
        table.rows.append(
            [name, names, n, outside / n if n else None, pn, before / pn if pn else None, *hours]
        )
    return table


def _agents_table(f: Filters) -> Table:
    table = Table(
        "agents",
        "Each agent",
        [
            ("Agent", "text"),
            ("First responses", "int"),
            ("Within 1 h", "pct"),
            ("Within 1 h before", "pct"),
            ("Within 1 business hour", "pct"),
            ("Median first response", "dur"),
            ("Replies", "int"),
            ("Ratings", "int"),
            ("Happiness score", "score"),
            ("Happiness score before", "score"),
        ],
        note="In alphabetical order: this is for each person's own view, not a ranking."
        + (" Not narrowed by tag." if f.tag else ""),
    )
    for cur, before in selectors.agent_figures(f):
        n = cur.first_responses
        table.rows.append(
            [
                cur.agent,
                n,
                cur.frt_1h / n if n else None,
                before.frt_1h / before.first_responses if before.first_responses else None,
                cur.bfrt_1h / n if n else None,
                _p(cur.frt, 0.5),
                cur.replies,
                cur.ratings,
                cur.score,
                before.score,
            ]
        )
    return table


def _charts(report: Report, cur: Totals) -> dict[str, SafeString]:
    f = report.filters
    goal_rows = [(f"{row[0]} ({row[1]})", row[2], row[3]) for row in report.tables["goals"].rows]
    goals_desc = "; ".join(
        f"{label}: {'no data' if c is None else f'{100 * c:.0f}%'} (previous {'no data' if p is None else f'{100 * p:.0f}%'})"
        for label, c, p in goal_rows
    )
    days = [(date.fromisoformat(r[0]), r[2]) for r in report.tables["daily"].rows]
    busiest = max(days, key=lambda d: d[1]) if days else None
    heat_total = sum(sum(r) for r in cur.heat)
    peak = max(((wd, h) for wd in range(7) for h in range(24)), key=lambda x: cur.heat[x[0]][x[1]])
    trend_points = _trend(f, cur)
    return {
        "goals": charts.goal_bars(
            "chart-goals", goal_rows, title="First response within 1, 6 and 24 hours", desc=goals_desc
        ),
        "daily": charts.daily_bars(
            "chart-daily",
            days,
            title="Conversations per day",
            desc=f"{sum(n for _, n in days):,} conversations over {len(days)} days"
            + (
                f"; busiest {busiest[0]:%A %b} {busiest[0].day} with {busiest[1]:,}"
                if busiest and busiest[1]
                else ""
            )
            + ". Weekend days are lighter.",
        ),
        "heatmap": charts.heatmap(
            "chart-heatmap",
            cur.heat,
            title="Arrivals by weekday and hour",
            desc=f"{heat_total:,} arrivals; the busiest hour is {WEEKDAY_NAMES[peak[0]]} {peak[1]:02d}:00 "
            f"with {cur.heat[peak[0]][peak[1]]:,}."
            if heat_total
            else "No arrivals in this period.",
        ),
        "trend": charts.trend(
            "chart-trend",
            trend_points,
            title="Happiness score over the period",
            desc="; ".join(
                f"{label}: {'no ratings' if v is None else f'{v:.0f}'}" for label, v in trend_points
            ),
        ),
    }


def _trend(f: Filters, cur: Totals) -> list[tuple[str, float | None]]:
    """The happiness score per week of the period (per day for two weeks or less)."""
    size = 1 if f.days <= 14 else 7
    days = _days_of(f)
    points = []
    for i in range(0, len(days), size):
        great = okay = bad = 0
        for d in days[i : i + size]:
            g, o, b = cur.daily_ratings.get(d, (0, 0, 0))
            great, okay, bad = great + g, okay + o, bad + b
        total = great + okay + bad
        points.append((f"{days[i]:%b} {days[i].day}", 100 * (great - bad) / total if total else None))
    return points
