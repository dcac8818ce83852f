"""The incident plan: declaring an incident runs six steps in order, each recorded with its outcome.

1. email the early-warning list to confirm; 2. post a known issue in the community forum; 3. write one
saved reply with the incident link; 4. find and link the open conversations that match (the agent
reviews, adds and removes; new matching ones are linked as they arrive); 5. reply to every linked
customer in bulk, each as a normal threaded reply, at most once per customer per round, sent by the
worker in small batches (rounds.py); 6. the banner and /status/notice.json show it (they read open
incidents). Updates and the final "fixed" message are further rounds to the same customers (rounds.py).
Every change is a service: one transaction, the step's outcome written with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation, SecurityFlag
from happydesk.inbox.placeholders import find_unfilled
from happydesk.mail.outbound import notice_enqueue
from happydesk.search.engines import WORD, terms
from happydesk.status import early_warning, mail, services
from happydesk.status.models import (
    Component,
    EarlyWarning,
    Incident,
    IncidentLink,
    IncidentPlan,
    IncidentSettings,
    PlanStep,
)
from happydesk.status.services import StatusError

log = logging.getLogger(__name__)

Step = PlanStep.Step
Outcome = PlanStep.Outcome
OPEN = (Conversation.Status.ACTIVE, Conversation.Status.PENDING)
DEFAULT_LOOKBACK = timedelta(hours=24)
SEARCH_LIMIT = 5000  # ids the search engine returns per keyword before the time window filters them
MAX_LINKS = 2000


def plan_url(incident: Incident) -> str:
    return settings.BASE_URL + reverse("status_admin_incident", args=[incident.pk])


def render(template: str, *, incident: Incident, body: str) -> str:
    """The incident's parts into a reply template; customer and agent placeholders stay for each send."""
    return (
        template.replace("{title}", incident.title)
        .replace("{body}", body.strip())
        .replace("{url}", mail.incident_url(incident))
    )


def _step(plan: IncidentPlan, step: int, outcome: str, detail: str, at: datetime | None = None) -> None:
    PlanStep.objects.update_or_create(
        plan=plan,
        step=step,
        defaults={"outcome": outcome, "detail": detail, "updated_at": at or timezone.now()},
    )


def _clean(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v.strip().lower() for v in values if v and v.strip()))


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


# --- declaring ----------------------------------------------------------------------------------------


@transaction.atomic
def incident_declare_with_plan(
    *,
    title: str,
    body: str,
    author: User | None,
    impact: str = Incident.Impact.MINOR,
    components: Mapping[Component, str] | None = None,
    state: str = Incident.State.INVESTIGATING,
    notify: bool = True,
    tags: Sequence[str] = (),
    keywords: Sequence[str] = (),
    since: datetime | None = None,
    warning: EarlyWarning | None = None,
    warning_conversation_ids: Sequence[int] | None = None,
    at: datetime | None = None,
) -> Incident:
    """Declare an incident (status page, subscribers) and run its plan, in one action.
    `warning_conversation_ids`: the warning's conversations the agent kept ticked (None: all)."""
    at = at or timezone.now()
    incident = services.incident_declare(
        title=title,
        body=body,
        impact=impact,
        components=components,
        state=state,
        author=author,
        notify=notify,
        at=at,
    )
    plan_start(
        incident=incident,
        author=author,
        tags=tags,
        keywords=keywords,
        since=since or at - DEFAULT_LOOKBACK,
        warning=warning,
        warning_conversation_ids=warning_conversation_ids,
        at=at,
    )
    return incident


