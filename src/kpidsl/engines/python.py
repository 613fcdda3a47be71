"""Evaluation: checked rules + data + an as-of date → a verdict per record, a status per group.

Each expression is compiled once per evaluation into a Python closure (``visit_<ClassName>``
returns a function of the record in scope), so the per-record work is a few calls, close to what
a hand-written program does. Missing values are ``None``: a comparison with a missing value is
false, a missing boolean is not true, arithmetic on a missing value is missing. No ``eval`` or
``exec`` is used, and a compiled rule can only read the records it is given.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import gc
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from operator import attrgetter
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from kpidsl.data.records import BY_NAME, LINKS, ROW_DATES, Dataset, Link
from kpidsl.language import ast
from kpidsl.language.builtins import BUILTINS, exact
from kpidsl.language.checker import RuleSet
from kpidsl.language.source import Span, text_at
from kpidsl.plan.points import PointValue, current_point
from kpidsl.plan.status import NO_DATA, status

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


def reused_definitions(rules: RuleSet) -> set[tuple[str | None, str]]:
    """Definitions that one consumer (a KPI, a finding, an action) reaches more than once for
    the same record (through its clauses and the definitions they use): only those are worth
    remembering.

    What each definition reaches is worked out once, so the cost grows with the rules' size,
    however the definitions reuse each other."""
    Key = tuple[str | None, str]
    reach: dict[Key, Counter[Key]] = {}

    def reached(node: Any) -> Counter[Key]:
        total: Counter[Key] = Counter()
        for n in ast.walk(node):
            res = rules.resolved.get(id(n))
            if res is not None and res.kind == "def":
                key = (res.record, res.name)
                if key not in reach:
                    reach[key] = reached(rules.definitions[key].body)
                total[key] += 1
                total.update(reach[key])
        return Counter({k: min(n, 2) for k, n in total.items()})  # "more than once" is enough

    # Every consumer of definitions: a KPI's clauses (explain compiles the same ones), a
    # per-provider KPI's measures and target, and each finding's or action's records.
    consumers: list[list[ast.Expr]] = [
        [c.expr for c in (k.population, k.counted, k.pending, k.actual, k.planned, k.target)
         if c is not None] for k in rules.kpis]
    consumers += [[n.records] for n in rules.notices]
    reused: set[Key] = set()
    for exprs in consumers:
        seen: Counter[Key] = Counter()
        for expr in exprs:
            seen.update(reached(expr))
        reused.update(k for k, n in seen.items() if n > 1)
    # a test of one field costs less than remembering its answer
    return {k for k in reused if len(list(ast.children(rules.definitions[k].body))) > 1}


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


class Compiler:
    """Compiles checked expressions into closures over one :class:`View`."""

    def __init__(self, rules: RuleSet, view: View) -> None:
        self.rules = rules
        self.view = view
        self.consts: dict[int, Any] = {}
        self._definitions: dict[tuple[str | None, str], Fn] = {}
        self._tables: dict[str, list[tuple[dt.date | None, Any]]] = {}
        self._points: dict[str, PointValue | None] = {}
        self._reused = reused_definitions(rules)

    def compile(self, node: ast.Expr) -> Fn:
        """A function of the record in scope (``None`` outside any record)."""
        fn: Fn = getattr(self, f"visit_{type(node).__name__}")(node)
        return fn

    def value(self, node: ast.Expr) -> Any:
        """The value of an expression that depends on no record (a target, a table row)."""
        return self.compile(node)(None)

    def population(self, node: ast.Expr) -> tuple[Iterable[Any], Fn | None]:
        """Records to go through and the test each must pass: ``learners where c`` is walked
        once with ``c`` applied in the loop, without building the filtered list first."""
        if isinstance(node, ast.Where):
            return self.value(node.source), self.compile(node.condition)
        return self.value(node), None

    def _const(self, node: ast.Expr, value: Any) -> Fn:
        self.consts[id(node)] = value
        return lambda r: value

    # ---- names ----
    def definition(self, subject: str | None, name: str) -> Fn:
        """The compiled definition, shared by every use in this evaluation."""
        key = (subject, name)
        if key not in self._definitions:
            d = self.rules.definitions[key]
            if isinstance(d.body, ast.Cases):
                branches = [(self.compile(c.condition), c.label) for c in d.body.cases]
                otherwise = d.body.otherwise

                def body(r: Any) -> Any:
                    for cond, label in branches:
                        if cond(r):
                            return label
                    return otherwise
            else:
                body = self.compile(d.body)
            if subject is None:
                constant = body(None)
                fn: Fn = lambda r: constant  # noqa: E731
            else:
                fn = _memo(body) if key in self._reused else body
            self._definitions[key] = fn
        return self._definitions[key]

    def _member(self, res: Any) -> Fn:
        """Read a resolved field, link or definition from a record."""
        if res.kind == "field":
            get = attrgetter(res.name)
            limit = self.view.as_of
            if not res.masked or limit is None:
                return get

            def masked(r: Any) -> Any:
                v = get(r)
                return None if v is None or v > limit else v
            return masked
        if res.kind == "link":
            link: Link = res.link
            index, key = self.view.index(link), attrgetter(link.source_field)
            if link.many:
                return lambda r: index.get(key(r), ())
            return lambda r: index.get(key(r))
        return self.definition(res.record, res.name)

    def visit_Name(self, node: ast.Name) -> Fn:
        res = self.rules.resolved[id(node)]
        if res.kind == "as_of":
            return self._const(node, self.view.as_of)
        if res.kind == "value":
            return self._const(node, res.name)
        if res.kind == "const":
            return self.definition(None, res.name)
        if res.kind == "all":
            return self._const(node, self.view.all(res.record))
        if res.kind == "schedule":
            return self._const(node, self._point(res.name))
        if res.kind == "table":
            return self._lookup(res.name, None, None)
        return self._member(res)

    def _point(self, name: str) -> PointValue | None:
        if name not in self._points:
            when = self.view.as_of
            self._points[name] = None if when is None else current_point(
                self.rules.schedules[name], when)
        return self._points[name]

    def visit_Attribute(self, node: ast.Attribute) -> Fn:
        target = self.compile(node.target)
        res = self.rules.resolved[id(node)]
        if res.kind == "point":
            read = attrgetter(res.name)
            return lambda r: None if (p := target(r)) is None else read(p)
        member = self._member(res)
        if res.each:
            return lambda r: list(map(member, target(r)))

        def attribute(r: Any) -> Any:
            t = target(r)
            return None if t is None else member(t)
        return attribute

    def visit_Call(self, node: ast.Call) -> Fn:
        res = self.rules.resolved[id(node)]
        if res.kind == "table":
            keyed = self.rules.tables[res.name].key_type is not None
            key = self._label(node.args[0]) if keyed else None
            when = self.compile(node.args[-1]) if len(node.args) > int(keyed) else None
            return self._lookup(res.name, key, when)
        arg = self.compile(node.args[0])
        builtin = BUILTINS[res.name]
        if builtin.filtered is not None and isinstance(node.args[0], ast.Where):
            source = self.compile(node.args[0].source)
            cond, filtered = self.compile(node.args[0].condition), builtin.filtered
            return lambda r: filtered(source(r), cond)
        impl = builtin.impl
        return lambda r: impl(arg(r))

    def _label(self, node: ast.Expr) -> Fn:
        """An enumeration value; a schedule's point stands for its label."""
        f = self.compile(node)
        if self.rules.types[id(node)].kind == "point":
            return lambda r: None if (p := f(r)) is None else p.label
        return f

    def _lookup(self, name: str, key: Fn | None, when: Fn | None) -> Fn:
        """Read table ``name``: the version in force on ``when`` (default: the as-of date),
        then the row for ``key`` (keyed tables)."""
        if name not in self._tables:
            table = self.rules.tables[name]
            self._tables[name] = [
                (v.start, {row.key: self.value(row.value) for row in v.rows}
                 if table.key_type is not None else self.value(v.value))  # type: ignore[arg-type]
                for v in table.versions]
        versions = self._tables[name]
        starts = [start or dt.date.min for start, _ in versions]

        def version(day: dt.date | None) -> Any:
            if day is None:
                return None
            i = bisect.bisect_right(starts, day)
            return versions[i - 1][1] if i else None

        if when is None:
            fixed = version(self.view.as_of or dt.date.max)
            if key is None:
                return lambda r: fixed
            rows = fixed or {}
            return lambda r: rows.get(key(r))
        if key is None:
            return lambda r: version(when(r))
        return lambda r: None if (rows := version(when(r))) is None else rows.get(key(r))

    # ---- values ----
    def visit_Literal(self, node: ast.Literal) -> Fn:
        value = node.value
        if isinstance(value, ast.Duration):
            value = relativedelta(**{_UNITS[value.unit]: value.amount})
        return self._const(node, value)

    def visit_SetLiteral(self, node: ast.SetLiteral) -> Fn:
        items = [self.compile(i) for i in node.items]
        if all(id(i) in self.consts for i in node.items):
            return self._const(node, frozenset(self.consts[id(i)] for i in node.items))
        return lambda r: frozenset(v for f in items if (v := f(r)) is not None)

    # ---- operators ----
    def visit_Unary(self, node: ast.Unary) -> Fn:
        f = self.compile(node.operand)
        if node.op == "not":
            return lambda r: not f(r)
        return lambda r: None if (v := f(r)) is None else -v

    def _masked_field(self, node: ast.Expr) -> tuple[Callable[[Any], Any], dt.date] | None:
        """The getter and the as-of date of a date field read straight from the record in
        scope, so that tests on it can be inlined (one call instead of three)."""
        res = self.rules.resolved.get(id(node))
        if (isinstance(node, ast.Name) and res is not None and res.kind == "field"
                and res.masked and self.view.as_of is not None):
            return attrgetter(res.name), self.view.as_of
        return None

    def visit_IsSet(self, node: ast.IsSet) -> Fn:
        inline = self._masked_field(node.operand)
        if inline is not None:
            get, limit = inline
            if node.negated:
                return lambda r: (v := get(r)) is None or v > limit
            return lambda r: (v := get(r)) is not None and v <= limit
        f = self.compile(node.operand)
        if node.negated:
            return lambda r: f(r) is None
        return lambda r: f(r) is not None

    def visit_Where(self, node: ast.Where) -> Fn:
        source, cond = self.compile(node.source), self.compile(node.condition)
        return lambda r: list(filter(cond, source(r)))

    def _logic(self, node: ast.Binary) -> Fn:
        """``and``/``or`` chains flattened into one closure; the result is a real bool."""
        fs = [self.compile(p) for p in ast.operands(node, node.op)]
        return _all(fs) if node.op == "and" else _any(fs)

    def visit_Binary(self, node: ast.Binary) -> Fn:
        op = node.op
        if op in ("and", "or"):
            return self._logic(node)
        left, right = self._label(node.left), self._label(node.right)
        constant = id(node.right) in self.consts
        c = self.consts.get(id(node.right))
        if op in ("in", "not in"):
            if constant and op == "in":
                return lambda r: left(r) in c
            if constant:
                return lambda r: (v := left(r)) is not None and v not in c
            inside = op == "in"

            def member(r: Any) -> bool:
                v, s = left(r), right(r)
                return v is not None and s is not None and (v in s) is inside
            return member
        if op in _COMPARE:
            cmp = _COMPARE[op]
            inline = self._masked_field(node.left)
            if inline is not None and not constant:
                get, limit = inline

                def compare_date(r: Any) -> bool:
                    a = get(r)
                    if a is None or a > limit:
                        return False
                    b = right(r)
                    return b is not None and cmp(a, b)
                return compare_date
            if constant and c is not None:
                if op == "=":
                    return lambda r: left(r) == c
                return lambda r: (v := left(r)) is not None and cmp(v, c)

            def compare(r: Any) -> bool:
                a = left(r)
                if a is None:
                    return False
                b = right(r)
                return b is not None and cmp(a, b)
            return compare
        if constant and isinstance(c, relativedelta):
            shift = _shift(c if op == "+" else -c)
            return lambda r: None if (v := left(r)) is None else shift(v)
        arith = exact(op)
        return lambda r: arith(left(r), right(r))


