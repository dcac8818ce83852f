"""Reading messages from .eml files, mbox files and maildirs for `happydesk mail import`."""

from __future__ import annotations

import mailbox as stdlib_mailbox
from collections.abc import Iterator
from pathlib import Path


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def _looks_like_mbox(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(5) == b"From "


def iter_messages(paths: list[Path]) -> Iterator[tuple[str, bytes]]:
    """Yield (origin, raw bytes) for every message found under the given paths."""
    for path in paths:
        if _is_maildir(path):
            box = stdlib_mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(box.keys()):
                with box.get_file(key) as fh:
                    yield f"maildir {path}:{key}", fh.read()
        elif path.is_dir():
            yield from iter_messages(sorted(p for p in path.iterdir() if not p.name.startswith(".")))
        elif path.is_file() and _looks_like_mbox(path):
            mbox = stdlib_mailbox.mbox(path, factory=None, create=False)
            for index, key in enumerate(mbox.keys()):
                with mbox.get_file(key) as fh:
                    yield f"mbox {path}#{index}", fh.read()
        elif path.is_file():
            yield f"file {path}", path.read_bytes()


def count_messages(paths: list[Path]) -> int:
    """Cheap count for the progress bar."""
    total = 0
    for path in paths:
        if _is_maildir(path):
            total += sum(
                1 for sub in ("cur", "new") for p in (path / sub).iterdir() if not p.name.startswith(".")
            )
        elif path.is_dir():
            total += count_messages([p for p in path.iterdir() if not p.name.startswith(".")])
        elif path.is_file() and _looks_like_mbox(path):
            with open(path, "rb") as fh:
                total += sum(1 for line in fh if line.startswith(b"From "))
        elif path.is_file():
            total += 1
    return total
