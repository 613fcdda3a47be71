"""The report workbook: an evaluation, or a history, as an Excel workbook to send.

``evaluate --format xlsx`` writes a ``summary`` sheet (each KPI by group, with the group's name:
status in its colour, rate as a percentage, target, k, n, pending; each KPI's id links to its
sheet), one sheet per KPI, named by its title, listing each record of its population in the
programme with its verdict and the reason (the ``explain`` output), and ``findings`` and
``actions`` sheets. ``history --format xlsx`` writes every result at every
month end, the status of each KPI month by month for one group, and a chart of the rates.
Every sheet has a frozen header row and filters.

Percentages are written as numbers formatted as percentages, for people to read and sort;
the exact counts beside them (k, n) are what the status was decided on.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence
from typing import Any

from kpidsl.language.checker import RuleSet
from kpidsl.language.words import COUNTED, MEASURED, human
from kpidsl.outputs.html import STATUS_COLOURS, count_headers
from kpidsl.outputs.jsonout import show
from kpidsl.outputs.report import Months, Names, Report
from kpidsl.outputs.svg import panel_heading
from kpidsl.outputs.text import (
    audit_lines,
    group_title,
    kpi_title,
    kpi_words,
    rate_series,
    rule_url,
)
from kpidsl.plan.results import Entry, Result, Verdict

_SCOPES = ("programme", "provider", "bootcamp")
#: Rows in a sheet (Excel's limit).
_MAX_ROWS = 1_048_576
#: The characters Excel does not allow in a sheet's name, removed from a KPI's title.
_FORBIDDEN = str.maketrans("", "", "[]:*?/\\")
#: The longest name Excel gives a sheet.
_SHEET_NAME = 31


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: cut after a word where there is one, with …"""
    if len(text) <= width:
        return text
    cut = text[:width - 1]
    return (cut[:cut.rfind(" ")] if " " in cut[10:] else cut).rstrip() + "…"


