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
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from kpidsl.contract.records import BY_NAME, LINKS, ROW_DATES, Link
from kpidsl.data.csvfiles import collector_paused
from kpidsl.data.dataset import Dataset
from kpidsl.errors import Span
from kpidsl.language import ast
from kpidsl.language.builtins import BUILTINS, exact
from kpidsl.language.checker import RuleSet
from kpidsl.language.source import text_at
from kpidsl.language.vocabulary import Scope, Status
from kpidsl.plan import nodes as p
from kpidsl.plan.lower import Lowerer, lower, walk
from kpidsl.plan.points import PointValue, current_point
from kpidsl.plan.status import NO_DATA, status
from kpidsl.plan.visitor import Visitor

Fn = Callable[[Any], Any]

_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}
_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}

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
    seen: dict[dt.date, dt.date] = {}

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

    consumers: list[list[p.Expr | None]] = [
        [k.member, k.counted, k.pending] if isinstance(k, p.KpiPlan) else [k.actual, k.planned]
        for k in plan.kpis] + [[n.member] for n in plan.notices]
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
            get = attrgetter(link.target_field)
            if link.through is not None:
                via = next(lk for lk in LINKS if lk.source == link.target
                           and lk.name == link.through)
                middle, own = self.index(via), attrgetter(via.source_field)

                def get(r: Any, middle: dict[Any, Any] = middle, own: Any = own,
                        far: Any = attrgetter(link.target_field)) -> Any:
                    m = middle.get(own(r))
                    return None if m is None else far(m)
            if link.many:
                groups: dict[Any, list[Any]] = {}
                for r in self.all(link.target):
                    groups.setdefault(get(r), []).append(r)
                self._by_key[key] = {k: tuple(v) for k, v in groups.items()}
            else:
                self._by_key[key] = {get(r): r for r in self.all(link.target)}
        return self._by_key[key]


class Compiler(Visitor):
    """Compiles plan expressions into closures over one :class:`View`.

    ``compile`` also takes a checked AST expression (lowered first), for the tools that show
    parts of a clause (``explain``, test coverage)."""

    def __init__(self, rules: RuleSet, view: View, plan: p.Plan | None = None) -> None:
        self.rules = rules
        self.plan = plan or lower(rules)
        self.lowerer = Lowerer(rules)
        self.view = view
        self._definitions: dict[tuple[str | None, str], Fn] = {}
        self._points: dict[str, PointValue | None] = {}
        self._reused = reused_definitions(self.plan)

    def compile(self, node: p.Expr | ast.Expr) -> Fn:
        """A function of the record in scope (``None`` outside any record)."""
        e = node if isinstance(node, p.Expr) else self.lowerer.expr(node)
        fn: Fn = self.visit(e)
        return fn

    def value(self, node: p.Expr | ast.Expr) -> Any:
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
            value = relativedelta(**{_UNITS[value.unit]: value.amount})
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
                self.rules.schedules[e.schedule], when)
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
        delta = relativedelta(**{_UNITS[e.duration.unit]: e.duration.amount * e.sign})
        shift = _shift(delta)
        return lambda r: None if (v := date(r)) is None else shift(v)

    def visit_Arith(self, e: p.Arith) -> Fn:
        left, right, arith = self.compile(e.left), self.compile(e.right), exact(e.op)
        return lambda r: arith(left(r), right(r))


# ---- results ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Result:
    """A KPI's standing for one group: a bootcamp, a provider or the whole programme."""

    kpi: str
    scope: Scope = attrs.field(converter=lambda x: x if type(x) is Scope else Scope(x))
    """``bootcamp``, ``provider`` or ``programme``."""
    group: str
    """The bootcamp or provider id, or ``all``."""
    status: Status = attrs.field(converter=lambda x: x if type(x) is Status else Status(x))
    """``met``, ``not_met``, ``on_track``, ``at_risk`` or ``no_data``."""
    numerator: int
    """Records counted (k)."""
    denominator: int
    """Records in the population (n)."""
    pending: int
    """Records not decided yet (p)."""
    direction: str
    """``at least`` or ``at most``."""
    target: Fraction | None
    """The target in force on the as-of date; ``None`` when the rules give none then (the
    status is ``no_data`` and a finding says why)."""

    @property
    def rate(self) -> Fraction | None:
        """k/n exactly, or ``None`` when the population is empty."""
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    @property
    def decided_rate(self) -> Fraction | None:
        """k/(n − p): the rate among the records decided so far (what ``on_track`` judges)."""
        decided = self.denominator - self.pending
        return Fraction(self.numerator, decided) if decided else None


