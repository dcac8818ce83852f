"""Agents (the people who answer) and their API tokens."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True, role=User.Role.ADMIN)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An agent. Signs in with an email address; the role decides what they may change."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        AGENT = "agent", "Agent"
        LIGHT = "light", "Light agent"

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Set when the agent signs in through the company's OpenID Connect provider (issuer + subject).
    oidc_issuer = models.CharField(max_length=500, blank=True)
    oidc_subject = models.CharField(max_length=255, blank=True)
    # The agent's time zone (IANA name): every time on agent pages is shown in it. Empty until the
    # browser tells us (web/static/happydesk/timezone.js) or the agent chooses one. (From here on in this
    # class body `timezone` is this field, not django.utils.timezone.)
    timezone = models.CharField(max_length=64, blank=True)
    # The composer's "Take it when I reply", remembered: sending assigns an unassigned conversation.
    take_on_reply = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name else self.email.split("@")[0]

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a hash is stored; the token is shown once.

    An MTA token (`happydesk token create --mta`) may only post raw mail; an API token may not."""

    class Kind(models.TextChoices):
        API = "api", "API"
        MTA = "mta", "Mail transfer (raw mail only)"

    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.API)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class PortalLoginToken(models.Model):
    """A one-time sign-in link for the customer portal. Only a hash is stored; it expires and works once."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class SingleUseClaim(models.Model):
    """A claim that may be used once until it expires: a customer SSO token's `jti`, so a token
    seen before is refused. Rows past `expires_at` can be deleted; the token is refused by time then."""

    key = models.CharField(max_length=300, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)


class SignInPolicy(models.Model):
    """The team's sign-in rules, one row (pk 1): whether every agent must sign in with a second factor.
    Read with SignInPolicy.current(); changed only by accounts.services.two_factor_require."""

    require_two_factor = models.BooleanField(default=False)
    changed_at = models.DateTimeField(default=timezone.now)

    @classmethod
    def current(cls) -> SignInPolicy:
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class SecretFingerprints(models.Model):
    """What the SSO secrets (environment settings) looked like when a web process last started: a keyed
    fingerprint per secret, never the secret, so a change of HAPPYDESK_SSO_JWT_SECRET or
    HAPPYDESK_OIDC_CLIENT_SECRET is noticed and written to the audit log (accounts/sso_secrets.py)."""

    setting = models.CharField(max_length=100, unique=True)
    fingerprints = models.JSONField(default=list)
    changed_at = models.DateTimeField(default=timezone.now)
