"""The rule-test stage: run the ``test`` blocks written beside the rules, and say what they cover.

A test gives a tiny cohort, an as-of date and the results it expects. ``run_tests`` builds a
:class:`~kpidsl.data.dataset.Dataset` from each test's given records, evaluates the whole rule
set on it exactly as ``kpidsl evaluate`` would, and compares every expectation. It also reports how
much of each KPI the tests exercise (:class:`KpiCoverage`), so a rule change that no test would
notice is visible.

How given records become records:

* The word after the type is the record's id for types that have one: ``learner L1`` is the
  learner whose ``learner_id`` is ``L1`` (likewise provider, bootcamp, employer). Engagements,
  interviews, payments and profiles have no id of their own; for them the word is only a label
  used in messages, and the fields that say whose record it is must be given: an engagement's
  ``bootcamp_id`` and ``employer_id``, an interview's ``learner_id`` and ``employer_id``, a
  payment's ``learner_id``, a profile's ``provider_id`` and ``month`` (the first of a month).
* Values are the literals written (an integer given for money is pounds); a bare name is a text
  id or an enumeration value; ``{a, b}`` is a set.
* A required field left out gets a neutral default, so that a test states only what it is
  about: a bootcamp's ``provider_id`` is the test's only provider, and a learner's
  ``bootcamp_id`` its only bootcamp (an error when there is not exactly one); other text
  (``name``, ``title``) is the record's id; a learner's ``start_date`` is the earliest date
  given on the learner or on its interviews, so that no "before the start" finding is raised
  (2000-01-01 if none); an interview's ``offer_date`` and a payment's ``paid_date`` are the
  learner's start date; other dates (a bootcamp's start and end) are 2000-01-01; money and
  whole numbers (``course_cost``, ``amount_paid``, ``employees``, ``planned_starts``) are 0;
  an interview's ``actual_job`` and ``matches_skills`` are false. A learner's
  ``learner_type`` has no default: it decides too much to be guessed.
* Optional fields keep the data contract's defaults (missing, false, or ``pending``).
* Given records are held to the data contract: a value out of range, a duplicate id or a
  reference to a record the test does not give is an error of the test, at the record's line,
  and the test is not evaluated.
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import attrs

from kpidsl.api import StrPath, load_rules, report_of
from kpidsl.classes import fields_methods
from kpidsl.contract.fields import FieldInfo
from kpidsl.contract.records import BY_NAME, FIELDS, unchecked
from kpidsl.contract.values import value_problem
from kpidsl.data.dataset import Dataset
from kpidsl.engines.python import Compiler, View
from kpidsl.engines.run import run
from kpidsl.errors import Span
from kpidsl.language import ast
from kpidsl.language.checker import RuleSet
from kpidsl.outputs.report import Report
from kpidsl.plan.lower import Lowerer, lower, source_text
from kpidsl.plan.nodes import Expr as PlanExpr
from kpidsl.plan.nodes import KpiPlan, Plan
from kpidsl.plan.points import current_point
from kpidsl.plan.results import decider

NEUTRAL_DATE = dt.date(2000, 1, 1)
#: Fields that say whose record an id-less record is: a test must give them.
_OWNERS = {"engagement": ("bootcamp_id", "employer_id"), "interview": ("learner_id", "employer_id"),
           "payment": ("learner_id",), "profile": ("provider_id", "month")}
#: Required references that default to the test's only record of the kind they name.
_ONLY_ONE = {("bootcamp", "provider_id"): "provider", ("learner", "bootcamp_id"): "bootcamp"}
#: Built in this order so that defaults can read the records they depend on (a learner's
#: start date for its interviews).
_ORDER = ("provider", "bootcamp", "employer", "learner", "engagement", "interview", "payment",
          "profile")
_VERDICTS = ("counted", "not counted", "pending")


@attrs.frozen
@fields_methods
class Failure:
    """Why a test failed, at a place in a rule file: an expectation not met (with the expected
    and actual results) or an error in the given records."""

    file: str
    line: int
    message: str
    expected: str | None = None
    actual: str | None = None
    rule: str | None = None
    """Where the rule the expectation is about states its target (``file:line: text``), so
    that a failure after a policy edit names both the test and the rule."""

    @property
    def location(self) -> str:
        """``file:line`` of the expectation or the given record."""
        return f"{self.file}:{self.line}"


@attrs.frozen
@fields_methods
class Outcome:
    """The outcome of one test."""

    name: str
    file: str
    line: int
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        """No expectation failed and the given records have no errors."""
        return not self.failures

    @property
    def location(self) -> str:
        """``file:line`` of the test."""
        return f"{self.file}:{self.line}"


@attrs.frozen
@fields_methods
class Part:
    """One top-level ``and``/``or`` part of a clause, and whether it was true and false on the
    tests' records where the evaluation asks it: a population's condition on every record of
    its kind, ``counted when`` on the population, ``pending when`` on the records not
    counted (so a part that can never be false there is reported, as it decides nothing).

    A part that is a definition of the record, whose body has ``and``/``or`` parts, is
    followed by those parts, judged on the same records: their ``clause`` names the
    definition and the clause (``positive_outcome in counted when``), their file and line are
    the definition's."""

    clause: str
    text: str
    file: str
    line: int
    true: bool
    false: bool

    @property
    def exercised(self) -> bool:
        """Seen both true and false: the tests show that this part matters."""
        return self.true and self.false