@attrs.frozen(kw_only=True)
class Entry:
    """A data-quality finding or a follow-up action about one record."""

    kind: str
    """``finding`` or ``action``."""
    name: str
    """The rule that raised it (a notice's name, or a KPI's for its follow-ups)."""
    message: str
    record: str
    """What the record is, for a person: ``learner L0042``."""
    group: str | None = None
    """The bootcamp the record belongs to, when it has one."""
    file: str | None = None
    line: int | None = None


def describe(type_name: str, record: Any) -> str:
    """A record as a person names it: ``learner L0042``, ``engagement BC01/EMP03``."""
    key = BY_NAME[type_name].key
    if key:
        return f"{type_name} " + "/".join(str(getattr(record, f)) for f in key)
    owner = getattr(record, "learner_id", None) or getattr(record, "provider_id", "")
    where = f" (line {record.line})" if record.line else ""
    return f"{type_name} of {owner}{where}"


def _entry(kind: str, name: str, message: str, type_name: str, record: Any) -> Entry:
    return Entry(kind=kind, name=name, message=message, record=describe(type_name, record),
                 group=getattr(record, "bootcamp_id", None),
                 file=BY_NAME[type_name].file if record.line else None, line=record.line)


def groups_in_order(groups: dict[str, list[str]], per_provider: bool = False
                    ) -> list[tuple[str, str]]:
    """The groups a KPI is reported for, in report order: each bootcamp (not for a KPI
    measured per provider), each provider, then the programme (KPI-SPEC §2, "Groups")."""
    out = [] if per_provider else [(Scope.BOOTCAMP, b) for b in groups["bootcamp"]]
    return [*out, *((Scope.PROVIDER, g) for g in groups["provider"]), (Scope.PROGRAMME, "all")]


def _rows(data: Dataset) -> tuple[dict[str, str], list[tuple[str, str]]]:
    provider_of = {b.bootcamp_id: b.provider_id for b in data.bootcamps}
    groups = {"bootcamp": sorted(provider_of),
              "provider": sorted(p.provider_id for p in data.providers)}
    return provider_of, groups_in_order(groups)


Tally = Mapping[tuple[str, str], Sequence[int]]


COUNTED, PENDING, NOT_COUNTED = "counted", "pending", "not counted"


def decider(counted: Fn, pending: Fn | None) -> Fn:
    """The verdict loop, written once: a record is counted if ``counted`` holds, else
    pending if ``pending`` holds, else not counted. Evaluation, ``explain`` and the rule
    tests' coverage all decide records with it (the SQL engines with the same ``CASE``)."""
    if pending is None:
        return lambda r: COUNTED if counted(r) else NOT_COUNTED
    return lambda r: COUNTED if counted(r) else PENDING if pending(r) else NOT_COUNTED


def _classify(kpi: p.KpiPlan, compiler: Compiler, provider_of: dict[str, str],
              actions: list[Entry]) -> Tally:
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
            actions.append(_entry("action", kpi.name, follow[verdict], kpi.record, r))
    return roll_up(tally, provider_of)


def roll_up(tally: Mapping[str, Sequence[int]], provider_of: dict[str, str]) -> Tally:
    """The reporting hierarchy, written once: counts ``[n, k, p]`` per bootcamp added up to
    their providers and to the programme."""
    totals: dict[tuple[str, str], list[int]] = {}
    programme = [0, 0, 0]
    for bootcamp, (n, k, pend) in tally.items():
        totals["bootcamp", bootcamp] = [n, k, pend]
        for acc in (totals.setdefault(("provider", provider_of[bootcamp]), [0, 0, 0]),
                    programme):
            acc[0] += n
            acc[1] += k
            acc[2] += pend
    totals["programme", "all"] = programme
    return totals


