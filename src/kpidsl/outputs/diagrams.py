"""Pictures for the documentation, drawn from the code they describe (plain SVG, no dependency).

- :func:`data_model_svg`: the CSV files of a data set and the links between them, from
  :data:`kpidsl.contract.records.RECORD_TYPES` and :data:`~kpidsl.contract.records.LINKS`, so that a
  change of the record schema changes the picture.
- :func:`status_svg`: how a status is decided from n, k, p and the target (KPI-SPEC §2).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from xml.sax.saxutils import escape

from kpidsl.contract.records import FIELDS, LINKS, RECORD_TYPES, Link

_BOX_W, _BOX_H, _GAP_X, _GAP_Y, _MARGIN = 210, 78, 40, 60, 20


def _refers() -> dict[str, list[str]]:
    return {rt.name: [lk.target for lk in LINKS if lk.source == rt.name and not lk.many]
            for rt in RECORD_TYPES}


def _levels() -> dict[str, int]:
    """Each record type's row: below every file it refers to, and as close as it can be to the
    files that refer to it (so that arrows are short)."""
    refers = _refers()
    level: dict[str, int] = {}

    def below(name: str) -> int:  # the first row under every file it refers to
        if name not in level:
            level[name] = 1 + max((below(t) for t in refers[name]), default=-1)
        return level[name]

    for rt in RECORD_TYPES:
        below(rt.name)
    for rt in sorted(RECORD_TYPES, key=lambda r: -level[r.name]):  # then pull files down
        users = [level[u] for u, ts in refers.items() if rt.name in ts]
        if users:
            level[rt.name] = max(level[rt.name], min(users) - 1)
    return level


def _places(level: dict[str, int]) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Top-left corner of each box: rows by level; in a row, each box near the middle of the
    boxes it is linked to (a few sweeps down and up), without overlapping."""
    refers = _refers()
    users = {n: [u for u, ts in refers.items() if n in ts] for n in refers}
    rows: dict[int, list[str]] = {}
    for rt in RECORD_TYPES:
        rows.setdefault(level[rt.name], []).append(rt.name)
    step = _BOX_W + _GAP_X
    x: dict[str, float] = {n: i * step for names in rows.values() for i, n in enumerate(names)}

    def sweep(order: list[int], linked: dict[str, list[str]]) -> None:
        for lv in order:
            def wanted(name: str) -> float:
                near = linked[name]
                return sum(x[t] for t in near) / len(near) if near else x[name]
            names = sorted(rows[lv], key=wanted)
            placed: list[float] = []
            for name in names:
                placed.append(max(wanted(name), placed[-1] + step) if placed else wanted(name))
            shift = (sum(map(wanted, names)) - sum(placed)) / len(names)  # keep it centred
            for name, value in zip(names, placed, strict=True):
                x[name] = value + shift if len(names) > 1 else value

    down, up = sorted(rows)[1:], sorted(rows, reverse=True)[1:]
    for _ in range(2):
        sweep(down, refers)
        sweep(up, users)
    sweep(down, refers)
    low = min(x.values())
    width = max(x.values()) - low + _BOX_W + 2 * _MARGIN
    height = len(rows) * (_BOX_H + _GAP_Y) - _GAP_Y + 2 * _MARGIN + 24
    return ({n: (x[n] - low + _MARGIN, _MARGIN + 24 + level[n] * (_BOX_H + _GAP_Y))
             for n in x}, width, height)


def _spread(links: list[Link], place: dict[str, tuple[float, float]],
            at: Callable[[Link], str], other: Callable[[Link], str]) -> dict[Link, float]:
    """Where each link meets the box ``at(link)``: spread along its edge, in the order of the
    boxes at the other ends, so that arrows do not share a point."""
    out = {}
    for name, (x, _) in place.items():
        mine = sorted((k for k in links if at(k) == name), key=lambda k: place[other(k)][0])
        for i, k in enumerate(mine):
            out[k] = x + _BOX_W * (i + 1) / (len(mine) + 1)
    return out