@attrs.frozen
@fields_methods
class KpiCoverage:
    """What the tests that expect something of one KPI exercise of it: the verdicts its records
    got, the statuses its expected results had, each clause part seen true and false, and for a
    KPI that reads a schedule, the points judged. Only tests with an ``expect`` on the KPI
    count: records that merely happen to be in a cohort test nothing."""

    kpi: str
    tests: int
    possible_verdicts: tuple[str, ...]
    verdicts: tuple[str, ...]
    possible_statuses: tuple[str, ...]
    statuses: tuple[str, ...]
    parts: tuple[Part, ...]
    points: tuple[str, ...] = ()

    def gaps(self) -> list[str]:
        """What is never exercised, for people. ``no_data`` is not asked for: it means an
        empty group, which the status rules decide whatever the KPI says."""
        if not self.tests:
            return ["no test expects anything of it"]
        out = []
        verdicts = [v for v in self.possible_verdicts if v not in self.verdicts]
        if verdicts:
            out.append("verdicts never seen: " + ", ".join(verdicts))
        statuses = [s for s in self.possible_statuses if s not in self.statuses]
        if statuses:
            out.append("statuses never expected: " + ", ".join(statuses))
        for p in self.parts:
            if not p.exercised:
                seen = "never evaluated" if not (p.true or p.false) else \
                    "never false" if p.true else "never true"
                out.append(f"{p.clause} ({_path(p.file)}:{p.line}): `{p.text}` {seen}")
        return out


@attrs.frozen
@fields_methods
class TestReport:
    """The outcome of every test, and the coverage of every KPI."""

    __test__ = False  # not a pytest test class

    outcomes: tuple[Outcome, ...]
    coverage: tuple[KpiCoverage, ...]

    @property
    def passed(self) -> int:
        """How many tests passed."""
        return sum(o.passed for o in self.outcomes)

    @property
    def failed(self) -> int:
        """How many tests failed (an error in the given records is a failure)."""
        return len(self.outcomes) - self.passed

    @property
    def ok(self) -> bool:
        """Every test passed."""
        return self.failed == 0


# ---- given records → a data set -------------------------------------------------------------


def _value(info: FieldInfo, expr: ast.Expr) -> Any:
    """The value a field is given (the checker has made sure it has the field's type)."""
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.SetLiteral):
        return frozenset(i.name for i in expr.items if isinstance(i, ast.Name))
    assert isinstance(expr, ast.Literal)
    if info.kind == "money":
        return Decimal(expr.value)  # type: ignore[arg-type]
    return expr.value


