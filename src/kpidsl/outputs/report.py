"""Reporting: an evaluation's results as a typed report, a terminal table, JSON or CSV.

The JSON is KPI-SPEC §4; the table fits an 80-column terminal.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import json
import math
import operator
import os
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any
from xml.sax.saxutils import escape

import attrs

from kpidsl.contract.records import BY_CLASS, describe
from kpidsl.data.csvfiles import collector_paused, data_fingerprint
from kpidsl.data.dataset import Dataset
from kpidsl.errors import NotFoundError, suggest
from kpidsl.language.changes import Changes, RuleChange
from kpidsl.language.words import percent, percent_of
from kpidsl.plan.points import PointValue
from kpidsl.plan.results import Entry, Explanation, Result, Verdict
from kpidsl.version import __version__


@attrs.frozen(kw_only=True)
class Report:
    """The outcome of one evaluation."""

    as_of: dt.date
    results: tuple[Result, ...]
    findings: tuple[Entry, ...]
    """Data-quality findings: records that contradict each other, loader warnings."""
    actions: tuple[Entry, ...]
    """Follow-up actions: employers to chase, learners to refer."""
    rules_fingerprint: str = attrs.field(default="", eq=False)
    """sha256 of the rule files evaluated (:func:`kpidsl.api.rules_fingerprint`)."""
    engine: str = attrs.field(default="python", eq=False)
    """The engine that evaluated the rules."""
    explanations: tuple[Explanation, ...] = attrs.field(default=(), eq=False, repr=False)
    """Each KPI's verdicts for the programme, when asked for (``evaluate(…, explain=True)``),
    from the same engine and the same reading of the data as the results."""
    version: str = attrs.field(default=__version__, eq=False)
    """The version of kpidsl that evaluated them. Like the fingerprints and the engine, it
    says what produced the figures and is not one of them: reports with the same figures are
    equal."""
    _data: Dataset | str | os.PathLike[str] | None = attrs.field(default=None, eq=False,
                                                                 repr=False, alias="data")
    """The data evaluated (records, or a data folder), for its fingerprint (worked out when
    first asked for: hashing records built in Python costs as much as writing them out)."""

    @property
    def data(self) -> Dataset | str | os.PathLike[str] | None:
        """The data evaluated: a data folder, or the records (a workbook is read into
        records); ``None`` when the engine held the data itself."""
        return self._data

    @property
    def data_fingerprint(self) -> str:
        """sha256 of the data evaluated (:func:`kpidsl.data.csvfiles.data_fingerprint`);
        empty when the report does not know its data."""
        return "" if self._data is None else data_fingerprint(self._data)

    def audit(self) -> dict[str, str]:
        """What produced the figures, for an auditor: the kpidsl version, the engine, the
        as-of date and the fingerprints of the rules and of the data (full sha256)."""
        return audit_json(rules=self.rules_fingerprint, data=self.data_fingerprint,
                          as_of=self.as_of, engine=self.engine, version=self.version)

    def result(self, kpi: str, scope: str = "programme", group: str = "all") -> Result:
        """One KPI's result for one group (default: the programme).

        A :class:`~kpidsl.errors.NotFoundError` (a ``KeyError``) says which of the
        three names has no result, and the closest that has one.
        """
        for r in self.results:
            if (r.kpi, r.scope, r.group) == (kpi, scope, group):
                return r
        kpis = list(dict.fromkeys(r.kpi for r in self.results))
        if kpi not in kpis:
            raise NotFoundError(f"no KPI called {kpi!r}",
                                suggest(kpi, kpis) or "the KPIs are " + ", ".join(kpis))
        scopes = list(dict.fromkeys(r.scope for r in self.results if r.kpi == kpi))
        if scope not in scopes:
            raise NotFoundError(f"{kpi} has no {scope!r} results",
                                suggest(scope, scopes) or "its scopes are " + ", ".join(scopes))
        groups = [r.group for r in self.results if (r.kpi, r.scope) == (kpi, scope)]
        raise NotFoundError(f"{kpi} has no result for {scope} {group!r}",
                            suggest(group, groups) or f"the {scope} groups are "
                            + ", ".join(groups[:30]) + (" …" if len(groups) > 30 else ""))

    def select(self, *, kpis: Iterable[str] | None = None, scopes: Iterable[str] | None = None,
               groups: Iterable[str] | None = None, statuses: Iterable[str] | None = None
               ) -> Report:
        """The same report with only the results that pass every filter given (``None``:
        no filter). A group is an id, or ``scope:id`` for an id that is both a bootcamp's and
        a provider's. A KPI that is not in the report raises
        :class:`~kpidsl.errors.NotFoundError`. Findings and actions are kept whole:
        they are about records, not results."""
        names = list(dict.fromkeys(r.kpi for r in self.results))
        for k in kpis or ():
            if k not in names:
                raise NotFoundError(f"no KPI called {k!r}",
                                    suggest(k, names) or "the KPIs are " + ", ".join(names))
        k, sc, g, st = (None if f is None else set(f) for f in (kpis, scopes, groups, statuses))
        kept = tuple(r for r in self.results
                     if (k is None or r.kpi in k) and (sc is None or r.scope in sc)
                     and (g is None or r.group in g or f"{r.scope}:{r.group}" in g)
                     and (st is None or r.status in st))
        return attrs.evolve(self, results=kept)

    def to_json(self) -> str:
        """The KPI-SPEC §4 JSON document (:meth:`to_dict`, written out by :func:`json_text`)."""
        return json_text(self.to_dict(written=True))

    def to_dict(self, written: bool = False) -> dict[str, Any]:
        """The KPI-SPEC §4 object: results, findings and actions, as plain Python values
        (with ``written``, each result is its JSON text already, for :func:`json_text`)."""
        return {
            "as_of": self.as_of.isoformat(),
            "audit": self.audit(),
            "results": [(result_line if written else result_json)(r) for r in self.results],
            "findings": [_entry_json(e) for e in self.findings],
            "actions": [_entry_json(e) for e in self.actions],
        }


def audit_json(*, rules: str, data: str, as_of: dt.date | None = None, engine: str = "python",
               version: str = __version__) -> dict[str, str]:
    """The ``audit`` object of every JSON output: the kpidsl version, the engine, the as-of
    date (none for a history, whose months each have theirs) and the full fingerprints."""
    out = {"kpidsl": version, "engine": engine}
    if as_of is not None:
        out["as_of"] = as_of.isoformat()
    return {**out, "rules": rules, "data": data}


def json_text(obj: dict[str, Any], expand: tuple[str, ...] = ()) -> str:
    """JSON with each item of a list on a line of its own: readable and diffable, and written
    by the fast C encoder (an indented dump of a big report is ten times slower). The items of
    the lists named in ``expand`` (``history``'s ``months``) are laid out the same way."""
    return b"".join(json_pieces(obj, expand)).decode("utf-8")


def json_pieces(obj: dict[str, Any], expand: tuple[str, ...] = ()) -> Iterator[bytes]:
    """:func:`json_text` in pieces of UTF-8, to write a big document (a history) without
    holding it whole: a list not named in ``expand`` is one piece. Bytes, because a history's
    lines are encoded once, when written, rather than once for every month they stand in."""
    return _json_block(obj, "", expand)


def _json_block(value: Any, indent: str, expand: tuple[str, ...], key: str = ""
                ) -> Iterator[bytes]:
    """``value`` as JSON at ``indent``: a non-empty list one item a line, a dict holding lists
    (``explanations``: a list for each KPI) one key a line, anything else on one line, so no
    line grows with the size of the data."""
    inner = indent + "  "
    if isinstance(value, list) and value:
        yield f"[\n{inner}".encode()
        if key in expand:
            for i, x in enumerate(value):
                if i:
                    yield f",\n{inner}".encode()
                yield from _json_block(x, inner, expand)
        else:
            sep = f",\n{inner}".encode()
            try:  # a history's months: every line written already
                yield sep.join(value)
            except TypeError:
                yield sep.join(x if isinstance(x, bytes) else _utf8(x) for x in value)
        yield f"\n{indent}]".encode()
    elif isinstance(value, dict) and any(isinstance(v, list | dict) for v in value.values()):
        for i, (k, v) in enumerate(value.items()):
            yield f"{',' if i else '{'}\n{inner}{json.dumps(k)}: ".encode()
            yield from _json_block(v, inner, expand, k)
        yield f"\n{indent}}}".encode()
    else:
        yield _utf8(value)


_encode = json.JSONEncoder(ensure_ascii=False).encode


def _utf8(value: Any) -> bytes:
    return _encode(value).encode()


@functools.lru_cache(maxsize=65536)
def _string(text: str | None) -> str:
    return _encode(text)


def result_json(r: Result) -> dict[str, Any]:
    """One result as the §4 JSON has it (also used by ``history`` and ``diff``)."""
    rate, rate_percent = _rate_texts(r.numerator, r.denominator)
    return {
        "kpi": r.kpi, "scope": r.scope, "group": r.group, "status": r.status,
        "numerator": r.numerator, "denominator": r.denominator, "pending": r.pending,
        "target": _target_text(r.direction, r.target),
        "rate": rate, "rate_percent": rate_percent,
    }


def result_line(r: Result) -> bytes:
    """:func:`result_json` written as JSON (UTF-8) by a template, five times faster than
    encoding the dict: a report has a result for every group and KPI, a history one every
    month. JSON text already written, as bytes, goes into :func:`json_text` as it is."""
    t = r.target
    n, d = (None, None) if t is None else (t.numerator, t.denominator)
    return _line_head(r.kpi, r.scope, r.group) + _line_tail(
        r.status, r.numerator, r.denominator, r.pending, r.direction, n, d)


@functools.lru_cache(maxsize=1 << 18)
def _line_head(kpi: str, scope: str, group: str) -> bytes:
    return f'{{"kpi": {_string(kpi)}, "scope": {_string(scope)}, "group": {_string(group)}, ' \
        '"status": '.encode()


@functools.lru_cache(maxsize=1 << 16)
def _line_tail(status: str, k: int, n: int, pending: int, direction: str, tn: int | None,
               td: int | None) -> bytes:
    # the same counts recur across groups: remembered by the counts and the target's two
    # integers (hashing a Fraction costs more than writing the line)
    return (f'{_string(status)}, "numerator": {k:d}, "denominator": {n:d}, "pending": '
            f'{pending:d}, "target": {_line_target(direction, tn, td)}, {_line_rate(k, n)}}}'
            ).encode()


@functools.lru_cache(maxsize=1024)
def _line_target(direction: str, n: int | None, d: int | None) -> str:
    return _string(_target_text(direction, None if n is None or d is None else Fraction(n, d)))


@functools.lru_cache(maxsize=65536)
def _line_rate(k: int, n: int) -> str:
    rate, rate_percent = _rate_texts(k, n)
    return f'"rate": {_string(rate)}, "rate_percent": {_string(rate_percent)}'


@functools.lru_cache(maxsize=65536)
def _rate_texts(k: int, n: int) -> tuple[str | None, str]:
    """``k/n`` written exactly (``3/4``) and as a percentage, remembered: the same few
    counts recur across thousands of groups and months."""
    if not n:
        return None, percent(None)
    common = math.gcd(k, n)
    return f"{k // common}/{n // common}", percent_of(k, n, 2)


def _target_text(direction: str, target: Fraction | None) -> str:
    return f"{direction} {percent(target, 2)}"


def _entry_json(e: Entry) -> dict[str, Any]:
    return {k: v for k, v in attrs.asdict(e).items() if v is not None}




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


def _table(rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    rows = list(rows)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    numeric = {i for i, h in enumerate(header) if h in ("rate", "decided", "k", "n", "pending")}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=False))).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]


