"""The quarantine: inbound mail we stored but could not take in, with the reason, for an admin to read and
process again once the cause is fixed."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, admin_required
from happydesk.inbox.access import access_conversation_for_agent
from happydesk.inbox.forms import ForwardForm
from happydesk.inbox.models import Message
from happydesk.mail import inbound, outbound
from happydesk.mail.models import RawMessage


@admin_required
def quarantine(request: AgentRequest) -> HttpResponse:
    """Quarantined mail with its reasons, and above it the mail that only waits (deferred by a passing
    fault: a full disk, the database away), which goes through on its own."""
    rows = RawMessage.objects.filter(state=RawMessage.State.QUARANTINED).order_by("-id")[:200]
    deferred = (
        RawMessage.objects.filter(state=RawMessage.State.PENDING, deferrals__gt=0)
        .only("pk", "received_at", "source", "deferrals", "last_error", "retry_at")
        .order_by("id")[:50]
    )
    return render(request, "mail/quarantine.html", {"rows": rows, "deferred": deferred})


@admin_required
@require_POST
def quarantine_reprocess(request: AgentRequest, raw_id: int) -> HttpResponse:
    raw = RawMessage.objects.filter(pk=raw_id, state=RawMessage.State.QUARANTINED).first()
    if raw is not None:
        inbound.raw_reprocess(raw=raw)
        inbound.process_raw(raw.pk)
        raw.refresh_from_db()
        flash.info(request, f"Message {raw.pk}: {raw.get_state_display()}. {raw.reason}")
    return redirect("quarantine")


@login_required
@require_POST
def reply_undo(request: AgentRequest, number: int, message_id: int) -> HttpResponse:
    """Undo send: the reply comes back into the composer as a draft, if it has not left yet."""
    convo = access_conversation_for_agent(request.user, number)
    message = convo.messages.filter(pk=message_id, kind=Message.Kind.REPLY, author=request.user).first()
    if message is None:
        flash.error(request, "That reply is no longer here to undo.")
        return redirect("conversation", number=convo.number)
    try:
        outbound.reply_undo(message=message, actor=request.user)
    except outbound.AlreadySent:
        flash.error(request, "Too late to undo: the reply has already left.")
    else:
        flash.success(request, "Undone: the reply was not sent. It is back in the composer.")
    return redirect("conversation", number=convo.number)


@login_required
@require_POST
def forward(request: AgentRequest, number: int) -> HttpResponse:
    """Forward the conversation, or one message of it, to someone outside, with a note."""
    convo = access_conversation_for_agent(request.user, number)
    form = ForwardForm(request.POST)
    if not form.is_valid():
        flash.error(
            request, "Not forwarded: " + " ".join(str(e) for errs in form.errors.values() for e in errs)
        )
        return redirect("conversation", number=convo.number)
    message = None
    if form.cleaned_data["message"]:
        message = convo.messages.filter(
            pk=form.cleaned_data["message"], kind__in=Message.PUBLIC_KINDS
        ).first()
        if message is None:
            raise Http404
    outbound.forward_enqueue(
        conversation=convo,
        actor=request.user,
        to=form.cleaned_data["to"],
        note=form.cleaned_data["note"],
        message=message,
    )
    flash.success(request, "Forwarded to " + ", ".join(form.cleaned_data["to"]) + ".")
    return redirect("conversation", number=convo.number)
