"""An email backend that writes each outgoing message as an .eml file: the safe default for `make run`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class OutboxDirectoryBackend(BaseEmailBackend):
    """Writes `<timestamp>-<id>.eml` files to EMAIL_FILE_PATH instead of sending."""

    def __init__(self, fail_silently: bool = False, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.path = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.path.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            from django.utils import timezone

            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            tmp = self.path / (name + ".tmp")
            tmp.write_bytes(_as_crlf_bytes(message.message()))
            os.replace(tmp, self.path / name)
            sent += 1
        return sent


def _as_crlf_bytes(msg: Message) -> bytes:
    """The message with CRLF line ends, as Django 5.2's SafeMIME*.as_bytes(linesep="\r\n") writes it
    (spelled out because the stubs type message() as the stdlib EmailMessage, whose as_bytes has no linesep)."""
    fp = BytesIO()
    BytesGenerator(fp, mangle_from_=False).flatten(msg, linesep="\r\n")
    return fp.getvalue()