def render_table(report: Report) -> str:
    """Results grouped by KPI, one line per group, then findings and actions (select the
    results to show with :meth:`Report.select`)."""
    out = [f"KPIs as of {report.as_of.isoformat()}", ""]
    by_kpi: dict[str, list[Result]] = {}
    for r in report.results:
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


# ---- explain ------------------------------------------------------------------------------


def show(value: Any) -> str | None:
    """A value read by a rule, as a person writes it; ``None`` when it is missing."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):  # pounds and pence; more places only when it has them
        whole, _, places = f"{value:f}".partition(".")
        places = places.rstrip("0")
        return f"{whole}.{places.ljust(2, '0')}" if len(places) <= 2 else f"{value:f}"
    if isinstance(value, Fraction):
        return percent(value, 2)
    if isinstance(value, PointValue):
        return f"{value.label} ({value.date.isoformat()})"
    if isinstance(value, frozenset | set):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    if type(value) in BY_CLASS:
        return describe(BY_CLASS[type(value)].name, value)
    if isinstance(value, list | tuple):
        if value and type(value[0]) in BY_CLASS:
            return str(len(value))  # how many: the records themselves are in the data
        return "[" + ", ".join(show(v) or "—" for v in value) + "]" if value else "none"
    return str(value)


def verdict_json(v: Verdict) -> dict[str, Any]:
    """One explained record: its verdict and each deciding clause with the values it read."""
    return {"record": v.record, "bootcamp": v.bootcamp, "verdict": v.verdict,
            "reasons": [{"clause": r.clause, "source": r.source,
                         "values": {name: show(value) for name, value in r.values}}
                        for r in v.reasons]}


def render_explain(verdicts: Sequence[Verdict], result: Result, as_of: dt.date,
                   per_provider: bool = False, only: Sequence[str] = ()) -> str:
    """Each record with its verdict, the clause or part that decided it and the values that
    clause read, under a summary that is the KPI's result for the group; ``only``: the
    verdicts ``verdicts`` was cut down to (``--verdict``), said under the summary."""
    where = "the programme" if result.scope == "programme" else f"{result.scope} {result.group}"
    n, k, pend = result.denominator, result.numerator, result.pending
    out = [f"{result.kpi} for {where} as of {as_of.isoformat()}: "
           f"{result.status.replace('_', ' ')} (target: {result.direction} "
           f"{percent(result.target)})"]
    if per_provider:
        out.append(f"{k} actual of {n} planned; rate {percent(result.rate)}")
    else:
        out.append(f"{n} records: {k} counted, {n - k - pend} not counted, {pend} pending; "
                   f"rate {percent(result.rate)}")
    if only:
        one = len(verdicts) == 1
        kind = f"provider{'' if one else 's'} whose status is" if per_provider else \
            f"record{'' if one else 's'}"
        out.append(f"shown: the {len(verdicts)} {kind} "
                   f"{' or '.join(v.replace('_', ' ') for v in only)}")
    for v in verdicts:
        home = f" ({v.bootcamp})" if v.bootcamp else ""
        out += ["", f"{v.record}{home}: {v.verdict.replace('_', ' ')}"]
        for r in v.reasons:
            out += textwrap.wrap(f"{r.clause}: {r.source}", width=78, initial_indent="  ",
                                 subsequent_indent="      ")
            out += _pack([f"{name} = {show(value) or '—'}" for name, value in r.values])
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


# ---- history ------------------------------------------------------------------------------

#: One character per status, for trends at a glance.
SYMBOLS = {"met": "✓", "not_met": "✗", "on_track": "·", "at_risk": "!", "no_data": "–"}
LEGEND = "✓ met  ✗ not met  · on track  ! at risk  – no data"
Months = Sequence[tuple[dt.date, Sequence[Result]]]
"""Each date's results, in date order."""