def _measure(kpi: p.MeasurePlan, compiler: Compiler, data: Dataset) -> Tally:
    """Each provider's ``actual`` (k) against its ``planned`` (n); nothing is pending: both
    are known on the as-of date."""
    actual, planned = compiler.compile(kpi.actual), compiler.compile(kpi.planned)
    return per_provider({r.provider_id: [planned(r) or 0, actual(r) or 0, 0]
                         for r in data.providers})


def per_provider(counts: Mapping[str, Sequence[int]]) -> Tally:
    """A KPI measured per provider: each provider's counts, and the programme's sum."""
    totals: dict[tuple[str, str], Sequence[int]] = {("provider", g): c
                                                    for g, c in counts.items()}
    totals[("programme", "all")] = [sum(c[i] for c in counts.values()) for i in range(3)]
    return totals


@collector_paused()
def evaluate_kpis(rules: RuleSet, data: Dataset, as_of: dt.date
                  ) -> tuple[list[Result], list[Entry]]:
    """Every KPI for every group, and the follow-up actions the rules ask for."""
    compiler = Compiler(rules, View(data, as_of))
    provider_of, groups = _rows(data)
    results: list[Result] = []
    actions: list[Entry] = []
    for kpi in compiler.plan.kpis:
        target = compiler.value(kpi.target)
        if target is not None:
            target = Fraction(target)  # a percentage worked out in Decimals is still exact
        if isinstance(kpi, p.KpiPlan):
            totals = _classify(kpi, compiler, provider_of, actions)
            scopes = groups
        else:
            totals = _measure(kpi, compiler, data)
            scopes = [g for g in groups if g[0] != "bootcamp"]
        for scope, group in scopes:
            n, k, pend = totals.get((scope, group), (0, 0, 0))
            results.append(Result(
                kpi=kpi.name, scope=scope, group=group,
                status=NO_DATA if target is None else status(kpi.direction, target,
                                                              n, k, pend),
                numerator=k, denominator=n, pending=pend,
                direction=kpi.direction, target=target,
            ))
    return results, actions


@collector_paused()
def evaluate_notices(rules: RuleSet, data: Dataset, as_of: dt.date, kind: str) -> list[Entry]:
    """The findings (on the data as written) or the actions (as of the date) the rules list."""
    view = View(data, None if kind == "finding" else as_of)
    compiler = Compiler(rules, view)
    out = []
    for n in compiler.plan.notices:
        if n.kind != kind:
            continue
        records, member = compiler.population(n.record, n.member)
        for r in records if member is None else filter(member, records):
            out.append(_entry(kind, n.name, n.message, n.record, r))
    return out


# ---- explanations -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Reason:
    """One clause, or one part of a clause, behind a verdict, with the values it read."""

    clause: str
    """``counted when``, ``pending when`` or ``target``."""
    source: str
    """The clause or part as written in the rule file, its whitespace collapsed."""
    values: tuple[tuple[str, Any], ...]
    """Each field, definition, lookup or count it reads, as written, with its value for the
    record on the as-of date (``None`` when missing)."""


@attrs.frozen(kw_only=True)
class Verdict:
    """Why one record of a KPI's population is counted, not counted or pending.

    For a per-provider KPI there is one verdict per provider: its status (``met``,
    ``not_met``, ``no_data``) with its actual, planned, management point and tolerance.
    """

    record: str
    """What the record is, for a person: ``learner L0042``."""
    bootcamp: str | None
    """The bootcamp the record belongs to (``None`` for a provider)."""
    verdict: str
    """``counted``, ``not counted`` or ``pending``; a provider's status for a per-provider
    KPI."""
    reasons: tuple[Reason, ...]
    """The clause that decided it; a not-counted record also has the failed part of its
    ``pending when`` clause, when the KPI has one."""

    @property
    def clause(self) -> str:
        """The kind of the deciding clause (``counted when`` …)."""
        return self.reasons[0].clause

    @property
    def source(self) -> str:
        """The source text of the deciding clause or part."""
        return self.reasons[0].source

    @property
    def values(self) -> tuple[tuple[str, Any], ...]:
        """The values the deciding clause or part read."""
        return self.reasons[0].values


