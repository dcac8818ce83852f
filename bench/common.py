"""What the page benchmarks share: Django set up on a throwaway data directory for one engine, and a
request timed through the full Django request path, summed up beside a floor view."""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time


def setup(name: str, default_n: int) -> tuple[str, int]:
    """Set Django up for `python bench/<name>.py sqlite|postgresql`; returns (engine, N). BENCH_<NAME>_N
    sets N, BENCH_<NAME>_DIR keeps the generated data between runs (by default a fresh temp dir), and
    BENCH_PG_<NAME>_URL is the PostgreSQL database."""
    engine, key = sys.argv[1], name.upper()
    n = int(os.environ.get(f"BENCH_{key}_N", str(default_n)))
    os.environ["HAPPYDESK_DATA_DIR"] = os.environ.get(f"BENCH_{key}_DIR") or tempfile.mkdtemp(
        prefix=f"hd-{name}-"
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "happydesk.settings"
    os.environ["HAPPYDESK_LOG_LEVEL"] = "ERROR"
    if engine == "postgresql":
        os.environ["DATABASE_URL"] = os.environ[f"BENCH_PG_{key}_URL"]
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, os.path.dirname(__file__))

    import django

    django.setup()
    return engine, n


def timed(client, url: str, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Server time of `runs` GETs of `url` (after one to warm caches and templates), sorted."""
    client.get(url)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(url)
        out.append(time.perf_counter() - t)
        assert r.status_code == 200, (url, r.status_code)
    return sorted(out)


def figure(name: str, engine: str, n: int, samples: list[float], floor: list[float], note: str) -> dict:
    """One results.json row: median and p95 (nearest rank) in ms, and the median over the floor's."""
    p50, p95 = statistics.median(samples), samples[max(0, math.ceil(len(samples) * 0.95) - 1)]
    f50 = statistics.median(floor)
    return {
        "name": name,
        "engine": engine,
        "n": n,
        "unit": "ms",
        "median": round(p50 * 1000, 1),
        "p95": round(p95 * 1000, 1),
        "floor": round(f50 * 1000, 2),
        "ratio": round(p50 / f50, 2),
        "note": note,
    }
