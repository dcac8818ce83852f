"""Inbound email parsing for Happydesk: raw RFC 5322 bytes in, a safe ParsedEmail out.

Standalone (no Django imports) so it can be tested and fuzzed without a database.
"""

from .addresses import Address
from .hashing import content_hash
from .limits import Limits, MessageTooComplex, ParseFailure, UnparseableMessage
from .message import ParsedEmail, parse_email
from .mime import ParsedAttachment

__all__ = [
    "Address",
    "Limits",
    "MessageTooComplex",
    "ParseFailure",
    "ParsedAttachment",
    "ParsedEmail",
    "UnparseableMessage",
    "content_hash",
    "parse_email",
]