@transaction.atomic
def plan_start(
    *,
    incident: Incident,
    author: User | None,
    tags: Sequence[str] = (),
    keywords: Sequence[str] = (),
    since: datetime,
    warning: EarlyWarning | None = None,
    warning_conversation_ids: Sequence[int] | None = None,
    at: datetime | None = None,
) -> IncidentPlan:
    """Run steps 1 to 4 and 6 now; step 5 waits for the agent's review of the linked conversations.
    Of the warning's conversations only those in `warning_conversation_ids` are linked (None: all)."""
    at = at or timezone.now()
    config = IncidentSettings.current()
    plan = IncidentPlan.objects.create(
        incident=incident,
        tags=_clean(tags),
        keywords=_clean(keywords),
        since=since,
        warning=warning,
        contact_every_minutes=config.contact_every_minutes,
        created_by=author,
        created_at=at,
    )
    PlanStep.objects.bulk_create([PlanStep(plan=plan, step=s, updated_at=at) for s in Step.values])
    if warning is not None:
        EarlyWarning.objects.filter(pk=warning.pk).update(incident=incident)
    first = incident.updates.order_by("created_at", "id").first()
    body = first.body if first else ""
    _warn_list(plan, config, author, body, at)
    _post_known_issue(plan, author, body, at)
    _write_saved_reply(plan, config, author, body, at)
    _link_matches(plan, at, warning_conversation_ids)
    _step(
        plan,
        Step.SEND,
        Outcome.PENDING,
        "Starts when you have reviewed the conversations and press Send.",
        at,
    )
    _step(
        plan,
        Step.NOTICE,
        Outcome.DONE,
        "The banner shows on the help centre, portal and widget, and /status/notice.json lists the "
        "incident for your own app, until it is resolved.",
        at,
    )
    return plan


def _warn_list(
    plan: IncidentPlan, config: IncidentSettings, author: User | None, body: str, at: datetime
) -> None:
    """Step 1: the early-warning list hears first and is asked to confirm."""
    to = [a for a in config.early_warning if a]
    if not to:
        _step(
            plan,
            Step.WARN,
            Outcome.SKIPPED,
            "No early-warning list yet: add people in Incident settings.",
            at,
        )
        return
    incident = plan.incident
    who = author.name if author else "Someone"
    text = (
        f"{who} declared an incident at {mail.when(at)}:\n\n  {incident.title}\n"
        f"  Impact: {incident.get_impact_display()}\n\nFirst public update:\n{body}\n\n"
        f"Please confirm what you see (or say it isn't real) on the incident page:\n{plan_url(incident)}\n\n"
        "The plan is running: a known issue in the forum, one answer for every affected customer, and the "
        "banner on the help centre.\n"
    )
    notice_enqueue(
        to=to,
        subject=f"[Incident declared] {incident.title}: please confirm"[:300],
        text=text,
        kind="status-plan",
        dedupe_key=f"status-plan:{incident.pk}:warn",
    )
    _step(plan, Step.WARN, Outcome.DONE, f"Emailed {_people(len(to))} to confirm: {', '.join(to)}.", at)


def _post_known_issue(plan: IncidentPlan, author: User | None, body: str, at: datetime) -> None:
    """Step 2: a known issue in the community forum, linked to the status page. A refusal or a missing
    forum is recorded as the step's outcome and never undoes the incident (savepoint)."""
    if not apps.is_installed("happydesk.community"):
        _step(plan, Step.FORUM, Outcome.SKIPPED, "The community forum is not installed here.", at)
        return
    if author is None:
        _step(plan, Step.FORUM, Outcome.SKIPPED, "A known issue needs an agent as its author.", at)
        return
    incident = plan.incident
    text = f"{body}\n\nWe're working on it. Every update is on our status page: {mail.incident_url(incident)}"
    try:
        with transaction.atomic():
            from happydesk.community.services import known_issue_post

            topic = known_issue_post(title=incident.title, body=text, author=author)
            url = settings.BASE_URL + topic.get_absolute_url()
    except Exception as exc:  # the forum refused or failed: the outcome says why, the plan goes on
        log.warning("incident %s: known issue not posted: %s", incident.pk, exc)
        _step(plan, Step.FORUM, Outcome.FAILED, f"Not posted: {exc}"[:500], at)
        return
    plan.known_issue_id, plan.known_issue_url = topic.pk, url[:500]
    plan.save(update_fields=["known_issue_id", "known_issue_url"])
    _step(
        plan, Step.FORUM, Outcome.DONE, "Posted as a known issue: customers can follow it in the forum.", at
    )


@transaction.atomic
def plan_retry_forum(*, incident: Incident, author: User) -> IncidentPlan:
    """Try step 2 again (the forum was down, or refused the first time)."""
    plan = incident.plan
    if plan.known_issue_id:
        raise StatusError("The known issue is already posted.")
    first = incident.updates.order_by("created_at", "id").first()
    _post_known_issue(plan, author, first.body if first else "", timezone.now())
    return plan


