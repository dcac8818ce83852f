"""One box without Redis: `happydesk serve` runs web and websockets in one process with the in-memory
channel layer, and its workers in others. Workers send their realtime pushes to a Unix datagram socket
that the serving process reads and passes to its layer (inbox/live.py sends; this receives)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from pathlib import Path

log = logging.getLogger(__name__)


class _Relay(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        from channels.layers import get_channel_layer

        self.layer = get_channel_layer()

    def datagram_received(self, data: bytes, addr: object) -> None:
        try:
            item = json.loads(data)
            group, message = str(item["group"]), dict(item["message"])
        except (ValueError, KeyError, TypeError):
            log.warning("realtime relay: dropped a malformed datagram")
            return
        if self.layer is not None:
            asyncio.ensure_future(self.layer.group_send(group, message))


async def relay_start(path: Path) -> asyncio.DatagramTransport:
    """Listen on `path` (owner-only: any local process that can write there could push to pages)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)  # an existing folder too: nobody else may connect before the chmod below
    path.unlink(missing_ok=True)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_Relay, local_addr=str(path), family=socket.AF_UNIX)
    os.chmod(path, 0o600)
    return transport
