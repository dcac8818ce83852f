"""Admin pages: mailboxes and agents (the same actions as `happydesk mailbox add` and `agent add`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render

from happydesk.accounts.models import User
from happydesk.accounts.services import agent_create
from happydesk.inbox.models import Mailbox
from happydesk.inbox.services import mailbox_create
from happydesk.web.forms import AgentForm, MailboxForm


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        if not request.user.is_admin:
            return HttpResponseForbidden("Admins only")
        return view(request, *args, **kwargs)

    return wrapper


@admin_required
def mailboxes(request: HttpRequest) -> HttpResponse:
    """Mailboxes, with how many visitors of their contact form and widget found an answer themselves."""
    from datetime import timedelta

    from django.utils import timezone

    from happydesk.search.selectors import deflection

    rows = {r["mailbox_id"]: r for r in deflection(since=timezone.now() - timedelta(days=30))}
    boxes = list(Mailbox.objects.order_by("name"))
    for m in boxes:
        m.deflection = rows.get(m.pk)
    return render(request, "web/admin_mailboxes.html", {"mailboxes": boxes})


@admin_required
def mailbox_edit(request: HttpRequest, mailbox_id: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Mailbox, pk=mailbox_id) if mailbox_id else None
    form = MailboxForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        fields = {
            k: v
            for k, v in form.cleaned_data.items()
            if k not in {"address", "name", "imap_folders_text", "form_topics_text"}
        }
        if instance is not None and instance.address != form.cleaned_data["address"]:
            Mailbox.objects.filter(pk=instance.pk).update(address=form.cleaned_data["address"])
        mailbox = mailbox_create(
            address=form.cleaned_data["address"],
            name=form.cleaned_data["name"],
            imap_folders=form.folders(),
            form_topics=form.topics(),
            **fields,
        )
        flash.success(request, f"Mailbox {mailbox.address} saved.")
        return redirect("admin_mailboxes")
    return render(
        request, "web/admin_form.html", {"form": form, "title": "Mailbox", "back": "admin_mailboxes"}
    )


@admin_required
def agents(request: HttpRequest) -> HttpResponse:
    return render(request, "web/admin_agents.html", {"agents": User.objects.order_by("name")})


@admin_required
def agent_add(request: HttpRequest) -> HttpResponse:
    form = AgentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = agent_create(
            email=data["email"], name=data["name"], password=data["password"] or None, admin=data["admin"]
        )
        flash.success(request, f"Agent {user.email} saved.")
        return redirect("admin_agents")
    return render(request, "web/admin_form.html", {"form": form, "title": "Agent", "back": "admin_agents"})
