"""Admin pages: mailboxes and agents (the same actions as `happydesk mailbox add`, `agent ...` and
`token ...`), and each agent's own API tokens."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import admin_required
from happydesk.accounts.models import User
from happydesk.accounts.selectors import agents_list, tokens_for
from happydesk.accounts.services import (
    AgentChangeRefused,
    agent_activate,
    agent_create,
    agent_deactivate,
    agent_set_role,
)
from happydesk.accounts.services import token_revoke as revoke_token
from happydesk.inbox.models import Mailbox
from happydesk.inbox.services import mailbox_create
from happydesk.web.forms import AgentForm, MailboxForm


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
    return render(request, "web/admin_agents.html", {"agents": agents_list()})


@admin_required
def agent_add(request: HttpRequest) -> HttpResponse:
    form = AgentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = agent_create(
                email=data["email"],
                name=data["name"],
                password=data["password"] or None,
                role=data["role"] or None,
            )
        except AgentChangeRefused as exc:
            form.add_error("role", str(exc))
        else:
            flash.success(request, f"Agent {user.email} saved.")
            return redirect("admin_agents")
    return render(request, "web/admin_form.html", {"form": form, "title": "Agent", "back": "admin_agents"})


@admin_required
def agent_detail(request: HttpRequest, agent_id: int) -> HttpResponse:
    """One agent: role, active or not, and their API tokens (revocable here)."""
    agent = get_object_or_404(User, pk=agent_id)
    return render(
        request,
        "web/admin_agent.html",
        {"agent": agent, "roles": User.Role.choices, "tokens": tokens_for(agent), "back": "admin_agents"},
    )


@admin_required
@require_POST
def agent_role(request: HttpRequest, agent_id: int) -> HttpResponse:
    """Change an agent's role; the last active admin cannot be demoted (themselves or by another)."""
    agent = get_object_or_404(User, pk=agent_id)
    try:
        agent = agent_set_role(agent=agent, role=request.POST.get("role", ""))
    except AgentChangeRefused as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, f"{agent.email} is now {agent.get_role_display()}.")
    return redirect("admin_agent", agent_id=agent_id)


@admin_required
@require_POST
def agent_active(request: HttpRequest, agent_id: int) -> HttpResponse:
    """Deactivate (active=0) or reactivate (active=1) an agent."""
    agent = get_object_or_404(User, pk=agent_id)
    try:
        if request.POST.get("active") == "1":
            agent_activate(agent=agent)
            flash.success(request, f"{agent.email} can work again.")
        else:
            agent_deactivate(agent=agent)
            flash.success(request, f"{agent.email} is deactivated: signed out and tokens refused.")
    except AgentChangeRefused as exc:
        flash.error(request, str(exc))
    return redirect("admin_agent", agent_id=agent_id)


@login_required
def my_tokens(request: HttpRequest) -> HttpResponse:
    """The signed-in agent's own API tokens."""
    return render(
        request,
        "web/my_tokens.html",
        {"tokens": tokens_for(request.user)},  # type: ignore[arg-type]
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke a token: an admin any agent's, an agent their own (someone else's is a 404)."""
    tokens = tokens_for(None if request.user.is_admin else request.user)  # type: ignore[arg-type]
    token = get_object_or_404(tokens, pk=token_id)
    revoke_token(token=token)
    flash.success(request, f"Token {token.prefix}… revoked.")
    if request.user.is_admin and request.POST.get("next") == "agent":
        return redirect("admin_agent", agent_id=token.user_id)
    return redirect("my_tokens")
