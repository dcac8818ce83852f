"""The application `happydesk serve` runs (ADR 0007): pages on Django's WSGI handler in a fixed pool of
threads, websockets on Channels, both on one uvicorn event loop.

Pages run as WSGI because Django's ASGI handler gives every request's sync view a fresh thread, so every
request opened a fresh database connection and `CONN_MAX_AGE` never applied; the pool's threads keep
theirs. Websockets stay asynchronous: one page thread is not held per open socket.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happydesk.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

pages = get_wsgi_application()  # sets Django up before the routes below import models

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from happydesk.inbox.live import on_serving_loop  # noqa: E402
from happydesk.routing import websocket_application  # noqa: E402

application = on_serving_loop(
    ProtocolTypeRouter(
        {
            # django-stubs type the handler's return as HttpResponseBase, which is the iterable of bytes
            # WSGI wants; a2wsgi's protocol names only the iterable.
            "http": WSGIMiddleware(pages, workers=settings.HAPPYDESK_PAGE_THREADS),  # type: ignore[arg-type]
            # Session auth for websockets behind an exact Origin check (routing.py): a page on another site
            # cannot open them with our agents' cookies.
            "websocket": websocket_application(),
        }
    )
)
