"""Secrets at rest: credentials we must give back to another server (IMAP passwords, and the OAuth
tokens that will follow) are stored encrypted with a key kept outside the database.

The key is HAPPYDESK_ENCRYPTION_KEYS (Fernet keys, comma-separated: the first encrypts, all decrypt,
so a key can be rotated), else one generated once into `<data dir>/encryption.key` (owner-only). A
database dump alone reveals none of them. `EncryptedTextField` is the model field that does it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"  # marks a stored value as ciphertext; anything else is a legacy plain value


class UndecryptableSecret(Exception):
    """A stored secret that none of the configured keys opens (the key was lost or replaced)."""


def _key_file() -> Path:
    return Path(settings.DATA_DIR) / "encryption.key"


@functools.lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    configured = [k.strip() for k in os.environ.get("HAPPYDESK_ENCRYPTION_KEYS", "").split(",") if k.strip()]
    if not configured:
        path = _key_file()
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
        configured = [path.read_text().strip()]
    return MultiFernet([Fernet(key.encode()) for key in configured])


def encrypt(plain: str) -> str:
    """The stored form of a secret: "fernet:" and a token only the configured keys open."""
    return PREFIX + _fernet().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    """The secret from its stored form; a value stored before encryption is returned as it is."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret(
            "a stored secret cannot be decrypted: HAPPYDESK_ENCRYPTION_KEYS or encryption.key changed"
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted on the way in and decrypted on the way out; code sees the
    plain value, the database only ciphertext. Not for values anyone filters or sorts on."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value  # nothing to hide; keeps "no password set" readable as empty
        return encrypt(str(value))
