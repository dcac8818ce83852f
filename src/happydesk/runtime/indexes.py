"""Rebuilding every search index: the conversations' (the inbox's) and the self-service content from
each app that publishes some. The one list of content providers."""

from __future__ import annotations

from happydesk.community import search_documents as community_documents
from happydesk.inbox.indexing import reindex_all
from happydesk.kb import search_documents as kb_documents
from happydesk.search.services import content_reindex

CONTENT_PROVIDERS = (kb_documents.documents, community_documents.documents)


def reindex_everything() -> tuple[int, int]:
    """Returns (conversations, content documents) indexed."""
    return reindex_all(), content_reindex(CONTENT_PROVIDERS)
