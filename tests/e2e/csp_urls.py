"""The site's URLs plus one test-only page that carries what an attacker would inject into a page: an
inline script, an inline event handler and a `javascript:` link. Used by tests/e2e/test_csp.py through
`@pytest.mark.urls`; production never routes here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from happydesk.urls import urlpatterns as site_urlpatterns

INJECTED = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Injected</title></head>
<body>
<p id="script">inline script did not run</p>
<p id="handler">inline handler did not run</p>
<script>document.getElementById("script").textContent = "inline script ran";</script>
<img id="broken" src="data:," alt="" onerror="document.getElementById('handler').textContent = 'inline handler ran'">
<a id="js-link" href="javascript:document.title='javascript: link ran'">a javascript: link</a>
</body></html>"""


def injected(request: HttpRequest) -> HttpResponse:
    """A page of ours (so under the site's policy) holding an injected script, handler and link."""
    return HttpResponse(INJECTED)


urlpatterns = [path("test-only/injected/", injected), *site_urlpatterns]
