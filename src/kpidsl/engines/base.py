"""What the SQL engines share: turning the plan's query rows into results and entries.

An engine subclass says how to run a query (``_rows``) and how to prepare the plan's queries
for some dates (``_builder``); the rows mean the same on every engine, so the results, the
statuses and the findings and actions are made here once.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from kpidsl.data.records import BY_NAME
from kpidsl.engines.python import (
    Entry,
    Result,
    describe,
    groups_in_order,
    per_provider,
    roll_up,
)
from kpidsl.engines.sql import QueryBuilder
from kpidsl.plan import nodes as p
from kpidsl.plan.status import NO_DATA, status


class SqlEngine:
    """Evaluates a plan by running its SQL; subclasses connect it to a database."""

    name = "sql"
    groups: dict[str, list[str]]
    """The bootcamp and provider ids of the data, sorted: the groups results are given for."""
    provider_of: dict[str, str]
    """Each bootcamp's provider."""

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _groups(self) -> None:
        """Read the groups of the data just loaded (and forget views made for other data)."""
        self._built = None
        bootcamps = self._rows("SELECT bootcamp_id, provider_id FROM bootcamps")
        self.provider_of = {r["bootcamp_id"]: r["provider_id"] for r in bootcamps}
        self.groups = {"bootcamp": sorted(self.provider_of),
                       "provider": sorted(r["provider_id"] for r in
                                          self._rows("SELECT provider_id FROM providers"))}

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
        qb = QueryBuilder(plan, dates, inline=False, lines=self.lines)
        for name, query in qb.prelude():
            self._create(name, query)
        self._built = (key, qb)
        return qb

    def _findings_builder(self, plan: p.Plan) -> QueryBuilder:
        """The queries for the findings, which read the data as written."""
        return self._builder(plan, [None])

    def results(self, plan: p.Plan, dates: Sequence[dt.date]) -> dict[dt.date, list[Result]]:
        """Every KPI for every group at each date, in one query per KPI over all dates."""
        out: dict[dt.date, list[Result]] = {d: [] for d in dates}
        if not plan.kpis:  # rules with no KPI (the fuzzer's empty file): no query to run
            return out
        qb = self._builder(plan, dates)
        target_row = {r["_as_of"]: r for r in self._rows(qb.targets())}
        tally: dict[tuple[str, dt.date], dict[str, list[int]]] = {}
        for sql, names in qb.tallies():
            for r in self._rows(sql):
                for i, name in enumerate(names):
                    tally.setdefault((name, r["_as_of"]), {})[r["group_id"]] = \
                        [int(r[f"n{i}"]), int(r[f"k{i}"] or 0), int(r[f"p{i}"] or 0)]
        for i, k in enumerate(plan.kpis):
            measured = isinstance(k, p.MeasurePlan)
            made: dict[tuple[Any, ...], Result] = {}  # a result unchanged from date to date
            groups = groups_in_order(self.groups, measured)
            for d in dates:
                t = target_row.get(d, {})
                target = None if t.get(f"n{i}") is None or not t.get(f"d{i}") \
                    else Fraction(t[f"n{i}"]) / Fraction(t[f"d{i}"])
                counts = tally.get((k.name, d), {})
                totals = per_provider(counts) if measured else roll_up(counts, self.provider_of)
                for scope, group in groups:
                    n, c, pend = totals.get((scope, group), (0, 0, 0))
                    key = (scope, group, n, c, pend, target)
                    r = made.get(key)
                    if r is None:
                        r = made[key] = Result(
                            kpi=k.name, scope=scope, group=group,
                            status=NO_DATA if target is None else status(k.direction, target,
                                                                          n, c, pend),
                            numerator=c, denominator=n, pending=pend, direction=k.direction,
                            target=target)
                    out[d].append(r)
        return out

    def entries(self, plan: p.Plan, as_of: dt.date, kind: str) -> list[Entry]:
        """The findings (on the data as written) or the actions (as of the date), in the
        rules' order and each rule's records in file order, in one query."""
        qb = self._findings_builder(plan) if kind == "finding" else self._builder(plan, [as_of])
        sql, sources = qb.entries(kind)
        out = []
        for r in self._rows(sql) if sql else []:
            src = sources[r["_i"]]
            message = src.message if isinstance(src, p.NoticePlan) else \
                dict(src.follow_ups)[r["verdict"]]
            out.append(_entry(kind, src.name, message, src.record, r))
        return out


def _entry(kind: str, name: str, message: str, record: str, row: dict[str, Any]) -> Entry:
    r = types.SimpleNamespace(**row)
    line = row.get("_line")
    line = line if line and line > 0 else None
    r.line = line
    return Entry(kind=kind, name=name, message=message, record=describe(record, r),
                 group=row.get("bootcamp_id"), file=BY_NAME[record].file if line else None,
                 line=line)