def _write_saved_reply(
    plan: IncidentPlan, config: IncidentSettings, author: User | None, body: str, at: datetime
) -> None:
    """Step 3: one answer for everyone, from the template, with the status page link."""
    from happydesk.replies.services import saved_reply_save

    incident = plan.incident
    text = render(config.reply_template, incident=incident, body=body)
    reply = saved_reply_save(
        name=f"Incident: {incident.title}"[:200],
        body=text,
        note=f"Made by the incident plan. Sent in bulk from the incident page ({plan_url(incident)}).",
        author=author,
    )
    plan.saved_reply = reply
    plan.save(update_fields=["saved_reply"])
    detail = f"Saved reply “{reply.name}” is ready, with the status page link. Edit it before sending."
    left = _unknown_placeholders(text)
    if left:
        detail += f" Fill {', '.join(left)} first: replies with it would be refused."
    _step(plan, Step.SAVED_REPLY, Outcome.DONE, detail, at)


# The placeholders a round fills for each conversation (replies.services.placeholder_values).
KNOWN_PLACEHOLDERS = frozenset(
    {
        "customer.first_name",
        "customer.name",
        "customer.email",
        "customer.company",
        "agent.first_name",
        "agent.name",
        "conversation.number",
        "conversation.subject",
        "mailbox.name",
    }
)


def _unknown_placeholders(text: str) -> list[str]:
    """Placeholder-like tokens no conversation can fill ("[EU]", "{{ eta }}"): refused before sending,
    not discovered once per customer."""
    from happydesk.inbox.placeholders import MUSTACHE

    known = MUSTACHE.sub(lambda m: "x" if m.group(1).strip() in KNOWN_PLACEHOLDERS else m.group(0), text)
    return [u.text for u in find_unfilled(known)]


def _plan_of(incident: Incident) -> IncidentPlan:
    plan = IncidentPlan.objects.filter(incident=incident).first()
    if plan is None:
        raise StatusError("This incident was declared without a plan.")
    return plan


def _known_issue_fixed(plan: IncidentPlan, author: User, note: str) -> None:
    """Mark the forum's known issue fixed (the forum tells its followers); best effort, recorded."""
    step = plan.steps.get(step=Step.FORUM)
    try:
        with transaction.atomic():
            from happydesk.community.models import Topic
            from happydesk.community.services import topic_set_status

            topic = Topic.objects.get(pk=plan.known_issue_id)
            topic_set_status(topic=topic, status="fixed", agent=author, note=note)
    except Exception as exc:  # recorded for the agent; the incident is resolved either way
        log.warning("incident %s: known issue not marked fixed: %s", plan.incident_id, exc)
        _step(plan, Step.FORUM, step.outcome, f"{step.detail} Could not mark it fixed: {exc}"[:500])
    else:
        _step(plan, Step.FORUM, Outcome.DONE, "Posted as a known issue, and marked fixed when resolved.")


@transaction.atomic
def plan_confirm(*, incident: Incident, actor: User) -> IncidentPlan:
    """Someone on the early-warning list (or any agent) confirms the incident is real."""
    plan = _plan_of(incident)
    if plan.confirmed_at is None:
        plan.confirmed_at, plan.confirmed_by = timezone.now(), actor
        plan.save(update_fields=["confirmed_at", "confirmed_by"])
        step = plan.steps.get(step=Step.WARN)
        detail = f"{step.detail} Confirmed by {actor.name} at {mail.when(plan.confirmed_at, zone=False)}."
        _step(plan, Step.WARN, Outcome.DONE, detail.strip())
    return plan


# --- matching and linking -----------------------------------------------------------------------------


def _candidates(since: datetime) -> QuerySet[Conversation]:
    """Open conversations with customer messages since then; never security reports."""
    return Conversation.objects.filter(
        status__in=OPEN, merged_into__isnull=True, last_customer_message_at__gte=since
    ).exclude(security_flag__active=True)


