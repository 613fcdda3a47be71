"""The report workbook: an evaluation, or a history, as an Excel workbook to send.

``evaluate --format xlsx`` writes a ``summary`` sheet (each KPI by group: status in its colour,
rate as a percentage, target, k, n, pending), one sheet per KPI listing each record of its
population in the programme with its verdict and the reason (the ``explain`` output), and
``findings`` and ``actions`` sheets. ``history --format xlsx`` writes every result at every
month end, the status of each KPI month by month for one group, and a chart of the rates.
Every sheet has a frozen header row and filters.

Percentages are written as numbers formatted as percentages, for people to read and sort;
the exact counts beside them (k, n) are what the status was decided on.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

from kpidsl.language.checker import RuleSet
from kpidsl.language.words import human
from kpidsl.outputs.html import STATUS_COLOURS
from kpidsl.outputs.jsonout import show
from kpidsl.outputs.report import Months, Report
from kpidsl.outputs.text import audit_lines, group_title, kpi_title, rate_series, rule_url
from kpidsl.plan.results import Entry, Result, Verdict

_SCOPES = ("programme", "provider", "bootcamp")
#: Rows in a sheet (Excel's limit).
_MAX_ROWS = 1_048_576
_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


class _Book:
    """An XlsxWriter workbook with the report's formats and table-like sheets."""

    def __init__(self, out: Any, rules: RuleSet, docs_url: str | None) -> None:
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
        self.names: set[str] = set()

    def sheet(self, name: str, title: str, header: Sequence[tuple[str, int]],
              subtitle: str | None = None) -> Any:
        """A sheet with a title line (and a subtitle), then a frozen, filtered header row (row
        3). Rows are written in order: the subtitle cannot come later."""
        name = name.translate(_FORBIDDEN)[:31]
        base, n = name, 1
        while name.lower() in self.names:  # Excel's sheet names ignore case
            n += 1
            name = f"{base[:31 - len(str(n)) - 1]}~{n}"
        self.names.add(name.lower())
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

    def write_status(self, ws: Any, row: int, col: int, status: str) -> None:
        ws.write_string(row, col, human(status), self.status[status])

    def write_rate(self, ws: Any, row: int, col: int, r: Result) -> None:
        if r.rate is None:
            ws.write_blank(row, col, None)
        else:
            ws.write_number(row, col, float(r.rate), self.percent)


_RESULT_COLUMNS = (("KPI", 24), ("Title", 34), ("Scope", 11), ("Group", 10), ("Status", 11),
                   ("Rate", 8), ("Direction", 9), ("Target", 8), ("Counted (k)", 9),
                   ("Population (n)", 11), ("Pending", 8))


def _result_row(b: _Book, ws: Any, row: int, r: Result, first: Sequence[Any] = (),
                link: bool = True) -> None:
    for col, value in enumerate(first):
        ws.write(row, col, value)
    at = len(first)
    ws.write_string(row, at, r.kpi)
    b.write_title(ws, row, at + 1, r.kpi, link)
    ws.write_string(row, at + 2, r.scope)
    ws.write_string(row, at + 3, r.group)
    b.write_status(ws, row, at + 4, r.status)
    b.write_rate(ws, row, at + 5, r)
    ws.write_string(row, at + 6, r.direction)
    if r.target is None:
        ws.write_string(row, at + 7, "none")
    else:
        ws.write_number(row, at + 7, float(r.target), b.percent)
    for col, n in enumerate((r.numerator, r.denominator, r.pending), at + 8):
        ws.write_number(row, col, n)


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
        b = _Book(out, rules, docs_url)
        ws = b.sheet("summary", f"Skills Bootcamps KPIs as of {report.as_of.isoformat()}",
                     _RESULT_COLUMNS, subtitle=" ".join(audit_lines(report)))
        results = _in_order(report.results)
        for row, r in enumerate(results, 3):
            _result_row(b, ws, row, r)
        b.end(ws, len(results), len(_RESULT_COLUMNS))
        for kpi in dict.fromkeys(r.kpi for r in results):
            _verdict_sheet(b, kpi, why.get(kpi, ()), report.as_of)
        _entries(b, "findings", f"Data-quality findings ({len(report.findings)})",
                 report.findings)
        _entries(b, "actions", f"Follow-up actions ({len(report.actions)})", report.actions)
        b.book.close()


def _verdict_sheet(b: _Book, kpi: str, found: Sequence[Verdict], as_of: dt.date) -> None:
    """One row per record: its verdict, and each clause (or part) that decided it with the
    values it read, one per line."""
    columns = (("Record", 22), ("Bootcamp", 10), ("Verdict", 12), ("Why", 60),
               ("Values read", 70))
    ws = b.sheet(kpi, f"{b.kpi_title(kpi)} ({kpi}): each record in the programme as of "
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
    b.end(ws, len(shown), len(columns))
    if len(shown) < len(found):  # said, never silently dropped
        ws.write_string(len(shown) + 3, 0, f"… and {len(found) - len(shown)} more records: a "
                        "sheet holds at most 1,048,576 rows (kpidsl evaluate --format json "
                        "--explain lists them all)")


def write_history(path: str | os.PathLike[str], months: Months, rules: RuleSet,
                  group: str = "all", *, docs_url: str | None = None,
                  audit: dict[str, str] | None = None) -> None:
    """Write the report workbook of a history: every result at every month end, each KPI's
    status month by month for ``group``, and its rates as a table and a chart; ``audit``
    (:func:`~kpidsl.outputs.jsonout.audit_json`) says what produced it, under each title."""
    with open(path, "wb") as out:
        b = _Book(out, rules, docs_url)
        dates = [d for d, _ in months]
        span = f"{dates[0]:%Y-%m} to {dates[-1]:%Y-%m}" if dates else "no months"
        series = rate_series(months, group)
        scope = next((r.scope for s in series.values() for r in s.values()), "programme")
        where = group_title(scope, group)
        header = [("KPI", 24), ("Title", 34), *((f"{d:%b %Y}", 10) for d in dates)]
        produced = " ".join(audit_lines(audit)) if audit else None
        trend = b.sheet("trend", f"Status at each month end, {where}, {span}", header, produced)
        rates = b.sheet("rates", f"Rate at each month end, {where}, {span}", header, produced)
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
        if series and dates:
            chart = b.book.add_chart({"type": "line"})
            for row in range(3, 3 + len(series)):
                chart.add_series({"name": ["rates", row, 0], "categories":
                                  ["rates", 2, 2, 2, 1 + len(dates)],
                                  "values": ["rates", row, 2, row, 1 + len(dates)],
                                  "marker": {"type": "circle", "size": 4}})
            chart.set_title({"name": f"KPI rates at each month end, {where}"})
            chart.set_y_axis({"num_format": "0%", "min": 0})
            chart.set_size({"width": 960, "height": 480})
            rates.insert_chart(4 + len(series), 0, chart)
        every = [r for _, results in months for r in results]
        columns = (("As of", 11), *_RESULT_COLUMNS)
        ws = b.sheet("results", f"Every result at each month end, {span}", columns)
        row = 3
        for d, results in months:
            for r in _in_order(results):
                if row == _MAX_ROWS - 1:  # said, never silently dropped
                    ws.write_string(row, 0, f"… and {len(every) - row + 3} more results: a "
                                    "sheet holds at most 1,048,576 rows (kpidsl history "
                                    "--format json lists them all)")
                    break
                _result_row(b, ws, row, r, first=(d.isoformat(),), link=False)
                row += 1
        b.end(ws, min(len(every), _MAX_ROWS - 4), len(columns))
        b.book.close()
