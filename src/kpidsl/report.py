"""Reporting: an evaluation's results as a typed report, a terminal table, JSON or CSV.

The JSON is KPI-SPEC §4; the table fits an 80-column terminal.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import textwrap
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from kpidsl.interpreter import Entry, Result


def percent(value: Fraction | None, places: int = 1) -> str:
    """A fraction as a percentage for people (``Fraction(1, 5)`` → ``20%``); display only."""
    if value is None:
        return "–"
    scaled = Decimal(value.numerator * 100) / Decimal(value.denominator)
    text = f"{scaled.quantize(Decimal(1).scaleb(-places)):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def _fraction(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


@attrs.frozen(kw_only=True)
class Report:
    """The outcome of one evaluation."""

    as_of: dt.date
    results: tuple[Result, ...]
    findings: tuple[Entry, ...]
    """Data-quality findings: records that contradict each other, loader warnings."""
    actions: tuple[Entry, ...]
    """Follow-up actions: employers to chase, learners to refer."""

    def result(self, kpi: str, scope: str = "programme", group: str = "all") -> Result:
        """One result; ``KeyError`` if there is none."""
        for r in self.results:
            if (r.kpi, r.scope, r.group) == (kpi, scope, group):
                return r
        raise KeyError((kpi, scope, group))

    def to_json(self) -> dict[str, Any]:
        """The KPI-SPEC §4 object: results, findings and actions."""
        return {
            "as_of": self.as_of.isoformat(),
            "results": [
                {
                    "kpi": r.kpi, "scope": r.scope, "group": r.group, "status": r.status,
                    "numerator": r.numerator, "denominator": r.denominator, "pending": r.pending,
                    "target": f"{r.direction} {percent(r.target, 2)}",
                    "rate": _fraction(r.rate), "rate_percent": percent(r.rate, 2),
                }
                for r in self.results
            ],
            "findings": [_entry_json(e) for e in self.findings],
            "actions": [_entry_json(e) for e in self.actions],
        }


def _entry_json(e: Entry) -> dict[str, Any]:
    return {k: v for k, v in attrs.asdict(e).items() if v is not None}


_COLUMNS = ("kpi", "scope", "group", "status", "rate", "target", "k", "n", "pending")


def to_csv(report: Report) -> str:
    """One CSV row per result, for spreadsheets."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["as_of", "kpi", "scope", "group", "status", "numerator", "denominator",
                "pending", "rate", "target"])
    for r in report.results:
        w.writerow([report.as_of.isoformat(), r.kpi, r.scope, r.group, r.status, r.numerator,
                    r.denominator, r.pending, _fraction(r.rate) or "",
                    f"{r.direction} {percent(r.target, 2)}"])
    return out.getvalue()


def _table(rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    rows = list(rows)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    numeric = {i for i, h in enumerate(header) if h in ("rate", "decided", "k", "n", "pending")}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=False))).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]


def render_table(report: Report, *, scopes: Iterable[str] = ("bootcamp", "provider",
                                                           "programme")) -> str:
    """Results grouped by KPI, one line per group, then findings and actions."""
    wanted = set(scopes)
    out = [f"KPIs as of {report.as_of.isoformat()}", ""]
    by_kpi: dict[str, list[Result]] = {}
    for r in report.results:
        if r.scope in wanted:
            by_kpi.setdefault(r.kpi, []).append(r)
    for kpi, results in by_kpi.items():
        first = results[0]
        out.append(f"{kpi}  (target: {first.direction} {percent(first.target)})")
        rows = [(r.scope, r.group, r.status.replace("_", " "), percent(r.rate),
                 percent(r.decided_rate) if r.pending else "", str(r.numerator),
                 str(r.denominator), str(r.pending)) for r in results]
        out += ["  " + x for x in _table(rows, ("scope", "group", "status", "rate", "decided",
                                                 "k", "n", "pending"))]
        out.append("")
    out.append("rate = k/n; decided = k/(n - pending), the rate among records already decided;")
    out.append("k = counted, n = in the population, pending = not decided yet")
    for title, entries in (("Data-quality findings", report.findings),
                           ("Follow-up actions", report.actions)):
        out += ["", f"{title}: {len(entries)}"]
        for e in entries[:20]:
            out += textwrap.wrap(f"{e.record}: {e.message}", width=78, initial_indent="  ",
                                 subsequent_indent="      ")
        if len(entries) > 20:
            out.append(f"  … and {len(entries) - 20} more (use --format json for all)")
    return "\n".join(out)
