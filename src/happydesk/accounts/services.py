"""State changes for agents and API tokens: who may work here, in which role, with which tokens. Each
change is added to the audit log in its own transaction; `by` is the admin (or agent) who made it, None
from the command line, and `ip` their client address (ratelimit.client_ip) when it came over the web."""

from __future__ import annotations

import functools
import secrets
from typing import TYPE_CHECKING

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from happydesk.accounts.models import ApiToken, User
from happydesk.accounts.selectors import two_factor_users
from happydesk.accounts.signin import SignInEvent, signin_record
from happydesk.audit import services as audit
from happydesk.audit.models import Action

if TYPE_CHECKING:
    from django_otp.models import Device
    from django_otp.plugins.otp_totp.models import TOTPDevice


class AgentChangeRefused(ValueError):
    """The change would leave the team without an active admin, or is otherwise not allowed."""


class PasswordRefused(AgentChangeRefused):
    """A new password the validators refuse (too short, too common): `messages` says why, each a line."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


def _active_admins() -> QuerySet[User]:
    return User.objects.filter(Q(role=User.Role.ADMIN) | Q(is_superuser=True), is_active=True)


def _keep_an_admin(agent: User) -> None:
    """Refuse when `agent` is the last active admin. The admins' rows are locked first (PostgreSQL), so
    two admins demoting each other at the same moment cannot both succeed."""
    admins = list(_active_admins().select_for_update().order_by("pk").values_list("pk", flat=True))
    if admins == [agent.pk]:
        raise AgentChangeRefused(f"{agent.email} is the last active admin; make another admin first")


def _agent_target(user: User) -> audit.Target:
    return audit.Target("agent", user.pk, user.email)


def _apply_role(user: User, role: str) -> None:
    if role not in User.Role.values:
        raise AgentChangeRefused(f"role must be one of {', '.join(User.Role.values)}")
    user.role = role
    # Django's superuser flag would make `is_admin` true whatever the role says: it follows the role.
    user.is_staff = user.is_superuser = role == User.Role.ADMIN


@transaction.atomic
def agent_create(
    *,
    email: str,
    name: str,
    password: str | None = None,
    admin: bool = False,
    role: str | None = None,
    by: User | None = None,
    ip: str = "",
) -> User:
    """Create an agent (or update name/role/password of an existing one with that email). `admin=True`
    is the same as role "admin"; without a role a new agent is a full agent and an existing one keeps
    theirs. A new password must pass AUTH_PASSWORD_VALIDATORS (PasswordRefused, nothing saved)."""
    email = email.strip().lower()
    role = User.Role.ADMIN if admin else role
    user = User.objects.filter(email=email).first()
    before = (user.role, user.name) if user is not None else None
    if user is None:
        user = User(email=email)
        _apply_role(user, role or User.Role.AGENT)
    elif role and role != user.role:
        if user.is_admin and role != User.Role.ADMIN and user.is_active:
            _keep_an_admin(user)
        _apply_role(user, role)
    user.name = name
    if password:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise PasswordRefused(list(exc.messages)) from exc
        user.set_password(password)
    elif not user.pk:
        user.set_unusable_password()
    user.save()
    secret = {"password": "set" if before is None else "changed"} if password else {}
    if before is None:
        audit.record(
            Action.AGENT_CREATED,
            actor=by,
            target=_agent_target(user),
            ip=ip,
            details={"role": user.role, **secret},
        )
        return user
    if before[0] != user.role:
        audit.record(
            Action.AGENT_ROLE_CHANGED,
            actor=by,
            target=_agent_target(user),
            ip=ip,
            details={"from": before[0], "to": user.role},
        )
    if before[1] != user.name or password:
        changed = ["name"] if before[1] != user.name else []
        audit.record(
            Action.AGENT_UPDATED,
            actor=by,
            target=_agent_target(user),
            ip=ip,
            details={"changed": changed + (["password"] if password else []), **secret},
        )
    return user


@transaction.atomic
def agent_set_role(*, agent: User, role: str, by: User | None = None, ip: str = "") -> User:
    """Change an agent's role (admin, agent, light); the last active admin cannot be demoted."""
    user = User.objects.select_for_update().get(pk=agent.pk)
    if role == user.role and user.is_superuser == (role == User.Role.ADMIN):
        return user
    if user.is_admin and role != User.Role.ADMIN and user.is_active:
        _keep_an_admin(user)
    before = user.role
    _apply_role(user, role)
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    audit.record(
        Action.AGENT_ROLE_CHANGED,
        actor=by,
        target=_agent_target(user),
        ip=ip,
        details={"from": before, "to": user.role},
    )
    return user


