"""An email backend that writes each outgoing message as an .eml file: the safe default for `make run`."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class OutboxDirectoryBackend(BaseEmailBackend):
    """Writes `<timestamp>-<id>.eml` files to EMAIL_FILE_PATH instead of sending."""

    def __init__(self, fail_silently: bool = False, file_path: str | None = None, **kwargs) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.path = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:  # type: ignore[no-untyped-def]
        self.path.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            from django.utils import timezone

            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            tmp = self.path / (name + ".tmp")
            tmp.write_bytes(message.message().as_bytes(linesep="\r\n"))
            os.replace(tmp, self.path / name)
            sent += 1
        return sent