class _Book:
    """An XlsxWriter workbook with the report's formats and table-like sheets."""

    def __init__(self, out: Any, rules: RuleSet, docs_url: str | None,
                 names: Names | None = None) -> None:
        import xlsxwriter  # type: ignore[import-untyped]  # xlsxwriter ships no types

        # Rows are written in order, so each is flushed as the next starts: a report of a
        # million records does not sit in memory.
        self.book = xlsxwriter.Workbook(out, {"constant_memory": True})
        self.rules = rules
        self.docs_url = docs_url
        add = self.book.add_format
        self.title = add({"bold": True, "font_size": 14})
        self.header = add({"bold": True, "bg_color": "#e5e7eb", "font_color": "#111827",
                           "border": 1, "text_wrap": True, "valign": "top"})
        self.percent = add({"num_format": "0.0%"})
        self.link = add({"font_color": "#1d4ed8", "underline": 1})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.status = {s: add({"font_color": fg, "bg_color": bg, "bold": True})
                       for s, (fg, bg) in STATUS_COLOURS.items()}
        # A measured KPI's k and n stay numbers (to sort and sum) and read as what they are.
        self.counts = {word: add({"num_format": f'0 "{word}"'}) for word in MEASURED}
        self.groups: Names = names or {}
        self.words: dict[str, tuple[str, str]] = {}
        """What each KPI's k and n are (:func:`kpi_words`), looked up once per KPI rather
        than once per row of a history's results."""
        self.taken = {"history"}  # Excel keeps that name for itself
        """The sheet names claimed so far, in lower case: Excel's names ignore case."""

    def claim(self, wanted: str) -> str:
        """A sheet name for ``wanted`` that Excel takes: without the characters it forbids
        (``[]:*?/\\``) or an apostrophe at either end, at most 31 characters (cut after a
        word, with …), and unlike every name claimed before, whatever the case (`` (2)``,
        `` (3)`` … added when the cut names collide)."""
        clean = " ".join(wanted.translate(_FORBIDDEN).split()).strip("'").strip() or "sheet"
        n = 1
        while True:
            suffix = f" ({n})" if n > 1 else ""
            name = _cut(clean, _SHEET_NAME - len(suffix)) + suffix
            if name.lower() not in self.taken:
                self.taken.add(name.lower())
                return name
            n += 1

    def sheet(self, name: str, title: str, header: Sequence[tuple[str, int]],
              subtitle: str | None = None) -> Any:
        """A sheet called ``name`` (:meth:`claim` ed) with a title line (and a subtitle), then
        a frozen, filtered header row (row 3). Rows are written in order: the subtitle cannot
        come later."""
        ws = self.book.add_worksheet(name)
        ws.write_string(0, 0, title, self.title)
        if subtitle:
            ws.write_string(1, 0, subtitle)
        for col, (text, width) in enumerate(header):
            ws.write_string(2, col, text, self.header)
            ws.set_column(col, col, width)
        ws.freeze_panes(3, 0)
        return ws

    def end(self, ws: Any, rows: int, columns: int) -> None:
        ws.autofilter(2, 0, 2 + rows, columns - 1)

    def kpi_title(self, kpi: str) -> str:
        return kpi_title(self.rules, kpi)

    def write_title(self, ws: Any, row: int, col: int, kpi: str, link: bool = True) -> None:
        """The KPI's title, linked to its page in the rule reference when there is one (and
        ``link``: a sheet holds at most 65,530 links)."""
        url = rule_url(self.docs_url, kpi) if link else None
        if url is None:
            ws.write_string(row, col, self.kpi_title(kpi))
        else:
            ws.write_url(row, col, url, self.link, string=self.kpi_title(kpi))

    def write_kpi(self, ws: Any, row: int, col: int, kpi: str, sheet: str | None) -> None:
        """The KPI's id, linked to its ``sheet`` in this workbook when it has one."""
        if sheet is None:
            ws.write_string(row, col, kpi)
        else:  # a quote in a sheet's name is written twice in a reference
            ws.write_url(row, col, f"internal:'{sheet.replace(chr(39), chr(39) * 2)}'!A1",
                         self.link, string=kpi)

    def write_status(self, ws: Any, row: int, col: int, status: str) -> None:
        ws.write_string(row, col, human(status), self.status[status])

    def write_rate(self, ws: Any, row: int, col: int, r: Result) -> None:
        if r.rate is None:
            ws.write_blank(row, col, None)
        else:
            ws.write_number(row, col, float(r.rate), self.percent)


_RESULT_COLUMNS = (("KPI", 24), ("Title", 34), ("Scope", 11), ("Group", 10), ("Name", 30),
                   ("Status", 11), ("Rate", 8), ("Direction", 9), ("Target", 8),
                   (count_headers(COUNTED)[0], 10), (count_headers(COUNTED)[1], 12),
                   ("Pending", 8))


def _result_row(b: _Book, ws: Any, row: int, r: Result, first: Sequence[Any] = (),
                link: bool = True, sheet: str | None = None) -> None:
    """One result; the KPI's id linked to its ``sheet``, its title to the rule reference
    (with ``link``). The counts of a measured KPI read as what they are (``23 actual``)."""
    for col, value in enumerate(first):
        ws.write(row, col, value)
    at = len(first)
    b.write_kpi(ws, row, at, r.kpi, sheet)
    b.write_title(ws, row, at + 1, r.kpi, link)
    ws.write_string(row, at + 2, r.scope)
    ws.write_string(row, at + 3, r.group)
    name = b.groups.get((r.scope, r.group))
    if name:
        ws.write_string(row, at + 4, name)
    b.write_status(ws, row, at + 5, r.status)
    b.write_rate(ws, row, at + 6, r)
    ws.write_string(row, at + 7, r.direction)
    if r.target is None:
        ws.write_string(row, at + 8, "none")
    else:
        ws.write_number(row, at + 8, float(r.target), b.percent)
    k, n = b.words.get(r.kpi) or b.words.setdefault(r.kpi, kpi_words(b.rules, r.kpi))
    ws.write_number(row, at + 9, r.numerator, b.counts.get(k))
    ws.write_number(row, at + 10, r.denominator, b.counts.get(n))
    if k in MEASURED:  # a KPI measured per provider has no records to wait for
        ws.write_blank(row, at + 11, None)
    else:
        ws.write_number(row, at + 11, r.pending)


