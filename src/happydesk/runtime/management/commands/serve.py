"""`happydesk serve`: pages (Django's WSGI handler on a thread pool) and websockets (Channels) on one uvicorn
loop, the SMTP listener on the same loop, and worker processes, as one process tree (ADR 0007)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def host_port(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host:
        return value or "127.0.0.1", default_port
    try:
        return host.strip("[]"), int(port)
    except ValueError as exc:
        raise CommandError(f"expected HOST:PORT, got {value!r}") from exc


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: the worker stops if `serve` is killed


class Command(BaseCommand):
    help = "Serve HTTP and websockets, listen for SMTP, and run the task worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--http", default="127.0.0.1:8000", help="HOST:PORT for HTTP (default 127.0.0.1:8000)"
        )
        parser.add_argument(
            "--smtp", default="127.0.0.1:2525", help="HOST:PORT for SMTP (default 127.0.0.1:2525)"
        )
        parser.add_argument("--no-smtp", action="store_true", help="do not listen for SMTP")
        parser.add_argument("--no-worker", action="store_true", help="do not start worker processes")
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("HAPPYDESK_WORKERS", "2")),
            help="worker processes to start (default 2, or HAPPYDESK_WORKERS)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        http_host, http_port = host_port(opts["http"], 8000)
        smtp_addr = None if opts["no_smtp"] else host_port(opts["smtp"], 2525)
        count = 0 if opts["no_worker"] else max(1, opts["workers"])
        # Without Redis the workers' realtime pushes (the live inbox) come to this process's layer.
        relay = None if os.environ.get("REDIS_URL") or not count else self._relay_path()
        from happydesk.accounts.sso_secrets import sso_secrets_note_changes

        sso_secrets_note_changes()  # the audit log hears of secrets changed while we were down
        env = {**os.environ, **({"HAPPYDESK_REALTIME_RELAY": str(relay)} if relay else {})}
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "happydesk.cli", "worker"],
                preexec_fn=_die_with_parent,  # only sets the parent-death signal
                env=env,
            )
            for _ in range(count)
        ]
        try:
            asyncio.run(self._serve(http_host, http_port, smtp_addr, relay))
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
            for worker in workers:
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()

    @staticmethod
    def _relay_path() -> Path:
        from django.conf import settings

        return Path(settings.DATA_DIR) / "run" / f"realtime-{os.getpid()}.sock"

    async def _serve(
        self, http_host: str, http_port: int, smtp_addr: tuple[str, int] | None, relay: Path | None
    ) -> None:
        import uvicorn
        from django.conf import settings

        from happydesk.mail.transports.smtp import start_smtp_server
        from happydesk.runtime.relay import relay_start

        smtp_server = await start_smtp_server(*smtp_addr) if smtp_addr else None
        relay_transport = await relay_start(relay) if relay else None
        config = uvicorn.Config(
            "happydesk.asgi:application",
            host=http_host,
            port=http_port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            # The client address and scheme come from X-Forwarded-For/-Proto only when a trusted proxy
            # sent them; uvicorn's own default would believe any process on loopback.
            proxy_headers=True,
            forwarded_allow_ips=list(settings.HAPPYDESK_TRUSTED_PROXIES),
        )
        server = uvicorn.Server(config)
        self.stdout.write(
            f"Happydesk serving http://{http_host}:{http_port}/"
            + (f" and SMTP on {smtp_addr[0]}:{smtp_addr[1]}" if smtp_addr else "")
        )
        self.stdout.flush()
        try:
            await server.serve()
        finally:
            if smtp_server is not None:
                smtp_server.close()
            if relay_transport is not None:
                relay_transport.close()
                relay.unlink(missing_ok=True)  # type: ignore[union-attr]  # set with the transport