@attrs.frozen(kw_only=True)
class History:
    """What ``kpidsl history`` shows: the results kept at each month end, the group the
    table and chart follow (``all`` unless one was asked for) and what produced them."""

    months: tuple[tuple[dt.date, tuple[Result, ...]], ...]
    group: str = "all"
    audit: dict[str, str] = attrs.field(factory=dict, eq=False)


@collector_paused()
def history_json(months: Months) -> dict[str, Any]:
    """``{"months": [{"as_of": …, "results": […]}]}`` for :func:`json_text`, each result
    written as in ``evaluate``'s JSON (:func:`result_line`). A result that is the same object
    in the same place as the month before (the engines give an unchanged result once) is
    written once."""
    out: list[dict[str, Any]] = []
    before: Sequence[Result] = ()
    lines: list[bytes] = []
    for d, results in months:
        if len(results) == len(before):  # only what changed since the month before
            lines = lines.copy()
            for i in itertools.compress(range(len(results)),
                                        map(operator.is_not, results, before)):
                lines[i] = result_line(results[i])
        else:
            lines = [result_line(r) for r in results]
        out.append({"as_of": d.isoformat(), "results": lines})
        before = results
    return {"months": out}


def _series(months: Months, group: str) -> dict[str, dict[dt.date, Result]]:
    """Each KPI's result for ``group`` by month; a KPI without one for it is left out."""
    series: dict[str, dict[dt.date, Result]] = {}
    for d, results in months:
        for r in results:
            if r.group == group:
                series.setdefault(r.kpi, {})[d] = r
    return series