def source_text(rules: RuleSet, span: Span) -> str:
    """The text a span covers in its rule file, on one line (``(x or y)`` spans ``x or y``)."""
    text = next(f.source for f in rules.files if f.path == span.file)
    return " ".join(text_at(text, span).split())


def _reads(rules: RuleSet, node: ast.Expr) -> list[ast.Expr]:
    """What a condition reads of the record in scope, as a person would look it up: fields,
    definitions and ``a.b`` paths whole, calls whole and then their arguments. A definition
    of the record is followed by what its body reads (``positive_outcome`` → ``outcome``),
    since its value alone rarely says why. A ``where`` condition is about other records
    (each interview), so only its source is read here. Each definition is followed once."""
    out: list[ast.Expr] = []
    followed: set[tuple[str | None, str]] = set()

    def walk(n: Any) -> None:
        if isinstance(n, ast.Name):
            res = rules.resolved.get(id(n))
            if res is not None and res.kind not in ("value", "all"):
                out.append(n)
            if res is not None and res.kind == "def" and (res.record, res.name) not in followed:
                followed.add((res.record, res.name))
                walk(rules.definitions[(res.record, res.name)].body)
        elif isinstance(n, ast.Attribute):
            out.append(n)
        elif isinstance(n, ast.Call):
            out.append(n)
            for a in n.args:
                walk(a)
        elif isinstance(n, ast.Where):
            walk(n.source)
        else:
            for child in ast.children(n):
                walk(child)

    walk(node)
    return out


@attrs.frozen
class Shown:
    """A clause, or one part of it, as ``explain`` shows it: the kind of clause, its source,
    its condition and what it reads (label as written, expression), lowered to the plan so
    that every engine computes them."""

    clause: str
    source: str
    test: p.Expr
    reads: tuple[tuple[str, p.Expr], ...]


def shown(rules: RuleSet, lowerer: Lowerer, clause: str, node: ast.Expr) -> Shown:
    """A clause or part of the kind ``clause``, with what it reads, lowered by ``lowerer``."""
    reads: dict[str, p.Expr] = {}
    for n in _reads(rules, node):
        reads.setdefault(source_text(rules, n.span), lowerer.expr(n))
    return Shown(clause, source_text(rules, node.span), lowerer.expr(node), tuple(reads.items()))


@attrs.frozen
class Clauses:
    """What ``explain`` shows of a KPI judged record by record: its ``counted when`` (and
    ``pending when``) clause, whole and in its ``and`` parts."""

    counted: Shown
    counted_parts: tuple[Shown, ...]
    pending: Shown | None
    pending_parts: tuple[Shown, ...]

    @property
    def all(self) -> list[Shown]:
        return [self.counted, *self.counted_parts, *([self.pending] if self.pending else []),
                *self.pending_parts]

    def reasons(self, verdict: str, holds: Callable[[Shown], bool],
                reason: Callable[[Shown], Reason]) -> tuple[Reason, ...]:
        """Why a record has ``verdict``, written once for every engine: a counted record's
        ``counted when``, a pending one's ``pending when``, and for a record not counted the
        first part of each that does not hold (``holds``), the whole clause if none."""
        if verdict == COUNTED:
            return (reason(self.counted),)
        if verdict == PENDING:
            assert self.pending is not None
            return (reason(self.pending),)

        def first_false(parts: tuple[Shown, ...]) -> Reason:
            return reason(next((x for x in parts if not holds(x)), parts[-1]))

        return (first_false(self.counted_parts),
                *([first_false(self.pending_parts)] if self.pending_parts else []))


def clauses(rules: RuleSet, k: ast.Kpi) -> Clauses:
    lowerer = Lowerer(rules)
    assert k.counted

    def one(clause: str, node: ast.Expr) -> tuple[Shown, tuple[Shown, ...]]:
        return shown(rules, lowerer, clause, node), tuple(
            shown(rules, lowerer, clause, x) for x in ast.operands(node, "and"))

    counted, counted_parts = one("counted when", k.counted.expr)
    pending, pending_parts = one("pending when", k.pending.expr) if k.pending else (None, ())
    return Clauses(counted, counted_parts, pending, pending_parts)


