"""Evaluation: checked rules + data + an as-of date → a verdict per record, a status per group.

Each expression is compiled once per evaluation into a Python closure (``visit_<ClassName>``
returns a function of the record in scope), so the per-record work is a few calls, close to what
a hand-written program does. Missing values are ``None``: a comparison with a missing value is
false, a missing boolean is not true, arithmetic on a missing value is missing. No ``eval`` or
``exec`` is used, and a compiled rule can only read the records it is given.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from operator import attrgetter
from typing import Any

from dateutil.relativedelta import relativedelta

from kpidsl.collector import collector_paused
from kpidsl.contract.records import LINKS, ROW_DATES, Link, describe, key_of
from kpidsl.data.dataset import Dataset
from kpidsl.data.load import load_data
from kpidsl.engines import DataSource
from kpidsl.errors import UsageError
from kpidsl.language import ast
from kpidsl.language.builtins import BUILTINS, exact
from kpidsl.plan import nodes as p
from kpidsl.plan.lower import walk
from kpidsl.plan.points import PointValue, current_point
from kpidsl.plan.results import (
    COUNTED,
    PENDING,
    Entry,
    Groups,
    Reason,
    Result,
    Tally,
    Verdict,
    decider,
    entry,
    per_provider,
    reasons,
    roll_up,
    shown_value,
)
from kpidsl.plan.status import NO_DATA, status
from kpidsl.plan.visitor import Visitor

Fn = Callable[[Any], Any]

_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}
#: ``n`` of a duration's unit, as the calendar arithmetic of dates.
_UNITS: dict[str, Callable[[int], relativedelta]] = {
    "day": lambda n: relativedelta(days=n), "week": lambda n: relativedelta(weeks=n),
    "month": lambda n: relativedelta(months=n), "year": lambda n: relativedelta(years=n)}


def _all(fs: list[Fn]) -> Fn:
    """``f1 and f2 and …`` as one closure (unrolled: calls are what evaluation costs)."""
    if len(fs) == 2:
        a, b = fs
        return lambda r: True if a(r) and b(r) else False  # noqa: SIM210
    if len(fs) == 3:
        a, b, c = fs
        return lambda r: True if a(r) and b(r) and c(r) else False  # noqa: SIM210
    a, b, c = fs[:3]
    rest = _all(fs[3:]) if len(fs) > 4 else fs[3]
    return lambda r: True if a(r) and b(r) and c(r) and rest(r) else False  # noqa: SIM210


def _any(fs: list[Fn]) -> Fn:
    """``f1 or f2 or …`` as one closure."""
    if len(fs) == 2:
        a, b = fs
        return lambda r: True if a(r) or b(r) else False  # noqa: SIM210
    if len(fs) == 3:
        a, b, c = fs
        return lambda r: True if a(r) or b(r) or c(r) else False  # noqa: SIM210
    a, b, c = fs[:3]
    rest = _any(fs[3:]) if len(fs) > 4 else fs[3]
    return lambda r: True if a(r) or b(r) or c(r) or rest(r) else False  # noqa: SIM210


def _shift(delta: relativedelta) -> Callable[[dt.date], dt.date | None]:
    """``date + delta``, remembered by date: calendar arithmetic is slow and the same dates
    recur across thousands of learners."""
    seen: dict[dt.date, dt.date | None] = {}

    def shift(d: dt.date) -> dt.date | None:
        try:
            return seen[d]
        except KeyError:
            try:
                result = d + delta
            except (ValueError, OverflowError):  # past year 9999: no such date
                result = None
            seen[d] = result
            return result

    return shift


def _memo(body: Fn) -> Fn:
    """Remember a definition's value for the record it was last computed for.

    Clauses about one record often use the same definition several times (a completer's
    deadline, their positive outcome); one slot is enough and costs no memory per record.
    """
    last_record: Any = _memo
    last_value: Any = None

    def f(r: Any) -> Any:
        nonlocal last_record, last_value
        if r is not last_record:
            last_value = body(r)
            last_record = r
        return last_value

    return f


def reused_definitions(plan: p.Plan) -> set[tuple[str | None, str]]:
    """Definitions that one consumer (a KPI, a measure, a finding, an action) reaches more
    than once for the same record, through its clauses and the definitions they use: only
    those are worth remembering.

    What each definition reaches is worked out once, so the cost grows with the rules' size,
    however the definitions reuse each other."""
    Key = tuple[str | None, str]
    reach: dict[Key, Counter[Key]] = {}

    def reached(node: p.Expr) -> Counter[Key]:
        total: Counter[Key] = Counter()
        for n in walk(node):
            if isinstance(n, p.DefRef) and n.record is not None:
                key = (n.record, n.name)
                if key not in reach:
                    reach[key] = reached(plan.definitions[key].body)
                total[key] += 1
                total.update(reach[key])
        return Counter({k: min(c, 2) for k, c in total.items()})  # "more than once" is enough

    consumers: list[Sequence[p.Expr | None]] = [
        [k.member, k.counted, k.pending] if isinstance(k, p.KpiPlan) else [k.actual, k.planned]
        for k in plan.kpis]
    consumers += [[n.member] for n in plan.notices]
    reused: set[Key] = set()
    for exprs in consumers:
        seen: Counter[Key] = Counter()
        for e in exprs:
            if e is not None:
                seen.update(reached(e))
        reused.update(k for k, c in seen.items() if c > 1)
    # a test of one field costs less than remembering its answer
    return {k for k in reused if len(p.children(plan.definitions[k].body)) > 1}


class View:
    """The data as it stood on the as-of date, with the indexes navigation needs.

    A date after the as-of date is read as missing and an interview or payment dated after it
    does not exist yet; ``as_of=None`` shows the data as written (for data-quality findings).
    """

    def __init__(self, data: Dataset, as_of: dt.date | None) -> None:
        self.data = data
        self.as_of = as_of
        self._all: dict[str, tuple[Any, ...]] = {}
        self._by_key: dict[tuple[str, str, str | None], dict[Any, Any]] = {}

    def all(self, type_name: str) -> tuple[Any, ...]:
        """Every record of a type that exists on the as-of date."""
        if type_name not in self._all:
            records = self.data.of(type_name)
            row_date = ROW_DATES.get(type_name)
            if row_date and self.as_of is not None:
                get, limit = attrgetter(row_date), self.as_of
                records = tuple(r for r in records if (d := get(r)) is None or d <= limit)
            self._all[type_name] = records
        return self._all[type_name]

    def index(self, link: Link) -> dict[Any, Any]:
        """The targets of ``link`` by key: one record, or a tuple of records for a many link."""
        key = (link.target, link.target_field, link.through)
        if key not in self._by_key:
            get: Fn = attrgetter(link.target_field)
            if link.through is not None:
                via = next(lk for lk in LINKS if lk.source == link.target
                           and lk.name == link.through)
                middle, own = self.index(via), attrgetter(via.source_field)

                def through(r: Any, middle: dict[Any, Any] = middle, own: Any = own,
                            far: Any = attrgetter(link.target_field)) -> Any:
                    m = middle.get(own(r))
                    return None if m is None else far(m)
                get = through
            if link.many:
                groups: dict[Any, list[Any]] = {}
                for r in self.all(link.target):
                    groups.setdefault(get(r), []).append(r)
                self._by_key[key] = {k: tuple(v) for k, v in groups.items()}
            else:
                self._by_key[key] = {get(r): r for r in self.all(link.target)}
        return self._by_key[key]


class Compiler(Visitor):
    """Compiles plan expressions into closures over one :class:`View`."""

    def __init__(self, plan: p.Plan, view: View) -> None:
        self.plan = plan
        self.view = view
        self._definitions: dict[tuple[str | None, str], Fn] = {}
        self._points: dict[str, PointValue | None] = {}
        self._reused = reused_definitions(self.plan)

    def compile(self, node: p.Expr) -> Fn:
        """A function of the record in scope (``None`` outside any record)."""
        fn: Fn = self.visit(node)
        return fn

    def value(self, node: p.Expr) -> Any:
        """The value of an expression that depends on no record (a target, a table row)."""
        return self.compile(node)(None)

    def population(self, record: str, member: p.Expr | None) -> tuple[Iterable[Any],
                                                                      Fn | None]:
        """Records to go through and the test each must pass, applied in the loop without
        building the filtered list first."""
        return self.view.all(record), None if member is None else self.compile(member)

    # ---- names ----
    def definition(self, subject: str | None, name: str) -> Fn:
        """The compiled definition, shared by every use in this evaluation."""
        key = (subject, name)
        if key not in self._definitions:
            body = self.compile(self.plan.definitions[key].body)
            if subject is None:
                constant = body(None)
                fn: Fn = lambda r: constant  # noqa: E731
            else:
                fn = _memo(body) if key in self._reused else body
            self._definitions[key] = fn
        return self._definitions[key]

    def visit_Const(self, e: p.Const) -> Fn:
        value = e.value
        if isinstance(value, ast.Duration):
            value = _UNITS[value.unit](value.amount)
        return lambda r: value

    def visit_AsOf(self, e: p.AsOf) -> Fn:
        as_of = self.view.as_of
        return lambda r: as_of

    def visit_Field(self, e: p.Field) -> Fn:
        get = attrgetter(e.name)
        limit = self.view.as_of
        if not e.masked or limit is None:
            return get

        def masked(r: Any) -> Any:
            v = get(r)
            return None if v is None or v > limit else v
        return masked

    def visit_Link1(self, e: p.Link1) -> Fn:
        index, key = self.view.index(e.link), attrgetter(e.link.source_field)
        return lambda r: index.get(key(r))

    def visit_Related(self, e: p.Related) -> Fn:
        index, key = self.view.index(e.link), attrgetter(e.link.source_field)
        return lambda r: index.get(key(r), ())

    def visit_All(self, e: p.All) -> Fn:
        records = self.view.all(e.record)
        return lambda r: records

    def visit_DefRef(self, e: p.DefRef) -> Fn:
        return self.definition(e.record, e.name)

    def visit_Point(self, e: p.Point) -> Fn:
        if e.schedule not in self._points:
            when = self.view.as_of
            self._points[e.schedule] = None if when is None else current_point(
                self.plan.schedules[e.schedule], when)
        point = self._points[e.schedule]
        return lambda r: point

    def visit_PointMember(self, e: p.PointMember) -> Fn:
        target, read = self.compile(e.target), attrgetter(e.member)
        return lambda r: None if (pt := target(r)) is None else read(pt)

    def visit_Nav(self, e: p.Nav) -> Fn:
        target, body = self.compile(e.target), self.compile(e.body)

        def nav(r: Any) -> Any:
            t = target(r)
            return None if t is None else body(t)
        return nav

    def visit_Each(self, e: p.Each) -> Fn:
        source, body = self.compile(e.source), self.compile(e.body)
        return lambda r: list(map(body, source(r)))

    def visit_Filter(self, e: p.Filter) -> Fn:
        source, cond = self.compile(e.source), self.compile(e.condition)
        return lambda r: list(filter(cond, source(r)))

    def visit_Agg(self, e: p.Agg) -> Fn:
        builtin = BUILTINS[e.fn]
        if builtin.filtered is not None and isinstance(e.source, p.Filter):
            source, cond = self.compile(e.source.source), self.compile(e.source.condition)
            filtered = builtin.filtered
            return lambda r: filtered(source(r), cond)
        arg, impl = self.compile(e.source), builtin.impl
        return lambda r: impl(arg(r))

    def visit_Lookup(self, e: p.Lookup) -> Fn:
        """The version in force on ``when`` (default: the as-of date), then the row for
        ``key`` (keyed tables)."""
        versions = self.plan.tables[e.table].versions
        starts = [start or dt.date.min for start, _ in versions]

        def version(day: Any) -> Any:
            if day is None:
                return None
            i = bisect.bisect_right(starts, day)
            return versions[i - 1][1] if i else None

        key = self.compile(e.key) if e.key is not None else None
        if e.when is None:
            fixed = version(self.view.as_of or dt.date.max)
            if key is None:
                return lambda r: fixed
            rows = fixed or {}
            return lambda r: rows.get(key(r))
        when = self.compile(e.when)
        if key is None:
            return lambda r: version(when(r))
        return lambda r: None if (rows := version(when(r))) is None else rows.get(key(r))

    def visit_SetOf(self, e: p.SetOf) -> Fn:
        items = [self.compile(i) for i in e.items]
        return lambda r: frozenset(v for f in items if (v := f(r)) is not None)

    def visit_Classify(self, e: p.Classify) -> Fn:
        branches = [(self.compile(c), label) for c, label in e.cases]
        otherwise = e.otherwise

        def classify(r: Any) -> Any:
            for cond, label in branches:
                if cond(r):
                    return label
            return otherwise
        return classify

    # ---- operators ----
    def visit_Not(self, e: p.Not) -> Fn:
        f = self.compile(e.operand)
        return lambda r: not f(r)

    def visit_Neg(self, e: p.Neg) -> Fn:
        f = self.compile(e.operand)
        return lambda r: None if (v := f(r)) is None else -v

    def visit_And(self, e: p.And) -> Fn:
        return _all([self.compile(x) for x in e.items]) if len(e.items) > 1 \
            else self._truth(e.items[0])

    def visit_Or(self, e: p.Or) -> Fn:
        return _any([self.compile(x) for x in e.items]) if len(e.items) > 1 \
            else self._truth(e.items[0])

    def _truth(self, e: p.Expr) -> Fn:
        f = self.compile(e)
        return lambda r: True if f(r) else False  # noqa: SIM210

    def _masked_field(self, e: p.Expr) -> tuple[Callable[[Any], Any], dt.date] | None:
        """The getter and the as-of date of a dated field of the record in scope, so that
        tests on it can be inlined (one call instead of three)."""
        if isinstance(e, p.Field) and e.masked and self.view.as_of is not None:
            return attrgetter(e.name), self.view.as_of
        return None

    def visit_IsSet(self, e: p.IsSet) -> Fn:
        inline = self._masked_field(e.operand)
        if inline is not None:
            get, limit = inline
            if e.negated:
                return lambda r: (v := get(r)) is None or v > limit
            return lambda r: (v := get(r)) is not None and v <= limit
        f = self.compile(e.operand)
        if e.negated:
            return lambda r: f(r) is None
        return lambda r: f(r) is not None

    def visit_In(self, e: p.In) -> Fn:
        left = self.compile(e.value)
        if isinstance(e.set, p.Const):
            c = e.set.value
            if not e.negated:
                return lambda r: left(r) in c  # type: ignore[operator]
            return lambda r: (v := left(r)) is not None and v not in c  # type: ignore[operator]
        right, inside = self.compile(e.set), not e.negated

        def member(r: Any) -> bool:
            v, s = left(r), right(r)
            return v is not None and s is not None and (v in s) is inside
        return member

    def visit_Compare(self, e: p.Compare) -> Fn:
        cmp = _COMPARE[e.op]
        left, right = self.compile(e.left), self.compile(e.right)
        constant = isinstance(e.right, p.Const)
        inline = self._masked_field(e.left)
        if inline is not None and not constant:
            get, limit = inline

            def compare_date(r: Any) -> bool:
                a = get(r)
                if a is None or a > limit:
                    return False
                b = right(r)
                return b is not None and cmp(a, b)
            return compare_date
        if constant and (c := right(None)) is not None:
            if e.op == "=":
                return lambda r: left(r) == c
            return lambda r: (v := left(r)) is not None and cmp(v, c)

        def compare(r: Any) -> bool:
            a = left(r)
            if a is None:
                return False
            b = right(r)
            return b is not None and cmp(a, b)
        return compare

    def visit_Shift(self, e: p.Shift) -> Fn:
        date = self.compile(e.date)
        delta = _UNITS[e.duration.unit](e.duration.amount * e.sign)
        shift = _shift(delta)
        return lambda r: None if (v := date(r)) is None else shift(v)

    def visit_Arith(self, e: p.Arith) -> Fn:
        left, right, arith = self.compile(e.left), self.compile(e.right), exact(e.op)
        return lambda r: arith(left(r), right(r))


# ---- the engine --------------------------------------------------------------------------


class PythonEngine:
    """The reference engine: loads a data folder or a :class:`Dataset` as records."""

    name = "python"

    def load(self, data: DataSource) -> PythonData:
        if isinstance(data, str | os.PathLike):
            data = load_data(data)
        if not isinstance(data, Dataset):
            raise UsageError("the Python engine evaluates a data folder, a workbook or a "
                             "Dataset, not "
                            f"{type(data).__name__}")
        return PythonData(data.checked())


class PythonData:
    """A data set loaded as records: evaluates a plan record by record, one date at a time.
    The follow-up actions of the last classification are kept, so the actions at the date of
    the results just worked out cost nothing more."""

    name = "python"

    def __init__(self, data: Dataset) -> None:
        self.data = data
        self.groups = Groups.of({b.bootcamp_id: b.provider_id for b in data.bootcamps},
                                (r.provider_id for r in data.providers),
                                ((b.bootcamp_id, b.title) for b in data.bootcamps),
                                ((r.provider_id, r.name) for r in data.providers))
        self.notices = tuple(data.notices)
        self._follow_ups: tuple[int, dt.date, list[Entry]] | None = None

    @collector_paused()
    def results(self, plan: p.Plan, dates: Sequence[dt.date]) -> dict[dt.date, list[Result]]:
        return {d: self._results(plan, d) for d in dict.fromkeys(dates)}

    def release(self) -> None:
        """Nothing to give back: the records are Python's."""

    def _results(self, plan: p.Plan, as_of: dt.date) -> list[Result]:
        compiler = Compiler(plan, View(self.data, as_of))
        results: list[Result] = []
        follow_ups: list[Entry] = []
        for kpi in plan.kpis:
            target = compiler.value(kpi.target)
            if target is not None:
                target = Fraction(target)  # a percentage worked out in Decimals is still exact
            if isinstance(kpi, p.KpiPlan):
                totals = self._classify(kpi, compiler, follow_ups)
            else:
                totals = self._measure(kpi, compiler)
            for scope, group in self.groups.in_order(isinstance(kpi, p.MeasurePlan)):
                n, k, pend = totals.get((scope, group), (0, 0, 0))
                results.append(Result(
                    kpi=kpi.name, scope=scope, group=group,
                    status=NO_DATA if target is None else status(kpi.direction, target,
                                                                  n, k, pend),
                    numerator=k, denominator=n, pending=pend,
                    direction=kpi.direction, target=target))
        self._follow_ups = (id(plan), as_of, follow_ups)
        return results

    def _classify(self, kpi: p.KpiPlan, compiler: Compiler, actions: list[Entry]) -> Tally:
        """Decide each record of the population; add the counts up by bootcamp, provider and
        programme. Follow-ups are listed for the records whose verdict asks for them."""
        population, member = compiler.population(kpi.record, kpi.member)
        decide = decider(compiler.compile(kpi.counted),
                         compiler.compile(kpi.pending) if kpi.pending else None)
        follow = dict(kpi.follow_ups)
        tally: dict[str, list[int]] = {}
        for r in population if member is None else filter(member, population):
            t = tally.get(r.bootcamp_id)
            if t is None:
                t = tally[r.bootcamp_id] = [0, 0, 0]
            t[0] += 1
            verdict = decide(r)
            if verdict is COUNTED:
                t[1] += 1
                continue
            if verdict is PENDING:
                t[2] += 1
            if verdict in follow:
                actions.append(entry("action", kpi.name, follow[verdict], kpi.record, r))
        return roll_up(tally, self.groups.provider_of)

    def _measure(self, kpi: p.MeasurePlan, compiler: Compiler) -> Tally:
        """Each provider's ``actual`` (k) against its ``planned`` (n); nothing is pending:
        both are known on the as-of date."""
        actual, planned = compiler.compile(kpi.actual), compiler.compile(kpi.planned)
        return per_provider({r.provider_id: [planned(r) or 0, actual(r) or 0, 0]
                             for r in self.data.providers})

    def entries_soon(self, plan: p.Plan, as_of: dt.date
                     ) -> Callable[[], tuple[list[Entry], list[Entry]]]:
        return lambda: (self.entries(plan, as_of, "finding"), self.entries(plan, as_of, "action"))

    @collector_paused()
    def entries(self, plan: p.Plan, as_of: dt.date, kind: str) -> list[Entry]:
        compiler = Compiler(plan, View(self.data, None if kind == "finding" else as_of))
        out = []
        for n in plan.notices:
            if n.kind != kind:
                continue
            records, member = compiler.population(n.record, n.member)
            for r in records if member is None else filter(member, records):
                out.append(entry(kind, n.name, n.message, n.record, r))
        if kind == "action":
            if self._follow_ups is None or self._follow_ups[:2] != (id(plan), as_of):
                self._results(plan, as_of)
            assert self._follow_ups is not None
            out += self._follow_ups[2]
        return out

    @collector_paused()
    def verdicts(self, plan: p.Plan, as_of: dt.date, kpi: str, group: str = "all"
                 ) -> list[Verdict]:
        """The verdict comes from the same compiled clauses, in the same order, as the
        results, so the verdicts add up to their counts; the parts and the values they read
        are compiled separately, only to show them."""
        k = plan.kpi(kpi)
        compiler = Compiler(plan, View(self.data, as_of))
        if not self.groups.has(group, isinstance(k, p.MeasurePlan)):
            return []
        if isinstance(k, p.MeasurePlan):
            return self._explain_measure(k, compiler, group)
        population, member = compiler.population(k.record, k.member)
        shows = k.explain
        tests = {id(x): compiler.compile(x.test) for x in shows.all}
        reads = {id(x): [(label, e, compiler.compile(e)) for label, e in x.reads]
                 for x in shows.all}
        decide = decider(tests[id(shows.counted)],
                         tests[id(shows.pending)] if shows.pending else None)
        out = []
        for r in population if member is None else filter(member, population):
            if not self.groups.holds(group, r.bootcamp_id):
                continue

            def reason(x: p.Shown, r: Any = r) -> Reason:
                return Reason(clause=x.clause, source=x.source, values=tuple(
                    (label, shown_value(e, f(r))) for label, e, f in reads[id(x)]))

            def holds(x: p.Shown, r: Any = r) -> bool:
                return bool(tests[id(x)](r))

            verdict = decide(r)
            out.append(Verdict(record=describe(k.record, r), record_type=k.record,
                               record_id=key_of(k.record, r), bootcamp=r.bootcamp_id,
                               provider=self.groups.provider_of.get(r.bootcamp_id),
                               verdict=verdict, reasons=reasons(shows, verdict, holds, reason)))
        return out

    def _explain_measure(self, k: p.MeasurePlan, compiler: Compiler, group: str
                         ) -> list[Verdict]:
        """Each provider's actual and planned, and the target with what it reads (the
        management point, the tolerance), as :meth:`_measure` decides them."""
        actual, planned = compiler.compile(k.actual), compiler.compile(k.planned)
        target = compiler.value(k.target)
        part = k.explain
        reads = [(label, e, compiler.compile(e)) for label, e in part.reads]
        out = []
        for provider in self.data.providers:
            if group not in ("all", provider.provider_id):
                continue
            a, n = actual(provider) or 0, planned(provider) or 0
            reason = Reason(clause=part.clause, source=f"{k.direction} {part.source}", values=(
                ("actual", a), ("planned", n),
                *((label, shown_value(e, f(provider))) for label, e, f in reads),
                ("target", target)))
            out.append(Verdict(record=describe("provider", provider), record_type="provider",
                               record_id=provider.provider_id, bootcamp=None,
                               provider=provider.provider_id,
                               verdict=NO_DATA if target is None  # no tolerance in force then
                               else status(k.direction, target, n, a, 0), reasons=(reason,)))
        return out


ENGINE = PythonEngine
