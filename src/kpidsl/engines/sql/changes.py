"""For a history: the days on which a record's verdicts may change, so that the query works a
record out again only on the month ends that follow one of them (:class:`Changes`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NoReturn

import attrs

from kpidsl.contract.records import BY_NAME, LINKS, ROW_DATES, masked
from kpidsl.engines import Unsupported
from kpidsl.engines.sql.compiler import Compiler, Frame
from kpidsl.engines.sql.ddl import table_name
from kpidsl.engines.sql.values import sql_date
from kpidsl.plan import nodes as p
from kpidsl.plan.lower import walk
from kpidsl.plan.points import current_point
from kpidsl.plan.visitor import Visitor

_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
"""A comparison's operator with its sides swapped."""
_Guard = tuple[str, ...]
"""The dated fields (SQL over ``t``) that a KPI's population needs set; ``()``: none."""


class _Reach:
    """One query of :class:`Changes`: the record's table and what is joined to it, and the
    days, as SQL over those rows, on which something read there may change, each with the
    guards of the KPIs that read it (:meth:`Changes.kpi`)."""

    def __init__(self, frm: str, joined: dict[str, str] | None = None) -> None:
        self.frm = frm
        self.days: dict[str, set[_Guard]] = {}
        self.joined = dict(joined or {})
        """The alias of each record joined by a link, so that a link is joined once."""


