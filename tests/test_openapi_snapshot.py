"""The checked-in OpenAPI snapshot (docs/api/openapi.json) and `happydesk openapi --check|--write`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from happydesk.accounts.services import token_create
from happydesk.api import snapshot


def check(path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    out, err = StringIO(), StringIO()
    call_command("openapi", "--check", "--snapshot", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_rendered_schema_is_what_the_api_serves(agent):
    served = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=agent)}").get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert json.loads(snapshot.render()) == served.json()


def test_checked_in_snapshot_is_current():
    out, err = check(snapshot.SNAPSHOT)
    assert "matches" in out and not err


def test_check_fails_with_a_diff_and_the_refresh_command_when_the_snapshot_differs(tmp_path):
    stale = tmp_path / "openapi.json"
    schema = json.loads(snapshot.SNAPSHOT.read_text())
    del schema["paths"]["/api/v1/quarantine"]
    stale.write_text(json.dumps(schema, sort_keys=True, indent=2) + "\n")

    err = StringIO()
    with pytest.raises(CommandError, match="make openapi"):
        call_command("openapi", "--check", "--snapshot", str(stale), stderr=err)
    diff = err.getvalue().splitlines()
    assert diff[0].startswith("---") and diff[1].startswith("+++")
    assert '+    "/api/v1/quarantine": {' in diff


def test_check_fails_when_there_is_no_snapshot(tmp_path):
    with pytest.raises(CommandError, match="make openapi"):
        check(tmp_path / "missing.json")


def test_write_refreshes_the_snapshot_so_the_check_passes(tmp_path):
    path = tmp_path / "api" / "openapi.json"
    call_command("openapi", "--write", "--snapshot", str(path), stdout=StringIO())
    assert path.read_text() == snapshot.SNAPSHOT.read_text()
    assert "matches" in check(path)[0]


def test_diff_marks_what_changed_and_stops_after_80_lines():
    lines = snapshot.diff('{\n  "a": 1\n}\n', '{\n  "a": 2\n}\n')
    assert '-  "a": 1' in lines and '+  "a": 2' in lines
    assert snapshot.diff("same\n", "same\n") == []

    long = snapshot.diff("".join(f"{i}\n" for i in range(200)), "")
    assert len(long) == snapshot.DIFF_LINES + 1
    assert long[-1] == f"... {2 + 1 + 200 - snapshot.DIFF_LINES} more diff lines"  # ---/+++, @@, 200 lines
