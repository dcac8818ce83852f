"""Step 5 of the incident plan and what follows it: rounds of replies to every linked customer (the
first answer, updates, the final "fixed"), each a normal threaded reply through `inbox.services.
reply_create`, at most one per customer per round (`NoticeDelivery`'s unique constraint), sent by the
worker in small batches (`notices_send_due`); and the minimum-contact reminder.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation
from happydesk.inbox.placeholders import UnfilledPlaceholders, fill
from happydesk.mail import autoreply
from happydesk.mail.outbound import notice_enqueue, notices_cancel
from happydesk.status import mail, services
from happydesk.status.models import (
    Component,
    Incident,
    IncidentLink,
    IncidentNotice,
    IncidentPlan,
    IncidentSettings,
    IncidentUpdate,
    NoticeDelivery,
    Subscriber,
)
from happydesk.status.plan import (
    Outcome,
    Step,
    _known_issue_fixed,
    _open_plans,
    _plan_of,
    _step,
    _unknown_placeholders,
    plan_url,
    render,
)
from happydesk.status.services import StatusError

if TYPE_CHECKING:
    from typing import TypedDict

    from django_stubs_ext import WithAnnotations

    class LastContact(TypedDict):
        last_contact_at: datetime | None


log = logging.getLogger(__name__)

UPDATE_TEMPLATE = (
    "Hi {{ customer.first_name }},\n\n"
    "An update on {title}:\n\n{body}\n\n"
    "Follow it live: {url}\n\n"
    "{{ agent.first_name }}"
)
FINAL_TEMPLATE = (
    "Hi {{ customer.first_name }},\n\n"
    "Good news: {title} is fixed.\n\n{body}\n\n"
    "The whole timeline is here: {url}\n\n"
    "Thanks for your patience, and sorry for the trouble. If anything still looks wrong, just reply.\n\n"
    "{{ agent.first_name }}"
)


@transaction.atomic
def plan_send_first(*, incident: Incident, author: User, text: str = "") -> IncidentNotice:
    """Step 5: reply to every linked customer with the saved reply (edited first, if the agent did).
    The worker sends it in batches; the request only records the round."""
    plan = _plan_of(incident)
    if incident.is_closed:
        raise StatusError("The incident is resolved: send the final message instead.")
    text = text.strip() or (plan.saved_reply.body if plan.saved_reply else "")
    if not text:
        raise StatusError("Write the reply first.")
    left = _unknown_placeholders(text)
    if left:
        raise StatusError(f"Fill {', '.join(left)} first: a customer must never see a placeholder.")
    if plan.saved_reply and plan.saved_reply.body != text:
        from happydesk.replies.services import saved_reply_save

        reply = plan.saved_reply
        saved_reply_save(name=reply.name, body=text, note=reply.note, saved_reply=reply)
    try:
        with transaction.atomic():
            notice = IncidentNotice.objects.create(
                incident=incident, kind=IncidentNotice.Kind.FIRST, text=text, created_by=author
            )
    except IntegrityError as exc:
        raise StatusError("The first reply was already sent. Post an update to write again.") from exc
    links = IncidentLink.objects.filter(incident=incident)
    kept = links.filter(removed=False)
    customers = kept.values("conversation__customer_id").distinct().count()
    removed = links.filter(removed=True).count()
    _step(
        plan,
        Step.MATCH,
        Outcome.DONE,
        f"Reviewed by {author.first_name}: {kept.count()} conversations from {customers} customers"
        + (f", {removed} removed." if removed else ".")
        + " New matching conversations are still linked as they arrive.",
    )
    _step(plan, Step.SEND, Outcome.RUNNING, f"Sending to {customers} customers, one reply each…")
    return notice


def _latest_update(incident: Incident) -> IncidentUpdate:
    update = incident.updates.order_by("-created_at", "-id").first()
    assert update is not None  # called just after resolving, which posts the final update
    return update


def _replies_instead_of_mail(incident: Incident, update: IncidentUpdate) -> int:
    """A linked customer who also subscribed gets this update once: as the reply in their conversation."""
    emails = set(
        IncidentLink.objects.filter(incident=incident, removed=False).values_list(
            "conversation__customer__emails__address", flat=True
        )
    )
    cancelled = 0
    for subscriber in Subscriber.objects.filter(email__in=emails):
        cancelled += notices_cancel(dedupe_key_prefix=mail.update_key(subscriber, update))
    return cancelled


def _round_start(
    incident: Incident, kind: str, template: str, update: IncidentUpdate, author: User, *, notify: bool
) -> IncidentNotice:
    """A round of replies carrying this update; subscribers who are also linked get only the reply."""
    notice = IncidentNotice.objects.create(
        incident=incident,
        kind=kind,
        update=update,
        text=render(template, incident=incident, body=update.body),
        created_by=author,
        created_at=update.created_at,
    )
    if notify:
        _replies_instead_of_mail(incident, update)
    return notice


@transaction.atomic
def plan_update(
    *,
    incident: Incident,
    state: str,
    body: str,
    author: User,
    components: Mapping[Component, str] | None = None,
    notify: bool = True,
    reply_to_linked: bool = True,
    at: datetime | None = None,
) -> IncidentUpdate:
    """Post an update on the status page and, when asked, reply with it to every linked customer."""
    update = services.incident_update(
        incident=incident, state=state, body=body, components=components, author=author, notify=notify, at=at
    )
    if reply_to_linked and IncidentPlan.objects.filter(incident=incident).exists():
        _round_start(incident, IncidentNotice.Kind.UPDATE, UPDATE_TEMPLATE, update, author, notify=notify)
    return update


@transaction.atomic
def plan_resolve(
    *,
    incident: Incident,
    body: str,
    author: User,
    notify: bool = True,
    reply_to_linked: bool = True,
    at: datetime | None = None,
) -> Incident:
    """Resolve, and send one final "fixed" message to every linked customer (and the subscribers, by
    the status page's own mail). Rounds still sending stop: nobody hears "we're on it" after the fix."""
    incident = services.incident_resolve(incident=incident, body=body, author=author, notify=notify, at=at)
    plan = IncidentPlan.objects.filter(incident=incident).first()
    if plan is None:
        return incident
    now = timezone.now()
    IncidentNotice.objects.filter(incident=incident, state=IncidentNotice.State.SENDING).update(
        state=IncidentNotice.State.DONE, finished_at=now
    )
    update = _latest_update(incident)
    if reply_to_linked:
        _round_start(incident, IncidentNotice.Kind.FINAL, FINAL_TEMPLATE, update, author, notify=notify)
    if plan.known_issue_id:
        _known_issue_fixed(plan, author, update.body)
    _refresh_send_step(plan)
    return incident


def fill_for(text: str, *, conversation: Conversation, agent: User | None) -> str:
    """A round's text for one conversation: its customer's and the sending agent's placeholders."""
    from happydesk.replies.services import placeholder_values

    if agent is not None:
        values = placeholder_values(conversation=conversation, agent=agent)
    else:
        values = {"agent.first_name": conversation.mailbox.name, "agent.name": conversation.mailbox.name}
    values["customer.first_name"] = conversation.customer.first_name or "there"
    return fill(text, values)


def recipients(notice: IncidentNotice) -> dict[int, Conversation]:
    """Customer id -> the conversation their reply goes to: one per customer (their most recently
    active linked conversation; a merged one stands for the conversation it was merged into), leaving
    out customers this round already reached and spam."""
    best: dict[int, Conversation] = {}
    links = (
        IncidentLink.objects.filter(incident_id=notice.incident_id, removed=False)
        .select_related("conversation__merged_into", "conversation__customer", "conversation__mailbox")
        .order_by("id")
    )
    for link in links:
        conversation = link.conversation.merged_into or link.conversation
        if conversation.status == Conversation.Status.SPAM:
            continue
        current = best.get(conversation.customer_id)
        if current is None or conversation.last_activity_at > current.last_activity_at:
            best[conversation.customer_id] = conversation
    reached = set(NoticeDelivery.objects.filter(notice=notice).values_list("customer_id", flat=True))
    return {cid: c for cid, c in sorted(best.items()) if cid not in reached}


def _deliver(notice: IncidentNotice, customer_id: int, conversation: Conversation) -> bool:
    """One customer's reply for this round: the delivery row (unique per customer and round) and the
    threaded reply with its outbox row, in one transaction. False if another worker was first."""
    from happydesk.inbox.services import reply_create

    try:
        with transaction.atomic():
            delivery = NoticeDelivery.objects.create(
                notice=notice, customer_id=customer_id, conversation=conversation
            )
            text = fill_for(notice.text, conversation=conversation, agent=notice.created_by)
            try:
                with transaction.atomic():
                    delivery.message = reply_create(
                        conversation=conversation,
                        author=notice.created_by,  # type: ignore[arg-type]  # set at the round's start; if since deleted, this delivery fails (caught below)
                        text=text,
                    )
            except UnfilledPlaceholders as exc:  # e.g. {{ customer.company }} for a customer without one
                delivery.state = NoticeDelivery.State.FAILED
                delivery.error = f"placeholders left: {', '.join(u.text for u in exc.found)}"[:500]
            except Exception as exc:  # recorded on the row and shown; never retried in a loop
                log.exception("incident notice %s to customer %s failed", notice.pk, customer_id)
                delivery.state = NoticeDelivery.State.FAILED
                delivery.error = f"{type(exc).__name__}: {exc}"[:500]
            delivery.save(update_fields=["message", "state", "error"])
            if delivery.message is not None:  # the customer hears from us once: no auto-reply too
                autoreply.auto_reply_withdraw(
                    conversation=conversation,
                    reason=f"replaced by the incident reply (#{notice.incident_id})",
                )
    except IntegrityError:
        return False
    return True


def first_reply_on_arrival(links: Sequence[IncidentLink]) -> int:
    """Conversations just linked as they arrived get the incident's first reply at once, if it has
    gone out to the others already (and the plan sends it to late links), instead of at the worker's
    next tick: it replaces the auto-reply still held in the outbox. Returns how many were sent."""
    sent = 0
    for link in links:
        notice = (
            _rounds_due()
            .filter(incident_id=link.incident_id, kind=IncidentNotice.Kind.FIRST)
            .select_related("incident", "created_by")
            .first()
        )
        if notice is None:
            continue
        conversation = recipients(notice).get(link.conversation.customer_id)
        if conversation is not None and _deliver(notice, conversation.customer_id, conversation):
            sent += 1
            if conversation.pk != link.conversation_id:  # answered in their other conversation
                autoreply.auto_reply_withdraw(
                    conversation=link.conversation,
                    reason=f"replaced by the incident reply (#{notice.incident_id})",
                )
    return sent


def _rounds_due() -> QuerySet[IncidentNotice]:
    """Rounds still sending, and first replies of open incidents that go to conversations linked later."""
    late_first = Q(
        kind=IncidentNotice.Kind.FIRST,
        incident__plan__auto_reply=True,
        incident__kind=Incident.Kind.INCIDENT,
    ) & ~Q(incident__state=Incident.State.RESOLVED)
    return (
        IncidentNotice.objects.filter(Q(state=IncidentNotice.State.SENDING) | late_first)
        .select_related("incident", "created_by")
        .order_by("created_at", "id")
    )


def notices_send_due(*, limit: int = 20) -> int:
    """Send up to `limit` replies of the rounds in progress, oldest round first; called by the worker
    every few seconds (so a large incident goes out at the configured pace, never in a request)."""
    sent = 0
    touched: set[int] = set()
    for notice in _rounds_due():
        if sent >= limit:
            break
        pending = recipients(notice)
        for customer_id, conversation in list(pending.items())[: limit - sent]:
            if _deliver(notice, customer_id, conversation):
                sent += 1
                touched.add(notice.incident_id)
        if notice.state == IncidentNotice.State.SENDING and not recipients(notice):
            IncidentNotice.objects.filter(pk=notice.pk).update(
                state=IncidentNotice.State.DONE, finished_at=timezone.now()
            )
            touched.add(notice.incident_id)
    for plan in IncidentPlan.objects.filter(incident_id__in=touched):
        _refresh_send_step(plan)
    return sent


def _refresh_send_step(plan: IncidentPlan) -> None:
    """Step 5's outcome from the first round's deliveries."""
    first = IncidentNotice.objects.filter(
        incident_id=plan.incident_id, kind=IncidentNotice.Kind.FIRST
    ).first()
    if first is None:
        return
    deliveries = NoticeDelivery.objects.filter(notice=first)
    ok = deliveries.filter(state=NoticeDelivery.State.SENT).count()
    failed = deliveries.filter(state=NoticeDelivery.State.FAILED).count()
    waiting = len(recipients(first)) if first.state == IncidentNotice.State.SENDING else 0
    noun = "customer" if ok == 1 else "customers"
    if first.state == IncidentNotice.State.SENDING:
        outcome, detail = Outcome.RUNNING, f"Sending: {ok} of {ok + failed + waiting} customers so far…"
    else:
        outcome = Outcome.DONE if ok or not failed else Outcome.FAILED
        detail = f"Replied to {ok} {noun}, one reply each, threaded into their own conversation."
        if plan.auto_reply and not plan.incident.is_closed:
            detail += " Conversations linked from now on get it too."
    if failed:
        detail += f" {failed} could not be sent (see the list)."
    _step(plan, Step.SEND, outcome, detail)


# --- keeping in touch ---------------------------------------------------------------------------------


def last_contact(incident: Incident) -> datetime | None:
    """When customers last heard from us: the latest public update or round of replies."""
    times = [
        incident.updates.aggregate(t=Max("created_at"))["t"],
        incident.notices.aggregate(t=Max("created_at"))["t"],
    ]
    return max((t for t in times if t), default=None)


def open_plans_with_last_contact() -> QuerySet[WithAnnotations[IncidentPlan, LastContact]]:
    """Plans of open incidents, each annotated with `last_contact_at` (what `last_contact` returns),
    in one query for all of them: the inbox panel shows this on every page."""

    def latest(model: type[IncidentUpdate | IncidentNotice]) -> Subquery:
        rows = model.objects.filter(incident=OuterRef("incident")).order_by("-created_at")
        return Subquery(rows.values("created_at")[:1])

    update_at, notice_at = latest(IncidentUpdate), latest(IncidentNotice)
    # Greatest is NULL on SQLite when either side is; the Coalesces make "the later of what exists".
    return (
        _open_plans()
        .select_related("incident")
        .annotate(last_contact_at=Greatest(Coalesce(update_at, notice_at), Coalesce(notice_at, update_at)))
    )


def contact_overdue(
    plan: IncidentPlan, *, last: datetime | None, now: datetime | None = None
) -> timedelta | None:
    """How long customers have waited for news (since `last`, see `last_contact`) beyond the plan's
    minimum contact time, or None."""
    if plan.incident.is_closed or not plan.contact_every_minutes or last is None:
        return None
    silent = (now or timezone.now()) - last
    return silent if silent >= timedelta(minutes=plan.contact_every_minutes) else None


@transaction.atomic
def contact_reminders_due(*, now: datetime | None = None) -> int:
    """Email the early-warning list once per silent stretch that ran past the minimum contact time."""
    now = now or timezone.now()
    to = [a for a in IncidentSettings.current().early_warning if a]
    reminded = 0
    for plan in open_plans_with_last_contact():
        last = plan.last_contact_at
        silent = contact_overdue(plan, last=last, now=now)
        if silent is None or last is None:  # never overdue without a last contact
            continue
        reminded += 1
        if not to:
            continue
        incident = plan.incident
        minutes = int(silent.total_seconds() // 60)
        notice_enqueue(
            to=to,
            subject=f"[Reminder] No update on “{incident.title}” for {minutes} minutes"[:300],
            text=(
                f"Customers last heard about “{incident.title}” at {mail.when(last)}.\n"
                f"The plan asks for news at least every {plan.contact_every_minutes} minutes, even if "
                'it is only "still working on it".\n\n'
                f"Post an update to every linked customer here:\n{plan_url(incident)}\n"
            ),
            kind="status-plan",
            dedupe_key=f"status-plan:{incident.pk}:remind:{last:%Y%m%d%H%M%S}",
        )
    return reminded