def _target(r: Result) -> str:
    return f"{'≥' if r.direction == 'at least' else '≤'} {percent(r.target)}"


def kpi_title(rules: Any, kpi: str) -> str:
    """A KPI's ``title`` from its rule file, or its id when it has none (or no rules)."""
    try:
        found = rules.kpi(kpi).meta_value("title") if rules is not None else None
    except KeyError:
        found = None
    return found or kpi


def rule_url(docs_url: str | None, kpi: str) -> str | None:
    """The KPI's page in the rule reference of the documentation site at ``docs_url``."""
    return f"{docs_url.rstrip('/')}/rules/{kpi}.html" if docs_url else None


def _group_title(scope: str, group: str) -> str:
    return "the programme" if scope == "programme" else f"{scope} {group}"


def render_history(months: Months, group: str = "all", width: int = 80) -> str:
    """One row per KPI, one status symbol per month end, then the latest rate and the target.

    Months that do not fit in ``width`` columns wrap into further blocks of equal size.
    """
    series = _series(months, group)
    dates = [d for d, _ in months]
    if not series or not dates:
        return f"no results for group {group}"
    name_w = min(max(len(k) for k in series), 28)
    tail_header = "  latest  target"
    per_block = max(1, (width - name_w - 2 - len(tail_header)) // 2)
    size = math.ceil(len(dates) / math.ceil(len(dates) / per_block))
    scope = next(iter(next(iter(series.values())).values())).scope
    out = [f"KPI status at each month end, {_group_title(scope, group)}, "
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
                row += f"  {percent(latest.rate):>6}  {_target(latest):>6}"
            out.append(row.rstrip())
    out += ["", LEGEND, "latest, target: the rate and the target at the last month end;",
            "each month is judged against the target in force that month"]
    return "\n".join(out)


#: Line colours that stay apart for people with the common colour-vision deficiencies, each
#: with a contrast of at least 3:1 on white (WCAG 2.2, non-text contrast).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#a36a00", "#6a3d9a", "#000000",
           "#8c564b", "#767676", "#8a8b00")


def history_svg(months: Months, group: str = "all") -> str:
    """The rate of each KPI at each month end as a line, its target as a dashed line of the
    same colour, with month labels and a legend: a plain SVG document, no dependency."""
    series = _series(months, group)
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
           f'end, {escape(_group_title(scope, group))}</text>']
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
        line, goal, dots = [], [], []
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
        label = f"{kpi} ({_target(latest)})" if latest else kpi
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


