"""A tiny server-rendered SVG chart helper: bars, lines and intervals, no JavaScript.

Charts are drawn from the same rows the page offers as CSV, so what a reader sees and
what they can download are the same numbers. Every mark carries a <title> (a tooltip
and a text alternative) with its exact value.
"""

import math

from django.utils.html import escape
from django.utils.safestring import mark_safe

WIDTH = 720
HEIGHT = 300
MARGIN = {"top": 20, "right": 20, "bottom": 70, "left": 60}
COLOURS = {
    "true": "#16a34a",
    "false": "#dc2626",
    "open": "#94a3b8",
    "tpr": "#1d4ed8",
    "fpr": "#dc2626",
    "neutral": "#475569",
}


def nice_max(value: float) -> float:
    """Round a maximum up to 1, 2, 2.5 or 5 times a power of ten, for tidy axis ticks."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _open(label: str, width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" class="chart">',
        f"<title>{escape(label)}</title>",
    ]


def _y_axis(parts, *, top: float, y_max: float, plot_h: float, left: float, right: float, pct):
    for i in range(5):
        value = y_max * i / 4
        y = top + plot_h - plot_h * i / 4
        text = f"{value * 100:.0f}%" if pct else _fmt(value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#5b6570">{text}</text>'
        )


def _legend(parts, series, *, x: float, y: float):
    for name, colour in series:
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11">{escape(name)}</text>')
        x += 24 + 7 * len(name)


def bar_chart(
    *, label: str, categories: list[str], series: list[tuple[str, list[float], str]]
) -> str:
    """Stacked bars: one bar per category, one segment per (name, values, colour) series."""
    parts = _open(label)
    if not categories:
        parts.append('<text x="20" y="40" font-size="13">No data</text></svg>')
        return mark_safe("".join(parts))
    left, top = MARGIN["left"], MARGIN["top"]
    plot_w = WIDTH - left - MARGIN["right"]
    plot_h = HEIGHT - top - MARGIN["bottom"]
    totals = [sum(values[i] for _, values, _ in series) for i in range(len(categories))]
    y_max = nice_max(max(totals))
    _y_axis(parts, top=top, y_max=y_max, plot_h=plot_h, left=left, right=left + plot_w, pct=False)
    slot = plot_w / len(categories)
    bar_w = min(60.0, slot * 0.7)
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        base = top + plot_h
        for name, values, colour in series:
            h = plot_h * values[i] / y_max
            if h > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(category)}: {_fmt(values[i])} '
                    f"{escape(name)}</title></rect>"
                )
            base -= h
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle" '
            f'font-size="11">{_fmt(totals[i])}</text>'
        )
        short = category if len(category) <= 16 else category[:15] + "…"
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{escape(short)}</text>'
        )
    _legend(parts, [(n, c) for n, _, c in series], x=left, y=HEIGHT - 12)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_chart(
    *,
    label: str,
    xs: list[float],
    series: list[tuple[str, list[float], str]],
    x_label: str,
    marker: float | None = None,
    marker_label: str = "",
) -> str:
    """Lines over a numeric x axis with y in 0..1 (shown as %); an optional vertical marker."""
    parts = _open(label)
    if not xs:
        parts.append('<text x="20" y="40" font-size="13">No data</text></svg>')
        return mark_safe("".join(parts))
    left, top = MARGIN["left"], MARGIN["top"]
    plot_w = WIDTH - left - MARGIN["right"]
    plot_h = HEIGHT - top - MARGIN["bottom"]
    lo, hi = min(xs), max(xs)
    if marker is not None:
        lo, hi = min(lo, marker), max(hi, marker)
    span = (hi - lo) or 1.0

    def px(x):
        return left + plot_w * (x - lo) / span

    def py(y):
        return top + plot_h - plot_h * max(0.0, min(1.0, y))

    _y_axis(parts, top=top, y_max=1.0, plot_h=plot_h, left=left, right=left + plot_w, pct=True)
    for i in range(6):
        x = lo + span * i / 5
        parts.append(
            f'<text x="{px(x):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{x:.2f}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 34}" text-anchor="middle" '
        f'font-size="12">{escape(x_label)}</text>'
    )
    if marker is not None:
        parts.append(
            f'<line x1="{px(marker):.1f}" y1="{top}" x2="{px(marker):.1f}" '
            f'y2="{top + plot_h}" stroke="#0f172a" stroke-dasharray="4 3"/>'
            f'<text x="{px(marker) + 4:.1f}" y="{top + 12}" font-size="11">'
            f"{escape(marker_label)}</text>"
        )
    for name, ys, colour in series:
        known = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in known)
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for x, y in known:
            parts.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(name)} at {x:.3f}: {y * 100:.2f}%</title></circle>"
            )
    _legend(parts, [(n, c) for n, _, c in series], x=left, y=HEIGHT - 12)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def interval_chart(*, label: str, rows: list[tuple[str, float | None, float, float, bool]]) -> str:
    """Horizontal point estimates with 95 % interval whiskers; (name, rate, low, high, weak).

    Weak rows (too few to conclude) are drawn hollow and grey, so a long whisker is not
    mistaken for a finding.
    """
    row_h = 34
    height = MARGIN["top"] + row_h * max(1, len(rows)) + 50
    parts = _open(label, height=height)
    left, top = 150, MARGIN["top"]
    plot_w = WIDTH - left - MARGIN["right"]
    for i in range(5):
        x = left + plot_w * i / 4
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + row_h * len(rows)}" '
            f'stroke="#e2e8f0"/><text x="{x:.1f}" y="{top + row_h * len(rows) + 16}" '
            f'text-anchor="middle" font-size="11">{25 * i}%</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{top + row_h * len(rows) + 34}" text-anchor="middle" '
        f'font-size="12">false alerts as a share of alerts, with 95% Wilson interval</text>'
    )
    for i, (name, rate, low, high, weak) in enumerate(rows):
        y = top + row_h * i + row_h / 2
        colour = COLOURS["open"] if weak else COLOURS["false"]
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12">'
            f"{escape(name)}</text>"
        )
        if rate is None:
            parts.append(
                f'<text x="{left + 4}" y="{y + 4:.1f}" font-size="11" fill="#5b6570">'
                f"no alerts</text>"
            )
            continue
        x_lo, x_hi, x_p = (left + plot_w * v for v in (low, high, rate))
        parts.append(
            f'<line x1="{x_lo:.1f}" y1="{y:.1f}" x2="{x_hi:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<line x1="{x_lo:.1f}" y1="{y - 6:.1f}" x2="{x_lo:.1f}" y2="{y + 6:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<line x1="{x_hi:.1f}" y1="{y - 6:.1f}" x2="{x_hi:.1f}" y2="{y + 6:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{x_p:.1f}" cy="{y:.1f}" r="5" fill="{"#fff" if weak else colour}" '
            f'stroke="{colour}" stroke-width="2"><title>{escape(name)}: {rate * 100:.1f}% '
            f"(95% CI {low * 100:.1f}% to {high * 100:.1f}%)"
            f"{' — too few to conclude' if weak else ''}</title></circle>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
