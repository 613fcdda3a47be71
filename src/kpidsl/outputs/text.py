"""Text for a terminal: the report's table, the explanations, the history and the diff of two
rule sets, each fitting an 80-column terminal; and the audit lines every output ends with."""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from kpidsl.language.words import COUNTED, MEASURED, count_words, human, percent
from kpidsl.outputs.jsonout import show
from kpidsl.outputs.report import Months, Names, Report
from kpidsl.plan.results import Result, Verdict

#: The columns of a table whose numbers are aligned to the right.
NUMERIC = ("rate", "decided", "k", "n", "pending", *MEASURED)


def table(rows: Iterable[tuple[str, ...]], header: tuple[str, ...], width: int | None = None,
          cut: int | None = None) -> list[str]:
    """``rows`` under ``header`` in aligned columns; with ``width``, the text of column
    ``cut`` (a name) is shortened with … to keep each line within it, to no less than 12
    characters."""
    rows = list(rows)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    if width is not None and cut is not None:
        room = max(12, len(header[cut]), width - sum(widths) + widths[cut] - 2 * len(header) + 2)
        if widths[cut] > room:
            widths[cut] = room
            rows = [(*r[:cut], shorten(r[cut], room), *r[cut + 1:]) for r in rows]
    numeric = {i for i, h in enumerate(header) if h in NUMERIC}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=False))).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut with … when longer."""
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def render_table(report: Report, rules: Any = None) -> str:
    """Results grouped by KPI, one line per group with its name, then findings and actions
    (select the results to show with :meth:`Report.select`). A name too long for an
    80-column line is shortened; the HTML page and the workbook show it whole. With
    ``rules``, the counts of a KPI measured per provider are headed as what they are
    (:func:`~kpidsl.language.words.count_words`)."""
    out = [f"KPIs as of {report.as_of.isoformat()}", ""]
    by_kpi: dict[str, list[Result]] = {}
    for r in report.results:
        by_kpi.setdefault(r.kpi, []).append(r)
    for kpi, results in by_kpi.items():
        first = results[0]
        out.append(f"{kpi}  (target: {first.direction} {percent(first.target)})")
        words = kpi_words(rules, kpi)
        header: tuple[str, ...]
        rows: list[tuple[str, ...]]
        if words == COUNTED:
            header = ("scope", "group", "name", "status", "rate", "decided", "k", "n",
                      "pending")
            rows = [(r.scope, r.group, report.names.get((r.scope, r.group), ""),
                     human(r.status), percent(r.rate),
                     percent(r.decided_rate) if r.pending else "", str(r.numerator),
                     str(r.denominator), str(r.pending)) for r in results]
        else:  # measured per provider: its figures, nothing pending
            header = ("scope", "group", "name", "status", "rate", *words)
            rows = [(r.scope, r.group, report.names.get((r.scope, r.group), ""),
                     human(r.status), percent(r.rate), str(r.numerator), str(r.denominator))
                    for r in results]
        out += ["  " + x for x in table(rows, header, 78, cut=2)]
        out.append("")
    out.append("rate = k/n; decided = k/(n - pending), the rate among records already decided;")
    out.append("k = counted, n = in the population, pending = not decided yet")
    for title, entries in (("Data-quality findings", report.findings),
                           ("Follow-up actions", report.actions)):
        out += ["", f"{title}: {len(entries)}"]
        for e in entries[:20]:
            where = f"{e.location}: " if e.location else ""
            out += textwrap.wrap(f"{where}{e.record}: {e.message}", width=78,
                                 initial_indent="  ", subsequent_indent="      ")
        if len(entries) > 20:
            out.append(f"  … and {len(entries) - 20} more (use --format json for all)")
    out += ["", *audit_lines(report)]
    return "\n".join(out)


#: How many hex digits of a fingerprint a person is shown (JSON and evidence keep all 64).
SHORT = 12


def audit_lines(report: Report | dict[str, str]) -> list[str]:
    """What produced the figures, for a footer: the version, the engine, the as-of date and
    the start of each fingerprint (of a report, or of an :func:`audit_json` object)."""
    a = report.audit() if isinstance(report, Report) else report
    when = f" as of {a['as_of']}" if "as_of" in a else ""
    return [f"Evaluated by kpidsl {a['kpidsl']} ({a['engine']} engine){when};",
            f"rules {a['rules'][:SHORT]}, data {a['data'][:SHORT] or '(the engine’s own tables)'} "
            "(sha256 fingerprints, first digits)"]


def render_explain(verdicts: Sequence[Verdict], result: Result, as_of: dt.date,
                   per_provider: bool = False, only: Sequence[str] = (),
                   name: str | None = None) -> str:
    """Each record with its verdict, the clause or part that decided it and the values that
    clause read, under a summary that is the KPI's result for the group (with its ``name``
    beside its id, unless the name only repeats it); ``only``: the verdicts ``verdicts`` was
    cut down to (``--verdict``), said under the summary."""
    key = (result.scope, result.group)
    where = group_title(*key, {key: name} if name and name != result.group else None)
    n, k, pend = result.denominator, result.numerator, result.pending
    out = [f"{result.kpi} for {where} as of {as_of.isoformat()}: "
           f"{human(result.status)} (target: {result.direction} "
           f"{percent(result.target)})"]
    if per_provider:
        actual, planned = MEASURED
        out.append(f"{k} {actual} of {n} {planned}; rate {percent(result.rate)}")
    else:
        out.append(f"{n} records: {k} counted, {n - k - pend} not counted, {pend} pending; "
                   f"rate {percent(result.rate)}")
    if only:
        one = len(verdicts) == 1
        kind = f"provider{'' if one else 's'} whose status is" if per_provider else \
            f"record{'' if one else 's'}"
        out.append(f"shown: the {len(verdicts)} {kind} "
                   f"{' or '.join(map(human, only))}")
    for v in verdicts:
        home = f" ({v.bootcamp})" if v.bootcamp else ""
        out += ["", f"{v.record}{home}: {human(v.verdict)}"]
        for r in v.reasons:
            out += textwrap.wrap(f"{r.clause}: {r.source}", width=78, initial_indent="  ",
                                 subsequent_indent="      ")
            out += _pack([f"{name} = {show(value) or '—'}" for name, value in r.values])
        for name, where in v.sources:
            out += textwrap.wrap(f"{name} from {where}", width=78, initial_indent="    ",
                                 subsequent_indent="        ")
    if verdicts and not per_provider:
        out += ["", "A counted record shows its `counted when` clause, a pending one its",
                "`pending when` clause, a record not counted the first part of each that is",
                "false. — is a missing value (or an event after the as-of date)."]
    return "\n".join(out)


def _pack(items: list[str], indent: str = "    ", width: int = 78) -> list[str]:
    """``a, b, c`` over as many lines as needed, never breaking inside an item."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += ", " + item
        else:
            if lines:
                lines[-1] += ","
            lines.append(indent + item)
    return lines


