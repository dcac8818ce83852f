"""Charts as inline SVG, drawn on the server: no script, no CDN, readable without colour. Each chart has a
<title> and a <desc> for screen readers, and the page shows the same numbers in a table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from django.utils.safestring import SafeString, mark_safe

ACCENT = "#2f6fde"
PREVIOUS = "#b8c2d1"
WEEKEND = "#9db8ea"
INK = "#1f2328"
MUTED = "#6a737d"
LINE = "#e3e6ea"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _svg(key: str, width: int, height: int, title: str, desc: str, body: list[str]) -> SafeString:
    head = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="-apple-system, Segoe UI, system-ui, Helvetica, Arial, sans-serif" font-size="12">'
        f'<title id="{key}-title">{escape(title)}</title><desc id="{key}-desc">{escape(desc)}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text above is escaped


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = MUTED, size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-size="{size}">'
        f"{escape(text)}</text>"
    )


def goal_bars(
    key: str, rows: Sequence[tuple[str, float | None, float | None]], *, title: str, desc: str
) -> SafeString:
    """Horizontal bars of shares (0..1): this period (dark) above the previous period (light)."""
    label_w, bar_w, right = 150, 240, 116
    width, row_h, top = label_w + bar_w + right, 34, 28
    height = top + row_h * len(rows) + 6
    body = [
        f'<rect x="{label_w}" y="6" width="10" height="10" rx="2" fill="{ACCENT}"/>',
        _text(label_w + 15, 15, "this period", fill=INK),
        f'<rect x="{label_w + 110}" y="6" width="10" height="10" rx="2" fill="{PREVIOUS}"/>',
        _text(label_w + 125, 15, "previous period", fill=INK),
    ]
    for i, (label, current, previous) in enumerate(rows):
        y = top + i * row_h
        body.append(_text(label_w - 10, y + 16, label, anchor="end", fill=INK))
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="14" rx="3" fill="#f1f3f6"/>')
        if current is not None:
            body.append(
                f'<rect x="{label_w}" y="{y + 3}" width="{bar_w * current:.1f}" height="14" rx="3" '
                f'fill="{ACCENT}"/>'
            )
        if previous is not None:
            body.append(
                f'<rect x="{label_w}" y="{y + 20}" width="{bar_w * previous:.1f}" height="6" rx="2" '
                f'fill="{PREVIOUS}"/>'
            )
        now = "–" if current is None else f"{100 * current:.0f}%"
        before = "–" if previous is None else f"{100 * previous:.0f}%"
        body.append(_text(label_w + bar_w + 10, y + 15, now, fill=INK, size=13))
        body.append(_text(label_w + bar_w + 52, y + 15, f"was {before}", size=11))
    return _svg(key, width, height, title, desc, body)


def daily_bars(key: str, days: Sequence[tuple[date, int]], *, title: str, desc: str) -> SafeString:
    """One bar per day; weekends in a lighter blue so the weekly rhythm shows."""
    width, height, left, bottom, top = 1040, 180, 40, 22, 10
    plot_w, plot_h = width - left - 6, height - top - bottom
    peak = max([n for _, n in days] + [1])
    step = plot_w / max(len(days), 1)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 6}" y2="{top + plot_h}" stroke="{LINE}"/>',
        _text(left - 6, top + 8, f"{peak:,}", anchor="end", size=11),
        _text(left - 6, top + plot_h, "0", anchor="end", size=11),
    ]
    label_every = max(1, round(len(days) / 10))
    for i, (day, n) in enumerate(days):
        h = plot_h * n / peak
        x = left + i * step
        colour = WEEKEND if day.weekday() >= 5 else ACCENT
        body.append(
            f'<rect x="{x + step * 0.12:.1f}" y="{top + plot_h - h:.1f}" width="{max(step * 0.76, 1):.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{escape(f"{day:%a %b} {day.day}: {n:,}")}</title></rect>'
        )
        if i % label_every == 0:
            body.append(_text(x + step / 2, height - 6, f"{day:%b} {day.day}", anchor="middle", size=11))
    return _svg(key, width, height, title, desc, body)


def heatmap(key: str, matrix: Sequence[Sequence[int]], *, title: str, desc: str) -> SafeString:
    """Weekday (rows, Monday first) by hour of day (columns): darker is busier."""
    cell_w, cell_h, left, top = 30, 24, 44, 20
    width, height = left + 24 * cell_w + 4, top + 7 * cell_h + 4
    peak = max([n for row in matrix for n in row] + [1])
    body = [
        _text(left + hour * cell_w + cell_w / 2, 13, f"{hour:02d}", anchor="middle", size=11)
        for hour in range(0, 24, 3)
    ]
    for d, row in enumerate(matrix):
        y = top + d * cell_h
        body.append(_text(left - 8, y + cell_h / 2 + 4, WEEKDAYS[d], anchor="end", fill=INK, size=11))
        for hour, n in enumerate(row):
            share = n / peak
            fill = _mix("#f3f6fb", ACCENT, share) if n else "#f7f8fa"
            label = f"{WEEKDAYS[d]} {hour:02d}:00-{hour:02d}:59: {n:,}"
            body.append(
                f'<rect x="{left + hour * cell_w + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'rx="3" fill="{fill}"><title>{escape(label)}</title></rect>'
            )
    return _svg(key, width, height, title, desc, body)


def trend(key: str, points: Sequence[tuple[str, float | None]], *, title: str, desc: str) -> SafeString:
    """A small line of the happiness score (-100..100) over the period; gaps where nobody rated."""
    width, height, left, top, bottom = 440, 140, 34, 12, 22
    plot_w, plot_h = width - left - 10, height - top - bottom
    values = [v for _, v in points if v is not None]
    low = min([0.0, *values])
    span = 100 - low or 1

    def y(v: float) -> float:
        return top + plot_h * (100 - v) / span

    step = plot_w / max(len(points) - 1, 1)
    body = [
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - 10}" y2="{y(0):.1f}" stroke="{LINE}"/>',
        _text(left - 6, top + 4, "100", anchor="end", size=11),
        _text(left - 6, y(0) + 4, "0", anchor="end", size=11),
    ]
    path: list[str] = []
    for i, (label, v) in enumerate(points):
        x = left + i * step
        if v is None:
            path.append("")
            continue
        path.append(f"{x:.1f},{y(v):.1f}")
        body.append(
            f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="3" fill="{ACCENT}">'
            f"<title>{escape(f'{label}: {v:.0f}')}</title></circle>"
        )
    body.extend(
        f'<polyline points="{segment.strip()}" fill="none" stroke="{ACCENT}" stroke-width="2"/>'
        for segment in " ".join(path).split("  ")
        if segment.strip().count(",") > 1
    )
    if points:
        body.append(_text(left, height - 5, points[0][0], size=11))
        body.append(_text(width - 10, height - 5, points[-1][0], anchor="end", size=11))
    return _svg(key, width, height, title, desc, body)


def _mix(low: str, high: str, share: float) -> str:
    share = 0.15 + 0.85 * max(0.0, min(1.0, share))
    a = [int(low[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b, strict=True))
