"""A real Dovecot IMAP server on loopback for the IMAP fetcher's tests (one per test session/xdist worker)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import free_port, wait_for_port

PASSWORD = "secret"
USERS = 1000  # accounts in passwd-file, one per test that asks for one

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/base
state_dir = {root}/state
instance_name = {instance}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    root: Path
    _users: Iterator[str] = field(default_factory=lambda: iter(()))

    def new_user(self) -> tuple[str, str]:
        """A fresh, empty IMAP account from a pre-made pool: isolates tests. (Appending to passwd-file
        while Dovecot runs is not reliably picked up within the same second.)"""
        return next(self._users), PASSWORD


def _stop(pid: int, timeout: float = 5.0) -> None:
    """SIGTERM the master (it stops its children) and wait until it is gone or a zombie."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        if status.rsplit(")", 1)[-1].split()[0] == "Z":
            return
        time.sleep(0.05)


@pytest.fixture(scope="session")
def dovecot() -> Dovecot:
    """Start Dovecot on a free loopback port; fail (not skip) when it is missing, so CI cannot silently
    lose the IMAP tests. HAPPYDESK_SKIP_IMAP=1 skips them on purpose."""
    if os.environ.get("HAPPYDESK_SKIP_IMAP") == "1":
        pytest.skip("HAPPYDESK_SKIP_IMAP=1")
    binary = shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None
    )
    if binary is None:
        pytest.fail(
            "dovecot is not installed: `apt-get install -y dovecot-imapd` (or set HAPPYDESK_SKIP_IMAP=1)",
            pytrace=False,
        )
    if os.geteuid() != 0:
        pytest.fail("the Dovecot fixture must run as root (it drops to nobody for mail)", pytrace=False)
    # Not pytest's tmp dir: that one is 0700 and Dovecot's mail processes run as nobody.
    root = Path(tempfile.mkdtemp(prefix="hd-dovecot-"))
    root.chmod(0o755)
    for sub in ("base", "state"):
        (root / sub).mkdir()
    (root / "mail").mkdir()
    shutil.chown(root / "mail", "nobody", "nogroup")
    port = free_port()
    (root / "dovecot.conf").write_text(
        DOVECOT_CONF.format(root=root, port=port, instance=f"hd-test-{root.name}")
    )
    users = [f"user{i}@imap.test" for i in range(USERS)]
    (root / "users").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}\n" for u in users))
    server = Dovecot(host="127.0.0.1", port=port, user="", password="", root=root, _users=iter(users))
    server.user, server.password = server.new_user()
    # Output to a file, not a pipe: the daemonized children keep a pipe open and `run` would never return.
    with open(root / "startup.log", "w") as out:
        code = subprocess.run([binary, "-c", str(root / "dovecot.conf")], stdout=out, stderr=out).returncode
    if code != 0:
        logs = [root / "startup.log", root / "dovecot.log"]
        text = "\n".join(p.read_text() for p in logs if p.exists())
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"dovecot did not start (exit {code}):\n{text}", pytrace=False)
    try:
        wait_for_port(port, timeout=10)
        yield server
    finally:
        pid_file = root / "base" / "master.pid"
        if pid_file.exists():
            _stop(int(pid_file.read_text().split()[0]))
        shutil.rmtree(root, ignore_errors=True)