@transaction.atomic
def agent_deactivate(*, agent: User, by: User | None = None, ip: str = "") -> User:
    """Stop an agent: they cannot sign in, their open sessions end at their next request (the auth
    backend refuses inactive users) and their API tokens stop working. Their work stays."""
    user = User.objects.select_for_update().get(pk=agent.pk)
    if not user.is_active:
        return user
    if user.is_admin:
        _keep_an_admin(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(Action.AGENT_DEACTIVATED, actor=by, target=_agent_target(user), ip=ip)
    return user


@transaction.atomic
def agent_activate(*, agent: User, by: User | None = None, ip: str = "") -> User:
    """Let a deactivated agent work again, in the role they had; tokens revoked meanwhile stay revoked."""
    user = User.objects.select_for_update().get(pk=agent.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit.record(Action.AGENT_ACTIVATED, actor=by, target=_agent_target(user), ip=ip)
    return user


def agent_take_on_reply_set(*, agent: User, on: bool) -> User:
    """Remember the agent's "Take it when I reply" choice for the next composer."""
    if agent.take_on_reply != on:
        agent.take_on_reply = on
        agent.save(update_fields=["take_on_reply"])
    return agent


def _token_target(token: ApiToken) -> audit.Target:
    return audit.Target("api_token", token.pk, f"{token.prefix}… of {token.user.email}")


@transaction.atomic
def token_create(
    *, user: User, name: str = "", kind: str = ApiToken.Kind.API, by: User | None = None, ip: str = ""
) -> str:
    """Create a token for the agent and return it; only its hash is kept (and the audit log keeps only
    its prefix). An MTA token (kind "mta") may only post raw mail, and only a full agent or admin may
    hold one."""
    if kind not in ApiToken.Kind.values:
        raise AgentChangeRefused(f"kind must be one of {', '.join(ApiToken.Kind.values)}")
    if kind == ApiToken.Kind.MTA and (user.role == User.Role.LIGHT or not user.is_active):
        raise AgentChangeRefused("an MTA token needs an active agent who is not a light agent")
    token = "hd_" + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user, name=name, kind=kind, digest=ApiToken.digest_of(token), prefix=token[:8]
    )
    audit.record(
        Action.API_TOKEN_CREATED,
        actor=by,
        target=_token_target(row),
        ip=ip,
        details={"prefix": row.prefix, "kind": kind, "name": name},
    )
    return token


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User | None = None, ip: str = "") -> ApiToken:
    """Revoke a token: it is refused from the next request on. Revoking twice keeps the first time
    (and is recorded once)."""
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    if revoked:
        audit.record(
            Action.API_TOKEN_REVOKED,
            actor=by,
            target=_token_target(token),
            ip=ip,
            details={"prefix": token.prefix, "kind": token.kind},
        )
    return token


def token_authenticate(token: str, *, kind: str = ApiToken.Kind.API) -> User | None:
    """The active agent a token of this kind belongs to, or None. An MTA token also needs an owner who
    is not a light agent (their role may have changed since the token was made)."""
    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(token), kind=kind, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None or (kind == ApiToken.Kind.MTA and row.user.role == User.Role.LIGHT):
        return None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user


