"""Early warning: notice when customers suddenly write about the same thing, before anyone declares.

Every few minutes (worker job `status-early-warning`, once across workers) the new conversations of the
last hour are counted per signal: each tag, and each significant word of the subject and first message
(stop words removed). Each count is compared with the same hour of the week in the past weeks
(`unusual`, a pure function). Unusual signals that come from the same conversations are one cluster
("login", "password", "error" in the same twelve emails are one warning, labelled by the strongest).
A cluster that is still going on updates its warning instead of raising another, so a burst is alerted
exactly once: to the early-warning list (shared outbox, key per warning) and on the agents' pages.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation, Message
from happydesk.mail.outbound import notice_enqueue
from happydesk.status.models import EarlyWarning, IncidentSettings


def _setting(name: str, default: float) -> float:
    return getattr(settings, f"HAPPYDESK_EARLY_WARNING_{name}", default)


WINDOW = timedelta(hours=_setting("WINDOW_HOURS", 1))
WEEKS = int(_setting("WEEKS", 4))
MIN_COUNT = int(_setting("MIN_COUNT", 5))
RATIO = float(_setting("RATIO", 2.0))
# How surprising a count must be (Poisson tail). Small, because hundreds of words are tested every ten
# minutes: at 1e-4 an ordinary day raises nothing, while 7 emails about a word usually seen once do.
SURPRISE = float(_setting("SURPRISE", 1e-4))
RATE_FLOOR = 0.3  # the rate assumed for a signal never seen before (so 5 at once is enough)
OVERLAP = 0.6  # share of the smaller signal's conversations two signals must share to be one cluster
LABEL_COVER = 0.8  # a label must appear in this share of the cluster's conversations
FIRST_TEXT_CHARS = 2000

_STOP_TEXT = """
    a about above after again against all almost also although always am among an and another any anybody
    anyone anything anyway are aren around as at away back be because been before being below between both
    but by came can cannot cant could couldn did didn do does doesn doing don done down during each either
    else even ever every few for from further get gets getting give given go goes going gone got had hadn has
    hasn have haven having he her here hers herself him himself his how however i if in into is isn it its
    itself just know last least less let like made make makes many may me might mine more most much must my
    myself need needs neither never new next no nobody none nor not nothing now of off often on once one only
    or other others our ours ourselves out over own per please put quite rather really re said same see seem
    seems several shall she should shouldn since so some somebody someone something sometimes soon still such
    sure take than that the their theirs them themselves then there these they thing things think this those
    though through thus to today together tomorrow too tried try trying two under until up upon us use used
    using very via want wanted was wasn way we well went were weren what whatever when where whether which
    while who whom whose why will with within without won would wouldn yes yet you your yours yourself
    yourselves yesterday morning afternoon evening tonight week weeks day days hour hours minute minutes time
    times ago hello hi hey dear thanks thank thx cheers regards best kind kindly team support help helps
    helping question questions issue issues problem problems asap urgent hope able look looking working work
    works worked seem seemed getting keeps keep anymore again already ok okay sorry wondering tell told sent
    send let's im ive dont doesnt didnt cant wont isnt
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
# Symptoms: they help group a burst but name it badly ("failing" says less than "webhook").
GENERIC = frozenset(
    [
        "fail",
        "failing",
        "failed",
        "failure",
        "error",
        "errors",
        "broken",
        "broke",
        "down",
        "slow",
        "crash",
        "crashed",
        "crashing",
        "stuck",
        "wrong",
        "doesn't",
        "blank",
        "loading",
        "load",
        "timeout",
        "timing",
        "unable",
    ]
)
WORD = re.compile(r"[^\W\d_]{3,}")


def _normal(word: str) -> str:
    """A light plural fold, so "logins" counts with "login" (never "access" or "status")."""
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def significant_words(text: str) -> set[str]:
    """The words that can signal a topic: letters only, three or more, stop words removed. Pure."""
    words = (_normal(w) for w in WORD.findall(text.lower()))
    return {w for w in words if w not in STOP_WORDS and len(w) >= 3}


@dataclass(frozen=True)
class Verdict:
    """How the current count compares with the usual one for this hour of the week."""

    unusual: bool
    usual: float
    threshold: float


def poisson_tail(k: int, rate: float) -> float:
    """P(X >= k) for a Poisson count with this rate. Pure."""
    if k <= 0:
        return 1.0
    term = total = math.exp(-rate)
    for i in range(1, k):
        term *= rate / i
        total += term
    return max(0.0, 1.0 - total)