def matches(*, tags: Sequence[str], keywords: Sequence[str], since: datetime) -> dict[int, str]:
    """Conversation id -> why it matches: any of the tags, or any keyword found by the search engine
    (the same search as the inbox's box), among open conversations with customer activity since then."""
    base = _candidates(since)
    found: dict[int, str] = {}
    if tags:
        for cid, tag in base.filter(tags__name__in=tags).values_list("id", "tags__name").order_by("id"):
            found.setdefault(cid, f"tagged {tag}")
    if keywords:
        from happydesk.inbox.selectors import search_hits

        for keyword in keywords:
            hits = search_hits(keyword, limit=SEARCH_LIMIT)
            for cid in base.filter(pk__in=hits).values_list("id", flat=True):
                found.setdefault(cid, f"mentions “{keyword}”")
    return dict(sorted(found.items())[:MAX_LINKS])


def criteria_text(plan: IncidentPlan) -> str:
    parts = [f"tagged {', '.join(plan.tags)}"] if plan.tags else []
    if plan.keywords:
        parts.append("mentioning " + " or ".join(f"“{k}”" for k in plan.keywords))
    what = " or ".join(parts) if parts else "no tags or words given"
    return f"{what}; customer messages since {mail.when(plan.since)}"


def warning_reason(terms: Sequence[str]) -> str:
    """Why a conversation was linked from an early warning, in words: its distinctive terms."""
    return "early warning: " + ", ".join(terms) if terms else "in the early warning"


def _link_matches(plan: IncidentPlan, at: datetime, chosen: Sequence[int] | None = None) -> None:
    """Step 4: link what matches now and the early warning's conversations the agent kept (each with
    the words it matched on); the agent reviews."""
    found = matches(tags=plan.tags, keywords=plan.keywords, since=plan.since)
    if plan.warning_id:
        warning = plan.warning
        ids = [cid for cid in warning.conversation_ids if chosen is None or cid in set(chosen)]
        for cid in _candidates(plan.since - DEFAULT_LOOKBACK).filter(pk__in=ids).values_list("id", flat=True):
            found[cid] = warning_reason(warning.reasons_for(cid))
    IncidentLink.objects.bulk_create(
        [
            IncidentLink(
                incident=plan.incident,
                conversation_id=cid,
                how=IncidentLink.How.MATCHED,
                reason=reason[:200],
                added_by=plan.created_by,
                created_at=at,
            )
            for cid, reason in found.items()
        ],
        ignore_conflicts=True,
    )
    customers = (
        Conversation.objects.filter(pk__in=found).values("customer_id").distinct().count() if found else 0
    )
    if found:
        detail = (
            f"Found {len(found)} open conversation{'s' if len(found) != 1 else ''} from "
            f"{customers} customer{'s' if customers != 1 else ''} ({criteria_text(plan)}). "
            "Review them, then send. New matching conversations are linked as they arrive."
        )
    else:
        detail = (
            f"No open conversation matches yet ({criteria_text(plan)}). New matching conversations are "
            "linked as they arrive, and you can add any by number."
        )
    _step(plan, Step.MATCH, Outcome.WAITING, detail, at)


@transaction.atomic
def link_add(*, incident: Incident, conversation: Conversation, actor: User) -> IncidentLink:
    """An agent adds a conversation (or adds back one they removed)."""
    if incident.is_closed:
        raise StatusError("The incident is resolved; its conversations no longer change.")
    link, created = IncidentLink.objects.get_or_create(
        incident=incident,
        conversation=conversation,
        defaults={
            "how": IncidentLink.How.MANUAL,
            "added_by": actor,
            "reason": f"added by {actor.first_name}",
        },
    )
    if not created and link.removed:
        link.removed, link.removed_by, link.removed_at = False, None, None
        link.reason = f"added back by {actor.first_name}"
        link.save(update_fields=["removed", "removed_by", "removed_at", "reason"])
    return link


@transaction.atomic
def link_remove(*, incident: Incident, conversation: Conversation, actor: User) -> IncidentLink | None:
    """Take a conversation out: it gets no further replies and is never linked again automatically."""
    link = IncidentLink.objects.filter(incident=incident, conversation=conversation).first()
    if link is None or link.removed:
        return link
    link.removed, link.removed_by, link.removed_at = True, actor, timezone.now()
    link.save(update_fields=["removed", "removed_by", "removed_at"])
    return link


