"""A real OpenID Connect provider on loopback for the agent sign-in tests (oidc-provider-mock, Flask + authlib).

`OidcProvider` runs the provider as a threaded HTTP server on a free 127.0.0.1 port. A thin WSGI layer in
front of it adds what the tests need from a provider and the mock leaves out:

- PKCE (RFC 7636): the mock accepts any `code_verifier`; the layer remembers each code's `code_challenge`
  and answers `invalid_grant` at the token endpoint when the verifier does not match (S256), as a real
  provider does.
- Misbehaviour on demand, so the relying party's checks can be seen to work on genuine, signed tokens:
  `issue_for_client` makes the provider issue the code and tokens to another registered client (the ID
  token's `aud` is that client), `token_host` makes the token endpoint sign ID tokens naming another
  issuer (the mock takes `iss` from the Host header), `discovery_host` makes the discovery document
  name another issuer.
- `issued` keeps every token and code the provider handed out, so a test can check none was logged.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import requests
import werkzeug.serving

from tests.helpers import free_port


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class _Layer:
    """WSGI middleware around the provider app (see the module docstring)."""

    def __init__(self, app: Any, provider: OidcProvider) -> None:
        self.app = app
        self.provider = provider
        self.challenges: dict[str, tuple[str, str]] = {}  # code -> (code_challenge, method)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        p = self.provider
        path = environ.get("PATH_INFO", "")
        if path == "/.well-known/openid-configuration" and p.discovery_host:
            environ["HTTP_HOST"] = p.discovery_host
        if path == "/oauth2/authorize":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            return self._token(environ, start_response)
        return self.app(environ, start_response)

    @staticmethod
    def _read(body: Any) -> list[bytes]:
        try:
            return [bytes(chunk) for chunk in body]
        finally:
            if hasattr(body, "close"):
                body.close()

    def _authorize(self, environ: dict, start_response: Any) -> Any:
        p = self.provider
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if p.issue_for_client and "client_id" in query:
            query["client_id"] = p.issue_for_client[0]
            environ["QUERY_STRING"] = urlencode(query)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        body = self._read(self.app(environ, capture))  # the app is lazy: headers come with the body
        for name, value in captured.get("headers", []):
            if name.lower() == "location":
                code = parse_qs(urlsplit(value).query).get("code", [""])[0]
                if code:
                    p.issued.append(code)
                    if "code_challenge" in query:
                        self.challenges[code] = (
                            query["code_challenge"],
                            query.get("code_challenge_method", "plain"),
                        )
        return body

    def _token(self, environ: dict, start_response: Any) -> Any:
        p = self.provider
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        expected = self.challenges.pop(form.get("code", ""), None)
        if expected is not None:
            challenge, method = expected
            verifier = form.get("code_verifier", "")
            ok = (_s256(verifier) if method == "S256" else verifier) == challenge
            if not ok:
                p.pkce_failures += 1
                payload = json.dumps(
                    {"error": "invalid_grant", "error_description": "Code challenge failed."}
                )
                start_response("400 BAD REQUEST", [("Content-Type", "application/json")])
                return [payload.encode()]
        if p.issue_for_client:
            client_id, secret = p.issue_for_client
            basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            environ["HTTP_AUTHORIZATION"] = f"Basic {basic}"
            form.pop("client_id", None)
            form.pop("client_secret", None)
        if p.token_host:
            environ["HTTP_HOST"] = p.token_host
        raw = urlencode(form).encode()
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        chunks = self._read(self.app(environ, start_response))
        try:
            token = json.loads(b"".join(chunks))
            p.issued.extend(
                str(token[k]) for k in ("access_token", "id_token", "refresh_token") if k in token
            )
        except ValueError:
            pass
        return chunks


class OidcProvider:
    """oidc-provider-mock served for real over HTTP on 127.0.0.1; clients must be registered."""

    def __init__(self, *, token_max_age: timedelta = timedelta(hours=1)) -> None:
        from oidc_provider_mock import app as provider_app

        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.issued: list[str] = []
        self.pkce_failures = 0
        self.issue_for_client: tuple[str, str] | None = None
        self.token_host: str | None = None
        self.discovery_host: str | None = None
        app = provider_app(
            require_client_registration=True, require_nonce=True, access_token_max_age=token_max_age
        )
        self.server = werkzeug.serving.make_server("127.0.0.1", self.port, _Layer(app, self), threaded=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> OidcProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def reset(self) -> None:
        """Forget the misbehaviour switches between tests."""
        self.issue_for_client = None
        self.token_host = None
        self.discovery_host = None

    def register_client(self, redirect_uri: str) -> tuple[str, str]:
        """Register a confidential client (RFC 7591) and return its id and secret."""
        resp = requests.post(
            f"{self.issuer}/oauth2/clients",
            json={"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "client_secret_basic"},
            timeout=5,
        )
        resp.raise_for_status()
        body = resp.json()
        return body["client_id"], body["client_secret"]

    def set_user(self, sub: str, **claims: object) -> None:
        """Create or replace the provider's user `sub` with these ID token claims."""
        resp = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        assert resp.status_code == 204, resp.text

    def authorize(self, authorize_url: str, sub: str | None, *, deny: bool = False) -> str:
        """Play the person at the provider's sign-in page: open it, pick `sub` (or deny), and return the
        URL the provider sends the browser back to."""
        page = requests.get(authorize_url, timeout=5)
        assert page.status_code == 200, page.text
        data = {"action": "deny"} if deny else {"sub": sub}
        resp = requests.post(authorize_url, data=data, allow_redirects=False, timeout=5)
        assert resp.status_code in (302, 303), resp.text
        return resp.headers["Location"]
