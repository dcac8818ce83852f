"""Agent sign-in, the agents admin (the same actions as `happydesk agent ...` and `token ...`), and each
agent's own API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, admin_required
from happydesk.accounts.forms import AgentForm, LoginForm
from happydesk.accounts.models import User
from happydesk.accounts.selectors import (
    agents_list,
    locked_out_emails,
    signin_lockout,
    tokens_for,
    two_factor_users,
)
from happydesk.accounts.services import (
    AgentChangeRefused,
    PasswordRefused,
    agent_activate,
    agent_create,
    agent_deactivate,
    agent_set_role,
    agent_time_zone_set,
    time_zone_choices,
    two_factor_enabled,
    two_factor_require,
    two_factor_required,
    two_factor_reset,
)
from happydesk.accounts.services import agent_unlock as unlock
from happydesk.accounts.services import token_revoke as revoke_token
from happydesk.accounts.two_factor_views import second_step
from happydesk.ratelimit import client_ip


class LoginView(auth_views.LoginView):
    """The password step. An agent with two-factor on (or who must set it up) is not signed in here: the
    code step (two_factor_views) does that."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        user = form.get_user()
        step = second_step(self.request, user, self.get_success_url())
        return step if step is not None else super().form_valid(form)


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page saying why nothing is accepted now (429). The same words
    whether or not the account exists, and whether the account or the address is locked."""
    form = LoginForm(request, initial={"username": request.POST.get("username", "")[:254]})
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/login.html", {"form": form, "locked_minutes": minutes}, status=429)


@admin_required
def agents(request: AgentRequest) -> HttpResponse:
    return render(
        request,
        "accounts/agents.html",
        {
            "agents": agents_list(),
            "locked": locked_out_emails(),
            "two_factor_users": two_factor_users(),
            "two_factor_required": two_factor_required(),
        },
    )


@admin_required
@require_POST
def two_factor_policy(request: AgentRequest) -> HttpResponse:
    """Require two-factor sign-in for every agent (signing out those without it), or stop requiring it."""
    required = request.POST.get("required") == "1"
    try:
        two_factor_require(required=required, by=request.user, ip=client_ip(request))
    except AgentChangeRefused as exc:
        flash.error(request, str(exc))
    else:
        flash.success(
            request,
            "Every agent now signs in with a second factor; those without one set it up at their next "
            "sign-in."
            if required
            else "Two-factor sign-in is now up to each agent.",
        )
    return redirect("admin_agents")


@admin_required
@require_POST
def agent_two_factor_reset(request: AgentRequest, agent_id: int) -> HttpResponse:
    """Remove an agent's authenticator and recovery codes (a lost phone)."""
    agent = get_object_or_404(User, pk=agent_id)
    two_factor_reset(agent=agent, by=request.user, ip=client_ip(request))
    flash.success(request, f"Two-factor sign-in of {agent.email} was reset.")
    return redirect("admin_agent", agent_id=agent_id)


@admin_required
def agent_add(request: AgentRequest) -> HttpResponse:
    form = AgentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = agent_create(
                email=data["email"],
                name=data["name"],
                password=data["password"] or None,
                role=data["role"] or None,
                by=request.user,
                ip=client_ip(request),
            )
        except PasswordRefused as exc:
            form.add_error("password", exc.messages)
        except AgentChangeRefused as exc:
            form.add_error("role", str(exc))
        else:
            flash.success(request, f"Agent {user.email} saved.")
            return redirect("admin_agents")
    return render(request, "web/admin_form.html", {"form": form, "title": "Agent", "back": "admin_agents"})


@admin_required
def agent_detail(request: AgentRequest, agent_id: int) -> HttpResponse:
    """One agent: role, active or not, and their API tokens (revocable here)."""
    agent = get_object_or_404(User, pk=agent_id)
    return render(
        request,
        "accounts/agent.html",
        {
            "agent": agent,
            "roles": User.Role.choices,
            "tokens": tokens_for(agent),
            "lockout": signin_lockout(agent),
            "two_factor": two_factor_enabled(agent),
            "back": "admin_agents",
        },
    )


@admin_required
@require_POST
def agent_unlock(request: AgentRequest, agent_id: int) -> HttpResponse:
    """Lift an agent's sign-in lockout now, so the right password works again at once."""
    agent = get_object_or_404(User, pk=agent_id)
    unlock(agent=agent, by=request.user, ip=client_ip(request))
    flash.success(request, f"{agent.email} can sign in again.")
    return redirect("admin_agent", agent_id=agent_id)


@admin_required
@require_POST
def agent_role(request: AgentRequest, agent_id: int) -> HttpResponse:
    """Change an agent's role; the last active admin cannot be demoted (themselves or by another)."""
    agent = get_object_or_404(User, pk=agent_id)
    try:
        agent = agent_set_role(
            agent=agent, role=request.POST.get("role", ""), by=request.user, ip=client_ip(request)
        )
    except AgentChangeRefused as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, f"{agent.email} is now {agent.get_role_display()}.")
    return redirect("admin_agent", agent_id=agent_id)


@admin_required
@require_POST
def agent_active(request: AgentRequest, agent_id: int) -> HttpResponse:
    """Deactivate (active=0) or reactivate (active=1) an agent."""
    agent = get_object_or_404(User, pk=agent_id)
    try:
        if request.POST.get("active") == "1":
            agent_activate(agent=agent, by=request.user, ip=client_ip(request))
            flash.success(request, f"{agent.email} can work again.")
        else:
            agent_deactivate(agent=agent, by=request.user, ip=client_ip(request))
            flash.success(request, f"{agent.email} is deactivated: signed out and tokens refused.")
    except AgentChangeRefused as exc:
        flash.error(request, str(exc))
    return redirect("admin_agent", agent_id=agent_id)


@login_required
def time_zone(request: AgentRequest) -> HttpResponse:
    """The agent's time zone: chosen here, or told by their browser the first time (`auto`, which
    never replaces a zone the agent chose). Every time on agent pages is shown in it."""
    if request.method == "POST":
        zone = request.POST.get("zone", "").strip()
        if request.POST.get("auto"):
            if (
                agent_time_zone_set(agent=request.user, zone=zone, told_by_browser=True)
                or request.user.timezone
            ):
                return HttpResponse(status=204)  # set, or the agent's own choice stands
            return HttpResponse(status=400)  # no zone by that name
        if not agent_time_zone_set(agent=request.user, zone=zone):
            flash.error(request, "Choose a time zone from the list.")
        else:
            flash.success(request, f"Times are now shown in {zone}.")
        return redirect("account_time_zone")
    return render(request, "accounts/time_zone.html", {"zones": time_zone_choices()})


@login_required
def my_tokens(request: AgentRequest) -> HttpResponse:
    """The signed-in agent's own API tokens."""
    return render(
        request,
        "accounts/my_tokens.html",
        {"tokens": tokens_for(request.user)},
    )


@login_required
@require_POST
def token_revoke(request: AgentRequest, token_id: int) -> HttpResponse:
    """Revoke a token: an admin any agent's, an agent their own (someone else's is a 404)."""
    tokens = tokens_for(None if request.user.is_admin else request.user)
    token = get_object_or_404(tokens, pk=token_id)
    revoke_token(token=token, by=request.user, ip=client_ip(request))
    flash.success(request, f"Token {token.prefix}… revoked.")
    if request.user.is_admin and request.POST.get("next") == "agent":
        return redirect("admin_agent", agent_id=token.user_id)
    return redirect("my_tokens")