# ---- diff ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Change:
    """A result whose status or counts differ between two rule sets (``None``: not there)."""

    kpi: str
    scope: str
    group: str
    old: Result | None
    new: Result | None


@attrs.frozen(kw_only=True)
class Diff:
    """What a change of rules does to the results on the same data."""

    as_of: dt.date
    changes: tuple[Change, ...]
    added: tuple[str, ...]
    """KPIs only in the new rules."""
    removed: tuple[str, ...]
    """KPIs only in the old rules."""
    added_results: tuple[Result, ...] = ()
    """The results of the KPIs added, as the new rules give them."""


def compare(old: Report, new: Report) -> Diff:
    """The results of KPIs in both reports whose status, k, n or p differ; a target change
    that moves no status is not a change of result. The KPIs added come with their
    results."""
    def key(r: Result) -> tuple[str, str, str]:
        return (r.kpi, r.scope, r.group)

    def counts(r: Result | None) -> tuple[Any, ...] | None:
        return None if r is None else (r.status, r.numerator, r.denominator, r.pending)

    before, after = {key(r): r for r in old.results}, {key(r): r for r in new.results}
    old_kpis = list(dict.fromkeys(r.kpi for r in old.results))
    new_kpis = list(dict.fromkeys(r.kpi for r in new.results))
    both = set(old_kpis) & set(new_kpis)
    changes = [Change(kpi=k[0], scope=k[1], group=k[2], old=before.get(k), new=after.get(k))
               for k in dict.fromkeys([*before, *after])
               if k[0] in both and counts(before.get(k)) != counts(after.get(k))]
    return Diff(as_of=new.as_of, changes=tuple(changes),
                added=tuple(k for k in new_kpis if k not in both),
                removed=tuple(k for k in old_kpis if k not in both),
                added_results=tuple(r for r in new.results if r.kpi not in both))


