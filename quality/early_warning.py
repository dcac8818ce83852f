"""Early warning precision and recall on a labelled burst (tests/fixtures/quality/early_warning.json).

Builds a mailbox's last 30 days and its last hour through the real services (conversation_open and
message_receive with `at`), runs the real early-warning check, declares the incident from the warning
an agent would click (the one holding most of the outage) the way "Declare incident" does, with its
pre-filled matching, and compares the conversations linked with the labels. Aims: 95% of linked
conversations are about the incident (precision), and 90% of the incident's conversations are linked
(recall). Prints the false links and the missed ones, so a change shows what it fixed or broke.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "quality" / "early_warning.json"
PRECISION_AIM = 0.95
RECALL_AIM = 0.90


@dataclass
class Result:
    precision: float
    recall: float
    false_links: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.precision >= PRECISION_AIM and self.recall >= RECALL_AIM


def measure() -> Result:
    """Build the fixture in the current database and measure (needs Django set up and migrated)."""
    from django.utils import timezone

    from happydesk.accounts.services import agent_create
    from happydesk.customers.services import customer_for_address
    from happydesk.inbox.services import conversation_open, mailbox_create, message_receive
    from happydesk.status import early_warning, plan
    from happydesk.status.models import IncidentLink

    doc = json.loads(FIXTURE.read_text())
    now = timezone.now().replace(microsecond=0)
    mailbox = mailbox_create(address="support@sense.test", name="Sense Support", auto_reply_enabled=False)
    author = agent_create(
        email="lead@sense.test",
        name="Lea Lead",
        password="correct-horse-battery",  # noqa: S106
        admin=True,
    )
    incident_ids: set[int] = set()
    subjects: dict[int, str] = {}
    rows = [(r, False) for r in doc["background"]] + [(r, True) for r in doc["burst"]]
    for i, (row, in_burst) in enumerate(rows):
        at = now - timedelta(minutes=row["minutes_ago"], seconds=i % 50)
        address = f"customer{i}@example.test"
        customer = customer_for_address(address=address, name=f"Customer {i}")
        conversation = conversation_open(mailbox=mailbox, customer=customer, subject=row["subject"], at=at)
        message_receive(
            conversation=conversation,
            customer=customer,
            from_name=customer.name,
            from_address=address,
            subject=row["subject"],
            text=row["text"],
            at=at,
        )
        subjects[conversation.pk] = row["subject"]
        if in_burst and row["incident"]:
            incident_ids.add(conversation.pk)

    early_warning.early_warning_check(now=now)
    warnings = list(early_warning.active_warnings(now=now))
    described = [f"{w.sentence} ({len(w.conversation_ids)} conversations)" for w in warnings]
    if not warnings:
        return Result(0.0, 0.0, missed=sorted(subjects[c] for c in incident_ids), warnings=described)
    # The agent clicks "Declare incident" on the warning about the outage: the one holding most of it.
    warning = max(warnings, key=lambda w: len(incident_ids & set(w.conversation_ids)))
    tags, words = early_warning.warning_keywords(warning)
    incident = plan.incident_declare_with_plan(
        title=f"Customers report problems with {warning.label}",
        body="Looking into it.",
        author=author,
        tags=tags,
        keywords=words,
        since=now - timedelta(hours=3),  # the declare form's default
        warning=warning,
        notify=False,
        at=now,
    )
    linked = set(IncidentLink.objects.filter(incident=incident).values_list("conversation_id", flat=True))
    right = linked & incident_ids
    return Result(
        precision=len(right) / len(linked) if linked else 0.0,
        recall=len(right) / len(incident_ids),
        false_links=sorted(subjects[c] for c in linked - incident_ids),
        missed=sorted(subjects[c] for c in incident_ids - linked),
        warnings=described,
    )


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from quality._django import setup

    setup()
    result = measure()
    for line in result.warnings:
        print(f"  warning: {line}")
    print(
        f"early warning: precision {result.precision:.0%} (aim {PRECISION_AIM:.0%}), "
        f"recall {result.recall:.0%} (aim {RECALL_AIM:.0%})"
    )
    for subject in result.false_links:
        print(f"  false link: {subject}")
    for subject in result.missed:
        print(f"  missed: {subject}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