def shown_value(e: p.Expr, value: Any) -> Any:
    """What ``explain`` shows of a value read: a record by its name (``bootcamp BC01``), a
    list of records by how many, a list of values as a tuple, money as a ``Decimal``; any
    other value as it is. Every engine gives reads in these forms, so their explanations
    are the same."""
    if value is None:
        return None
    if e.type.kind == "record":
        return describe(e.type.name or "", value)
    if e.type.kind == "money" and type(value) is int:  # the sum of no payments: £0.00
        return Decimal(value)
    if e.type.kind == "list":
        if e.type.elem is not None and e.type.elem.kind == "record":
            return len(value)
        return tuple(value)
    return value


def groups_of(data: Dataset) -> dict[str, str]:
    """Every group id with its scope: each bootcamp, each provider and ``all``."""
    return {group: scope for scope, group in _rows(data)[1]}


@collector_paused()
def explain(rules: RuleSet, data: Dataset, as_of: dt.date, kpi: str,
            group: str = "all") -> list[Verdict]:
    """Every record of ``kpi``'s population in ``group``, with its verdict and why.

    The verdict comes from the same compiled clauses, in the same order, as
    :func:`evaluate_kpis`, so the verdicts add up to its counts; the parts and the values
    they read are compiled separately by the same :class:`Compiler`, only to show them.
    Raises ``KeyError`` for an unknown KPI and ``ValueError`` for an unknown group.
    """
    k = rules.kpi(kpi)
    compiler = Compiler(rules, View(data, as_of))
    provider_of, _ = _rows(data)
    scope = groups_of(data).get(group)
    if scope is None or (k.per is not None and scope == "bootcamp"):
        raise ValueError(f"{kpi} has no group {group!r}")
    if k.per is not None:
        return _explain_measure(rules, compiler, k, data, group)
    plan = compiler.plan.kpi(kpi)
    assert isinstance(plan, p.KpiPlan)
    population, member = compiler.population(plan.record, plan.member)
    shows = clauses(rules, k)
    tests = {id(x): compiler.compile(x.test) for x in shows.all}
    reads = {id(x): [(label, e, compiler.compile(e)) for label, e in x.reads]
             for x in shows.all}
    decide = decider(tests[id(shows.counted)],
                     tests[id(shows.pending)] if shows.pending else None)
    out = []
    for r in population if member is None else filter(member, population):
        b = r.bootcamp_id
        if group != "all" and group != b and group != provider_of[b]:
            continue

        def reason(x: Shown, r: Any = r) -> Reason:
            return Reason(clause=x.clause, source=x.source, values=tuple(
                (label, shown_value(e, f(r))) for label, e, f in reads[id(x)]))

        def holds(x: Shown, r: Any = r) -> bool:
            return bool(tests[id(x)](r))

        verdict = decide(r)
        out.append(Verdict(record=describe(plan.record, r), bootcamp=b, verdict=verdict,
                           reasons=shows.reasons(verdict, holds, reason)))
    return out


def _explain_measure(rules: RuleSet, compiler: Compiler, k: ast.Kpi, data: Dataset,
                     group: str) -> list[Verdict]:
    """Each provider's actual and planned, and the target with what it reads (the
    management point, the tolerance), as :func:`_measure` decides them."""
    assert k.actual and k.planned and k.target and k.target.direction
    actual, planned = compiler.compile(k.actual.expr), compiler.compile(k.planned.expr)
    target = compiler.value(k.target.expr)
    direction = k.target.direction
    part = shown(rules, Lowerer(rules), "target", k.target.expr)
    reads = [(label, e, compiler.compile(e)) for label, e in part.reads]
    out = []
    for provider in data.providers:
        if group not in ("all", provider.provider_id):
            continue
        a, n = actual(provider) or 0, planned(provider) or 0
        reason = Reason(clause=part.clause, source=f"{direction} {part.source}", values=(
            ("actual", a), ("planned", n),
            *((label, shown_value(e, f(provider))) for label, e, f in reads),
            ("target", target)))
        out.append(Verdict(record=describe("provider", provider), bootcamp=None,
                           verdict=NO_DATA if target is None  # no tolerance in force then
                           else status(direction, target, n, a, 0), reasons=(reason,)))
    return out
