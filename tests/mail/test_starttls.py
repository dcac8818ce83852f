"""STARTTLS on the SMTP listener, tried with a real TLS client on loopback and certificates the test
makes: mail crosses the network encrypted, a renewed certificate is used without a restart, nothing
older than TLS 1.2 gets through, and a relay that must use TLS cannot deliver in clear text."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from happydesk.mail.models import RawMessage
from happydesk.mail.store import read_raw
from happydesk.mail.transports import tls
from tests.helpers import make_email

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "mx.acme.test"


def make_certificate(folder: Path, serial: int) -> tuple[Path, Path]:
    """A self-signed certificate for mx.acme.test with this serial number, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def client_context(cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # we connect to 127.0.0.1; the chain is what is checked
    return context


@pytest.fixture
def certificate(tmp_path, settings):  # type: ignore[no-untyped-def]
    cert, key = make_certificate(tmp_path, serial=1001)
    settings.HAPPYDESK_SMTP_TLS_CERT, settings.HAPPYDESK_SMTP_TLS_KEY = str(cert), str(key)
    tls._cached = None
    yield cert
    tls._cached = None


def served_serial(port: int, cert: Path) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.ehlo("client.test")
        s.starttls(context=client_context(cert))
        der = s.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
    return x509.load_der_x509_certificate(der).serial_number


def test_mail_is_delivered_over_starttls(mailbox, certificate, smtp_listener):
    with smtplib.SMTP("127.0.0.1", smtp_listener.port, timeout=10) as s:
        code, features = s.ehlo("client.test")
        assert b"STARTTLS" in features
        s.starttls(context=client_context(certificate))
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")  # type: ignore[union-attr]
        s.ehlo("client.test")
        s.sendmail("casey@example.test", ["support@acme.test"], make_email(subject="Over TLS"))
    assert b"Subject: Over TLS" in read_raw(RawMessage.objects.get())


def test_a_renewed_certificate_is_used_without_a_restart(mailbox, certificate, smtp_listener):
    assert served_serial(smtp_listener.port, certificate) == 1001
    renewed, _ = make_certificate(certificate.parent, serial=2002)  # what certbot does: new files in place
    assert served_serial(smtp_listener.port, renewed) == 2002


def test_nothing_older_than_tls_1_2_is_accepted(mailbox, certificate, smtp_listener):
    old = client_context(certificate)
    old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    with contextlib.suppress(ssl.SSLError):
        old.set_ciphers("ALL:@SECLEVEL=0")  # let the client offer TLS 1.1 at all
    with smtplib.SMTP("127.0.0.1", smtp_listener.port, timeout=10) as s:
        s.ehlo("client.test")
        with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError)):
            s.starttls(context=old)
    context = tls.server_context()
    assert context is not None and context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_without_a_certificate_starttls_is_not_offered(mailbox, settings, smtp_listener):
    settings.HAPPYDESK_SMTP_TLS_CERT = settings.HAPPYDESK_SMTP_TLS_KEY = ""
    with smtplib.SMTP("127.0.0.1", smtp_listener.port, timeout=10) as s:
        code, features = s.ehlo("client.test")
    assert b"STARTTLS" not in features


def test_a_relay_that_must_use_tls_cannot_deliver_in_clear_text(
    mailbox, certificate, settings, smtp_listener
):
    settings.HAPPYDESK_SMTP_REQUIRE_TLS_FROM = ["127.0.0.2"]
    with smtplib.SMTP("127.0.0.1", smtp_listener.port, timeout=10, source_address=("127.0.0.2", 0)) as s:
        s.ehlo("relay.test")
        code, reply = s.mail("casey@example.test")
        assert code == 530 and b"STARTTLS" in reply
        s.starttls(context=client_context(certificate))
        s.ehlo("relay.test")
        s.sendmail("casey@example.test", ["support@acme.test"], make_email(subject="Relayed over TLS"))
    with smtplib.SMTP("127.0.0.1", smtp_listener.port, timeout=10) as s:  # any other sender: as before
        s.ehlo("client.test")
        s.sendmail("bo@example.test", ["support@acme.test"], make_email(subject="Plain from elsewhere"))
    assert RawMessage.objects.count() == 2


def test_a_relay_that_must_use_tls_is_recognised_in_every_form_of_its_address(settings):
    """A dual-stack listener sees an IPv4 relay as ::ffff:a.b.c.d; it must not slip through in clear text
    that way, and nobody outside the list is asked for STARTTLS."""
    from happydesk.mail.transports.smtp import _must_use_tls
    from happydesk.ratelimit import parse_networks

    settings.HAPPYDESK_SMTP_REQUIRE_TLS_FROM = ["192.0.2.0/28", "2001:db8::1"]
    assert _must_use_tls(("192.0.2.5", 25))
    assert _must_use_tls(("::ffff:192.0.2.5", 25, 0, 0))
    assert _must_use_tls(("2001:db8::1", 25, 0, 0))
    assert not _must_use_tls(("192.0.2.16", 25))
    assert not _must_use_tls(("::ffff:192.0.2.16", 25, 0, 0))
    assert not _must_use_tls(("not an ip", 25))
    with pytest.raises(ValueError, match="HAPPYDESK_SMTP_REQUIRE_TLS_FROM: 'nonsense'"):
        parse_networks(["nonsense"], setting="HAPPYDESK_SMTP_REQUIRE_TLS_FROM")
