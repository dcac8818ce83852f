"""The quarantine: inbound mail we stored but could not take in, with the reason, for an admin to read and
process again once the cause is fixed."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, admin_required
from happydesk.mail import inbound
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