# ---- results ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Result:
    """A KPI's standing for one group: a bootcamp, a provider or the whole programme."""

    kpi: str
    scope: str
    """``bootcamp``, ``provider`` or ``programme``."""
    group: str
    """The bootcamp or provider id, or ``all``."""
    status: str
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


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while evaluating.

    Evaluation builds indexes over every record but creates no reference cycles; with the
    collector on, each full collection walks the whole data set again (a third of the run time
    at 100k learners, measured). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def groups_in_order(groups: dict[str, list[str]], per_provider: bool = False
                    ) -> list[tuple[str, str]]:
    """The groups a KPI is reported for, in report order: each bootcamp (not for a KPI
    measured per provider), each provider, then the programme (KPI-SPEC §2, "Groups")."""
    out = [] if per_provider else [("bootcamp", b) for b in groups["bootcamp"]]
    return [*out, *(("provider", g) for g in groups["provider"]), ("programme", "all")]


def _rows(data: Dataset) -> tuple[dict[str, str], list[tuple[str, str]]]:
    provider_of = {b.bootcamp_id: b.provider_id for b in data.bootcamps}
    groups = {"bootcamp": sorted(provider_of),
              "provider": sorted(p.provider_id for p in data.providers)}
    return provider_of, groups_in_order(groups)