def agent_unlock(*, agent: User, by: User | None = None, ip: str = "") -> int:
    """Lift the sign-in lockout of the agent's account at once (every failed attempt naming their email
    is forgotten); returns how many attempt records went. The lockout of a client address is left."""
    from axes.utils import reset

    count = reset(username=agent.email)
    signin_record(SignInEvent.UNLOCKED, agent=agent, by=by, ip=ip, detail=f"{count} attempt records cleared")
    return count


# --- two-factor sign-in (django-otp: a TOTP device, and recovery codes as a static device) -------------

RECOVERY_CODES = 10


class TwoFactorRefused(AgentChangeRefused):
    """A two-factor change that is not allowed now (a wrong code, or the team requires two-factor)."""


def two_factor_enabled(agent: User) -> bool:
    """Has the agent a confirmed authenticator app (so a password alone no longer signs them in)?"""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=agent, confirmed=True).exists()


def two_factor_required() -> bool:
    """Does the team require every agent to sign in with a second factor (SignInPolicy)?"""
    from happydesk.accounts.models import SignInPolicy

    return SignInPolicy.current().require_two_factor


@transaction.atomic
def two_factor_begin(*, agent: User) -> TOTPDevice:
    """A new, unconfirmed authenticator key for the agent (replacing an earlier unconfirmed one). It
    counts for nothing until two_factor_confirm sees a code from it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=agent, confirmed=False).delete()
    return TOTPDevice.objects.create(user=agent, name="Authenticator app", confirmed=False)


def two_factor_pending_device(agent: User) -> TOTPDevice | None:
    """The agent's unconfirmed key from two_factor_begin, if any."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=agent, confirmed=False).order_by("-id").first()


@transaction.atomic
def two_factor_confirm(*, agent: User, code: str, ip: str = "") -> list[str]:
    """Turn two-factor sign-in on with the unconfirmed key, once the agent shows a code from it; returns
    the new recovery codes (shown once). TwoFactorRefused for a wrong code or no key to confirm."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = (
        TOTPDevice.objects.select_for_update().filter(user=agent, confirmed=False).order_by("-id").first()
    )
    if device is None:
        raise TwoFactorRefused("Start again: there is no new authenticator key to confirm.")
    if not device.verify_token(_digits(code)):
        raise TwoFactorRefused("That code didn't match. Check the app's clock and try the next code.")
    TOTPDevice.objects.filter(user=agent, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(agent)
    signin_record(SignInEvent.TWO_FACTOR_ON, agent=agent, ip=ip)
    return codes


def two_factor_check(*, agent: User, code: str, ip: str = "") -> Device | None:
    """The agent's device that accepts this code (a code from the app, or an unused recovery code, which
    is then spent), or None. Each device throttles wrong codes itself (OTP_*_THROTTLE_FACTOR), and a
    code from the app is accepted once."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        totp = TOTPDevice.objects.select_for_update().filter(user=agent, confirmed=True).first()
        digits = _digits(code)
        if totp is not None and digits.isdigit() and len(digits) == totp.digits:
            return totp if totp.verify_token(digits) else None
        recovery = StaticDevice.objects.select_for_update().filter(user=agent, confirmed=True).first()
        word = "".join(code.split()).replace("-", "").lower()
        if recovery is not None and word and recovery.verify_token(word):
            signin_record(
                SignInEvent.RECOVERY_CODE_USED,
                agent=agent,
                ip=ip,
                detail=f"{recovery_codes_left(agent)} left",
            )
            return recovery
    return None


