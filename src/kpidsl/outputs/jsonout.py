"""JSON: a report's results, entries and verdicts, and a history's months, as KPI-SPEC §4
writes them. Results are written from remembered pieces (a history repeats most of them) by
the C encoder; the output is identical to encoding each result's dict."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import math
import operator
from collections.abc import Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from kpidsl.collector import collector_paused
from kpidsl.contract.records import BY_CLASS, describe
from kpidsl.language.words import percent, percent_of
from kpidsl.plan.points import PointValue
from kpidsl.plan.results import Entry, Result, Verdict
from kpidsl.version import __version__

Months = Sequence[tuple[dt.date, Sequence[Result]]]


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
#: A string as JSON, as :data:`_encode` writes it (the C function it calls).
_quoted = json.encoder.encode_basestring


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
    return result_lines([r])[0]


def result_lines(results: Sequence[Result]) -> list[bytes]:
    """:func:`result_line` of each of one report's results, in one loop."""
    lines = [b""] * len(results)
    _write_lines(results, iter(range(len(results))), lines, {})
    return lines


@functools.lru_cache(maxsize=1024)
def _kpi_head(kpi: str) -> bytes:
    return f'{{"kpi": {_quoted(kpi)}, '.encode()


def _group_head(scope: str, group: str) -> bytes:
    return f'"scope": {_quoted(scope)}, "group": {_quoted(group)}, "status": '.encode()


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


def entry_json(e: Entry) -> dict[str, Any]:
    return {k: v for k, v in attrs.asdict(e).items() if v is not None}


def entry_lines(entries: Sequence[Entry]) -> list[bytes]:
    """:func:`entry_json` of each entry written as JSON (UTF-8) by a template, as
    :func:`result_lines` writes results: at a million learners a report has 24,000
    findings and actions, and encoding each one's dict took three times as long. The
    rule's name and message, the same for all its records, are written once."""
    out = []
    text = _string
    for e in entries:
        line = f'{{"kind": {text(e.kind)}, "name": {text(e.name)}, ' \
            f'"message": {text(e.message)}, "record": {_quoted(e.record)}'
        if e.group is not None:
            line += f', "group": {_quoted(e.group)}'
        if e.file is not None:
            line += f', "file": {text(e.file)}'
        if e.line is not None:
            line += f', "line": {e.line:d}'
        if e.place is not None:
            line += f', "place": {_quoted(e.place)}'
        out.append((line + "}").encode())
    return out


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
    """One explained record: its verdict and each deciding clause with the values it read.
    ``record`` names it for a person; ``record_type``, ``record_id``, ``bootcamp`` and
    ``provider`` are the ids to join it back to one's own tables."""
    return {"record": v.record, "record_type": v.record_type, "record_id": v.record_id,
            "bootcamp": v.bootcamp, "provider": v.provider, "verdict": v.verdict,
            "reasons": [{"clause": r.clause, "source": r.source,
                         "values": {name: show(value) for name, value in r.values}}
                        for r in v.reasons],
            **({"sources": dict(v.sources)} if v.sources else {})}


@collector_paused()
def history_json(months: Months) -> dict[str, Any]:
    """``{"months": [{"as_of": …, "results": […]}]}`` for :func:`json_text`, each result
    written as in ``evaluate``'s JSON (:func:`result_line`). A result that is the same object
    in the same place as the month before (the engines give an unchanged result once) is
    written once."""
    out: list[dict[str, Any]] = []
    before: Sequence[Result] = ()
    lines: list[bytes] = []
    changed: Iterator[int]
    heads: dict[tuple[str, str], bytes] = {}
    for d, results in months:
        if len(results) == len(before):  # only what changed since the month before
            lines = lines.copy()
            changed = itertools.compress(range(len(results)),
                                         map(operator.is_not, results, before))
        else:
            lines = [b""] * len(results)
            changed = iter(range(len(results)))
        _write_lines(results, changed, lines, heads)
        out.append({"as_of": d.isoformat(), "results": lines})
        before = results
    return {"months": out}


def _write_lines(results: Sequence[Result], changed: Iterator[int], lines: list[bytes],
                 heads: dict[tuple[str, str], bytes]) -> None:
    """:func:`result_line` of each result at the places ``changed``, into ``lines``: written
    out here, as a report at a million learners writes 246,000 of them and a history at
    100,000 learners 140,000. A result's line is its KPI's head, its group's head (from
    ``heads``, by scope and id: a group has a result for every KPI, and in a history every
    month) and its tail (remembered: the same counts recur); the results of a KPI on a date
    share one target, whose two integers are read once."""
    tail, group_head = _line_tail, heads.get
    kpi: str | None = None
    head = b""
    target: Fraction | None = None
    tn: int | None = None
    td: int | None = None
    for i in changed:
        r = results[i]
        if r.kpi is not kpi:
            kpi = r.kpi
            head = _kpi_head(kpi)
        if r.target is not target:
            target = r.target
            tn, td = (None, None) if target is None else (target.numerator, target.denominator)
        scope, group = r.scope, r.group
        g = group_head((scope, group))
        if g is None:
            g = heads[scope, group] = _group_head(scope, group)
        lines[i] = head + g + tail(r.status, r.numerator, r.denominator, r.pending,
                                   r.direction, tn, td)