Tally = dict[tuple[str, str], list[int]]


def _classify(kpi: ast.Kpi, rules: RuleSet, compiler: Compiler, provider_of: dict[str, str],
              actions: list[Entry]) -> Tally:
    """Decide each record of the population; add the counts up by bootcamp, provider and
    programme. Follow-ups are listed for the records whose verdict asks for them."""
    assert kpi.population and kpi.counted
    population, member = compiler.population(kpi.population.expr)
    counted = compiler.compile(kpi.counted.expr)
    pending = compiler.compile(kpi.pending.expr) if kpi.pending else None
    type_name = rules.types[id(kpi.population.expr)].elem.name  # type: ignore[union-attr]
    follow = {f.verdict: f.message for f in kpi.follow_ups}
    tally: dict[str, list[int]] = {}
    for r in population:
        if member is not None and not member(r):
            continue
        t = tally.get(r.bootcamp_id)
        if t is None:
            t = tally[r.bootcamp_id] = [0, 0, 0]
        t[0] += 1
        if counted(r):
            t[1] += 1
            continue
        if pending is not None and pending(r):
            t[2] += 1
            verdict = "pending"
        else:
            verdict = "not counted"
        if verdict in follow:
            actions.append(_entry("action", kpi.name, follow[verdict], type_name, r))
    totals: Tally = {}
    for bootcamp, counts in tally.items():
        for key in (("bootcamp", bootcamp), ("provider", provider_of[bootcamp]),
                    ("programme", "all")):
            acc = totals.setdefault(key, [0, 0, 0])
            for i in range(3):
                acc[i] += counts[i]
    return totals


