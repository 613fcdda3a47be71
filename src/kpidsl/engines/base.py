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
    Tally,
    describe,
    groups_in_order,
    per_provider,
    roll_up,
)
from kpidsl.engines.sql import QueryBuilder
from kpidsl.plan import nodes as p
from kpidsl.plan.status import NO_DATA, status

_NONE = (0, 0, 0)


class SqlEngine:
    """Evaluates a plan by running its SQL; subclasses connect it to a database."""

    name = "sql"
    groups: dict[str, list[str]]
    """The bootcamp and provider ids of the data, sorted: the groups results are given for."""
    provider_of: dict[str, str]
    """Each bootcamp's provider."""

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _tuples(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of a query as tuples: quicker for the many rows of a history."""
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
        dates = list(dict.fromkeys(dates))
        out: dict[dt.date, list[Result]] = {d: [] for d in dates}
        if not plan.kpis:  # rules with no KPI (the fuzzer's empty file): no query to run
            return out
        qb = self._builder(plan, dates)
        target_row = {r["_as_of"]: r for r in self._rows(qb.targets())}
        tally: dict[tuple[str, dt.date], dict[str, list[int]]] = {}
        for sql, names in qb.tallies():
            for as_of, group, *counts in self._tuples(sql):  # n, k and p of each KPI in turn
                for i, name in enumerate(names):
                    tally.setdefault((name, as_of), {})[group] = counts[3 * i:3 * i + 3]
        for i, k in enumerate(plan.kpis):
            measured = isinstance(k, p.MeasurePlan)
            groups = groups_in_order(self.groups, measured)
            place = {g: j for j, g in enumerate(groups)}
            before: tuple[Any, dict[str, list[int]], Tally, list[Result]] | None = None
            for d in dates:
                t = target_row.get(d, {})
                target = None if t.get(f"n{i}") is None or not t.get(f"d{i}") \
                    else Fraction(t[f"n{i}"]) / Fraction(t[f"d{i}"])
                exact = None if target is None else (target.numerator, target.denominator)
                counts = tally.get((k.name, d), {})
                if before is not None and before[0] == exact:
                    # a history: only the groups whose counts changed since the last date are
                    # worked out again (a bootcamp, its provider and the programme), their
                    # totals moved by the change
                    _, last, totals, row = before
                    totals, row = dict(totals), row.copy()
                    again = set()
                    for b in {*counts, *last}:
                        new, old = counts.get(b, _NONE), last.get(b, _NONE)
                        if new == old:
                            continue
                        up = (("provider", b),) if measured else \
                            (("bootcamp", b), ("provider", self.provider_of[b]))
                        for g in (*up, ("programme", "all")):
                            was = totals.get(g, _NONE)
                            totals[g] = [was[0] + new[0] - old[0], was[1] + new[1] - old[1],
                                         was[2] + new[2] - old[2]]
                            again.add(g)
                    for g in again:
                        row[place[g]] = self._result(k, g, totals[g], target)
                else:
                    totals = per_provider(counts) if measured else \
                        roll_up(counts, self.provider_of)
                    row = [self._result(k, g, totals.get(g), target) for g in groups]
                before = (exact, counts, totals, row)
                out[d] += row
        return out

    @staticmethod
    def _result(k: p.KpiPlan | p.MeasurePlan, group: tuple[str, str], counts: Any,
                target: Fraction | None) -> Result:
        n, c, pend = counts or (0, 0, 0)
        return Result(kpi=k.name, scope=group[0], group=group[1],
                      status=NO_DATA if target is None else status(k.direction, target, n, c,
                                                                    pend),
                      numerator=c, denominator=n, pending=pend, direction=k.direction,
                      target=target)

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
