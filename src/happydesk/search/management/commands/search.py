"""`happydesk search reindex`: rebuild the full-text indexes from the conversations and the content."""

from django.core.management.base import BaseCommand

from happydesk.search.services import content_reindex, reindex_all


class Command(BaseCommand):
    help = "Maintain the search index."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("reindex", help="rebuild every conversation's and every public page's search document")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        self.stdout.write(f"indexed {reindex_all()} conversations")
        self.stdout.write(f"indexed {content_reindex()} articles, topics, ideas and announcements")