def data_model_svg() -> str:
    """One box per CSV file (its name, the record's name in rules, its id columns), an arrow
    from each file to each file it refers to, labelled with the column."""
    place, width, height = _places(_levels())
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" '
           'role="img" aria-label="The files of a data set and how they refer to each other">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
           'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
           'fill="#555"/></marker></defs>',
           f'<text x="{_MARGIN}" y="{_MARGIN + 4}" font-size="13" fill="#555">An arrow points '
           'from a file to the file that its id column names.</text>']
    ones = [lk for lk in LINKS if not lk.many]
    starts = _spread(ones, place, lambda k: k.source, lambda k: k.target)
    ends = _spread(ones, place, lambda k: k.target, lambda k: k.source)
    for lk in ones:
        x1, y1 = starts[lk], place[lk.source][1]
        x2, y2 = ends[lk], place[lk.target][1] + _BOX_H
        out.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                   'stroke="#555" marker-end="url(#arrow)"/>')
    for rt in RECORD_TYPES:
        x, y = place[rt.name]
        ids = f"unique: {', '.join(rt.key)}" if rt.key else f"{len(FIELDS[rt.name])} columns"
        refs = [lk.source_field for lk in ones if lk.source == rt.name]
        out += [f'<rect x="{x:.0f}" y="{y:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx="6" '
                'fill="#f6f6f2" stroke="#888"/>',
                f'<text x="{x + 10:.0f}" y="{y + 19:.0f}" font-weight="bold" '
                f'font-family="monospace">{escape(rt.file)}</text>',
                f'<text x="{x + 10:.0f}" y="{y + 36:.0f}">one {escape(rt.name)}, all '
                f'{escape(rt.plural)}</text>',
                f'<text x="{x + 10:.0f}" y="{y + 52:.0f}" fill="#555" font-size="11">'
                f'{escape(ids)}</text>']
        if refs:
            out.append(f'<text x="{x + 10:.0f}" y="{y + 68:.0f}" fill="#555" font-size="11">'
                       f'refers by: {escape(", ".join(refs))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def status_svg() -> str:
    """The status rules of KPI-SPEC §2 as a chain of questions, each with the status it gives
    when the answer is yes; the last gives on track or at risk."""
    steps = [
        ("n = 0: nobody is in the population", "no_data"),
        ("p = 0: every record is decided; does k / n meet the target?", "met / not_met"),
        ("Does every rate from k / n to (k + p) / n meet the target? (however the p pending "
         "records end, it is met)", "met"),
        ("Does no rate from k / n to (k + p) / n meet the target? (however they end, it is "
         "missed)", "not_met"),
        ("Otherwise: of the n − p records decided so far, does k / (n − p) meet the target?",
         "on_track / at_risk"),
    ]
    colours = {"no_data": "#bbb", "met": "#4a9a4a", "not_met": "#c0504d",
               "on_track": "#7fb17f", "at_risk": "#e0a030"}
    w, box_w, box_h, gap = 760, 520, 52, 22
    h = 44 + len(steps) * (box_h + gap) - gap + 12
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="13" role="img" '
           'aria-label="How a status is decided from n, k, p and the target">',
           '<text x="20" y="24" font-size="14">For one group: n records in the population, '
           'k counted, p pending. Ask in order; the first yes decides.</text>']
    for i, (question, status) in enumerate(steps):
        y = 44 + i * (box_h + gap)
        out.append(f'<rect x="20" y="{y}" width="{box_w}" height="{box_h}" rx="6" '
                   'fill="#f6f6f2" stroke="#888"/>')
        for j, line in enumerate(_wrap(question, 70)):
            out.append(f'<text x="32" y="{y + 20 + 16 * j}">{escape(line)}</text>')
        if i < len(steps) - 1:
            out.append(f'<line x1="{20 + box_w / 2}" y1="{y + box_h}" x2="{20 + box_w / 2}" '
                       f'y2="{y + box_h + gap}" stroke="#555"/>'
                       f'<text x="{28 + box_w / 2}" y="{y + box_h + 15}" fill="#555" '
                       'font-size="11">no</text>')
        parts = status.split(" / ")
        out.append(f'<line x1="{20 + box_w}" y1="{y + box_h / 2}" x2="{40 + box_w}" '
                   f'y2="{y + box_h / 2}" stroke="#555"/>')
        for j, part in enumerate(parts):
            px = 44 + box_w + j * 98
            label = ("yes: " if j == 0 and len(parts) > 1 else "no: " if j else "") + part
            out.append(f'<rect x="{px}" y="{y + 14}" width="94" height="24" rx="12" '
                       f'fill="{colours[part]}"/><text x="{px + 47}" y="{y + 30}" '
                       f'text-anchor="middle" fill="white" font-size="11">'
                       f'{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width)
