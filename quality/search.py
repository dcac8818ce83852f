"""Search answers: how many realistic customer queries find an article that answers them in the top 3
of the /help/ search. The demo help centre (kb/demo.py) is the content; the labelled queries are in
tests/fixtures/quality/search.json. Aim: 90%.

    HAPPYDESK_DATA_DIR=$(mktemp -d) PYTHONPATH=src:. python quality/search.py
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "quality" / "search.json"
AIM = 0.90
TOP = 3


@dataclass
class Measurement:
    answered: int = 0
    total: int = 0
    misses: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # query, wanted, got

    @property
    def share(self) -> float:
        return self.answered / self.total if self.total else 0.0

    def line(self) -> str:
        return (
            f"search: {self.answered} of {self.total} queries answered in the top {TOP} "
            f"({100 * self.share:.0f}%) — aim {100 * AIM:.0f}%"
        )


def load_fixture() -> list[dict]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["queries"]


def measure() -> Measurement:
    """Run every fixture query through the /help/ search over the demo help centre, which must already
    be loaded (kb.demo.load_demo_kb) in the current database."""
    from happydesk.kb.models import Article
    from happydesk.kb.selectors import help_search

    slugs = dict(Article.objects.values_list("pk", "slug"))
    out = Measurement()
    for case in load_fixture():
        results = help_search(case["q"]).results
        got = [slugs.get(r.object_id, r.url) if r.kind in ("article", "faq") else r.url for r in results]
        out.total += 1
        if set(got[:TOP]) & set(case["answers"]):
            out.answered += 1
        else:
            out.misses.append((case["q"], case["answers"], got[:TOP]))
    return out


def main() -> int:
    from quality._django import setup

    setup()
    from happydesk.kb.demo import load_demo_kb

    load_demo_kb()
    result = measure()
    print(result.line())
    for q, wanted, got in result.misses:
        print(f"  miss: {q!r}: wanted {', '.join(wanted)}; top {TOP}: {', '.join(got) or 'nothing'}")
    return 0 if result.share >= AIM else 1


if __name__ == "__main__":
    sys.exit(main())
