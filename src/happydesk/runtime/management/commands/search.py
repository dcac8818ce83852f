"""`happydesk search reindex`: rebuild the full-text indexes from the conversations and the content."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from happydesk.runtime.indexes import reindex_everything


class Command(BaseCommand):
    help = "Maintain the search index."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("reindex", help="rebuild every conversation's and every public page's search document")

    def handle(self, *args: Any, **opts: Any) -> None:
        conversations, content = reindex_everything()
        self.stdout.write(f"indexed {conversations} conversations")
        self.stdout.write(f"indexed {content} articles, topics, ideas and announcements")