class _Builder:
    """Builds one test's data set, collecting every problem of its given records."""

    def __init__(self, test: ast.Test) -> None:
        self.test = test
        self.failures: list[Failure] = []
        self.made: dict[int, ast.GivenRecord] = {}
        self.by_type: dict[str, list[ast.GivenRecord]] = {t: [] for t in _ORDER}
        for rec in test.records:
            self.by_type[rec.type_name].append(rec)
        self.learner_start: dict[str, dt.date] = {}

    def fail(self, span: Span, message: str) -> None:
        self.failures.append(Failure(span.file, span.line, message))

    def given(self, rec: ast.GivenRecord) -> dict[str, Any]:
        fields = FIELDS[rec.type_name]
        out: dict[str, Any] = {}
        for name, expr in rec.fields:
            if name in out:
                self.fail(expr.span, f"{rec.type_name} {rec.id}: `{name}` is given twice")
                continue
            out[name] = value = _value(fields[name], expr)
            problem = value_problem(fields[name], value)  # the loader's own checks
            if problem:
                self.fail(expr.span, f"{rec.type_name} {rec.id}: {name}: {problem}")
        own = f"{rec.type_name}_id"
        if own in fields:
            if out.get(own, rec.id) != rec.id:
                self.fail(rec.span, f"{rec.type_name} {rec.id} is given the id {out[own]!r} too: "
                          f"the word after `{rec.type_name}` is its id")
            out[own] = rec.id
        return out

    def default(self, rec: ast.GivenRecord, info: FieldInfo, values: dict[str, Any]) -> Any:
        """The neutral value of a required field left out (see the module docstring)."""
        t, name = rec.type_name, info.name
        if name in _OWNERS.get(t, ()) or (t, name) == ("learner", "learner_type"):
            self.fail(rec.span, f"{t} {rec.id} needs `{name}`: give it")
            return None
        if (t, name) in _ONLY_ONE:
            kind = _ONLY_ONE[(t, name)]
            ids = [r.id for r in self.by_type[kind]]
            if len(ids) == 1:
                return ids[0]
            self.fail(rec.span, f"{t} {rec.id} needs `{name}`: the test gives "
                      f"{len(ids) or 'no'} {kind}{'s' if len(ids) != 1 else ''}")
            return None
        if info.kind == "text":
            return rec.id
        if info.kind == "date":
            if (t, name) == ("learner", "start_date"):
                return self.learner_start.get(rec.id, NEUTRAL_DATE)
            learner = values.get("learner_id") if t in ("interview", "payment") else None
            if learner is not None:
                return self.learner_start.get(learner, NEUTRAL_DATE)
            return NEUTRAL_DATE
        return {"money": Decimal(0), "integer": 0, "boolean": False}[info.kind]

    def build(self) -> Dataset:
        given = {id(rec): self.given(rec) for rec in self.test.records}
        for rec in self.by_type["learner"]:
            dates = [v for v in given[id(rec)].values() if isinstance(v, dt.date)]
            dates += [given[id(i)]["offer_date"] for i in self.by_type["interview"]
                      if given[id(i)].get("learner_id") == rec.id
                      and "offer_date" in given[id(i)]]
            if dates:
                self.learner_start[rec.id] = min(dates)
        records: dict[str, Any] = {}
        for type_name in _ORDER:
            for rec in self.by_type[type_name]:
                values = given[id(rec)]
                for info in FIELDS[type_name].values():
                    if info.required and info.name not in values:
                        values[info.name] = self.default(rec, info, values)
                if type_name == "learner":
                    self.learner_start[rec.id] = values["start_date"]
                record: object = unchecked(BY_NAME[type_name].cls, values)  # checked above
                self.made[id(record)] = rec
                records.setdefault(BY_NAME[type_name].table, []).append(record)
        data = Dataset(**records)
        # Their values were checked above, at the field that gives them (the checker has
        # checked their types), so problems() adds only integrity: nothing is said twice.
        data._mark_values_checked()
        for record, _field, message in data.problems():
            rec = self.made[id(record)]
            self.fail(rec.span, f"{rec.type_name} {rec.id}: {message}")
        return data


def build_dataset(test: ast.Test) -> tuple[Dataset, list[Failure]]:
    """The data set a test's given records describe, and the problems found in them (a test
    with problems is not evaluated: it fails with them)."""
    builder = _Builder(test)
    data = builder.build()
    return data, sorted(builder.failures, key=lambda f: f.line)


# ---- expectations ---------------------------------------------------------------------------


def _show(status: str, k: int | None, n: int | None, p: int | None) -> str:
    """A result as an ``expect`` line writes it: ``met, 1 of 5, 0 pending``."""
    out = status
    if k is not None and n is not None:
        out += f", {k} of {n}"
    if p is not None:
        out += f", {p} pending"
    return out


def _rule(rules: RuleSet, kpi: str) -> str | None:
    """``file:line: kpi NAME, target: …`` of a KPI, as a failure names it."""
    try:
        k = rules.kpi(kpi)
    except KeyError:
        return None
    clause = k.target or k.population or k.actual
    if clause is None:
        return f"{_path(k.span.file)}:{k.span.line}: kpi {kpi}"
    return (f"{_path(clause.span.file)}:{clause.span.line}: kpi {kpi}, "
            f"{source_text(rules, clause.span)}")


