"""The HTTPS mode, as a production box runs it: the documented environment passes Django's deploy check
with no warning, and a real `happydesk serve` behind a proxy redirects plain HTTP, sends HSTS and marks
its cookies Secure; a client that claims HTTPS itself, without being a trusted proxy, changes nothing."""

from __future__ import annotations

import http.client
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import free_port, once_per_suite, stop, subprocess_env, wait_for_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, once_per_suite]

OPERATING = Path(__file__).resolve().parents[1] / "docs" / "operating.md"
HOST = "help.example.com"


def documented_production_env() -> dict[str, str]:
    """The `# production environment` block of docs/operating.md, with its <placeholders> filled."""
    block = re.search(r"```sh\n# production environment\n(.*?)```", OPERATING.read_text(), re.S)
    assert block, "docs/operating.md lost its production environment block"
    env = {}
    for line in block.group(1).splitlines():
        name, _, value = line.partition("=")
        env[name] = re.sub(r"<[^>]*>", lambda _: secrets.token_urlsafe(50), value)
    return env


def test_the_documented_production_environment_passes_the_deploy_check(tmp_path):
    env = {**subprocess_env(), **documented_production_env(), "HAPPYDESK_DATA_DIR": str(tmp_path)}
    env.pop("HAPPYDESK_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "happydesk.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout + done.stderr


def _serve(tmp_path: Path, trusted: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = subprocess_env(
        HAPPYDESK_BASE_URL=f"https://{HOST}",
        HAPPYDESK_TRUSTED_PROXIES=trusted,
        HAPPYDESK_LOG_LEVEL="WARNING",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "happydesk.cli",
            "serve",
            "--no-smtp",
            "--no-worker",
            "--http",
            f"127.0.0.1:{port}",
        ],
        env=env,
        start_new_session=True,
    )
    wait_for_port(port)
    return proc, port


def _get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": HOST, **headers})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_behind_a_trusted_proxy_http_is_redirected_and_https_is_remembered(tmp_path):
    proc, port = _serve(tmp_path, trusted="127.0.0.1")
    try:
        plain = _get(port, "/login/?next=/inbox/")
        assert plain.status == 301 and plain.getheader("Location") == f"https://{HOST}/login/?next=/inbox/"
        secure = _get(port, "/login/", **{"X-Forwarded-Proto": "https"})
        assert secure.status == 200
        assert secure.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"
        cookies = secure.msg.get_all("Set-Cookie") or []
        csrf = next(c for c in cookies if c.startswith("csrftoken="))
        assert "Secure" in csrf and "HttpOnly" in csrf
    finally:
        stop(proc)


def test_a_client_claiming_https_without_being_a_trusted_proxy_is_still_redirected(tmp_path):
    proc, port = _serve(tmp_path, trusted="")
    try:
        claimed = _get(port, "/login/", **{"X-Forwarded-Proto": "https"})
        assert claimed.status == 301 and claimed.getheader("Location") == f"https://{HOST}/login/"
        assert claimed.getheader("Strict-Transport-Security") is None
    finally:
        stop(proc)