class Changes(Visitor):
    """The days on which the values of ``record`` 's expressions may change, for a history.

    A value read as of a date changes only where the date passes a day the data names: a dated
    field's day (it stops being missing), a dated row's day (it starts to exist), the day after
    a date compared with ``as_of``, a parameter table's version, a schedule's next point. The
    value on two dates is the same when no such day falls after the first and on or before the
    second, so a record need only be worked out again on the first month end on or after each
    of its days. The days are SQL over the record's table as written (``t``) and the records
    joined to it; :meth:`sql` gives the pairs (record, month end) to work out. What this cannot
    bound (``as_of`` used in arithmetic, every record of a type) raises :class:`Unsupported`,
    and the engine works every record out on every date instead.

    A KPI whose population needs dated fields of the record set (``completion_date is set``)
    counts no record before those days, so a day that it alone reads matters only from them
    on (:meth:`kpi`): an assessment before completion changes nothing that a KPI of
    completers counts. And when every KPI's population needs one, a record none of whose
    days has come counts nowhere, so the first date works out only the records with a day
    by then, not every record (at 100,000 learners, 461,000 pairs become 273,000).
    """

    def __init__(self, plan: p.Plan, record: str, dates: Sequence[dt.date]) -> None:
        self.plan, self.record, self.dates = plan, record, dates
        self.keys = BY_NAME[record].key
        self.everyone: set[dt.date] = {dates[0]}
        """Dates on which every record is worked out: the first (unless :attr:`guarded`), and a
        table's or schedule's change."""
        self.reach = _Reach(f"{table_name(record)} AS t")
        self.reaches = [self.reach]
        self.alias, self.at = "t", record
        self.guard: _Guard = ()
        """While a KPI is visited (:meth:`kpi`), the fields its population needs set."""
        self.guarded = True
        """Whether every KPI visited has a population that needs a dated field set."""
        self._aliases = 0
        self._seen: set[tuple[int, str, str | None, str, _Guard]] = set()
        if record in ROW_DATES:  # a dated row starts to exist on its day
            self._day(f"t.{ROW_DATES[record]}")

    def __call__(self, e: p.Expr | None) -> None:
        if e is not None:
            self.visit(e)

    def kpi(self, k: p.KpiPlan) -> None:
        """The days of what a KPI on the record reads (its population, ``counted when`` and
        ``pending when``), each guarded by the fields its population needs set: before the
        last of them the KPI counts nothing, whatever else changes."""
        needs = self._needs(k.member) if k.member is not None else frozenset()
        self.guarded = self.guarded and bool(needs)
        self.guard = tuple(f"t.{f}" for f in sorted(needs))
        try:
            for e in (k.member, k.counted, k.pending):
                self(e)
        finally:
            self.guard = ()

    def _needs(self, e: p.Expr) -> frozenset[str]:
        """The dated fields of the record that must be set (as of the date) for the condition
        ``e`` to hold: a missing value is never set, compares with nothing and is in no set
        (KPI-SPEC: missing values), so ``e`` is false while any of them is missing."""
        if isinstance(e, p.DefRef) and e.record == self.record:
            return self._needs(self.plan.definitions[(e.record, e.name)].body)
        if isinstance(e, p.And):
            return frozenset().union(*map(self._needs, e.items))
        if isinstance(e, p.Or) and e.items:
            return frozenset.intersection(*map(self._needs, e.items))
        if isinstance(e, p.IsSet) and not e.negated:
            return self._valued(e.operand)
        if isinstance(e, p.Compare):
            return self._valued(e.left) | self._valued(e.right)
        if isinstance(e, p.In):
            return self._valued(e.value)
        return frozenset()

    def _valued(self, e: p.Expr) -> frozenset[str]:
        """The dated fields of the record without which the value ``e`` is missing."""
        if isinstance(e, p.Field) and e.record == self.record and masked(self.record, e.name):
            return frozenset([e.name])
        if isinstance(e, p.DefRef) and e.record == self.record:
            return self._valued(self.plan.definitions[(e.record, e.name)].body)
        if isinstance(e, p.Shift):
            return self._valued(e.date)
        if isinstance(e, p.Neg):
            return self._valued(e.operand)
        return frozenset()

    def _day(self, sql: str) -> None:
        # a guard's own field matters from its day on, which it always reaches
        self.reach.days.setdefault(sql, set()).add(() if sql in self.guard else self.guard)

    def _from(self, day: dt.date) -> None:
        """Work out every record again on the first date on or after ``day``."""
        later = [d for d in self.dates if d >= day]
        if later and later[0] != self.dates[0]:
            self.everyone.add(later[0])

    def _within(self, alias: str, record: str, e: p.Expr) -> None:
        saved, (self.alias, self.at) = (self.alias, self.at), (alias, record)
        try:
            self.visit(e)
        finally:
            self.alias, self.at = saved

    def _join(self, record: str, on: str, kind: str = "LEFT") -> str:
        """Join ``record`` 's table on ``on`` (its alias written ``{}``), a ``LEFT`` join once
        per condition; its alias."""
        if kind == "LEFT" and on in self.reach.joined:
            return self.reach.joined[on]
        self._aliases += 1
        a = f"c{self._aliases}"
        self.reach.frm += f" {kind} JOIN {table_name(record)} AS {a} ON {on.format(a)}"
        if kind == "LEFT":
            self.reach.joined[on] = a
        if record in ROW_DATES:
            self._day(f"{a}.{ROW_DATES[record]}")
        return a

    # ---- what may change, node by node ----
    def visit_Const(self, e: p.Const) -> None:
        pass

    def visit_AsOf(self, e: p.AsOf) -> NoReturn:
        raise Unsupported("as_of used other than compared with a date")

    def visit_Field(self, e: p.Field) -> None:
        if masked(self.at, e.name):
            self._day(f"{self.alias}.{e.name}")

    def visit_DefRef(self, e: p.DefRef) -> None:
        seen = (id(self.reach), self.alias, e.record, e.name, self.guard)
        if seen not in self._seen:  # once each: definitions that share others stay linear
            self._seen.add(seen)
            self.visit(self.plan.definitions[(e.record, e.name)].body)

    def visit_PointMember(self, e: p.PointMember) -> None:
        if not isinstance(e.target, p.Point):
            raise Unsupported("a point that is not a schedule's current point")
        schedule = self.plan.schedules[e.target.schedule]
        points = [current_point(schedule, d) for d in self.dates]
        for d, was, now in zip(self.dates[1:], points, points[1:], strict=False):
            if was != now:
                self.everyone.add(d)

    def visit_Lookup(self, e: p.Lookup) -> None:
        if e.when is None:
            for start, _ in self.plan.tables[e.table].versions:
                if isinstance(start, dt.date):
                    self._from(start)
        self(e.when)
        self(e.key)

    def visit_Nav(self, e: p.Nav) -> None:
        target = e.target
        if isinstance(target, p.Nav):
            self.visit(p.Nav(type=e.type, target=target.target,
                             body=p.Nav(type=e.type, target=target.body, body=e.body)))
            return
        if not isinstance(target, p.Link1):
            raise Unsupported("navigation from a point")
        link, reach = target.link, self.reach
        before = reach.frm, len(reach.days), dict(reach.joined)
        a = self._join(link.target, f"{{}}.{link.target_field} = {self.alias}.{link.source_field}")
        self._within(a, link.target, e.body)
        if len(reach.days) == before[1]:  # nothing read there changes: no need to join it
            reach.frm, _, reach.joined = before

    def visit_Link1(self, e: p.Link1) -> None:
        if e.link.target in ROW_DATES:
            raise Unsupported("a link to a dated record")

    def _list(self, e: p.Expr) -> None:
        """A list's records joined to the rows in scope, in a query of their own (so the
        records of two lists do not multiply), and the days of what is read of each."""
        if isinstance(e, p.Filter | p.Each):
            self._list(e.source)
            self.visit(e.condition if isinstance(e, p.Filter) else e.body)
            return
        if isinstance(e, p.DefRef):
            return self._list(self.plan.definitions[(e.record, e.name)].body)
        if not isinstance(e, p.Related):
            raise Unsupported("every record of a type")
        link, outer = e.link, self.alias
        self.reach = _Reach(self.reach.frm, self.reach.joined)
        self.reaches.append(self.reach)
        if link.through is None:
            a = self._join(link.target, f"{{}}.{link.target_field} = {outer}.{link.source_field}",
                           "INNER")
        else:
            via = next(lk for lk in LINKS if lk.source == link.target and lk.name == link.through)
            b = self._join(via.target, f"{{}}.{link.target_field} = {outer}.{link.source_field}",
                           "INNER")
            a = self._join(link.target, f"{{}}.{via.source_field} = {b}.{via.target_field}",
                           "INNER")
        self.alias, self.at = a, link.target

    def visit_Agg(self, e: p.Agg) -> None:
        saved = self.alias, self.at, self.reach
        self._list(e.source)
        self.alias, self.at, self.reach = saved  # what follows reads the rows in scope again

    def visit_In(self, e: p.In) -> None:
        self.visit(e.value)
        if isinstance(e.set, p.Const | p.Field | p.SetOf):
            self.visit(e.set)
        else:
            self.visit_Agg(p.Agg(type=e.type, fn="any", source=e.set))

    def visit_Compare(self, e: p.Compare) -> None:
        for this, other in ((e.left, e.right), (e.right, e.left)):
            if isinstance(this, p.AsOf) and not isinstance(other, p.AsOf):
                # ``as_of <= x`` turns false the day after x, ``as_of < x`` on x itself,
                # ``as_of = x`` both (``x >= as_of`` is ``as_of <= x``)
                op = e.op if this is e.left else _MIRRORED.get(e.op, e.op)
                x = Compiler(self.plan, {}).within(Frame(self.alias, self.at, 0),
                                                    self._date(other))
                assert isinstance(x, str), x
                if op not in ("<=", ">"):
                    self._day(x)
                if op not in ("<", ">="):
                    self._day(f"CAST({x} + INTERVAL '1' DAY AS DATE)")
                self.visit(other)
                return
        self.visit(e.left)
        self.visit(e.right)

    def _date(self, e: p.Expr) -> p.Expr:
        """``e`` with its definitions written out, when it is a date of the record in scope
        that reads at most one dated field: then it is missing before that field's day and
        its value as written after it, so the value as written says when ``as_of`` passes."""
        out = self._written(e)
        if sum(isinstance(x, p.Field) and masked(self.at, x.name) for x in walk(out)) > 1:
            raise Unsupported("as_of compared with a date worked out from several dates")
        return out

    def _written(self, e: p.Expr) -> p.Expr:
        if isinstance(e, p.DefRef) and e.record is not None:
            return self._written(self.plan.definitions[(e.record, e.name)].body)
        if isinstance(e, p.Shift):
            return attrs.evolve(e, date=self._written(e.date))
        if isinstance(e, p.Const | p.Field):
            return e
        raise Unsupported("as_of compared with a date other than a field's, shifted")

    def _children(self, e: p.Expr) -> None:
        for x in p.children(e):
            self.visit(x)

    visit_Not = visit_And = visit_Or = visit_IsSet = visit_Arith = visit_Neg = \
        visit_Shift = visit_Classify = visit_SetOf = _children

    def _unbounded(self, e: p.Expr) -> NoReturn:
        raise Unsupported(f"{type(e).__name__} where a history cannot bound its changes")

    visit_Point = visit_Related = visit_All = visit_Filter = visit_Each = _unbounded

    def sql(self) -> str:
        """The pairs to work out: each record (its key) with each date (``_as_of``) on
        which something it reads may have changed since the date before, and every record on
        :attr:`everyone`'s dates (but the first, when every KPI's population needs a day to
        have come: :attr:`guarded`)."""
        keys = ", ".join(f"t.{k}" for k in self.keys)
        by_source: dict[str, dict[str, set[_Guard]]] = {}  # two lists of the same records:
        for reach in self.reaches:                         # one query
            found = by_source.setdefault(reach.frm, {})
            for day, guards in reach.days.items():
                found.setdefault(day, set()).update(guards)
        picks = []
        for frm, found in by_source.items():
            days = [_guarded(day, guards) for day, guards in found.items()]
            if not days:
                continue
            arms = " ".join(f"WHEN {i} THEN {d}" for i, d in enumerate(days))
            # unions, not VALUES: not every dialect names the columns of a VALUES list
            numbers = " UNION ALL ".join(f"SELECT {i} AS i" for i in range(len(days)))
            picks.append(f"SELECT {keys}, CASE n.i {arms} END AS _day FROM {frm} "
                         f"CROSS JOIN ({numbers}) AS n")
        # every record on the first date, unless every KPI's population needs a day to come
        dates = sorted(self.everyone - {self.dates[0]} if self.guarded else self.everyone)
        parts = []
        if dates:
            everyone = " UNION ALL ".join(f"SELECT {sql_date(d)} AS _as_of" for d in dates)
            parts.append(f"SELECT {keys}, g._as_of FROM {table_name(self.record)} AS t "
                         f"CROSS JOIN ({everyone}) AS g")
        if picks:
            parts.append(f"SELECT {', '.join(f'c.{k}' for k in self.keys)}, "
                         f"{_on_or_after('c._day', self.dates)} AS _as_of FROM ("
                         + " UNION ALL ".join(picks)
                         + f") AS c WHERE c._day <= {sql_date(self.dates[-1])}")
        if not parts:  # nothing it reads ever changes, and no KPI counts it before it does
            return f"SELECT {keys}, {sql_date(self.dates[0])} AS _as_of " \
                f"FROM {table_name(self.record)} AS t WHERE FALSE"
        if len(parts) == 1 and picks:  # each pair once, or its related records count twice
            return f"SELECT DISTINCT * FROM ({parts[0]}) AS e"
        return " UNION ".join(parts)


def _guarded(day: str, guards: set[_Guard]) -> str:
    """The SQL of a day read by KPIs with these guards (:meth:`Changes.kpi`): the day, where
    it is on or after all the fields of one of them (where one has none, always)."""
    if () in guards:
        return day
    held = " OR ".join("(" + " AND ".join(f"{f} <= {day}" for f in guard) + ")"
                       for guard in sorted(guards))
    return f"CASE WHEN {held} THEN {day} END"


def _on_or_after(day: str, dates: Sequence[dt.date]) -> str:
    """SQL for the first of ``dates`` (ascending) on or after ``day`` (not after the last):
    a search halving the dates at each step, so a day costs a few comparisons, not one for
    every date or a join."""
    if len(dates) == 1:
        return f"CASE WHEN {day} <= {sql_date(dates[0])} THEN {sql_date(dates[0])} END"
    half = len(dates) // 2
    return (f"CASE WHEN {day} <= {sql_date(dates[half - 1])} THEN "
            f"{_on_or_after(day, dates[:half])} ELSE {_on_or_after(day, dates[half:])} END")