def diff_json(changes: Changes, diff: Diff | None = None) -> dict[str, Any]:
    """The rule, text and test changes, the KPIs added and removed; then, when the results
    were compared (``diff``; else ``null``), the date, the results that change with the old
    and new result of each (``null`` where there is none), and the added KPIs' results."""
    def listed(found: Sequence[RuleChange]) -> list[dict[str, Any]]:
        return [{"item": c.item, "part": c.part, "old": c.old, "new": c.new,
                 "words": c.words()} for c in found]

    return {"as_of": diff and diff.as_of.isoformat(),
            "rule_changes": listed(changes.rules),
            "text_changes": listed(changes.texts),
            "test_changes": listed(changes.tests),
            "added": list(changes.added),
            "removed": list(changes.removed),
            "changes": diff and [{"kpi": c.kpi, "scope": c.scope, "group": c.group,
                                  "old": c.old and result_json(c.old),
                                  "new": c.new and result_json(c.new)} for c in diff.changes],
            "added_results": diff and [result_json(r) for r in diff.added_results]}


def _brief(r: Result | None) -> str:
    if r is None:
        return "(none)"
    text = f"{r.status.replace('_', ' ')} {r.numerator}/{r.denominator}"
    return text + (f", {r.pending} pending" if r.pending else "")


#: The one line of a diff between rule sets that differ in nothing that counts.
NO_CHANGES = "No changes: the rules, their texts and their tests are the same."


def render_diff(changes: Changes, diff: Diff | None = None) -> str:
    """The rule changes, the text changes and the test changes, each apart, one line each (or
    a line for an item and one for each of its changes); then, when the results were
    compared (``diff``), the changed results grouped by KPI, old → new, and each added KPI's
    results. When nothing differs, one line says so."""
    if not changes and not (diff and diff.changes):
        return NO_CHANGES
    out = []
    for title, found in (("Rule changes, which can change results", changes.rules),
                         ("Text changes, which change no result", changes.texts),
                         ("Test changes", changes.tests)):
        out += [f"{title}: {len(found) or 'none'}", *_change_lines(found), ""]
    if diff is None:
        return "\n".join([*out, "Results were not compared: give --data DATA to evaluate both "
                          "rule sets on it."])
    n = len(diff.changes)
    moved = {0: "no result changes", 1: "1 result changes"}.get(n, f"{n} results change")
    out.append(f"Results as of {diff.as_of.isoformat()}: {moved} status or counts")
    by_kpi: dict[str, list[Change]] = {}
    for c in diff.changes:
        by_kpi.setdefault(c.kpi, []).append(c)
    for kpi, changed in by_kpi.items():
        targets = list(dict.fromkeys(f"{r.direction} {percent(r.target)}" for c in changed
                                     for r in (c.old, c.new) if r is not None))
        out += ["", f"{kpi}  (target: {' → '.join(targets)})"]
        rows = [(c.scope, c.group, _brief(c.old), "→", _brief(c.new)) for c in changed]
        out += ["  " + x for x in _table(rows, ("scope", "group", "old", "", "new"))]
    for kpi in diff.added:
        results = [r for r in diff.added_results if r.kpi == kpi]
        first = results[0]
        out += ["", f"Added KPI {kpi}  (target: {first.direction} {percent(first.target)})"]
        figures = [(r.scope, r.group, r.status.replace("_", " "), percent(r.rate),
                    str(r.numerator), str(r.denominator), str(r.pending)) for r in results]
        out += ["  " + x for x in _table(figures, ("scope", "group", "status", "rate", "k", "n",
                                                    "pending"))]
    return "\n".join(out)


def _change_lines(changes: Sequence[RuleChange]) -> list[str]:
    """One line for each change, wrapped; an item with several changes has a line of its
    own, with its changes below it."""
    out = []
    for item, group in itertools.groupby(changes, key=operator.attrgetter("item")):
        found = list(group)
        if len(found) == 1:
            out += _wrap(found[0].words(), "  ")
            continue
        out.append(f"  {item}:")
        for c in found:
            out += _wrap(c.words().removeprefix(f"{item}: "), "    ")
    return out


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, 78, initial_indent=indent, subsequent_indent=indent + "    ",
                         break_long_words=False, break_on_hyphens=False)
