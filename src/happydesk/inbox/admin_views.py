"""Mailbox admin: the same settings as `happydesk mailbox add`, with how many visitors of each mailbox's
contact form and widget found an answer themselves."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from happydesk.accounts.decorators import AgentRequest, admin_required
from happydesk.inbox.forms import MailboxForm
from happydesk.inbox.models import Mailbox
from happydesk.inbox.services import mailbox_create, mailbox_update
from happydesk.ratelimit import client_ip
from happydesk.search.selectors import deflection


@admin_required
def mailboxes(request: AgentRequest) -> HttpResponse:
    """Mailboxes, with how many visitors of their contact form and widget found an answer themselves."""
    rows = {r["mailbox_id"]: r for r in deflection(since=timezone.now() - timedelta(days=30))}
    boxes = [(m, rows.get(m.pk)) for m in Mailbox.objects.order_by("name")]
    return render(request, "inbox/mailboxes.html", {"mailboxes": boxes})


@admin_required
def mailbox_edit(request: AgentRequest, mailbox_id: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Mailbox, pk=mailbox_id) if mailbox_id else None
    form = MailboxForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        fields = {
            k: v
            for k, v in form.cleaned_data.items()
            if k not in {"address", "name", "imap_folders_text", "form_topics_text", "imap_password_forget"}
        }
        values = {
            "address": form.cleaned_data["address"],
            "name": form.cleaned_data["name"],
            "imap_folders": form.folders(),
            "form_topics": form.topics(),
            "by": request.user,
            "ip": client_ip(request),
            **fields,
        }
        if instance is not None:
            mailbox = mailbox_update(mailbox=instance, **values)
        else:
            mailbox = mailbox_create(**values)
        flash.success(request, f"Mailbox {mailbox.address} saved.")
        return redirect("admin_mailboxes")
    return render(
        request, "web/admin_form.html", {"form": form, "title": "Mailbox", "back": "admin_mailboxes"}
    )
