"""Merge per-engine benchmark output into bench/results.json and print it as a table."""

import json
import sys
from pathlib import Path

rows = []
for path in sys.argv[1:]:
    for line in Path(path).read_text().splitlines():
        if line.startswith("["):
            rows.extend(json.loads(line))
Path(__file__).with_name("results.json").write_text(json.dumps(rows, indent=2) + "\n")
print(f"{'figure':32} {'engine':10} {'n':>5} {'value':>14} {'floor':>10} {'ratio':>7}")
for r in rows:
    value = f"{r['value']} {r['unit']}" if "value" in r else f"p50 {r['median']} p95 {r['p95']} {r['unit']}"
    print(f"{r['name']:32} {r['engine']:10} {r['n']:>6} {value:>26} {r['floor']:>10} {r['ratio']:>7}")
print("ratio: ingest throughput / stdlib parse floor (higher is better); latency: median x floor rate;")
print("      pages: median server time / a one-query Django view (lower is better);")
print("      serve_*: median over HTTP / a static file from `happydesk serve`, before and after ADR 0007")