def two_factor_wait(agent: User) -> int:
    """Seconds until the agent's devices take a code again after wrong ones (0: now)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    wait = 0.0
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=agent, confirmed=True):
            allowed, data = device.verify_is_allowed()
            if not allowed and data and data.get("locked_until"):
                wait = max(wait, (data["locked_until"] - timezone.now()).total_seconds())
    return int(wait + 0.999)


def recovery_codes_left(agent: User) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=agent, device__confirmed=True).count()


@transaction.atomic
def recovery_codes_renew(*, agent: User, code: str, ip: str = "") -> list[str]:
    """New recovery codes for an agent with two-factor on (the old ones stop working), after a current
    code or recovery code; TwoFactorRefused otherwise."""
    if not two_factor_enabled(agent) or two_factor_check(agent=agent, code=code, ip=ip) is None:
        raise TwoFactorRefused("That code didn't match.")
    codes = _new_recovery_codes(agent)
    signin_record(SignInEvent.RECOVERY_CODES_NEW, agent=agent, ip=ip)
    return codes


@transaction.atomic
def two_factor_disable(*, agent: User, code: str, ip: str = "") -> None:
    """The agent turns two-factor sign-in off, showing a current code or recovery code; refused while the
    team requires it."""
    if two_factor_required():
        raise TwoFactorRefused("Your team requires two-factor sign-in, so it stays on.")
    if two_factor_check(agent=agent, code=code, ip=ip) is None:
        raise TwoFactorRefused("That code didn't match.")
    _remove_devices(agent)
    signin_record(SignInEvent.TWO_FACTOR_OFF, agent=agent, ip=ip)


@transaction.atomic
def two_factor_reset(*, agent: User, by: User, ip: str = "") -> None:
    """An admin removes an agent's authenticator and recovery codes (a lost phone): the password alone
    signs them in again, or, when the team requires two-factor, leads them to set up a new app."""
    _remove_devices(agent)
    signin_record(SignInEvent.TWO_FACTOR_OFF, agent=agent, by=by, ip=ip, detail="reset by an admin")


@transaction.atomic
def two_factor_require(*, required: bool, by: User, ip: str = "") -> None:
    """Require (or stop requiring) two-factor sign-in for every agent. Turning it on needs an admin who
    uses it already, and signs out every agent who does not, so their next sign-in sets it up."""
    from happydesk.accounts.models import SignInPolicy

    if required and not two_factor_enabled(by):
        raise TwoFactorRefused("Turn on two-factor sign-in for yourself first (Account → Two-factor).")
    policy = SignInPolicy.objects.select_for_update().get_or_create(pk=1)[0]
    if policy.require_two_factor == required:
        return
    policy.require_two_factor = required
    policy.changed_at = timezone.now()
    policy.save()
    if required:
        _end_sessions_without_two_factor()
    signin_record(
        SignInEvent.TWO_FACTOR_POLICY, agent=by, by=by, ip=ip, detail="required" if required else "optional"
    )


def _digits(code: str) -> str:
    return "".join(code.split())


def _new_recovery_codes(agent: User) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=agent).delete()
    device = StaticDevice.objects.create(user=agent, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def _remove_devices(agent: User) -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=agent).delete()
    StaticDevice.objects.filter(user=agent).delete()


def _end_sessions_without_two_factor() -> None:
    """Delete the sessions of agents with no confirmed authenticator (customers' sessions are left)."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session

    enrolled = {str(pk) for pk in two_factor_users()}
    doomed = [
        s.pk
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if (uid := s.get_decoded().get(SESSION_KEY)) is not None and str(uid) not in enrolled
    ]
    Session.objects.filter(pk__in=doomed).delete()


@functools.cache
def time_zone_choices() -> tuple[str, ...]:
    """The zones an agent picks from: UTC, then the regions' named zones (not Etc/ or SystemV/ aliases).
    Read from the zone database once per process."""
    from zoneinfo import available_timezones

    named = (z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return ("UTC", *sorted(named))


def agent_time_zone_set(*, agent: User, zone: str, told_by_browser: bool = False) -> bool:
    """Show this agent's times in `zone`; False (nothing changed) for a name not in the choices. A zone
    the browser told us never replaces one the agent chose, and is taken even when we do not list it (an
    Etc/ alias) as long as the zone database knows it, so the browser is not asked again and again."""
    from happydesk.accounts.middleware import agent_zone

    if told_by_browser:
        if agent.timezone or agent_zone(zone) is None:
            return False
    elif zone not in time_zone_choices():
        return False
    User.objects.filter(pk=agent.pk).update(timezone=zone)
    agent.timezone = zone
    return True
