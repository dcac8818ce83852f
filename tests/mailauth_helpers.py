"""Signing test mail for real: DKIM keys and signatures (dkimpy), ARC-sealed forwards, SPF/DMARC records.

key = dkim_key("example.test")
dns_server.zone({**key.zone, "example.test": spf_record("127.0.0.1"), **dmarc_zone("example.test")})
data = dkim_sign(make_email(sender="casey@example.test"), key)
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"]


@dataclass(frozen=True)
class DkimKey:
    """An RSA key pair for one selector of one domain."""

    domain: str
    selector: str
    private_pem: bytes  # PKCS#1 PEM, as dkimpy wants it
    public_b64: str  # SubjectPublicKeyInfo DER, base64: the p= of the DNS record

    @property
    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def record(self) -> str:
        return f"v=DKIM1; k=rsa; p={self.public_b64}"

    @property
    def zone(self) -> dict[str, list[str]]:
        """The TXT record publishing this key, for DnsServer.zone()."""
        return {self.dns_name: [self.record]}


@functools.lru_cache(maxsize=32)
def _rsa_pair(slot: tuple[str, str], bits: int) -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, base64.b64encode(public_der).decode()


def dkim_key(domain: str, selector: str = "sel", bits: int = 2048) -> DkimKey:
    """A key pair for selector._domainkey.domain (made once per process and reused)."""
    private_pem, public_b64 = _rsa_pair((domain, selector), bits)
    return DkimKey(domain=domain, selector=selector, private_pem=private_pem, public_b64=public_b64)


def dkim_sign(data: bytes, key: DkimKey, *, headers: list[bytes] | None = None) -> bytes:
    """The message with a DKIM-Signature by key on top (relaxed/relaxed)."""
    signature = dkim.sign(
        data,
        key.selector.encode(),
        key.domain.encode(),
        key.private_pem,
        include_headers=headers or [h for h in SIGNED_HEADERS if _has_header(data, h)],
        canonicalize=(b"relaxed", b"relaxed"),
    )
    return signature + data


def _has_header(data: bytes, name: bytes) -> bool:
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return any(line.lower().startswith(name + b":") for line in head.splitlines())


def append_to_body(data: bytes, text: bytes) -> bytes:
    """What a mailing list does: a footer after the body (breaks a DKIM body hash)."""
    return data.rstrip(b"\r\n") + b"\r\n" + text.rstrip(b"\r\n") + b"\r\n"


def arc_forward(
    data: bytes,
    *,
    sealer: DkimKey,
    results: str,
    authserv_id: str | None = None,
    footer: bytes | None = b"-- \r\nYou received this through the forwarder's list.",
) -> bytes:
    """The message as a forwarder sends it on: its Authentication-Results (`results`, e.g.
    "spf=pass smtp.mailfrom=x; dkim=pass header.d=x; dmarc=pass header.from=x") on top, the body changed
    (footer), then an ARC set (i=next) sealed with `sealer`'s key (dkim.arc_sign)."""
    srv_id = authserv_id or sealer.domain
    out = f"Authentication-Results: {srv_id}; {results}\r\n".encode() + data
    if footer:
        out = append_to_body(out, footer)
    arc_set = dkim.arc_sign(
        out,
        sealer.selector.encode(),
        sealer.domain.encode(),
        sealer.private_pem,
        srv_id.encode(),
        include_headers=[h for h in SIGNED_HEADERS if _has_header(out, h)],
    )
    if not arc_set:
        raise ValueError("dkim.arc_sign made no ARC set (no Authentication-Results for the srv_id?)")
    return b"".join(arc_set) + out


def spf_record(*mechanisms: str, all: str = "-all") -> str:
    """'v=spf1 ip4:… -all'; bare addresses/CIDRs become ip4:/ip6: mechanisms."""
    parts = []
    for mech in mechanisms:
        if ":" in mech and not mech.startswith(("ip4:", "ip6:", "include:", "a:", "mx:", "exists:")):
            parts.append(f"ip6:{mech}")
        elif mech[:1].isdigit():
            parts.append(f"ip4:{mech}")
        else:
            parts.append(mech)
    return " ".join(["v=spf1", *parts, all])


def dmarc_zone(domain: str, p: str = "reject", **tags: str) -> dict[str, list[str]]:
    """The _dmarc TXT record for domain: {'_dmarc.domain': ['v=DMARC1; p=…; …']}."""
    extra = "".join(f"; {k}={v}" for k, v in tags.items())
    return {f"_dmarc.{domain}": [f"v=DMARC1; p={p}{extra}"]}
