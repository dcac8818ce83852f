"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happydesk.settings")

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_app = get_asgi_application()

from happydesk.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_app,
        # Session auth for websockets behind an exact Origin check (routing.py): a page on another site
        # cannot open them with our agents' cookies.
        "websocket": websocket_application(),
    }
)
