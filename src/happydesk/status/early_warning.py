"""Early warning: notice when customers suddenly write about the same thing, before anyone declares.

Every few minutes (worker job `status-early-warning`, once across workers) the new conversations of the
last hour are read as sets of terms: each tag, and each significant word of the subject and first
message (stop words of several languages removed). Each term is weighed against its usual frequency:
the share of the mailbox's conversations of the 30 days before the window that carry it (at most
HISTORY_LIMIT of them, the newest). A *burst term* is both frequent now (at least MIN_COUNT
conversations) and unusual normally (its share at least RATIO times the usual one, and a count the
usual share would give less often than SURPRISE). Burst terms that come from the same conversations
seed one group. A group learns its profile from its conversations: each term's log-odds of appearing in
the group rather than in the usual mail. A conversation belongs to the group whose profile terms in it
add up to at least JOIN (roughly: several distinctive terms, never one common word); the profile is
learned again from the members until it settles. So "sensors offline", "gateway shows red" and
"Geräte melden keine Daten" join one group, and "Charged twice for December" does not, whatever words
it shares with some of them. Each member keeps the terms it matched on: the reason shown to agents.

A group that is still going on updates its warning instead of raising another, so a burst is alerted
exactly once: to the early-warning list (shared outbox, key per warning) and on the agents' pages.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation, Message
from happydesk.mail.outbound import notice_enqueue
from happydesk.status.models import EarlyWarning, IncidentSettings


def _setting(name: str, default: float) -> float:
    return getattr(settings, f"HAPPYDESK_EARLY_WARNING_{name}", default)


WINDOW = timedelta(hours=_setting("WINDOW_HOURS", 1))
HISTORY = timedelta(days=_setting("HISTORY_DAYS", 30))
# The newest conversations of the history read per check: bounds the work of a busy mailbox (the
# shares of thousands of conversations are as good a "usual" as those of all of them).
HISTORY_LIMIT = int(_setting("HISTORY_LIMIT", 3000))
# A short history says little about what is usual: shares are taken over at least this many
# conversations, so on a new install five conversations about one thing are still unusual.
MIN_HISTORY = 50
MIN_COUNT = int(_setting("MIN_COUNT", 5))
RATIO = float(_setting("RATIO", 2.0))
# How surprising a count must be (Poisson tail). Small, because hundreds of terms are tested every ten
# minutes: at 1e-4 an ordinary hour raises nothing, while 7 emails about a word usually rare do.
SURPRISE = float(_setting("SURPRISE", 1e-4))
# Burst terms are one group when they share at least this share of the smaller one's conversations.
SEED_OVERLAP = 0.25
# A member's profile terms must add up to this (natural log of the odds that they come from the burst
# rather than from ordinary mail: e^2, about 7 to 1). Half of it lets a conversation into the sample the
# profile is learned from, so a burst's other wordings ("device not reporting") are learned too.
JOIN = 2.0
PROFILE_MIN_SHARE = 0.05  # a profile term is in at least this share of the group (and two of them)
ROUNDS = 6
LABEL_COVER = 0.8  # a label must appear in this share of the group's conversations
FIRST_TEXT_CHARS = 2000
MAX_REASONS = 4  # terms kept per conversation to say why it matched

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
    regard cheer advance good great many sincerely greetings
"""
# Greetings, sign-offs and function words of the other languages customers write in.
_STOP_OTHER = """
    der die das den dem des ein eine einer eines einem einen und oder aber doch ist sind war waren bin bist
    sein wird werden wurde wurden hat haben hatte habe nicht kein keine keinen keiner mehr noch nur schon
    auch sehr seit bei bitte danke vielen dank hallo liebe lieber grüße gruß freundlichen wir uns unser
    unsere unseren unserem ihr ihre ihren ihnen sie ich mich mir mein meine du er es man mit von vom auf für
    zu zum zur im in am an als wie was wer wo wann warum ob dass weil wenn dann jetzt heute gestern morgen
    gerade gibt ca uhr obwohl sich alle alles aus nach vor über unter durch wieder immer schon leider gerne
    le la les un une des du de et ou mais est sont pas ne plus avec pour dans sur nous vous ils elle il je
    merci bonjour cordialement depuis notre nos votre vos ce cette ces qui que quoi
    el los las una uno unos y o pero es son no con para por en sobre nosotros usted gracias hola desde
    nuestro nuestra que
    het een en maar niet geen met voor naar bij ons onze jullie wij ik bedankt groeten sinds
"""
STOP_WORDS = frozenset(_STOP_TEXT.split()) | frozenset(_STOP_OTHER.split())
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
        "showing",
        "show",
        "stopped",
        "missing",
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