def unusual(
    current: int,
    history: Sequence[int],
    *,
    min_count: int = MIN_COUNT,
    ratio: float = RATIO,
    surprise: float = SURPRISE,
) -> Verdict:
    """Is `current` unusually high against `history` (the same hour in past weeks)? Pure.

    The usual level shown to people is the median of the past weeks. The rate the count is tested
    against is the larger of that median and the mean without the busiest week (one earlier outage
    does not make outages usual), never below a small floor. Unusual means at least `min_count`, at
    least `ratio` times the usual level, and a count that rate would give less often than `surprise`.
    """
    usual_level = float(statistics.median(history)) if history else 0.0
    ordered = sorted(history)
    trimmed = ordered[:-1] if len(ordered) >= 3 else ordered
    rate = max(usual_level, statistics.fmean(trimmed) if trimmed else 0.0, RATE_FLOOR)
    threshold = max(min_count, math.ceil(usual_level * ratio))
    while poisson_tail(threshold, rate) >= surprise:
        threshold += 1
    return Verdict(unusual=current >= threshold, usual=usual_level, threshold=float(threshold))


@dataclass
class Cluster:
    """Unusual signals that come from the same conversations; the first key is its label."""

    keys: list[str]
    counts: dict[str, int]
    usual: dict[str, float]
    conversation_ids: set[int] = field(default_factory=set)

    @property
    def label_key(self) -> str:
        return self.keys[0]


def _strength(key: str, ids: set[int], in_subject: Mapping[str, int]) -> tuple:
    """Sort key, strongest first: more conversations, more often in subjects, a thing before a symptom
    ("webhook" before "failing"), a tag (a person's judgement) before a word, then alphabetical."""
    generic = key.split(":", 1)[1] in GENERIC
    return (-len(ids), -in_subject.get(key, 0), generic, not key.startswith("tag:"), key)


def clusters(
    signals: Mapping[str, set[int]],
    verdicts: Mapping[str, Verdict],
    *,
    in_subject: Mapping[str, int] | None = None,
    overlap: float = OVERLAP,
) -> list[Cluster]:
    """Group unusual signals whose conversations overlap (by share of the smaller one), and label each
    group by its strongest elevated signal, even one not yet past its own threshold (so a burst of
    "login ... error" is called "login", not "error", from its first alert). Pure."""
    in_subject = in_subject or {}
    ranked = sorted(
        (k for k, v in verdicts.items() if v.unusual), key=lambda k: _strength(k, signals[k], in_subject)
    )
    found: list[Cluster] = []
    for key in ranked:
        ids = signals[key]
        for group in found:
            shared = len(ids & group.conversation_ids)
            if shared and shared / min(len(ids), len(group.conversation_ids)) >= overlap:
                group.keys.append(key)
                group.counts[key], group.usual[key] = len(ids), verdicts[key].usual
                group.conversation_ids |= ids
                break
        else:
            found.append(Cluster([key], {key: len(ids)}, {key: verdicts[key].usual}, set(ids)))
    elevated = [k for k, v in verdicts.items() if len(signals[k]) >= max(2.0, v.usual * RATIO)]
    for group in found:
        covering = [
            k
            for k in elevated
            if len(signals[k] & group.conversation_ids) >= LABEL_COVER * len(group.conversation_ids)
        ]
        best = min(covering + [group.keys[0]], key=lambda k: _strength(k, signals[k], in_subject))
        if best != group.keys[0]:
            group.keys = [best] + [k for k in group.keys if k != best]
            group.counts[best], group.usual[best] = len(signals[best]), verdicts[best].usual
    return found


# --- reading the inbox ------------------------------------------------------------------------------------


def signals_between(start: datetime, end: datetime) -> tuple[dict[str, set[int]], dict[str, int]]:
    """Per signal ("tag:billing", "word:login"), the new conversations in [start, end) that carry it,
    and how many of them have the word in their subject. Spam and security reports are left out
    (the latter are never shown to light agents)."""
    conversations = (
        Conversation.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=Conversation.Status.SPAM)
        .exclude(security_flag__active=True)
    )
    subjects = dict(conversations.values_list("id", "subject"))
    if not subjects:
        return {}, {}
    first_text: dict[int, str] = {}
    for cid, text in (
        Message.objects.filter(kind=Message.Kind.CUSTOMER, conversation__in=conversations.values("id"))
        .order_by("conversation_id", "created_at", "id")
        .values_list("conversation_id", "text")
    ):
        first_text.setdefault(cid, text[:FIRST_TEXT_CHARS])
    found: dict[str, set[int]] = defaultdict(set)
    in_subject: dict[str, int] = defaultdict(int)
    for cid, subject in subjects.items():
        for word in significant_words(f"{subject}\n{first_text.get(cid, '')}"):
            found[f"word:{word}"].add(cid)
        for word in significant_words(subject):
            in_subject[f"word:{word}"] += 1
    for cid, name in Conversation.tags.through.objects.filter(
        conversation__in=conversations.values("id")
    ).values_list("conversation_id", "tag__name"):
        found[f"tag:{name}"].add(cid)
    return dict(found), dict(in_subject)


