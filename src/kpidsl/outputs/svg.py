"""The history chart as SVG: each KPI's rate at each month end, drawn without a library and
readable without colour (each line has its own dash pattern and a label)."""

from __future__ import annotations

import math
from typing import Any
from xml.sax.saxutils import escape

from kpidsl.outputs.report import Months, Names
from kpidsl.outputs.text import group_title, rate_series, target_words

PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#a36a00", "#6a3d9a", "#000000",
           "#8c564b", "#767676", "#8a8b00")


def history_svg(months: Months, group: str = "all", rules: Any = None,
                names: Names | None = None) -> str:
    """The rate of each KPI at each month end as a line, its target as a dashed line of the
    same colour, with month labels and a legend: a plain SVG document, no dependency."""
    series = rate_series(months, group)
    dates = [d for d, _ in months]
    w, h, left, right, top, bottom = 960, 480, 64, 700, 48, 400
    rates = [float(r.rate) for s in series.values() for r in s.values() if r.rate is not None]
    targets = [float(r.target) for s in series.values() for r in s.values()
               if r.target is not None]
    ymax = max(1.0, math.ceil(max([*rates, *targets, 0.0]) * 4) / 4)

    def x(i: int) -> float:
        return left + (right - left) * (i / (len(dates) - 1) if len(dates) > 1 else 0.5)

    def y(v: float) -> float:
        return bottom - (bottom - top) * v / ymax

    scope = next((r.scope for s in series.values() for r in s.values()), "programme")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="24" font-size="16" font-weight="bold">KPI rates at each month '
           f'end, {escape(group_title(scope, group, names))}</text>']
    step = 0.25 if ymax <= 2 else 0.5
    for k in range(int(ymax / step) + 1):
        v = k * step
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{right}" y2="{y(v):.1f}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y(v) + 4:.1f}" text-anchor="end">'
                   f'{round(v * 100)}%</text>')
    every = max(1, math.ceil(len(dates) * 40 / (right - left)))
    for i, d in enumerate(dates):
        out.append(f'<line x1="{x(i):.1f}" y1="{bottom}" x2="{x(i):.1f}" y2="{bottom + 4}" '
                   f'stroke="#888"/>')
        if i % every == 0:
            out.append(f'<text x="{x(i):.1f}" y="{bottom + 18}" text-anchor="middle">'
                       f'{d:%b}</text>')
        if i == 0 or d.month == 1:
            out.append(f'<text x="{x(i):.1f}" y="{bottom + 34}" text-anchor="middle" '
                       f'font-weight="bold">{d.year}</text>')
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#888"/>')
    for n, (kpi, by_date) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        line: list[str | None] = []  # a point of the path, or None for a gap
        goal: list[str | None] = []
        dots: list[str] = []
        for i, d in enumerate(dates):
            r = by_date.get(d)
            if r is None or r.rate is None:
                line.append(None)
            else:
                line.append(f"{x(i):.1f} {y(float(r.rate)):.1f}")
                dots.append(f'<circle cx="{x(i):.1f}" cy="{y(float(r.rate)):.1f}" r="2.5" '
                            f'fill="{colour}"/>')
            if r is None or r.target is None:  # no target in force that month: a gap
                goal.append(None)
            else:
                goal.append(f"{x(i):.1f} {y(float(r.target)):.1f}")
        out.append(f'<path class="target" data-kpi="{escape(kpi)}" d="{_segments(goal)}" '
                   f'fill="none" stroke="{colour}" stroke-width="1.5" stroke-dasharray="6 4" '
                   f'opacity="0.6"/>')
        out.append(f'<path class="rate" data-kpi="{escape(kpi)}" d="{_segments(line)}" '
                   f'fill="none" stroke="{colour}" stroke-width="2.5"/>')
        out += dots
        latest = by_date.get(dates[-1]) if dates else None
        ly = top + 8 + 22 * n
        out.append(f'<line x1="{right + 24}" y1="{ly}" x2="{right + 52}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2.5"/>')
        label = f"{kpi} ({target_words(latest)})" if latest else kpi
        out.append(f'<text x="{right + 58}" y="{ly + 4}">{escape(label)}</text>')
    ly = top + 8 + 22 * len(series) + 10
    out.append(f'<line x1="{right + 24}" y1="{ly}" x2="{right + 52}" y2="{ly}" stroke="#555" '
               f'stroke-width="1.5" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{right + 58}" y="{ly + 4}">target (same colour)</text>')
    out.append(f'<text x="{left}" y="{h - 16}" fill="#555">Rate = counted / population at '
               f'each month end; a gap is a month without data.</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _segments(points: list[str | None]) -> str:
    """An SVG path through the points, lifting the pen over the missing ones."""
    parts, pen_down = [], False
    for p in points:
        if p is None:
            pen_down = False
            continue
        parts.append(("L " if pen_down else "M ") + p)
        pen_down = True
    return " ".join(parts) or "M 0 0"