def poisson_tail(k: int, rate: float) -> float:
    """P(X >= k) for a Poisson count with this rate. Pure."""
    if k <= 0:
        return 1.0
    term = total = math.exp(-rate)
    for i in range(1, k):
        term *= rate / i
        total += term
    return max(0.0, 1.0 - total)


@dataclass(frozen=True)
class Usual:
    """How often terms appear in ordinary mail: per term, how many of `size` past conversations carry
    it, over `span` of time."""

    counts: Mapping[str, int]
    size: int
    span: timedelta = HISTORY

    def share(self, key: str) -> float:
        """The usual share of conversations with this term, smoothed (a term never seen is not
        impossible, and a short history is not taken at its word)."""
        return (self.counts.get(key, 0) + 0.5) / (max(self.size, MIN_HISTORY) + 1)

    def per_window(self, key: str, window: timedelta = WINDOW) -> float:
        """The usual number of conversations with this term in a window of that length."""
        span = max(self.span, window)
        return self.counts.get(key, 0) * (window / span)


@dataclass(frozen=True)
class Burst:
    """A term frequent now and unusual normally."""

    key: str
    count: int
    expected: float

    @property
    def strength(self) -> float:
        return self.count * math.log(self.count / self.expected)


def burst_terms(
    current: Mapping[int, frozenset[str]],
    usual: Usual,
    *,
    min_count: int = MIN_COUNT,
    ratio: float = RATIO,
    surprise: float = SURPRISE,
) -> list[Burst]:
    """The window's terms that are frequent now and unusual normally, strongest first. Pure."""
    counts = Counter(t for terms in current.values() for t in terms)
    found = []
    for key, count in counts.items():
        if count < min_count:
            continue
        expected = len(current) * usual.share(key)
        if count >= ratio * expected and poisson_tail(count, expected) < surprise:
            found.append(Burst(key, count, expected))
    return sorted(found, key=lambda b: (-b.strength, b.key))


@dataclass
class Cluster:
    """One burst: its seed terms (the first is its label), its profile (term -> log-odds against the
    usual mail) and its conversations, each with the terms it matched on."""

    keys: list[str]
    counts: dict[str, int]
    usual: dict[str, float]
    profile: dict[str, float] = field(default_factory=dict)
    members: dict[int, list[str]] = field(default_factory=dict)

    @property
    def label_key(self) -> str:
        return self.keys[0]

    @property
    def conversation_ids(self) -> set[int]:
        return set(self.members)


def _profile(members: Iterable[int], current: Mapping[int, frozenset[str]], usual: Usual) -> dict[str, float]:
    """Terms that are common in these conversations and rare in the usual mail, with their log-odds."""
    ids = list(members)
    counts = Counter(t for cid in ids for t in current[cid])
    floor = max(2.0, PROFILE_MIN_SHARE * len(ids))
    profile = {}
    for key, count in counts.items():
        if count >= floor:
            weight = math.log(((count + 0.5) / (len(ids) + 1)) / usual.share(key))
            if weight >= math.log(RATIO):
                profile[key] = weight
    return profile


def _assign(
    groups: Sequence[Mapping[str, float]], current: Mapping[int, frozenset[str]], threshold: float
) -> list[set[int]]:
    """Each conversation to the group whose profile terms in it weigh most, if they reach `threshold`."""
    found: list[set[int]] = [set() for _ in groups]
    for cid, terms in current.items():
        scores = [sum(profile.get(t, 0.0) for t in terms) for profile in groups]
        best = max(range(len(groups)), key=lambda i: (scores[i], -i))
        if scores[best] >= threshold:
            found[best].add(cid)
    return found


def _strength(key: str, ids: set[int], in_subject: Mapping[str, int]) -> tuple:
    """Sort key for a label, strongest first: more conversations, more often in subjects, a thing
    before a symptom ("webhook" before "failing"), a tag (a person's judgement) before a word."""
    generic = key.split(":", 1)[1] in GENERIC
    return (-len(ids), -in_subject.get(key, 0), generic, not key.startswith("tag:"), key)


