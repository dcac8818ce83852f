"""The access lint: interface modules fetch conversations only through happydesk.inbox.access.

Zero IDOR by construction: a view, API endpoint, websocket consumer or route that fetched a conversation
itself could skip the permission check that access_conversation_for_agent / _for_customer and
conversations_for_agent / _for_customer make. The modules are found by walking src/happydesk, so a views
module in a new app is covered without editing this file.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "happydesk"

# The rule: a direct fetch of conversations through the default manager.
FORBIDDEN = re.compile(r"Conversation\.objects\.(get|filter|all)\b")

# Names that make a module an interface: views (views.py, admin_views.py, portal_views.py, ...), the
# django-ninja API modules, Channels consumers, routing (Channels routing.py, Django URLconfs, asgi.py), and
# template tags (a page's panels render what the viewer may see: feedback/templatetags/feedback_tags.py).
INTERFACE_NAMES = ("*views*", "api", "consumers", "routing", "urls", "*_urls", "asgi", "templatetags")

# Interface modules that may fetch conversations themselves, each with its reason. A module listed here
# must still exist and still match the rule (test_allow_list_entries_are_needed), so no entry outlives
# its reason. Format: "app/module.py": "why this module cannot use inbox.access".
ALLOWED: dict[str, str] = {}


def _is_interface_name(name: str) -> bool:
    return any(fnmatch(name, pattern) for pattern in INTERFACE_NAMES)


def interface_modules(root: Path = SRC) -> list[Path]:
    """Every interface module under root: one whose own name says so (widget/views.py, status/api.py,
    inbox/consumers.py, routing.py), or one inside a package split out of such a module
    (inbox/views/list.py) or inside templatetags. An app's own folder does not count (the `api` app's schemas.py is not an
    endpoint module), and migrations are never interfaces (inbox/migrations/0008_saved_views.py)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if "migrations" in rel.parts:
            continue
        packages = rel.parts[1:-1]  # between the app folder and the file
        if _is_interface_name(path.stem) or any(_is_interface_name(p) for p in packages):
            found.append(path)
    return found


def violations(root: Path = SRC, allowed: dict[str, str] | None = None) -> list[str]:
    """Each line of an interface module that breaks the rule, as "module:line: text", except in the
    allowed modules (ALLOWED by default)."""
    allowed = ALLOWED if allowed is None else allowed
    found = []
    for path in interface_modules(root):
        rel = path.relative_to(root).as_posix()
        if rel in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if FORBIDDEN.search(line):
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_interfaces_fetch_conversations_only_through_access_functions():
    found = violations()
    assert not found, "fetch conversations through happydesk.inbox.access in:\n" + "\n".join(found)


def test_the_walk_finds_every_kind_of_interface_module():
    """Guards against a vacuous pass: the walk must see the modules we know are there."""
    found = {p.relative_to(SRC).as_posix() for p in interface_modules()}
    for known in [
        "inbox/views.py",
        "inbox/admin_views.py",
        "accounts/views.py",
        "mail/views.py",
        "replies/views.py",
        "portal/views.py",
        "widget/views.py",
        "feedback/templatetags/feedback_tags.py",
        "community/templatetags/community_tags.py",
        "community/public_views.py",
        "accounts/oidc_views.py",
        "api/api.py",
        "status/api.py",
        "reports/api.py",
        "inbox/consumers.py",
        "inbox/routing.py",
        "routing.py",
        "inbox/urls.py",
        "urls.py",
    ]:
        assert known in found, known
    assert not any("migrations" in p for p in found)
    assert "api/schemas.py" not in found and "inbox/services.py" not in found


def test_allow_list_entries_are_needed():
    modules = {p.relative_to(SRC).as_posix() for p in interface_modules()}
    for module, reason in ALLOWED.items():
        assert reason.strip(), f"{module}: say why it is allowed"
        assert module in modules, f"{module} is allowed but is not an interface module (moved or removed?)"
    unexempted = violations(allowed={})
    for module in ALLOWED:
        assert any(v.startswith(f"{module}:") for v in unexempted), (
            f"{module} no longer fetches conversations itself: remove it from ALLOWED"
        )


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


IDOR = """from happydesk.inbox.models import Conversation


def conversation_page(request, number):
    return Conversation.objects.get(pk=number)
"""


def test_the_lint_fails_on_a_new_views_module_in_a_new_app(tmp_path):
    _write(tmp_path, "newapp/__init__.py", "")
    _write(tmp_path, "newapp/views.py", IDOR)
    assert violations(tmp_path) == ["newapp/views.py:5: return Conversation.objects.get(pk=number)"]


def test_the_lint_covers_every_kind_of_interface_module_and_nothing_else(tmp_path):
    flagged = [
        "newapp/agent_views.py",
        "newapp/api.py",
        "newapp/consumers.py",
        "newapp/routing.py",
        "newapp/urls.py",
        "newapp/review_urls.py",
        "newapp/views/inbox.py",  # a views module split into a package
        "newapp/api/incidents.py",
    ]
    ignored = ["newapp/services.py", "newapp/selectors.py", "newapp/migrations/0002_views.py"]
    for rel in flagged + ignored:
        _write(tmp_path, rel, "rows = Conversation.objects.filter(customer=customer)\n")
    assert sorted(v.split(":")[0] for v in violations(tmp_path)) == sorted(flagged)


def test_an_allow_list_entry_exempts_only_its_module(tmp_path):
    _write(tmp_path, "newapp/views.py", IDOR)
    _write(tmp_path, "newapp/public_views.py", IDOR)
    found = violations(tmp_path, allowed={"newapp/views.py": "test: a reason"})
    assert [v.split(":")[0] for v in found] == ["newapp/public_views.py"]
