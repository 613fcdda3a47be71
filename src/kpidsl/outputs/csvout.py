"""CSV: one row per result, for spreadsheets (the exact rate is written ``3 of 4``, as a
spreadsheet would read ``3/4`` as a date)."""

from __future__ import annotations

import csv
import io

from kpidsl.language.words import percent
from kpidsl.outputs.report import Report


def to_csv(report: Report) -> str:
    """One CSV row per result, for spreadsheets.

    The exact rate is written ``3 of 4`` (as rule tests write it), because spreadsheets read
    ``3/4`` as the 3rd of April; ``rate_percent`` is the same rate as a percentage rounded to
    two places, which spreadsheets read as a number. An empty population has neither.
    """
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["as_of", "kpi", "scope", "group", "status", "numerator", "denominator",
                "pending", "rate", "rate_percent", "target"])
    for r in report.results:
        w.writerow([report.as_of.isoformat(), r.kpi, r.scope, r.group, r.status, r.numerator,
                    r.denominator, r.pending,
                    f"{r.numerator} of {r.denominator}" if r.denominator else "",
                    percent(r.rate, 2) if r.denominator else "",
                    f"{r.direction} {percent(r.target, 2)}"])
    return out.getvalue()