def _measure(kpi: ast.Kpi, compiler: Compiler, data: Dataset) -> Tally:
    """Each provider's ``actual`` (k) against its ``planned`` (n); the programme is the sum.
    Nothing is pending: both are known on the as-of date."""
    assert kpi.actual and kpi.planned
    actual, planned = compiler.compile(kpi.actual.expr), compiler.compile(kpi.planned.expr)
    totals: Tally = {("programme", "all"): [0, 0, 0]}
    for provider in data.providers:
        counts = [planned(provider) or 0, actual(provider) or 0, 0]
        totals[("provider", provider.provider_id)] = counts
        totals[("programme", "all")] = [a + b for a, b in
                                        zip(totals[("programme", "all")], counts, strict=True)]
    return totals


@collector_paused()
def evaluate_kpis(rules: RuleSet, data: Dataset, as_of: dt.date
                  ) -> tuple[list[Result], list[Entry]]:
    """Every KPI for every group, and the follow-up actions the rules ask for."""
    compiler = Compiler(rules, View(data, as_of))
    provider_of, groups = _rows(data)
    results: list[Result] = []
    actions: list[Entry] = []
    for kpi in rules.kpis:
        assert kpi.target and kpi.target.direction
        target = compiler.value(kpi.target.expr)
        if target is not None:
            target = Fraction(target)  # a percentage worked out in Decimals is still exact
        if kpi.per is None:
            totals = _classify(kpi, rules, compiler, provider_of, actions)
            scopes = groups
        else:
            totals = _measure(kpi, compiler, data)
            scopes = [g for g in groups if g[0] != "bootcamp"]
        for scope, group in scopes:
            n, k, p = totals.get((scope, group), (0, 0, 0))
            results.append(Result(
                kpi=kpi.name, scope=scope, group=group,
                status=NO_DATA if target is None else status(kpi.target.direction, target,
                                                              n, k, p),
                numerator=k, denominator=n, pending=p,
                direction=kpi.target.direction, target=target,
            ))
    return results, actions


