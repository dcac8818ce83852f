"""Sender authentication for inbound email: SPF, DKIM, DMARC and ARC, pure of the inbox.

`verify_received` is our own check of mail that reached our SMTP listener; `verdict_from_headers`
believes only a trusted server's Authentication-Results for mail that came another way. All DNS goes
through `dns_resolver()` (HAPPYDESK_DNS_RESOLVER).
"""

from .headers import verdict_from_headers
from .resolver import dns_resolver
from .results import AuthVerdict
from .verify import verify_received

__all__ = ["AuthVerdict", "dns_resolver", "verdict_from_headers", "verify_received"]