def past_windows(start: datetime, end: datetime, *, weeks: int = WEEKS) -> list[tuple[datetime, datetime]]:
    """The same hours of the week in the past weeks, only where the inbox already had conversations
    (a new install has no "usual" yet: those weeks are not counted as zero)."""
    first = Conversation.objects.aggregate(first=Min("created_at"))["first"]
    if first is None:
        return []
    week = timedelta(days=7)
    return [(start - n * week, end - n * week) for n in range(1, weeks + 1) if end - n * week > first]


def assess(now: datetime) -> list[Cluster]:
    """The unusual clusters of the window ending now (read only)."""
    start = now - WINDOW
    current, in_subject = signals_between(start, now)
    if not current:
        return []
    history = [signals_between(a, b)[0] for a, b in past_windows(start, now)]
    verdicts = {
        key: unusual(len(ids), [len(h.get(key, ())) for h in history]) for key, ids in current.items()
    }
    return clusters(current, verdicts, in_subject=in_subject)


# --- the service ------------------------------------------------------------------------------------------


def _ongoing(cluster: Cluster, now: datetime) -> EarlyWarning | None:
    """A warning raised for any of these signals that was still seen recently: the same burst."""
    recent = EarlyWarning.objects.filter(last_seen_at__gte=now - 2 * WINDOW)
    keys = set(cluster.keys)
    return next((w for w in recent if keys & set(w.keys)), None)


@transaction.atomic
def early_warning_check(*, now: datetime | None = None) -> list[EarlyWarning]:
    """Raise a warning for each new unusual cluster (alerting the early-warning list once) and keep
    warnings of bursts still going on up to date. Returns the warnings raised now."""
    now = now or timezone.now()
    raised = []
    for cluster in assess(now):
        key = cluster.label_key
        kind, label = key.split(":", 1)
        warning = _ongoing(cluster, now)
        if warning is not None:  # the same burst, still going: keep its peak, never alert again
            own = f"{warning.kind}:{warning.label}"
            if cluster.counts.get(own, 0) > warning.count:
                warning.count = cluster.counts[own]
                warning.window_start, warning.window_end = now - WINDOW, now
            warning.keys = list(dict.fromkeys([*warning.keys, *cluster.keys]))
            warning.conversation_ids = sorted(set(warning.conversation_ids) | cluster.conversation_ids)
            warning.last_seen_at = now
            warning.save()
            continue
        warning = EarlyWarning.objects.create(
            label=label,
            kind=kind,
            keys=cluster.keys,
            count=cluster.counts[key],
            usual=cluster.usual[key],
            window_start=now - WINDOW,
            window_end=now,
            conversation_ids=sorted(cluster.conversation_ids),
            created_at=now,
            last_seen_at=now,
        )
        _alert(warning)
        raised.append(warning)
    return raised


def _alert(warning: EarlyWarning) -> None:
    to = [a for a in IncidentSettings.current().early_warning if a]
    if not to:
        return  # still shown on the inbox and status pages
    subjects = list(
        Conversation.objects.filter(pk__in=warning.conversation_ids[:5]).values_list("pk", "subject")
    )
    lines = [warning.sentence[0].upper() + warning.sentence[1:] + "."]
    if warning.also:
        lines.append("The same conversations also mention: " + ", ".join(warning.also[:6]) + ".")
    lines += ["", "For example:"] + [f"  #{pk} {subject}" for pk, subject in subjects]
    lines += [
        "",
        "Look and, if it is an incident, declare it with these conversations pre-filled:",
        settings.BASE_URL + reverse("status_admin_incident_new") + f"?warning={warning.pk}",
    ]
    notice_enqueue(
        to=to,
        subject=f"[Early warning] {warning.sentence}"[:300],
        text="\n".join(lines) + "\n",
        kind="status-early-warning",
        dedupe_key=f"status-ew:{warning.pk}",
    )


@transaction.atomic
def early_warning_dismiss(*, warning: EarlyWarning, actor: User) -> EarlyWarning:
    """Not an incident: hide it from the agents' pages (the burst still does not alert again)."""
    warning.dismissed_at, warning.dismissed_by = timezone.now(), actor
    warning.save(update_fields=["dismissed_at", "dismissed_by"])
    return warning


def warning_keywords(warning: EarlyWarning) -> tuple[list[str], list[str]]:
    """Tags and words to pre-fill a declared incident's matching: the warning's label only (the other
    words of a cluster, like "error", would match far beyond the incident); its conversations are
    linked as they are."""
    return ([warning.label], []) if warning.kind == "tag" else ([], [warning.label])


def active_warnings(
    *, now: datetime | None = None, within: timedelta | None = None
) -> Iterable[EarlyWarning]:
    """Warnings agents should see: seen within the last two windows, not dismissed, no incident yet."""
    now = now or timezone.now()
    return EarlyWarning.objects.filter(
        last_seen_at__gte=now - (within or 2 * WINDOW), dismissed_at__isnull=True, incident__isnull=True
    ).order_by("-count", "-id")
