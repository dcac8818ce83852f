"""The checked-in OpenAPI snapshot (docs/api/openapi.json) and the schema the code serves.

CI compares the two (`happydesk openapi --check`, run by `make lint`), so a change to the API's shape
shows up in review as a readable diff of the snapshot instead of going unnoticed.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from ninja.responses import NinjaJSONEncoder

# The source tree's docs/ (src/happydesk/api/snapshot.py -> the repository root).
SNAPSHOT = Path(__file__).resolve().parents[3] / "docs" / "api" / "openapi.json"
REFRESH = "make openapi"
DIFF_LINES = 80


def render() -> str:
    """The schema /api/v1/openapi.json serves, as stable text: sorted keys, two-space indent, a final
    newline. The schema holds no host (servers is empty) and the API version is the fixed "1", so the
    text changes only when the API does (or when django-ninja's output does, on an upgrade)."""
    from happydesk.api.api import api

    # The openapi.json view serialises with this encoder too (ninja.openapi.views.openapi_json).
    schema = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def diff(snapshot: str, served: str, *, name: str = "docs/api/openapi.json") -> list[str]:
    """A unified diff from the snapshot to the served schema, at most DIFF_LINES lines (empty if equal)."""
    lines = list(
        difflib.unified_diff(
            snapshot.splitlines(),
            served.splitlines(),
            fromfile=f"{name} (checked in)",
            tofile="/api/v1/openapi.json (served by the code)",
            lineterm="",
        )
    )
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... {len(lines) - DIFF_LINES} more diff lines"]
    return lines