def clusters(
    current: Mapping[int, frozenset[str]],
    usual: Usual,
    *,
    in_subject: Mapping[str, int] | None = None,
    join: float = JOIN,
) -> list[Cluster]:
    """The bursts of the window: seeds from burst terms sharing conversations, each member matched on
    the terms of its group's profile, labelled by the strongest term nearly every member has. Pure."""
    in_subject = in_subject or {}
    bursts = burst_terms(current, usual)
    holders = {b.key: {cid for cid, terms in current.items() if b.key in terms} for b in bursts}
    seeds: list[list[Burst]] = []
    for burst in bursts:
        ids = holders[burst.key]
        for group in seeds:
            if any(
                len(ids & holders[b.key]) >= max(2, SEED_OVERLAP * min(len(ids), len(holders[b.key])))
                for b in group
            ):
                group.append(burst)
                break
        else:
            seeds.append([burst])
    if not seeds:
        return []
    samples = [set().union(*(holders[b.key] for b in group)) for group in seeds]
    for _ in range(ROUNDS):  # learn each profile from its sample until the samples settle
        grown = _assign([_profile(s, current, usual) for s in samples], current, join / 2)
        if grown == samples:
            break
        samples = [s or old for s, old in zip(grown, samples, strict=True)]
    profiles = [_profile(s, current, usual) for s in samples]
    found = []
    for group, profile, ids in zip(seeds, profiles, _assign(profiles, current, join), strict=True):
        if len(ids) < MIN_COUNT or all(b.key.split(":", 1)[1] in GENERIC for b in group):
            continue  # too few, or only a symptom in common ("showing"): no "thing" to warn about
        carried = {k: {cid for cid in ids if k in current[cid]} for k in profile}
        covering = [k for k, held in carried.items() if len(held) >= LABEL_COVER * len(ids)]
        label = min(covering or [group[0].key], key=lambda k: _strength(k, carried.get(k, set()), in_subject))
        members = {  # the reasons: the label first, then the heaviest terms
            cid: sorted(
                (t for t in current[cid] if t in profile), key=lambda t: (t != label, -profile[t], t)
            )[:MAX_REASONS]
            for cid in sorted(ids)
        }
        keys = [label] + [b.key for b in group if b.key != label]
        keys += [k for k in sorted(profile, key=lambda k: -len(carried[k])) if k not in keys]
        found.append(
            Cluster(
                keys=keys,
                counts={k: len(carried.get(k, ())) for k in keys},
                usual={k: usual.per_window(k) for k in keys},
                profile=profile,
                members=members,
            )
        )
    return found


def matches_profile(
    profile: Mapping[str, float], terms: Iterable[str], *, join: float = JOIN, label: str = ""
) -> list[str]:
    """The profile terms a conversation with these terms matched on (the label first, then the
    strongest), or [] when they do not add up to `join` (a conversation arriving later, say). Pure."""
    hits = sorted((t for t in set(terms) if t in profile), key=lambda t: (t != label, -profile[t], t))
    return hits[:MAX_REASONS] if sum(profile[t] for t in hits) >= join else []


# --- reading the inbox ------------------------------------------------------------------------------------


def _first_texts(conversation_ids: Sequence[int]) -> dict[int, str]:
    """The start of each conversation's first customer message (two index-friendly queries)."""
    firsts = (
        Message.objects.filter(kind=Message.Kind.CUSTOMER, conversation_id__in=conversation_ids)
        .values("conversation_id")
        .annotate(first=Min("id"))
        .values_list("first", flat=True)
    )
    return dict(
        Message.objects.filter(pk__in=list(firsts))
        .annotate(start=Substr("text", 1, FIRST_TEXT_CHARS))
        .values_list("conversation_id", "start")
    )


def _terms_of(conversations: Iterable[tuple[int, str]]) -> tuple[dict[int, frozenset[str]], dict[str, int]]:
    rows = list(conversations)
    texts: dict[int, str] = {}
    for chunk in range(0, len(rows), 500):  # bounded IN lists on every engine
        texts.update(_first_texts([cid for cid, _ in rows[chunk : chunk + 500]]))
    terms: dict[int, frozenset[str]] = {}
    in_subject: dict[str, int] = defaultdict(int)
    for cid, subject in rows:
        terms[cid] = frozenset(f"word:{w}" for w in significant_words(f"{subject}\n{texts.get(cid, '')}"))
        for word in significant_words(subject):
            in_subject[f"word:{word}"] += 1
    tags: dict[int, set[str]] = defaultdict(set)
    for chunk in range(0, len(rows), 500):
        for cid, name in Conversation.tags.through.objects.filter(
            conversation_id__in=[cid for cid, _ in rows[chunk : chunk + 500]]
        ).values_list("conversation_id", "tag__name"):
            tags[cid].add(f"tag:{name}")
    return {cid: t | tags.get(cid, set()) for cid, t in terms.items()}, dict(in_subject)


def _conversations(start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    """New conversations in [start, end), newest first; never spam, never security reports (those are
    not shown to light agents)."""
    return (
        Conversation.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=Conversation.Status.SPAM)
        .exclude(security_flag__active=True)
        .order_by("-created_at", "-id")
    )


def window_terms(start: datetime, end: datetime) -> tuple[dict[int, frozenset[str]], dict[str, int]]:
    """Per new conversation of [start, end), its terms ("tag:billing", "word:login"), and how many
    subjects carry each word."""
    return _terms_of(_conversations(start, end).values_list("id", "subject"))