def _open_plans() -> QuerySet[IncidentPlan]:
    """Plans of incidents not yet resolved."""
    return IncidentPlan.objects.filter(incident__kind=Incident.Kind.INCIDENT).exclude(
        incident__state=Incident.State.RESOLVED
    )


def text_matches(keyword: str, words: set[str]) -> bool:
    """Does a text with these words match a keyword the way the search box does (all its words, the
    last one as a prefix)? Pure."""
    wanted = terms(keyword)
    if not wanted:
        return False
    *whole, last = wanted
    return all(w in words for w in whole) and any(w.startswith(last) for w in words)


@transaction.atomic(savepoint=False)
def link_arrival(*, conversation: Conversation, text: str) -> list[IncidentLink]:
    """A customer message arrived: link its conversation to every open incident it matches (called
    after the message's transaction, by status.arrivals; one query when no incident is open)."""
    plans = list(_open_plans().filter(auto_link=True).select_related("incident", "warning"))
    if not plans or conversation.status not in OPEN or conversation.merged_into_id:
        return []
    if SecurityFlag.objects.filter(conversation=conversation, active=True).exists():
        return []
    known = set(conversation.incident_links.values_list("incident_id", flat=True))
    plans = [p for p in plans if p.incident_id not in known]
    # Every word of the message (`terms` would keep only the first 12, the cap for a search box query).
    words = (
        {w.lower() for w in WORD.findall(f"{conversation.subject}\n{text}")}
        if any(p.keywords for p in plans)
        else set()
    )
    profiled = any(p.warning_id and p.warning.profile for p in plans)
    tag_names = (
        set(conversation.tags.values_list("name", flat=True))
        if profiled or any(p.tags for p in plans)
        else set()
    )
    terms = (
        early_warning.conversation_terms(subject=conversation.subject, text=text, tags=tag_names)
        if profiled
        else frozenset()
    )
    linked = []
    for plan in plans:
        like = (
            early_warning.matches_profile(
                plan.warning.profile, terms, label=f"{plan.warning.kind}:{plan.warning.label}"
            )
            if plan.warning_id and plan.warning.profile
            else []
        )
        reason = (
            next((f"tagged {t}" for t in plan.tags if t in tag_names), None)
            or next((f"mentions “{k}”" for k in plan.keywords if text_matches(k, words)), None)
            or (warning_reason([k.split(":", 1)[1] for k in like]) if like else None)
        )
        if reason:
            link, created = IncidentLink.objects.get_or_create(
                incident=plan.incident,
                conversation=conversation,
                defaults={"how": IncidentLink.How.AUTO, "reason": reason[:200]},
            )
            if created:
                linked.append(link)
    return linked


def plans_sweep(*, now: datetime | None = None) -> int:
    """Link open conversations that match an open incident but arrived unmatched (tagged later, say).
    Run by the worker every minute or two; never re-links what an agent removed."""
    linked = 0
    for plan in _open_plans().filter(auto_link=True).select_related("incident"):
        found = matches(tags=plan.tags, keywords=plan.keywords, since=plan.since)
        known = set(
            IncidentLink.objects.filter(incident=plan.incident).values_list("conversation_id", flat=True)
        )
        new = [(cid, reason) for cid, reason in found.items() if cid not in known]
        if new:
            with transaction.atomic():
                IncidentLink.objects.bulk_create(
                    [
                        IncidentLink(
                            incident=plan.incident,
                            conversation_id=cid,
                            how=IncidentLink.How.AUTO,
                            reason=reason[:200],
                            created_at=now or timezone.now(),
                        )
                        for cid, reason in new
                    ],
                    ignore_conflicts=True,
                )
            linked += len(new)
    return linked


@transaction.atomic
def incident_settings_save(
    *,
    early_warning: Sequence[str],
    on_call: Sequence[str],
    contact_every_minutes: int,
    replies_per_minute: int,
    reply_template: str,
) -> IncidentSettings:
    """Change who is told and the plan's pace; open incidents take the new minimum contact time."""
    row = IncidentSettings.current()
    row.early_warning, row.on_call = list(early_warning), list(on_call)
    row.contact_every_minutes, row.replies_per_minute = contact_every_minutes, replies_per_minute
    row.reply_template, row.updated_at = reply_template, timezone.now()
    row.save()
    _open_plans().update(contact_every_minutes=contact_every_minutes)
    return row