def _compare(rules: RuleSet, e: ast.Expect, report: Report) -> Failure | None:
    what = f"expect {e.kpi} for {e.scope} {e.group}"
    try:
        r = report.result(e.kpi, e.scope, e.group)
    except KeyError:
        groups = sorted({x.group for x in report.results if x.kpi == e.kpi and x.scope == e.scope})
        known = ", ".join(groups) if groups else f"none: {e.kpi} has no {e.scope} results"
        return Failure(e.span.file, e.span.line, f"{what}: there is no such result",
                       expected=_show(e.status, e.numerator, e.denominator, e.pending),
                       actual=f"{e.scope} results: {known}")
    got = (r.status, r.numerator, r.denominator, r.pending)
    want = (e.status, e.numerator, e.denominator, e.pending)
    if all(w is None or w == g for w, g in zip(want, got, strict=True)):
        return None
    return Failure(e.span.file, e.span.line, what, expected=_show(*want), actual=_show(*got),
                   rule=_rule(rules, e.kpi))


def _count_entries(x: ast.ExpectEntries, report: Report) -> Failure | None:
    """How many findings or actions a rule listed, against how many the test expects."""
    listed = [e.record for e in (report.findings if x.kind == "finding" else report.actions)
              if e.name == x.name]
    if len(listed) == x.count:
        return None
    shown = ", ".join(listed[:5]) + (", …" if len(listed) > 5 else "")
    return Failure(x.span.file, x.span.line, f"expect {x.count} {x.kind} {x.name}",
                   expected=str(x.count),
                   actual=f"{len(listed)}" + (f": {shown}" if listed else ""))


# ---- coverage -------------------------------------------------------------------------------


def _split(expr: ast.Expr) -> list[ast.Expr]:
    """The top-level ``and``/``or`` parts of a condition (the condition itself if it has
    none). Not the plan's ``explain`` parts, which are split on ``and`` only."""
    return ast.operands(expr, "or" if isinstance(expr, ast.Binary) and expr.op == "or"
                        else "and")


def _with_definitions(rules: RuleSet, clause: str, exprs: list[ast.Expr],
                      followed: frozenset[tuple[str | None, str]] = frozenset()
                      ) -> list[tuple[str, ast.Expr]]:
    """Each part with its label, a definition of the record followed by its own ``and``/``or``
    parts (and theirs), so that coverage sees inside ``positive_outcome`` as inside a
    clause. Each definition is followed once along a path."""
    out = []
    for e in exprs:
        out.append((clause, e))
        res = rules.resolved.get(id(e)) if isinstance(e, ast.Name) else None
        if res is None or res.kind != "def" or res.record is None:
            continue
        key = (res.record, res.name)
        body = rules.definitions[key].body
        if key in followed or isinstance(body, ast.Cases) or len(parts := _split(body)) < 2:
            continue
        out += _with_definitions(rules, f"{res.name} in {clause}", parts, followed | {key})
    return out


class _Parts:
    """The parts of one clause condition (and of the definitions it names: see
    :class:`Part`), lowered once and compiled afresh for each test's data."""

    def __init__(self, rules: RuleSet, lowerer: Lowerer, clause: str, expr: ast.Expr) -> None:
        self.clause = clause
        labelled = _with_definitions(rules, clause, _split(expr))
        self.labels = [label for label, _ in labelled]
        self.exprs = [e for _, e in labelled]
        self.lowered = [lowerer.expr(e) for e in self.exprs]
        self.seen = [[False, False] for _ in self.exprs]
        self.texts = [source_text(rules, e.span) for e in self.exprs]

    def observe(self, compiler: Compiler, records: Iterable[Any]) -> None:
        fns = [compiler.compile(e) for e in self.lowered]
        for r in records:
            for seen, f in zip(self.seen, fns, strict=True):
                seen[0 if f(r) else 1] = True

    def parts(self) -> Iterator[Part]:
        for label, e, text, (t, f) in zip(self.labels, self.exprs, self.texts, self.seen,
                                          strict=True):
            yield Part(label, text, e.span.file, e.span.line, t, f)


def _wheres(node: Any) -> Iterator[ast.Where]:
    """The outermost ``records where condition`` inside an expression."""
    if isinstance(node, ast.Where):
        yield node
        return
    for child in ast.children(node):
        yield from _wheres(child)


