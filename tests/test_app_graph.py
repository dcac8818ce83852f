"""The app graph check (scripts/app_graph.py): the real tree passes, and it catches what it is for."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("app_graph", ROOT / "scripts" / "app_graph.py")
assert spec and spec.loader
app_graph = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app_graph)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "happydesk"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_real_apps_have_no_cycle_and_no_upward_import():
    assert app_graph.problems(app_graph.graph()) == []


def test_an_import_inside_a_function_that_closes_a_loop_is_a_cycle(tmp_path):
    root = _tree(
        tmp_path,
        {
            "kb/services.py": "from happydesk.community.models import Topic\n",
            "community/services.py": "def f():\n    from happydesk.kb import services\n",
        },
    )
    found = app_graph.problems(app_graph.graph(root))
    assert any(p.startswith("cycle between community, kb") for p in found)
    assert any("community/services.py:2" in p for p in found)


def test_the_core_importing_a_feature_goes_up_a_layer(tmp_path):
    root = _tree(tmp_path, {"inbox/services.py": "from happydesk.feedback.services import rating_block\n"})
    (found,) = app_graph.problems(app_graph.graph(root))
    assert found.startswith("inbox imports feedback, a higher layer (core -> features)")


def test_relative_imports_and_unknown_apps_count(tmp_path):
    root = _tree(
        tmp_path,
        {"mail/outbound.py": "from ..inbox import models\n", "gadgets/x.py": "from happydesk import inbox\n"},
    )
    edges = app_graph.graph(root)
    assert set(edges["mail"]) == {"inbox"} and set(edges["gadgets"]) == {"inbox"}
    assert any(p.startswith("gadgets: not in any layer") for p in app_graph.problems(edges))
