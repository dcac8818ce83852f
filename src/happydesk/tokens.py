"""Secret lookup tokens we hand out again and again (the reply address, the conversation's portal link,
a status subscriber's links) but never keep in a usable form.

The database stores a random *selector*; what goes out is the selector followed by a short MAC of it
under SECRET_KEY (salted per purpose), so a copy of the database alone opens no conversation, threads
no mail and unsubscribes nobody. A presented token is split, its MAC checked against SECRET_KEY and
SECRET_KEY_FALLBACKS (a rotated key keeps old links working while it is a fallback), and only then is
the selector looked up. Tokens handed out before this scheme are kept as keyed digests
(`*_legacy_digest` columns) and still match, so a customer's old reply address keeps threading.

Lowercase hex throughout: the reply token travels in an email address's local part, which some mail
servers lowercase.
"""

from __future__ import annotations

import hmac
import secrets

from django.conf import settings
from django.db.models import Q
from django.utils.crypto import salted_hmac

MAC_LENGTH = 16  # hex characters: 64 bits, on top of the selector's own randomness


def new_selector(nbytes: int = 8) -> str:
    """A fresh random selector: what the database keeps."""
    return secrets.token_hex(nbytes)


def _mac(purpose: str, selector: str, key: str) -> str:
    return salted_hmac(f"happydesk.token.{purpose}", selector, secret=key, algorithm="sha256").hexdigest()[
        :MAC_LENGTH
    ]


def issue(purpose: str, selector: str) -> str:
    """The token to hand out for a stored selector."""
    return selector + _mac(purpose, selector, settings.SECRET_KEY)


def selector_of(purpose: str, presented: str) -> str | None:
    """The selector of a token we issued for this purpose, or None for anything else."""
    presented = presented.strip().lower()
    selector, mac = presented[:-MAC_LENGTH], presented[-MAC_LENGTH:]
    if not selector or len(mac) != MAC_LENGTH:
        return None
    for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        if hmac.compare_digest(mac, _mac(purpose, selector, key)):
            return selector
    return None


def legacy_digest(purpose: str, token: str, key: str | None = None) -> str:
    """How a token handed out before selectors is kept: an HMAC of it under SECRET_KEY (`key`), compared,
    never shown again. Keyed, not a plain hash: the old reply tokens had 64 bits, few enough that a copy
    of the database could be searched for them offline against every stored digest at once."""
    secret = key or settings.SECRET_KEY
    return salted_hmac(
        f"happydesk.token.{purpose}.legacy", token, secret=secret, algorithm="sha256"
    ).hexdigest()


def matching(purpose: str, presented: str, *, selector_field: str, legacy_field: str) -> Q:
    """A filter for the row a presented token opens: by a verified selector, else by the legacy digest
    of the token exactly as presented (under the key or a fallback). Matches nothing for a forged or
    unknown token."""
    selector = selector_of(purpose, presented)
    if selector is not None:
        return Q(**{selector_field: selector})
    if not presented:
        return Q(pk__in=[])
    keys = (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    return Q(**{f"{legacy_field}__in": [legacy_digest(purpose, presented, key) for key in keys]})