def _schedules(rules: RuleSet, kpi: ast.Kpi) -> list[str]:
    """The schedules a KPI's clauses read directly (``management_point``)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        res = rules.resolved.get(id(node))
        if res is not None and res.kind == "schedule" and res.name not in found:
            found.append(res.name)
        for child in ast.children(node):
            walk(child)

    for clause in (kpi.actual, kpi.planned, kpi.target, kpi.population, kpi.counted,
                   kpi.pending):
        if clause is not None:
            walk(clause.expr)
    return found


class _Coverage:
    """What the tests of one KPI have exercised so far. The parts of its clauses are judged
    record by record by the reference engine's compiler: coverage is about the rule's
    conditions, which no other engine shows one by one."""

    def __init__(self, rules: RuleSet, plan: Plan, lowerer: Lowerer, kpi: ast.Kpi) -> None:
        self.rules, self.plan, self.kpi = rules, plan, kpi
        self.tests = 0
        self.verdicts: set[str] = set()
        self.statuses: set[str] = set()
        self.points: set[str] = set()
        self.extreme = True  # every target seen was at least 100% or at most 0%
        self.clauses: list[_Parts] = []
        self.wheres: list[tuple[PlanExpr, _Parts]] = []  # a measured KPI's lists of records
        if kpi.per is None:
            assert kpi.population is not None and kpi.counted is not None
            if isinstance(kpi.population.expr, ast.Where):
                self.clauses.append(_Parts(rules, lowerer, "population",
                                             kpi.population.expr.condition))
            self.clauses.append(_Parts(rules, lowerer, "counted when", kpi.counted.expr))
            if kpi.pending is not None:
                self.clauses.append(_Parts(rules, lowerer, "pending when", kpi.pending.expr))
        else:
            self.wheres = [(lowerer.expr(w.source),
                            _Parts(rules, lowerer, f"{c.kind} where", w.condition))
                           for c in (kpi.actual, kpi.planned) if c is not None
                           for w in _wheres(c.expr)]
            self.clauses = [parts for _, parts in self.wheres]
        self.schedules = _schedules(rules, kpi)

    def observe(self, data: Dataset, as_of: dt.date, statuses: Iterable[str]) -> None:
        self.tests += 1
        self.statuses.update(statuses)
        compiler = Compiler(self.plan, View(data, as_of))
        kpi = self.kpi
        plan = self.plan.kpi(kpi.name)
        target = compiler.value(plan.target)
        self.extreme &= target == (1 if plan.direction == "at least" else 0)
        for name in self.schedules:
            point = current_point(self.rules.schedules[name], as_of)
            if point is not None:
                self.points.add(point.label)
        if kpi.per is not None:
            for where, parts in self.wheres:
                source = compiler.compile(where)
                parts.observe(compiler, [r for p in data.providers for r in source(p)])
            return
        assert isinstance(plan, KpiPlan)
        records, member = compiler.population(plan.record, plan.member)
        records = list(records)
        members = [r for r in records if member is None or member(r)]
        decide = decider(compiler.compile(plan.counted),
                         compiler.compile(plan.pending) if plan.pending else None)
        undecided = []
        for r in members:
            verdict = decide(r)
            self.verdicts.add(verdict)
            if verdict != "counted":
                undecided.append(r)
        by_clause = {"population": records, "counted when": members,
                     "pending when": undecided}
        for parts in self.clauses:
            parts.observe(compiler, by_clause[parts.clause])

    def result(self) -> KpiCoverage:
        kpi = self.kpi
        if kpi.per is not None:
            verdicts: tuple[str, ...] = ()
            statuses: tuple[str, ...] = ("met", "not_met")
        else:
            verdicts = _VERDICTS if kpi.pending is not None else _VERDICTS[:2]
            # at_risk needs a target that pending records could still reach while the
            # decided ones miss it: never so with at least 100% or at most 0%
            statuses = ("met", "not_met")
            if kpi.pending is not None:
                statuses += ("on_track",) if self.extreme and self.tests else \
                    ("on_track", "at_risk")
        return KpiCoverage(
            kpi=kpi.name, tests=self.tests, possible_verdicts=verdicts,
            verdicts=tuple(v for v in verdicts if v in self.verdicts),
            possible_statuses=statuses,
            statuses=tuple(s for s in (*statuses, "no_data") if s in self.statuses),
            parts=tuple(p for c in self.clauses for p in c.parts()),
            points=tuple(sorted(self.points)),
        )


# ---- running --------------------------------------------------------------------------------


def run_test(rules: RuleSet, test: ast.Test, plan: Plan | None = None
             ) -> tuple[Outcome, Dataset | None, Report | None]:
    """One test's outcome, with the data and report it was judged on (``None`` when its
    given records have errors and it was not evaluated). The test's cohort is evaluated by
    the reference engine, as ``evaluate`` would on records built in Python; ``plan`` is the
    rule set's, lowered once for all its tests."""
    data, failures = build_dataset(test)
    report = None
    if not failures:
        done = run(plan or lower(rules), data, [test.as_of], "python", entries=True)
        report = report_of(rules, done, test.as_of)
        failures = [f for e in test.expects if (f := _compare(rules, e, report)) is not None]
        failures += [f for x in test.entries if (f := _count_entries(x, report)) is not None]
    outcome = Outcome(test.name, test.span.file, test.span.line, tuple(failures))
    return outcome, (data if report is not None else None), report