def _in_order(results: Sequence[Result]) -> list[Result]:
    """Results by KPI (in the rules' order), then programme, providers, bootcamps."""
    kpis = list(dict.fromkeys(r.kpi for r in results))
    return sorted(results, key=lambda r: (kpis.index(r.kpi), _SCOPES.index(r.scope), r.group))


def _entries(b: _Book, name: str, title: str, entries: Sequence[Entry]) -> None:
    columns = (("Rule", 26), ("Record", 26), ("Bootcamp", 10), ("What to look at", 80),
               ("Where", 30))
    ws = b.sheet(name, title, columns)
    for row, e in enumerate(entries, 3):
        for col, value in enumerate((e.name, e.record, e.group, e.message, e.location)):
            ws.write_string(row, col, value or "", b.wrap if col == 3 else None)
    b.end(ws, len(entries), len(columns))


def write_report(path: str | os.PathLike[str], report: Report, rules: RuleSet, *,
                 docs_url: str | None = None) -> None:
    """Write the report workbook of an evaluation made with its explanations
    (``evaluate(…, explain=True)``): the verdicts on its sheets are the engine's that made the
    report."""
    why = {e.result.kpi: e.verdicts for e in report.explanations}
    with open(path, "wb") as out:  # first, so that a bad path fails before any work
        b = _Book(out, rules, docs_url, report.names)
        summary, findings, actions = map(b.claim, ("summary", "findings", "actions"))
        results = _in_order(report.results)
        # Each KPI's sheet is named by its title, claimed before any is written: the
        # summary links to them.
        sheets = {kpi: b.claim(b.kpi_title(kpi))
                  for kpi in dict.fromkeys(r.kpi for r in results)}
        ws = b.sheet(summary, f"Skills Bootcamps KPIs as of {report.as_of.isoformat()}",
                     _RESULT_COLUMNS, subtitle=" ".join(audit_lines(report)))
        for row, r in enumerate(results, 3):
            _result_row(b, ws, row, r, sheet=sheets[r.kpi])
        b.end(ws, len(results), len(_RESULT_COLUMNS))
        for kpi, sheet in sheets.items():
            _verdict_sheet(b, sheet, kpi, why.get(kpi, ()), report.as_of)
        _entries(b, findings, f"Data-quality findings ({len(report.findings)})",
                 report.findings)
        _entries(b, actions, f"Follow-up actions ({len(report.actions)})", report.actions)
        b.book.close()


def _verdict_sheet(b: _Book, sheet: str, kpi: str, found: Sequence[Verdict], as_of: dt.date
                   ) -> None:
    """One row per record: its verdict, and each clause (or part) that decided it with the
    values it read, one per line."""
    columns = (("Record", 22), ("Bootcamp", 10), ("Verdict", 12), ("Why", 60),
               ("Values read", 70), ("Record type", 11), ("Record id", 14), ("Provider", 10))
    ws = b.sheet(sheet, f"{b.kpi_title(kpi)} ({kpi}): each record in the programme as of "
                 f"{as_of.isoformat()}", columns)
    shown = found[:_MAX_ROWS - 4]
    for row, v in enumerate(shown, 3):
        why = "\n".join(f"{r.clause}: {r.source}" for r in v.reasons)
        values = "\n".join("; ".join(f"{name} = {show(value) or '—'}" for name, value
                                     in r.values) for r in v.reasons)
        ws.write_string(row, 0, v.record)
        ws.write_string(row, 1, v.bootcamp or "")
        ws.write_string(row, 2, v.verdict, b.status.get(v.verdict))
        ws.write_string(row, 3, why, b.wrap)
        ws.write_string(row, 4, values, b.wrap)
        for col, value in enumerate((v.record_type, v.record_id, v.provider), 5):
            ws.write_string(row, col, value or "")  # the ids, to join back to one's tables
    b.end(ws, len(shown), len(columns))
    if len(shown) < len(found):  # said, never silently dropped
        more = len(found) - len(shown)
        ws.write_string(len(shown) + 3, 0, f"… and {more} more record{'s' * (more != 1)}: a "
                        "sheet holds at most 1,048,576 rows (kpidsl evaluate --format json "
                        "--explain lists them all)")