@collector_paused()
def evaluate_notices(rules: RuleSet, data: Dataset, as_of: dt.date, kind: str) -> list[Entry]:
    """The findings (on the data as written) or the actions (as of the date) the rules list."""
    view = View(data, None if kind == "finding" else as_of)
    compiler = Compiler(rules, view)
    out = []
    for n in rules.notices:
        if n.kind != kind:
            continue
        type_name = rules.types[id(n.records)].elem.name  # type: ignore[union-attr]
        for r in compiler.value(n.records):
            out.append(_entry(kind, n.name, n.message, type_name, r))
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
class _Part:
    """A compiled clause or part, with the compiled reads that explain it."""

    clause: str
    source: str
    test: Fn
    reads: tuple[tuple[str, Fn], ...]

    def reason(self, r: Any) -> Reason:
        return Reason(clause=self.clause, source=self.source,
                      values=tuple((label, f(r)) for label, f in self.reads))


def _part(rules: RuleSet, compiler: Compiler, clause: str, node: ast.Expr) -> _Part:
    reads: dict[str, Fn] = {}
    for n in _reads(rules, node):
        reads.setdefault(source_text(rules, n.span), compiler.compile(n))
    return _Part(clause, source_text(rules, node.span), compiler.compile(node),
                 tuple(reads.items()))


def _first_false(parts: list[_Part], r: Any) -> Reason:
    """The first part that does not hold; the whole clause is the last part's fallback."""
    return next((p for p in parts if not p.test(r)), parts[-1]).reason(r)


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
    assert k.population and k.counted
    population, member = compiler.population(k.population.expr)
    type_name = rules.types[id(k.population.expr)].elem.name  # type: ignore[union-attr]
    counted = _part(rules, compiler, "counted when", k.counted.expr)
    counted_parts = [_part(rules, compiler, "counted when", p)
                     for p in ast.operands(k.counted.expr, "and")]
    pending = _part(rules, compiler, "pending when", k.pending.expr) if k.pending else None
    pending_parts = [_part(rules, compiler, "pending when", p)
                     for p in ast.operands(k.pending.expr, "and")] if k.pending else []
    out = []
    for r in population:
        if member is not None and not member(r):
            continue
        b = r.bootcamp_id
        if group != "all" and group != b and group != provider_of[b]:
            continue
        if counted.test(r):
            verdict, reasons = "counted", [counted.reason(r)]
        elif pending is not None and pending.test(r):
            verdict, reasons = "pending", [pending.reason(r)]
        else:
            verdict, reasons = "not counted", [_first_false(counted_parts, r)]
            if pending_parts:
                reasons.append(_first_false(pending_parts, r))
        out.append(Verdict(record=describe(type_name, r), bootcamp=b, verdict=verdict,
                           reasons=tuple(reasons)))
    return out


def _explain_measure(rules: RuleSet, compiler: Compiler, k: ast.Kpi, data: Dataset,
                     group: str) -> list[Verdict]:
    """Each provider's actual and planned, and the target with what it reads (the
    management point, the tolerance), as :func:`_measure` decides them."""
    assert k.actual and k.planned and k.target and k.target.direction
    actual, planned = compiler.compile(k.actual.expr), compiler.compile(k.planned.expr)
    target = compiler.value(k.target.expr)
    direction = k.target.direction
    part = _part(rules, compiler, "target", k.target.expr)
    out = []
    for provider in data.providers:
        if group not in ("all", provider.provider_id):
            continue
        a, p = actual(provider) or 0, planned(provider) or 0
        reason = part.reason(provider)
        reason = attrs.evolve(reason, source=f"{direction} {reason.source}",
                              values=(("actual", a), ("planned", p), *reason.values,
                                      ("target", target)))
        out.append(Verdict(record=describe("provider", provider), bootcamp=None,
                           verdict=NO_DATA if target is None  # no tolerance in force then
                           else status(direction, target, p, a, 0), reasons=(reason,)))
    return out