def test(rules: RuleSet | Iterable[StrPath] | StrPath | None = None) -> TestReport:
    """Run the tests written beside the rules (a rule set, or rule files to load; default: the
    shipped rules): each outcome, and what the tests cover of each KPI."""
    return run_tests(rules if isinstance(rules, RuleSet) else load_rules(rules))


test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def run_tests(rules: RuleSet) -> TestReport:
    """Run every test of a rule set; report each outcome and each KPI's coverage."""
    plan, lowerer = lower(rules), Lowerer(rules)
    coverage = {k.name: _Coverage(rules, plan, lowerer, k) for k in rules.kpis}
    outcomes = []
    for test in rules.tests:
        outcome, data, report = run_test(rules, test, plan)
        outcomes.append(outcome)
        if data is None or report is None:
            continue
        statuses: dict[str, list[str]] = {}
        for e in test.expects:
            found = [r.status for r in report.results
                     if (r.kpi, r.scope, r.group) == (e.kpi, e.scope, e.group)]
            statuses.setdefault(e.kpi, []).extend(found)
        for name, seen in statuses.items():
            coverage[name].observe(data, test.as_of, seen)
    return TestReport(outcomes=tuple(outcomes),
                      coverage=tuple(c.result() for c in coverage.values()))


# ---- rendering ------------------------------------------------------------------------------


def _path(file: str) -> str:
    """A path as short as it can be said: relative to the working folder when inside it."""
    try:
        rel = os.path.relpath(file)
    except ValueError:
        return file
    return file if rel.startswith("..") else rel


def render_failures(o: Outcome) -> str:
    """One failed test: its name and place, then each failure with what was expected, what
    came out and the rule it is about."""
    out = [f"FAIL {o.name} ({_path(o.file)}:{o.line})"]
    for f in o.failures:
        out.append(f"  {_path(f.file)}:{f.line}: {f.message}")
        if f.expected is not None:
            out.append(f"    expected: {f.expected}")
        if f.actual is not None:
            out.append(f"    actual:   {f.actual}")
        if f.rule is not None:
            out.append(f"    rule:     {f.rule}")
    return "\n".join(out)


def render(report: TestReport) -> str:
    """The pass/fail table, the ``N passed, M failed`` line, each failure, then coverage."""
    out = [f"PASS  {o.name}" if o.passed else f"FAIL  {o.name}  {_path(o.file)}:{o.line}"
           for o in report.outcomes]
    out.append(f"{report.passed} passed, {report.failed} failed")
    for o in report.outcomes:
        if not o.passed:
            out += ["", render_failures(o)]
    out += ["", "Coverage: what the tests that expect something of each KPI exercise"]
    gaps = []
    for c in report.coverage:
        parts = sum(p.exercised for p in c.parts)
        line = f"  {c.kpi}: {c.tests} test{'s' if c.tests != 1 else ''}"
        if c.possible_verdicts:
            line += f"; verdicts {', '.join(c.verdicts) or 'none'}"
        line += f"; statuses {', '.join(c.statuses) or 'none'}"
        line += f"; parts true and false {parts} of {len(c.parts)}"
        if c.points:
            line += f"; points {', '.join(c.points)}"
        out += textwrap.wrap(line, 78, subsequent_indent="      ")
        for g in c.gaps():
            gaps += textwrap.wrap(f"  {c.kpi}: {g}", 78, subsequent_indent="      ",
                                  break_long_words=False, break_on_hyphens=False)
    out += ["", "Not exercised:" if gaps else "Not exercised: nothing", *gaps]
    return "\n".join(out)
