#!/usr/bin/env python3
"""Print the import graph between Happydesk's apps and fail on a cycle or an import that goes up a layer.

Every `import` and `from ... import` in src/happydesk counts, at module level or inside a function
(migrations excepted: they name historical states). An app is a package under src/happydesk; a
top-level module (config.py, jobs.py...) is a node of its own. LAYERS below is the architecture that
docs/architecture.md draws; an app may import apps of its own layer or lower ones, never higher ones,
and no two apps may import each other, directly or around a loop.

    python scripts/app_graph.py            # graph, then OK or the offending imports (exit 1)
    python scripts/app_graph.py --dot      # the graph in Graphviz dot
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "happydesk"

# Lowest first. Within a layer imports are allowed as long as they form no cycle.
LAYERS: list[tuple[str, set[str]]] = [
    (
        "base",
        {"config", "crypto", "tokens", "jobs", "ratelimit", "redirects", "db", "headers", "web", "audit"},
    ),
    ("foundations", {"customers", "accounts", "search", "scheduling"}),
    ("core", {"inbox", "mail"}),
    (
        "features",
        {"replies", "kb", "community", "status", "feedback", "reports", "portal", "widget", "api", "privacy"},
    ),
    ("runtime", {"runtime"}),
    ("project", {"settings", "urls", "routing", "asgi", "wsgi", "cli"}),
]
LAYER_OF = {app: i for i, (_, apps) in enumerate(LAYERS) for app in apps}

Edges = dict[str, dict[str, list[str]]]


def app_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_modules(node: ast.AST, path: Path, root: Path) -> list[str]:
    """The absolute module names an import statement brings in (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        package = ("happydesk", *path.relative_to(root).parent.parts)
        base = package[: len(package) - (node.level - 1)]
        module = ".".join((*base, node.module) if node.module else base)
    else:
        module = node.module or ""
    if module == "happydesk":  # `from happydesk import inbox`
        return [f"happydesk.{alias.name}" for alias in node.names]
    return [module]


def graph(root: Path = ROOT) -> Edges:
    """app -> imported app -> every `file:line` that imports it."""
    edges: Edges = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        source = app_of(path, root)
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            for module in imported_modules(node, path, root):
                parts = module.split(".")
                if len(parts) > 1 and parts[0] == "happydesk" and parts[1] != source:
                    edges[source][parts[1]].append(f"{path.relative_to(root)}:{node.lineno}")
    return edges


def cycles(edges: Edges) -> list[list[str]]:
    """Strongly connected components with more than one app (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    nodes = set(edges) | {t for targets in edges.values() for t in targets}
    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def problems(edges: Edges) -> list[str]:
    """Every reason the graph is not the architecture: unknown apps, upward imports, cycles."""
    nodes = set(edges) | {t for targets in edges.values() for t in targets}
    out = [
        f"{app}: not in any layer of scripts/app_graph.py (add it where it belongs)"
        for app in sorted(nodes - set(LAYER_OF))
    ]
    for source in sorted(edges):
        for target, where in sorted(edges[source].items()):
            if source in LAYER_OF and target in LAYER_OF and LAYER_OF[target] > LAYER_OF[source]:
                up = f"{LAYERS[LAYER_OF[source]][0]} -> {LAYERS[LAYER_OF[target]][0]}"
                out.append(f"{source} imports {target}, a higher layer ({up}): {', '.join(where)}")
    for component in cycles(edges):
        lines = [
            f"  {a} -> {b}: {', '.join(edges[a][b])}"
            for a in component
            for b in component
            if b in edges.get(a, {})
        ]
        out.append(f"cycle between {', '.join(component)}:\n" + "\n".join(lines))
    return out


def main(argv: list[str]) -> int:
    edges = graph()
    if "--dot" in argv:
        print("digraph apps {")
        for source in sorted(edges):
            for target in sorted(edges[source]):
                print(f'  "{source}" -> "{target}";')
        print("}")
        return 0
    for name, apps in reversed(LAYERS):
        print(f"{name}:")
        for app in sorted(apps):
            targets = edges.get(app, {})
            listed = ", ".join(f"{t}({len(w)})" for t, w in sorted(targets.items())) or "-"
            print(f"  {app:<10} -> {listed}")
    found = problems(edges)
    if found:
        print("\nThe app graph breaks the layers (docs/architecture.md):", file=sys.stderr)
        for line in found:
            print(f"- {line}", file=sys.stderr)
        return 1
    print("\napp graph: no cycles, no import goes up a layer")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