def usual_before(start: datetime, *, history: timedelta = HISTORY, limit: int = HISTORY_LIMIT) -> Usual:
    """How often each term appears in the (at most `limit` newest) conversations of `history` before
    `start`: what is usual for this mailbox."""
    rows = list(_conversations(start - history, start).values_list("id", "subject", "created_at")[:limit])
    if not rows:
        return Usual({}, 0, history)
    terms, _ = _terms_of((cid, subject) for cid, subject, _ in rows)
    span = start - rows[-1][2] if len(rows) >= limit else history
    first = Conversation.objects.aggregate(first=Min("created_at"))["first"]
    if first is not None and start - first < span:  # a new install: its history is shorter
        span = start - first
    return Usual(Counter(t for ts in terms.values() for t in ts), len(rows), span)


def assess(now: datetime) -> list[Cluster]:
    """The bursts of the window ending now (read only)."""
    start = now - WINDOW
    current, in_subject = window_terms(start, now)
    if len(current) < MIN_COUNT:
        return []
    return clusters(current, usual_before(start), in_subject=in_subject)


# --- the service ------------------------------------------------------------------------------------------


def _ongoing(cluster: Cluster, now: datetime) -> EarlyWarning | None:
    """A warning seen recently with the same label or some of the same conversations: the same burst."""
    recent = EarlyWarning.objects.filter(last_seen_at__gte=now - 2 * WINDOW)
    ids = cluster.conversation_ids
    return next(
        (w for w in recent if f"{w.kind}:{w.label}" in cluster.keys[:3] or ids & set(w.conversation_ids)),
        None,
    )


def _reasons(cluster: Cluster) -> dict[str, list[str]]:
    """Conversation id (as JSON keys are) -> the words and tags it matched on, for people to read."""
    return {str(cid): [k.split(":", 1)[1] for k in keys] for cid, keys in cluster.members.items()}


@transaction.atomic
def early_warning_check(*, now: datetime | None = None) -> list[EarlyWarning]:
    """Raise a warning for each new burst (alerting the early-warning list once) and keep warnings of
    bursts still going on up to date. Returns the warnings raised now."""
    now = now or timezone.now()
    raised = []
    for cluster in assess(now):
        key = cluster.label_key
        kind, label = key.split(":", 1)
        warning = _ongoing(cluster, now)
        profile = {k: round(v, 3) for k, v in cluster.profile.items()}
        if warning is not None:  # the same burst, still going: keep its peak, never alert again
            if len(cluster.members) > warning.count:
                warning.count = len(cluster.members)
                warning.window_start, warning.window_end = now - WINDOW, now
            warning.keys = list(dict.fromkeys([*warning.keys, *cluster.keys]))
            warning.conversation_ids = sorted(set(warning.conversation_ids) | cluster.conversation_ids)
            warning.reasons = {**warning.reasons, **_reasons(cluster)}
            warning.profile = {**warning.profile, **profile}
            warning.last_seen_at = now
            warning.save()
            continue
        warning = EarlyWarning.objects.create(
            label=label,
            kind=kind,
            keys=cluster.keys,
            count=len(cluster.members),
            usual=cluster.usual[key],
            window_start=now - WINDOW,
            window_end=now,
            conversation_ids=sorted(cluster.conversation_ids),
            reasons=_reasons(cluster),
            profile=profile,
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
    lines += ["", "For example:"] + [
        f"  #{pk} {subject} (matched on {', '.join(warning.reasons_for(pk)) or warning.label})"
        for pk, subject in subjects
    ]
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
    """Tags and words to pre-fill a declared incident's matching. A tag warning gives its tag (a
    person's judgement). A word warning gives none: one word, even its label, matches far beyond the
    incident ("offline" is also the one sensor whose battery died last week). Its conversations are
    linked as the agent ticked them, and later arrivals join when their words match its profile."""
    return ([warning.label], []) if warning.kind == "tag" else ([], [])


def conversation_terms(*, subject: str, text: str, tags: Iterable[str] = ()) -> frozenset[str]:
    """The terms a conversation is compared with a warning's profile by (as the check reads them)."""
    words = significant_words(f"{subject}\n{text[:FIRST_TEXT_CHARS]}")
    return frozenset({f"word:{w}" for w in words} | {f"tag:{t}" for t in tags})


def active_warnings(
    *, now: datetime | None = None, within: timedelta | None = None
) -> Iterable[EarlyWarning]:
    """Warnings agents should see: seen within the last two windows, not dismissed, no incident yet."""
    now = now or timezone.now()
    return EarlyWarning.objects.filter(
        last_seen_at__gte=now - (within or 2 * WINDOW), dismissed_at__isnull=True, incident__isnull=True
    ).order_by("-count", "-id")
