"""Redaction: does "Make an article" take out exactly what is personal, and nothing else?

Builds each reply of tests/fixtures/quality/redact.json as a real conversation through our services (the
customer with their addresses and company, their messages signed with the names they use, the agents who
wrote in it), turns the reply into a draft article with `kb.services.article_from_reply`, and compares the
body with the expected text. Besides exact matches it counts over-redaction (words of the expected text
that went missing: order numbers, dates, prices, our own addresses) and under-redaction (personal strings
that survived). Aim: no over-redaction at all and at least 95% of replies exactly right.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "quality" / "redact.json"
AIM_EXACT = 0.95
AIM_OVER = 0
AIM_UNDER = 0  # personal strings left in: none, a leak is a leak
PLACEHOLDER = re.compile(r"\[[a-z ]+?(?: \d+)?\]")
TOKEN = re.compile(r"\w+(?:['’.@+/-]\w+)*")


@dataclass
class Result:
    exact: int = 0
    total: int = 0
    over: dict[str, list[str]] = field(default_factory=dict)  # case id -> words that went missing
    under: dict[str, list[str]] = field(default_factory=dict)  # case id -> personal strings left
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # (id, expected, got)

    @property
    def share(self) -> float:
        return self.exact / self.total if self.total else 0.0

    @property
    def over_count(self) -> int:
        return sum(len(words) for words in self.over.values())

    @property
    def under_count(self) -> int:
        return sum(len(found) for found in self.under.values())


def _tokens(text: str) -> Counter[str]:
    return Counter(TOKEN.findall(PLACEHOLDER.sub(" ", text)))


def _personal_left(text: str, personal: list[str]) -> list[str]:
    return [p for p in personal if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text)]


def article_body(case: dict, n: int) -> str:
    """The case as a conversation, its reply turned into a draft article: the article's body."""
    from happydesk.accounts.services import agent_create
    from happydesk.customers.models import CustomerEmail
    from happydesk.customers.services import customer_for_address
    from happydesk.inbox.services import conversation_open, mailbox_create, message_receive, reply_create
    from happydesk.kb.services import article_from_reply

    mailbox = mailbox_create(address="support@acme.test", name="Acme Support", auto_reply_enabled=False)
    agents = [
        agent_create(email=re.sub(r"[^a-z]", "", name.lower()) + "@acme.test", name=name)
        for name in case["agents"]
    ]
    person = case["customer"]
    others = person["emails"][1:]
    customer = customer_for_address(address=person["emails"][0], name=person["name"])
    for address in others:
        CustomerEmail.objects.get_or_create(customer=customer, address=address)
    customer.company = person.get("company", "")
    customer.save(update_fields=["company"])
    conversation = conversation_open(mailbox=mailbox, customer=customer, subject="A question")
    for from_name in case.get("from_names") or [person["name"]]:
        message_receive(
            conversation=conversation,
            customer=customer,
            from_name=from_name,
            from_address=person["emails"][0],
            subject="A question",
            text="Could you help me with this, please?",
        )
    for colleague in agents[1:]:
        reply_create(conversation=conversation, author=colleague, text="Let me look into it with the team.")
    reply = reply_create(conversation=conversation, author=agents[0], text=case["text"])
    return article_from_reply(message=reply, author=agents[0]).body


def measure(cases: list[dict] | None = None) -> Result:
    """Every fixture reply through the real "Make an article" service, scored against its expected text."""
    cases = cases if cases is not None else json.loads(FIXTURE.read_text())["replies"]
    result = Result(total=len(cases))
    for n, case in enumerate(cases):
        got = article_body(case, n)
        expected = case["expected"]
        if got == expected:
            result.exact += 1
        else:
            result.wrong.append((case["id"], expected, got))
        missing = _tokens(expected) - _tokens(got)
        if missing:
            result.over[case["id"]] = sorted(missing.elements())
        left = _personal_left(got, case["personal"])
        if left:
            result.under[case["id"]] = left
    return result


def main() -> int:
    from quality._django import setup

    setup()
    result = measure()
    for case_id, expected, got in result.wrong:
        print(f"  {case_id}:\n    expected: {expected!r}\n    got:      {got!r}")
    for case_id, words in result.over.items():
        print(f"  over-redacted in {case_id}: {', '.join(words)}")
    for case_id, left in result.under.items():
        print(f"  left in {case_id}: {', '.join(left)}")
    print(
        f"redact: {result.exact} of {result.total} replies redacted exactly ({result.share:.0%}); "
        f"over-redaction: {result.over_count} non-personal words changed in {len(result.over)} replies; "
        f"under-redaction: {result.under_count} personal strings left in {len(result.under)} replies "
        f"(aim: {AIM_EXACT:.0%} exact, {AIM_OVER} over-redacted, {AIM_UNDER} left)"
    )
    met = result.share >= AIM_EXACT and result.over_count <= AIM_OVER and result.under_count <= AIM_UNDER
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
