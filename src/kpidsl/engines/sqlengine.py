"""What the SQL engines share: loading a data set, and turning the plan's query rows into
results, entries and explanations (the :class:`~kpidsl.engines.Loaded` protocol).

An engine subclass says how to load tables (``load_folder``, ``load_dataset``, ``use_tables``),
how to run a query (``_rows``, ``_tuples``) and how to create the plan's views (``_create``);
the rows mean the same on every engine, so the results, the statuses, the findings and actions
and the verdicts of ``explain`` are made here once. A SQL engine holds one data set at a time
in its database: :meth:`SqlEngine.load` returns the engine itself, loaded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import functools
import os
import threading
import types
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Generic, TypeVar

from kpidsl.collector import collector_paused
from kpidsl.contract.records import describe, key_of
from kpidsl.data.dataset import Dataset
from kpidsl.engines import DataSource
from kpidsl.engines.sql import QueryBuilder
from kpidsl.errors import Diagnostic
from kpidsl.language.builtins import Type
from kpidsl.language.vocabulary import Scope, Status
from kpidsl.plan import nodes as p
from kpidsl.plan.points import current_point
from kpidsl.plan.results import (
    Entry,
    Groups,
    Reason,
    Result,
    Verdict,
    entry,
    reasons,
    result,
)
from kpidsl.plan.status import NO_DATA, status, status_of

T = TypeVar("T")
_NONE = (0, 0, 0)
_Move = tuple[str, int, int, int]
"""A group whose counts changed from one date to the next: its id, and how its n, k and p
changed."""


class SqlEngine:
    """Evaluates a plan by running its SQL; subclasses connect it to a database."""

    name = "sql"
    groups: Groups
    """The bootcamps and providers of the data: the groups results are given for."""
    notices: tuple[Diagnostic, ...] = ()

    def load(self, data: DataSource) -> SqlEngine:
        """Load a data folder, a :class:`Dataset` (checked first), or the tables the database
        already holds (``None``, or a mapping of the contract's names to tables)."""
        if isinstance(data, Dataset):
            self.load_dataset(data.checked())
        elif isinstance(data, str | os.PathLike):
            self.load_folder(data)
        else:
            self.use_tables(data)
        return self

    def load_folder(self, folder: str | os.PathLike[str]) -> None:
        raise NotImplementedError

    def release(self) -> None:
        """Give back what loading took (:meth:`kpidsl.engines.Loaded.release`): nothing,
        unless an engine says otherwise (a database of one's own: its temporary views)."""

    def load_dataset(self, data: Dataset) -> None:
        raise NotImplementedError

    def use_tables(self, tables: Any = None) -> None:
        raise NotImplementedError

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _tuples(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of a query as tuples: quicker for the many rows of a history."""
        raise NotImplementedError

    def _groups(self) -> None:
        """Read the groups of the data just loaded (and forget views made for other data)."""
        self._built = None
        bootcamps = self._rows("SELECT bootcamp_id, provider_id, title FROM bootcamps")
        providers = self._rows("SELECT provider_id, name FROM providers")
        self.groups = Groups.of({r["bootcamp_id"]: r["provider_id"] for r in bootcamps},
                                (r["provider_id"] for r in providers),
                                ((r["bootcamp_id"], r["title"]) for r in bootcamps),
                                ((r["provider_id"], r["name"]) for r in providers))

    def _create(self, name: str, query: str) -> None:
        """Create one of the plan's views (``name``) for the queries to read."""
        raise NotImplementedError

    lines = True
    """Whether the tables have ``_line``, the line of each record in its file."""
    _built: tuple[Any, QueryBuilder] | None = None

    def _builder(self, plan: p.Plan, dates: Sequence[dt.date | None]) -> QueryBuilder:
        """The plan's queries for these dates, with its views created once and kept for the
        next call with the same plan and dates."""
        key = (id(plan), tuple(dates))
        if self._built is not None and self._built[0] == key:
            return self._built[1]
        inline = self._views_inline()
        qb = QueryBuilder(plan, dates, inline=inline, lines=self.lines,
                          money_scale=self._money_scale(),
                          verdicts_apart=self._verdicts_apart())
        if not inline:
            for name, query in qb.prelude():
                self._create(name, query)
        self._built = (key, qb)
        return qb

    def _views_inline(self) -> bool:
        """Whether the plan's views are written into each query rather than created (a
        database where this user may not create them)."""
        return False

    def _money_scale(self) -> int:
        """Units of a money column to the pound (SQLite keeps pence)."""
        return 1

    def _verdicts_apart(self) -> bool:
        """Whether the tallies' verdicts are worked out apart from their counts
        (:attr:`QueryBuilder.verdicts_apart`: PostgreSQL's)."""
        return False

    def _findings_builder(self, plan: p.Plan) -> QueryBuilder:
        """The queries for the findings, which read the data as written."""
        return self._builder(plan, [None])

    @collector_paused()
    def results(self, plan: p.Plan, dates: Sequence[dt.date]) -> dict[dt.date, list[Result]]:
        """Every KPI for every group at each date, in one query per record type over all
        dates. Each query's KPIs are worked out while the next query runs
        (:meth:`_tuples_soon`), and a date's results put in the rules' order at the end."""
        dates = list(dict.fromkeys(dates))
        out: dict[dt.date, list[Result]] = {d: [] for d in dates}
        if not plan.kpis:  # rules with no KPI (the fuzzer's empty file): no query to run
            return out
        qb = self._builder(plan, dates)
        target_row = {r["_as_of"]: r for r in self._rows(qb.targets())}
        layouts = {measured: _Layout(self.groups, measured) for measured in (False, True)}
        place = {k.name: i for i, k in enumerate(plan.kpis)}
        made: dict[str, list[list[Result]]] = {}
        tallies = qb.tallies()

        def started(q: int) -> Callable[[], list[tuple[Any, ...]]]:
            soon = self._tuples_soon(tallies[q][0])
            if q + 1 == len(tallies):
                self._tallied()
            return soon

        soon = started(0)
        try:
            for q, (_, names, changes) in enumerate(tallies):
                rows = soon()
                if q + 1 < len(tallies):
                    soon = started(q + 1)
                by_date: dict[dt.date, list[tuple[Any, ...]]] = {}
                for t in rows:  # _as_of, group_id, then n, k and p of each KPI
                    by_date.setdefault(t[0], []).append(t)
                for j, name in enumerate(names):
                    i = place[name]
                    k = plan.kpis[i]
                    made[name] = _kpi_results(
                        k, layouts[isinstance(k, p.MeasurePlan)], dates,
                        _moves(dates, by_date, j, changes),
                        [_target(target_row.get(d, {}), i) for d in dates])
        except BaseException:
            with contextlib.suppress(Exception):
                soon()  # the query under way is done before anything else uses the database
            raise
        for k in plan.kpis:
            for d, row in zip(dates, made[k.name], strict=True):
                out[d] += row
        return out

    def _tallied(self) -> None:
        """Told by :meth:`results` once its last query is under way: work waiting for the
        database to be free of the results' big queries may start (DuckDB's findings at a
        million learners, :meth:`~kpidsl.engines.duckdb.DuckDBEngine.entries_soon`)."""

    def _tuples_soon(self, sql: str) -> Callable[[], list[tuple[Any, ...]]]:
        """:meth:`_tuples` of ``sql``, given when called: an engine whose driver lets go of
        the GIL runs it on a thread meanwhile, so the previous query's KPIs are worked out
        in Python while the database works on the next."""
        rows = self._tuples(sql)
        return lambda: rows

    def entries(self, plan: p.Plan, as_of: dt.date, kind: str) -> list[Entry]:
        """The findings (on the data as written) or the actions (as of the date), in the
        rules' order and each rule's records in file order, in one query."""
        qb = self._findings_builder(plan) if kind == "finding" else self._builder(plan, [as_of])
        return self._entries(qb, kind, self._rows)

    def entries_soon(self, plan: p.Plan, as_of: dt.date
                     ) -> Callable[[], tuple[list[Entry], list[Entry]]]:
        """:meth:`kpidsl.engines.Loaded.entries_soon`: when called."""
        return lambda: (self.entries(plan, as_of, "finding"), self.entries(plan, as_of, "action"))

    def _entries(self, qb: QueryBuilder, kind: str,
                 rows: Callable[[str], list[dict[str, Any]]]) -> list[Entry]:
        """:meth:`entries` by the queries of ``qb``, their rows read by ``rows``."""
        sql, sources = qb.entries(kind)
        out = []
        for r in rows(sql) if sql else []:
            src = sources[r["_i"]]
            message = src.message if isinstance(src, p.NoticePlan) else \
                dict(src.follow_ups)[r["verdict"]]
            out.append(entry(kind, src.name, message, src.record, _record(r)))
        return out

    # ---- explain ----
    def verdicts(self, plan: p.Plan, as_of: dt.date, kpi: str, group: str = "all"
                 ) -> list[Verdict]:
        """What the Python engine's ``verdicts`` gives, from this engine's SQL."""
        kp = plan.kpi(kpi)
        if not self.groups.has(group, isinstance(kp, p.MeasurePlan)):
            return []
        qb = self._builder(plan, [as_of])
        if isinstance(kp, p.MeasurePlan):
            return self._explain_measure(plan, qb, kp, as_of, group)
        shows = kp.explain
        parts = shows.all
        place = {id(x): i for i, x in enumerate(parts)}
        reads = _Reads(self, qb, plan, kp.record, as_of, [x.reads for x in parts])
        rows = self._rows(qb.explained(kp.record, (kp.member, kp.counted, kp.pending),
                                       [x.test for x in parts], reads.exprs))
        out = []
        for row in rows:
            b = row["bootcamp_id"]
            if not self.groups.holds(group, b):
                continue

            def holds(x: p.Shown, row: dict[str, Any] = row) -> bool:
                return bool(row[f"t{place[id(x)]}"])

            def reason(x: p.Shown, row: dict[str, Any] = row) -> Reason:
                return Reason(clause=x.clause, source=x.source,
                              values=reads.part(row, place[id(x)]))

            verdict = row["verdict"]
            record = _record(row)
            out.append(Verdict(record=describe(kp.record, record), record_type=kp.record,
                               record_id=key_of(kp.record, record), bootcamp=b,
                               provider=self.groups.provider_of.get(b), verdict=verdict,
                               reasons=reasons(shows, verdict, holds, reason)))
        return out

    def _explain_measure(self, plan: p.Plan, qb: QueryBuilder, kp: p.MeasurePlan,
                         as_of: dt.date, group: str) -> list[Verdict]:
        """Each provider's actual and planned, and the target with what it reads."""
        part = kp.explain
        target = _target(self._rows(qb.targets())[0], plan.kpis.index(kp))
        reads = _Reads(self, qb, plan, "provider", as_of,
                       [(("actual", kp.actual), ("planned", kp.planned), *part.reads)])
        out = []
        for row in self._rows(qb.explained("provider", (None, None, None), [], reads.exprs)):
            if group not in ("all", row["provider_id"]):
                continue
            (actual, a), (planned, n), *values = reads.part(row, 0)
            a, n = a or 0, n or 0
            out.append(Verdict(
                record=describe("provider", _record(row)), record_type="provider",
                record_id=row["provider_id"], bootcamp=None, provider=row["provider_id"],
                verdict=NO_DATA if target is None else status(kp.direction, target, n, a, 0),
                reasons=(Reason(clause=part.clause, source=f"{kp.direction} {part.source}",
                                values=((actual, a), (planned, n), *values,
                                        ("target", target))),)))
        return out


def _kpi_results(k: p.KpiPlan | p.MeasurePlan, lay: _Layout, dates: Sequence[dt.date],
                 moves: dict[dt.date, list[_Move]], targets: Sequence[Fraction | None]
                 ) -> list[list[Result]]:
    """One KPI's results for every group (in the order of ``lay``) at each date: the totals
    of each group, moved by each date's changes (:func:`_moves`). After the first date only
    the groups whose counts changed (a bootcamp, its provider and the programme) are worked
    out again; the others are the same result objects as the date before."""
    groups, ups, top = lay.groups, lay.ups, len(lay.groups) - 1
    name, direction = k.name, k.direction
    # each group's totals, in the order of groups: n, k and p, moved by each change
    tn, tk, tp = [0] * len(groups), [0] * len(groups), [0] * len(groups)
    row: list[Result] | None = None  # this KPI's own: a date's results are a copy
    was_exact: tuple[int, int] | None = None
    out = []
    for d, target in zip(dates, targets, strict=True):
        exact = None if target is None else (target.numerator, target.denominator)
        judged = _judged(direction, exact)
        moved = moves[d]
        an = ak = ap = 0
        for b, dn, dk, dp in moved:
            an, ak, ap = an + dn, ak + dk, ap + dp
            for j in ups[b]:
                tn[j] += dn
                tk[j] += dk
                tp[j] += dp
        tn[top] += an
        tk[top] += ak
        tp[top] += ap
        if row is not None and exact == was_exact:
            for j in {j for m in moved for j in (*ups[m[0]], top)}:
                n, c, pend = tn[j], tk[j], tp[j]
                scope, gid = groups[j]
                row[j] = result(name, scope, gid, judged(n, c, pend), c, n, pend,
                                direction, target)
        else:
            row = [result(name, scope, gid, judged(n, c, pend), c, n, pend, direction,
                          target)
                   for (scope, gid), n, c, pend in zip(groups, tn, tk, tp, strict=True)]
        was_exact = exact
        out.append(row.copy())
    return out


def _moves(dates: Sequence[dt.date], by_date: dict[dt.date, list[tuple[Any, ...]]], i: int,
           changes: bool) -> dict[dt.date, list[_Move]]:
    """For the ``i``-th KPI of a query's rows (:meth:`QueryBuilder.tallies`), the groups whose
    counts changed on each date, and by how much, from none before the first: the rows are
    each group's counts on each date or, with ``changes``, how they changed (dates
    ascending)."""
    cn, ck, cp = 2 + 3 * i, 3 + 3 * i, 4 + 3 * i  # the KPI's columns: n, k, p
    if changes:
        return {d: [(r[1], r[cn], r[ck], r[cp]) for r in by_date.get(d, ())
                    if r[cn] or r[ck] or r[cp]]
                for d in dates}
    now: dict[str, tuple[int, ...]] = {}
    out: dict[dt.date, list[_Move]] = {}
    for d in dates:
        full = {r[1]: r[cn:cp + 1] for r in by_date.get(d, ())}
        if now:
            out[d] = [(b, new[0] - old[0], new[1] - old[1], new[2] - old[2])
                      for b in {b for b, _ in full.items() ^ now.items()}
                      if (old := now.get(b, _NONE)) != (new := full.get(b, _NONE))]
        else:  # the first date (all of evaluate): every group with counts moved
            out[d] = [(b, *new) for b, new in full.items() if new != _NONE]
        now = full
    return out


class _Layout:
    """Where a KPI's results stand in its row (:meth:`Groups.in_order`; the programme last),
    and for each bootcamp (or, measured per provider, each provider) the places of the
    groups its counts go into besides the programme (the hierarchy of
    :func:`~kpidsl.plan.results.roll_up` and :func:`~kpidsl.plan.results.per_provider`, by
    place): totals are added up and moved by place, not by hashing a group's scope and id
    for every count (at a million learners, adding up by id took a third of the results'
    time)."""

    def __init__(self, groups: Groups, measured: bool) -> None:
        self.groups = groups.in_order(measured)
        place = {g: j for j, g in enumerate(self.groups)}
        self.ups: dict[str, tuple[int, ...]] = \
            {g: (place[Scope.PROVIDER, g],) for g in groups.providers} if measured else \
            {b: (place[Scope.BOOTCAMP, b], place[Scope.PROVIDER, g])
             for b, g in groups.provider_of.items()}


class _Reads:
    """The values that the parts of an explanation read, as columns of its query: each
    part's reads are numbered in turn; a list of values comes from a query of its own.

    How each read is found in a row (a schedule's point, a list by its key columns, a value
    and its denominator) is worked out once per query, not once per record."""

    def __init__(self, engine: SqlEngine, qb: QueryBuilder, plan: p.Plan, record: str,
                 as_of: dt.date, parts: Sequence[Sequence[tuple[str, p.Expr]]]) -> None:
        self.parts = parts
        self.exprs = [e for reads in parts for _, e in reads]
        self.lists: dict[int, dict[tuple[Any, ...], list[Any]]] = {}
        self.readers: list[Callable[[dict[str, Any]], Any]] = []
        for i, e in enumerate(self.exprs):
            if isinstance(e, p.Point):
                self.readers.append(_constant(current_point(plan.schedules[e.schedule], as_of)))
            elif isinstance(e, p.Each):
                found = self.lists[i] = {}
                for row in engine._rows(qb.listed(record, e)):
                    key = tuple(v for name, v in row.items() if name.startswith("_k"))
                    found.setdefault(key, []).append(_value(e.body.type, row["v"],
                                                            row.get("w", 1)))
                self.readers.append(self._lister(i, found))
            else:
                self.readers.append(_column(e.type, f"r{i}", f"d{i}"))
        self.spans: list[tuple[int, int]] = []  # each part's readers
        for reads in parts:
            start = self.spans[-1][1] if self.spans else 0
            self.spans.append((start, start + len(reads)))

    @staticmethod
    def _lister(i: int, found: dict[tuple[Any, ...], list[Any]]
                ) -> Callable[[dict[str, Any]], Any]:
        prefix, names = f"r{i}_", None

        def read(row: dict[str, Any]) -> Any:
            nonlocal names
            if names is None:  # the key columns, found in the first row
                names = [name for name in row if name.startswith(prefix)]
            return tuple(found.get(tuple(row[n] for n in names), ()))

        return read

    def part(self, row: dict[str, Any], i: int) -> tuple[tuple[str, Any], ...]:
        """The ``i``-th part's reads with their values for the record of ``row`` (worked out
        only for the parts a verdict shows)."""
        start, end = self.spans[i]
        return tuple((label, read(row)) for (label, _), read
                     in zip(self.parts[i], self.readers[start:end], strict=True))


def _constant(value: Any) -> Callable[[dict[str, Any]], Any]:
    """A read whose value is the same for every row (a schedule's current point)."""
    return lambda row: value


def _column(t: Type, n: str, d: str) -> Callable[[dict[str, Any]], Any]:
    """A read from a row's columns ``n`` (value) and ``d`` (denominator, if there is one)."""
    return lambda row: _value(t, row[n], row.get(d, 1))


def _no_data(n: int, k: int, pend: int) -> Status:
    return NO_DATA


def _judged(direction: str, exact: tuple[int, int] | None) -> Callable[[int, int, int], Status]:
    """The status of counts ``(n, k, p)`` against the target ``exact`` (its two integers;
    ``None``: no target, no data): :func:`_status` with the direction and the target given
    once for a KPI's date."""
    return _no_data if exact is None else functools.partial(_status, direction, *exact)


@functools.lru_cache(maxsize=65536)
def _status(direction: str, a: int, b: int, n: int, k: int, pend: int) -> Status:
    """:func:`~kpidsl.plan.status.status`, remembered: the same few counts recur across
    groups and months (the target is given by its two integers, cheaper to hash)."""
    return status_of(direction, a, b, n, k, pend)


def _target(row: dict[str, Any], i: int) -> Fraction | None:
    """The ``i``-th KPI's target in a row of :meth:`QueryBuilder.targets`, if one is in force."""
    n, d = row.get(f"n{i}"), row.get(f"d{i}")
    return None if n is None or not d else Fraction(n) / Fraction(d)


@functools.lru_cache(maxsize=1 << 16)
def _value(t: Type, n: Any, d: Any = 1) -> Any:
    """A value of type ``t`` read by SQL (``n`` over ``d``) as the Python engine holds it and
    ``explain`` shows it (:func:`kpidsl.plan.results.shown_value`): money as a ``Decimal``, a
    percentage as a ``Fraction``, a whole number as an ``int``, a set as a ``frozenset``, a
    record by name. Remembered: the same few values recur across a population."""
    if n is None or d is None:
        return None
    kind = t.kind
    if kind == "record":
        return f"{t.name} {n}"
    if kind == "set":
        return frozenset(x for x in n.split(";") if x)
    if kind == "list":  # a list of records, by how many
        return int(n)
    if kind == "date" and isinstance(n, str):  # SQLite keeps dates as text
        return dt.date.fromisoformat(n)
    if kind == "boolean" and not isinstance(n, bool):  # and yes/no as 0 or 1
        return bool(n)
    if kind not in ("integer", "number", "percent", "money"):
        return n
    q = Fraction(n) / Fraction(d)
    if kind == "percent":
        return q
    if kind == "money" or (kind == "number" and isinstance(n, Decimal)):
        with decimal.localcontext() as ctx:
            ctx.prec, ctx.traps[decimal.Inexact] = 60, True
            try:
                return Decimal(q.numerator) / Decimal(q.denominator)
            except decimal.Inexact:
                return q
    return q.numerator if q.denominator == 1 else q


def _record(row: dict[str, Any]) -> Any:
    """A row of an entries or explain query as a record, enough to describe it."""
    r = types.SimpleNamespace(**row)
    line = row.get("_line")
    r.line = line if line and line > 0 else None
    return r


class Beside(Generic[T]):
    """``work()`` done on a thread of its own while the caller goes on (the database drivers
    let go of the GIL while a query runs): :meth:`wait` gives what it returned, or raises
    what it raised, where the result is wanted."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._got: list[T] = []
        self._error: list[BaseException] = []

        def run() -> None:
            try:
                self._got.append(work())
            except BaseException as e:
                self._error.append(e)

        self._thread = threading.Thread(target=run, name=name)
        self._thread.start()

    def wait(self) -> T:
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._got[0]