def write_history(path: str | os.PathLike[str], months: Months, rules: RuleSet,
                  group: str = "all", *, docs_url: str | None = None,
                  audit: dict[str, str] | None = None, names: Names | None = None) -> None:
    """Write the report workbook of a history: every result at every month end, each KPI's
    status month by month for ``group``, and its rates as a table and a chart; ``audit``
    (:func:`~kpidsl.outputs.jsonout.audit_json`) says what produced it, under each title."""
    with open(path, "wb") as out:
        b = _Book(out, rules, docs_url, names)
        dates = [d for d, _ in months]
        span = f"{dates[0]:%Y-%m} to {dates[-1]:%Y-%m}" if dates else "no months"
        series = rate_series(months, group)
        scope = next((r.scope for s in series.values() for r in s.values()), "programme")
        where = group_title(scope, group, names)
        header = [("KPI", 24), ("Title", 34), *((f"{d:%b %Y}", 10) for d in dates)]
        produced = " ".join(audit_lines(audit)) if audit else None
        trend_name, rates_name, results_name = map(b.claim, ("trend", "rates", "results"))
        trend = b.sheet(trend_name, f"Status at each month end, {where}, {span}", header,
                        produced)
        rates = b.sheet(rates_name, f"Rate at each month end, {where}, {span}", header,
                        produced)
        for row, (kpi, by_date) in enumerate(series.items(), 3):
            for ws in (trend, rates):
                ws.write_string(row, 0, kpi)
                b.write_title(ws, row, 1, kpi)
            for col, d in enumerate(dates, 2):
                r = by_date.get(d)
                if r is not None:
                    b.write_status(trend, row, col, r.status)
                    b.write_rate(rates, row, col, r)
        for ws in (trend, rates):
            b.end(ws, len(series), len(header))
        if series and dates:  # small multiples, as the page's chart (svg.py) says why
            rated = [float(r.rate) for s in series.values() for r in s.values()
                     if r.rate is not None]
            top = max(1.0, math.ceil(max(rated, default=0.0) * 4) / 4)  # one scale for all
            for n, (row, (kpi, by_date)) in enumerate(enumerate(series.items(), 3)):
                chart = b.book.add_chart({"type": "line"})
                chart.add_series({"name": [rates_name, row, 1], "categories":
                                  [rates_name, 2, 2, 2, 1 + len(dates)],
                                  "values": [rates_name, row, 2, row, 1 + len(dates)],
                                  "marker": {"type": "circle", "size": 4}})
                chart.set_title({"name": panel_heading(b.kpi_title(kpi),
                                                       by_date.get(dates[-1]), cut=None),
                                 "name_font": {"size": 11}})
                chart.set_y_axis({"num_format": "0%", "min": 0, "max": top,
                                  "major_unit": 0.5 if top > 1 else 0.25})
                chart.set_legend({"none": True})
                chart.set_size({"width": 480, "height": 250})
                rates.insert_chart(4 + len(series), 0, chart,
                                   {"x_offset": n % 2 * 490, "y_offset": n // 2 * 260})
        every = [r for _, results in months for r in results]
        columns = (("As of", 11), *_RESULT_COLUMNS)
        ws = b.sheet(results_name, f"Every result at each month end, {span}", columns)
        row = 3
        for d, results in months:
            for r in _in_order(results):
                if row == _MAX_ROWS - 1:  # said, never silently dropped
                    more = len(every) - row + 3
                    ws.write_string(row, 0, f"… and {more} more result{'s' * (more != 1)}: a "
                                    "sheet holds at most 1,048,576 rows (kpidsl history "
                                    "--format json lists them all)")
                    break
                _result_row(b, ws, row, r, first=(d.isoformat(),), link=False)
                row += 1
        b.end(ws, min(len(every), _MAX_ROWS - 4), len(columns))
        b.book.close()
