"""The one role check for agent pages: `role_required(...)`, and the uses several apps share."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseForbidden

from happydesk.accounts.models import User

View = Callable[..., HttpResponseBase]  # pages, and streamed downloads (the audit log CSV)


class AgentRequest(HttpRequest):
    """A request that login_required, role_required or the API's token auth (api/api.py) let through:
    its user is a signed-in agent (for the type checker; the decorator or the auth makes it true)."""

    user: User


def role_required(
    *roles: str, refusal: str = "Not for your role", changes_only: bool = False, hidden: bool = False
) -> Callable[[View], View]:
    """Signed in (else to the sign-in page) with one of `roles` (else 403 with `refusal`). An admin is
    whoever `User.is_admin` says is one. `changes_only`: every agent may read (GET, HEAD), only `roles`
    may change (POST and the rest). `hidden`: refuse with 404, for pages whose existence another role
    must not learn."""
    allowed = frozenset(roles)

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            assert isinstance(user, User)  # login_required let only a signed-in agent through
            reading = request.method in ("GET", "HEAD")
            if changes_only and reading:
                return view(request, *args, **kwargs)
            if user.role not in allowed and not (User.Role.ADMIN in allowed and user.is_admin):
                if hidden:
                    raise Http404
                return HttpResponseForbidden(refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


admin_required = role_required(User.Role.ADMIN, refusal="Admins only")
# Everyone on the team but light agents (who may read, and answer only what they are shown).
team_required = role_required(User.Role.ADMIN, User.Role.AGENT, refusal="Light agents can't change this")