SYMBOLS = {"met": "✓", "not_met": "✗", "on_track": "·", "at_risk": "!", "no_data": "–"}
LEGEND = "✓ met  ✗ not met  · on track  ! at risk  – no data"


def rate_series(months: Months, group: str) -> dict[str, dict[dt.date, Result]]:
    """Each KPI's result for ``group`` by month; a KPI without one for it is left out."""
    series: dict[str, dict[dt.date, Result]] = {}
    for d, results in months:
        for r in results:
            if r.group == group:
                series.setdefault(r.kpi, {})[d] = r
    return series


def target_words(r: Result) -> str:
    return f"{'≥' if r.direction == 'at least' else '≤'} {percent(r.target)}"


def _kpi(rules: Any, kpi: str) -> Any:
    """The KPI called ``kpi`` in ``rules``, or ``None`` (no rules, or not one of them)."""
    try:
        return rules.kpi(kpi) if rules is not None else None
    except KeyError:
        return None


def kpi_title(rules: Any, kpi: str) -> str:
    """A KPI's ``title`` from its rule file, or its id when it has none (or no rules)."""
    found = _kpi(rules, kpi)
    return (found.meta_value("title") if found is not None else None) or kpi


def kpi_words(rules: Any, kpi: str) -> tuple[str, str]:
    """What the KPI called ``kpi`` counts, as (k, n): :func:`count_words` of it in
    ``rules`` (records counted in a population when it is not known)."""
    return count_words(_kpi(rules, kpi))


def rule_url(docs_url: str | None, kpi: str) -> str | None:
    """The KPI's page in the rule reference of the documentation site at ``docs_url``."""
    return f"{docs_url.rstrip('/')}/rules/{kpi}.html" if docs_url else None


def group_title(scope: str, group: str, names: Names | None = None) -> str:
    """A group for people: ``the programme``, or its scope and id with its name when it is
    known (``provider P001 — Walsall College``)."""
    if scope == "programme":
        return "the programme"
    name = names.get((scope, group)) if names else None
    return f"{scope} {group} — {name}" if name else f"{scope} {group}"


def render_history(months: Months, group: str = "all", width: int = 80, *,
                   names: Names | None = None) -> str:
    """One row per KPI, one status symbol per month end, then the latest rate and the target.

    Months that do not fit in ``width`` columns wrap into further blocks of equal size.
    """
    series = rate_series(months, group)
    dates = [d for d, _ in months]
    if not series or not dates:
        return f"no results for group {group}"
    name_w = min(max(len(k) for k in series), 28)
    tail_header = "  latest  target"
    per_block = max(1, (width - name_w - 2 - len(tail_header)) // 2)
    size = math.ceil(len(dates) / math.ceil(len(dates) / per_block))
    scope = next(iter(next(iter(series.values())).values())).scope
    out = [f"KPI status at each month end, {group_title(scope, group, names)}, "
           f"{dates[0]:%Y-%m} to {dates[-1]:%Y-%m}"]
    for start in range(0, len(dates), size):
        chunk = dates[start:start + size]
        last = start + size >= len(dates)
        indent = name_w + 2
        labels: list[tuple[int, str]] = []
        for i, d in enumerate(chunk):
            if i == 0 or d.month == 1:
                if labels and indent + 2 * i < labels[-1][0] + 5:
                    labels.pop()  # no room for both: January's year is the one to keep
                labels.append((indent + 2 * i, str(d.year)))
        years = [" "] * (indent + 2 * len(chunk))
        for pos, text in labels:
            years[pos:pos + len(text)] = text
        months_line = "".join(f"{'JFMAMJJASOND'[d.month - 1]} " for d in chunk)
        out += ["", "".join(years).rstrip(),
                ("KPI".ljust(name_w) + "  " + months_line + (tail_header if last else "")).rstrip()]
        for kpi, by_date in series.items():
            cells = "".join(f"{SYMBOLS[r.status] if (r := by_date.get(d)) else ' '} "
                            for d in chunk)
            row = kpi[:name_w].ljust(name_w) + "  " + cells
            latest = by_date.get(dates[-1])
            if last and latest is not None:
                row += f"  {percent(latest.rate):>6}  {target_words(latest):>6}"
            out.append(row.rstrip())
    out += ["", LEGEND, "latest, target: the rate and the target at the last month end;",
            "each month is judged against the target in force that month"]
    return "\n".join(out)

