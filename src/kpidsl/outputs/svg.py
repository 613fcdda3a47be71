"""The history chart as SVG: small multiples, one small chart per KPI, drawn without a library
and without script.

Eight KPIs drawn as lines on one chart cross and hide each other, and a legend of ids must be
decoded. Here each KPI has a panel of its own, titled with its title and its target: its rate
at each month end as a solid line with a dot per month, its target as a dashed line, and its
latest rate written at the end of the line. Every panel has the same time axis (the same
months at the same places, labelled under the bottom panels), so a month is read straight
down the page; rate and target differ in colour and in dash, so the chart reads without
colour too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from kpidsl.language.words import percent
from kpidsl.outputs.report import Months, Names
from kpidsl.outputs.text import group_title, kpi_title, rate_series, shorten, target_words
from kpidsl.plan.results import Result

#: Line colours that stay apart for people with the common colour-vision deficiencies, each
#: with a contrast of at least 3:1 on white (WCAG 2.2, non-text contrast).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#a36a00", "#6a3d9a", "#000000",
           "#8c564b", "#767676", "#8a8b00")
#: The rate's line and the target's (dashed), in every panel.
RATE, TARGET = PALETTE[0], PALETTE[1]
#: The whole drawing's width, the panels across it, and each panel's height.
WIDTH, COLUMNS, PANEL_HEIGHT = 960, 2, 190
#: Inside a panel: room for its title above, the percentages on the left, the latest rate on
#: the right and the month labels below.
_TOP, _LEFT, _RIGHT, _BOTTOM = 34, 46, 58, 24
#: Where the first row of panels starts: under the chart's title and its key.
_HEAD = 64


def history_svg(months: Months, group: str = "all", rules: Any = None,
                names: Names | None = None) -> str:
    """Each KPI's rate at each month end for ``group`` as a small chart of its own, titled
    with the KPI's title (from ``rules``; its id without them) and its target, with a shared
    time axis: a plain SVG document, no dependency."""
    series = rate_series(months, group)
    dates = [d for d, _ in months]
    rows = max(1, math.ceil(len(series) / COLUMNS))
    height = _HEAD + rows * PANEL_HEIGHT + 30
    scope = next((r.scope for s in series.values() for r in s.values()), "programme")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
           f'<text x="12" y="24" font-size="16" font-weight="bold">KPI rates at each month '
           f'end, {escape(group_title(scope, group, names))}</text>',
           f'<line x1="12" y1="44" x2="40" y2="44" stroke="{RATE}" stroke-width="2.5"/>',
           '<text x="46" y="48">rate at the month end</text>',
           f'<line x1="200" y1="44" x2="228" y2="44" stroke="{TARGET}" stroke-width="1.5" '
           'stroke-dasharray="6 4"/>',
           '<text x="234" y="48">target in force that month</text>']
    panel_width = WIDTH / COLUMNS
    for n, (kpi, by_date) in enumerate(series.items()):
        row, column = divmod(n, COLUMNS)
        below = n + COLUMNS < len(series)  # the month labels go under the bottom panels
        out += _panel(kpi, kpi_title(rules, kpi), by_date, dates, column * panel_width,
                      _HEAD + row * PANEL_HEIGHT, panel_width, labels=not below)
    out.append(f'<text x="12" y="{height - 10}" fill="#555">Rate = counted / population at '
               "each month end (actual / planned for a KPI measured per provider); a gap is "
               "a month without data.</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _panel(kpi: str, title: str, by_date: dict[Any, Result], dates: Sequence[Any], x0: float,
           y0: float, width: float, labels: bool) -> list[str]:
    """One KPI's small chart, its top left corner at (``x0``, ``y0``); ``labels``: the month
    and year labels under its axis (the bottom panels')."""
    left, right = x0 + _LEFT, x0 + width - _RIGHT
    top, bottom = y0 + _TOP, y0 + PANEL_HEIGHT - _BOTTOM
    values = [float(v) for r in by_date.values() for v in (r.rate, r.target) if v is not None]
    ymax = max(1.0, math.ceil(max(values, default=0.0) * 4) / 4)

    def x(i: int) -> float:
        return left + (right - left) * (i / (len(dates) - 1) if len(dates) > 1 else 0.5)

    def y(v: float) -> float:
        return bottom - (bottom - top) * v / ymax

    latest = by_date.get(dates[-1]) if dates else None
    heading = panel_heading(title, latest)
    out = [f'<g class="panel" data-kpi="{escape(kpi)}">',
           f"<title>{escape(title)}</title>",
           f'<text class="panel-title" x="{left:.1f}" y="{y0 + 20:.1f}" font-size="13" '
           f'font-weight="bold">{escape(heading)}</text>']
    for v in sorted({*(k / 2 for k in range(int(ymax * 2) + 1)), ymax}):
        out.append(f'<line x1="{left:.1f}" y1="{y(v):.1f}" x2="{right:.1f}" y2="{y(v):.1f}" '
                   f'stroke="{"#888" if v == 0 else "#ddd"}"/>')
        out.append(f'<text x="{left - 6:.1f}" y="{y(v) + 4:.1f}" text-anchor="end">'
                   f"{round(v * 100)}%</text>")
    every = max(1, math.ceil(len(dates) * 34 / (right - left)))
    for i, d in enumerate(dates):
        out.append(f'<line x1="{x(i):.1f}" y1="{bottom:.1f}" x2="{x(i):.1f}" '
                   f'y2="{bottom + 3:.1f}" stroke="#888"/>')
        if labels and i % every == 0:
            out.append(f'<text x="{x(i):.1f}" y="{bottom + 15:.1f}" text-anchor="middle">'
                       f"{d:%b}</text>")
        if labels and (i == 0 or d.month == 1):
            out.append(f'<text x="{x(i):.1f}" y="{bottom + 28:.1f}" text-anchor="middle" '
                       f'font-weight="bold">{d.year}</text>')
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
                        f'fill="{RATE}"/>')
        # no target in force that month: a gap
        goal.append(None if r is None or r.target is None else
                    f"{x(i):.1f} {y(float(r.target)):.1f}")
    out.append(f'<path class="target" data-kpi="{escape(kpi)}" d="{_segments(goal)}" '
               f'fill="none" stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="6 4"/>')
    out.append(f'<path class="rate" data-kpi="{escape(kpi)}" d="{_segments(line)}" '
               f'fill="none" stroke="{RATE}" stroke-width="2.5"/>')
    out += dots
    if latest is not None and latest.rate is not None:
        out.append(f'<text class="latest" x="{right + 6:.1f}" '
                   f'y="{y(float(latest.rate)) + 4:.1f}" fill="{RATE}" font-weight="bold">'
                   f"{percent(latest.rate)}</text>")
    out.append("</g>")
    return out


def panel_heading(title: str, latest: Result | None, cut: int | None = 44) -> str:
    """A KPI's small chart's title: the KPI's title (shortened to ``cut`` characters, to fit
    a panel's width on one line) and its target at the last month end (``Learner Drop-Out
    (≤ 20%)``); the workbook's charts, where a title wraps, are titled alike in full."""
    return (shorten(title, cut) if cut else title) + \
        (f" ({target_words(latest)})" if latest else "")


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
