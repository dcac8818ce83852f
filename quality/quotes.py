"""Quote stripping: is the customer's new text separated from quoted history and signature?

Every case in tests/fixtures/quality/quotes/ is a raw reply (`<client>__<case>.eml`) with the text an
agent should see as the customer's new words (`.txt`). The raw bytes go through `parse_email`, the
function mail/inbound calls before it stores `Message.text` (= `ParsedEmail.new_text`); the parser is
pure, so no database is needed. Texts are compared with whitespace normalised (line wrapping and blank
lines do not count, words and their order do).

`--candidates` also measures third-party splitters on the same decoded text, when they can be
imported (put a throwaway venv's site-packages last on PYTHONPATH to try ones we do not depend on).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from happydesk.mail.parsing import parse_email

AIM = 0.85
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "quality" / "quotes"

Splitter = Callable[[str], str]


@dataclass
class Case:
    name: str
    client: str
    raw: bytes
    expected: str


@dataclass
class Result:
    total: int = 0
    correct: int = 0
    misses: list[tuple[Case, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else 0.0


def normalise(text: str) -> str:
    """Whitespace-insensitive form of a text: words in order, single spaces."""
    return " ".join(text.split())


def load_cases(folder: Path = CORPUS) -> list[Case]:
    """Every .eml with its expected .txt, sorted by name."""
    cases = []
    for eml in sorted(folder.glob("*.eml")):
        client = eml.stem.split("__", 1)[0]
        expected = eml.with_suffix(".txt").read_text(encoding="utf-8")
        cases.append(Case(eml.stem, client, eml.read_bytes(), expected))
    return cases


def measure(cases: list[Case], splitter: Splitter | None = None) -> Result:
    """Our parser's new text per case (or `splitter` applied to the decoded full text)."""
    result = Result()
    for case in cases:
        parsed = parse_email(case.raw)
        got = parsed.new_text if splitter is None else (splitter(parsed.text) or "")
        result.total += 1
        if normalise(got) == normalise(case.expected):
            result.correct += 1
        else:
            result.misses.append((case, got))
    return result


def _candidates() -> dict[str, Splitter]:
    """Third-party reply splitters that can be imported here, by name."""
    found: dict[str, Splitter] = {}
    try:
        import quotequail

        def quotequail_split(text: str) -> str:
            info = quotequail.unwrap(text)
            if info and info.get("type") == "reply" and info.get("text_top"):
                return str(info["text_top"])
            parts = quotequail.quote(text, quote_intro_line=True)
            return parts[0][1] if parts and parts[0][0] else text

        found["quotequail"] = quotequail_split
    except ImportError:
        pass
    try:
        from email_reply_parser import EmailReplyParser as Zapier

        found["email-reply-parser"] = Zapier.parse_reply
    except ImportError:
        pass
    try:
        from mailparser_reply import EmailReplyParser as Alfonsrv

        languages = ["en", "de", "fr", "es", "nl", "it", "pl", "sv", "da", "ja", "zh", "ko"]
        parser = Alfonsrv(languages=languages)
        found["mail-parser-reply"] = lambda text: parser.parse_reply(text) or ""
    except ImportError:
        pass
    return found


def _short(text: str, width: int = 90) -> str:
    flat = normalise(text)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def report(result: Result, label: str = "quotes") -> None:
    """The rate against the aim, then the misses grouped by mail client."""
    print(
        f"{label}: {result.correct} of {result.total} separated correctly ({result.rate:.0%}) — aim {AIM:.0%}"
    )
    by_client: dict[str, list[tuple[Case, str]]] = {}
    for case, got in result.misses:
        by_client.setdefault(case.client, []).append((case, got))
    for client in sorted(by_client):
        print(f"  {client}: {len(by_client[client])} missed")
        for case, got in by_client[client]:
            print(f"    {case.name}")
            print(f"      expected: {_short(case.expected)}")
            print(f"      got:      {_short(got)}")


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--candidates", action="store_true", help="also measure third-party splitters")
    args.add_argument("--quiet", action="store_true", help="rates only, no list of misses")
    opts = args.parse_args(argv)
    cases = load_cases()
    ours = measure(cases)
    if opts.candidates:
        for name, splitter in _candidates().items():
            other = measure(cases, splitter)
            print(f"{name}: {other.correct} of {other.total} ({other.rate:.0%})")
            if not opts.quiet:
                report(other, name)
    if opts.quiet:
        ours.misses = []
    report(ours)
    return 0 if ours.rate >= AIM else 1


if __name__ == "__main__":
    sys.exit(main())
