"""A real DNS server (dnsmasq) on loopback answering only the records a test gives it.

    def test_x(dns_server):
        dns_server.zone({"example.test": ["v=spf1 ip4:127.0.0.1 -all"]})
        ...  # settings.HAPPYDESK_DNS_RESOLVER now points at it

Each zone() starts a fresh dnsmasq on a free port (about 20 ms), so a resolver never sees stale answers.
Every name not given is NXDOMAIN (--local=/#/), never forwarded anywhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

DNSMASQ = os.environ.get("DNSMASQ_PATH", "/usr/sbin/dnsmasq")


def free_udp_tcp_port() -> int:
    """A loopback port free for both UDP and TCP."""
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free UDP+TCP port on loopback")


def txt_strings(value: str) -> str:
    """A TXT value as dnsmasq's quoted <=255-byte strings ("a","b"): long DKIM keys need several."""
    raw = value.encode()
    chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    quoted = []
    for chunk in chunks:
        text = chunk.decode("ascii")  # TXT test data is ASCII; a chunk boundary never splits a character
        quoted.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return ",".join(quoted)


class DnsServer:
    """One dnsmasq process at a time; zone() replaces it, stop() leaves the resolver pointing at nothing."""

    def __init__(self, settings, root: Path) -> None:  # type: ignore[no-untyped-def]
        """settings: pytest-django's `settings` fixture (or None: the caller points the resolver)."""
        self.settings = settings
        self.root = root
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.records: dict[str, list[str]] = {}
        self._silent: list[socket.socket] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def zone(
        self,
        records: Mapping[str, Sequence[str] | str],
        *,
        hosts: Mapping[str, str] | None = None,
        mx: Mapping[str, Sequence[str]] | None = None,
    ) -> DnsServer:
        """Serve exactly these records: TXT (name -> values, one TXT record each), A/AAAA (hosts: name ->
        address) and MX (name -> exchanges, in preference order); point the app's resolver here."""
        self.stop()
        self.records = {
            name: [values] if isinstance(values, str) else list(values) for name, values in records.items()
        }
        lines = []
        for name, values in self.records.items():
            lines += [f"txt-record={name.rstrip('.')},{txt_strings(v)}" for v in values]
        lines += [f"host-record={name},{address}" for name, address in (hosts or {}).items()]
        for name, exchanges in (mx or {}).items():
            lines += [f"mx-host={name},{target},{10 * (i + 1)}" for i, target in enumerate(exchanges)]
        conf = self.root / f"dnsmasq-{len(list(self.root.iterdir()))}.conf"
        conf.write_text("\n".join(lines) + "\n")
        self.port = free_udp_tcp_port()
        with open(self.root / "dnsmasq.log", "ab") as log:  # the child keeps its own copy of the fd
            self.proc = subprocess.Popen(
                [
                    DNSMASQ,
                    "--keep-in-foreground",
                    f"--conf-file={conf}",
                    "--no-resolv",
                    "--no-hosts",
                    "--no-poll",
                    "--bind-interfaces",
                    "--listen-address=127.0.0.1",
                    f"--port={self.port}",
                    "--local=/#/",  # everything else: authoritative NXDOMAIN, never forwarded
                    "--pid-file=",
                    "--log-facility=-",
                ],
                stdout=log,
                stderr=log,
            )
        self._wait_ready()
        self.point_here()
        return self

    def point_here(self) -> None:
        if self.settings is not None:
            self.settings.HAPPYDESK_DNS_RESOLVER = self.address

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                text = (self.root / "dnsmasq.log").read_text(errors="replace")
                raise RuntimeError(f"dnsmasq exited with {self.proc.returncode}:\n{text}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.01)
        raise TimeoutError(f"dnsmasq not listening on {self.port} after {timeout}s")

    def stop(self) -> None:
        """Stop dnsmasq (the resolver setting keeps pointing at its now-dead port: 'DNS server down')."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def silent(self) -> str:
        """Point the resolver at a loopback UDP+TCP port that takes queries and never answers."""
        self.stop()
        port = free_udp_tcp_port()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", port))
        tcp = socket.socket()
        tcp.bind(("127.0.0.1", port))
        tcp.listen(8)
        self._silent += [udp, tcp]
        self.port = port
        self.point_here()
        return self.address

    def close(self) -> None:
        self.stop()
        for sock in self._silent:
            sock.close()
        self._silent.clear()


def _require_dnsmasq() -> None:
    if not (os.path.isfile(DNSMASQ) and os.access(DNSMASQ, os.X_OK)):
        pytest.skip(f"{DNSMASQ} is missing: `apt-get install -y dnsmasq-base` for the real-DNS mail tests")


@contextmanager
def _server(settings) -> Iterator[DnsServer]:  # type: ignore[no-untyped-def]
    # Not pytest's 0700 tmp dir: dnsmasq started as root drops to nobody.
    root = Path(tempfile.mkdtemp(prefix="hd-dns-"))
    root.chmod(0o755)
    server = DnsServer(settings, root)
    try:
        server.zone({})
        yield server
    finally:
        server.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dns_server(settings) -> Iterator[DnsServer]:  # type: ignore[no-untyped-def]
    """dnsmasq on loopback for mail-authentication tests; HAPPYDESK_DNS_RESOLVER points at it while the
    test runs. Skips, saying so, only when dnsmasq is not installed."""
    _require_dnsmasq()
    with _server(settings) as server:
        yield server
