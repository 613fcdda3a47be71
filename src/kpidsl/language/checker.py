"""Static checking: every name resolves, types agree, definitions are acyclic — before any data.

The checker walks each declaration (definitions, tables, KPIs, findings and actions, tests)
with ``visit_<ClassName>`` methods; their expressions are checked by the half it inherits,
:class:`~kpidsl.language.expressions.ExpressionChecker`, which records how every name resolved
(``RuleSet.resolved``) and the type of every expression (``RuleSet.types``). Every problem of
every file is collected before it reports, so an author fixes all in one pass.

A population's target is a share of it, from 0% to 100%: a rate table holding ``30`` where 30%
is meant would otherwise pass. Such a number is reported where it is written (the table row),
not where it is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kpidsl import limits
from kpidsl.classes import fields_methods
from kpidsl.contract.fields import ENUMS
from kpidsl.contract.records import BY_NAME, FIELDS
from kpidsl.errors import Diagnostic, NotFoundError, RuleError, Span, suggest
from kpidsl.language import ast
from kpidsl.language.builtins import Type
from kpidsl.language.expressions import (
    ExpressionChecker,
    Resolved,
    as_percent,
    is_value,
    value_kind,
    value_number,
)
from kpidsl.language.source import text_at
from kpidsl.language.vocabulary import Scope, Status

_KPI_META_REQUIRED = ("title",)
#: Longer chains of definitions using definitions are refused: later stages follow them.
MAX_DEFINITION_DEPTH = limits.MAX_DEFINITION_DEPTH
_STATUSES = tuple(Status)
_SCOPES = tuple(Scope)


@attrs.frozen(kw_only=True)
@fields_methods
class RuleSet:
    """A checked set of rule files, ready to evaluate and to document."""

    files: tuple[ast.RuleFile, ...]
    kpis: tuple[ast.Kpi, ...]
    definitions: dict[tuple[str | None, str], ast.Definition]
    tables: dict[str, ast.Table]
    notices: tuple[ast.Notice, ...]
    schedules: dict[str, ast.Schedule]
    tests: tuple[ast.Test, ...]
    enums: dict[str, tuple[str, ...]]
    """Every enumeration: the data's and the rules' own classifications."""
    resolved: dict[int, Resolved] = attrs.field(repr=False)
    types: dict[int, Type] = attrs.field(repr=False)
    origin: str | None = None
    """The folder the rule files were loaded from (set by :func:`kpidsl.api.load_rules`;
    ``None`` for files checked without one)."""

    def kpi(self, name: str) -> ast.Kpi:
        """The KPI called ``name``; a :class:`~kpidsl.errors.NotFoundError` (a
        ``KeyError``) naming the closest if there is none."""
        for k in self.kpis:
            if k.name == name:
                return k
        names = [k.name for k in self.kpis]
        raise NotFoundError(f"no KPI called {name!r}",
                            suggest(name, names) or "the KPIs are " + ", ".join(names))


class Checker(ExpressionChecker):
    """Checks parsed rule files together (names are shared across files)."""

    def __init__(self, files: Iterable[ast.RuleFile]) -> None:
        self.files = tuple(files)
        self.diagnostics: list[Diagnostic] = []
        self.sources = {f.path: f.source for f in self.files}
        self.resolved: dict[int, Resolved] = {}
        self.types: dict[int, Type] = {}
        self.definitions: dict[tuple[str | None, str], ast.Definition] = {}
        self.tables: dict[str, ast.Table] = {}
        self.kpis: list[ast.Kpi] = []
        self.notices: list[ast.Notice] = []
        self.schedules: dict[str, ast.Schedule] = {}
        self.tests: list[ast.Test] = []
        self.enums: dict[str, tuple[str, ...]] = dict(ENUMS)
        self.def_types: dict[tuple[str | None, str], Type | None] = {}
        self.def_many: dict[tuple[str | None, str], bool] = {}
        self._visiting: list[tuple[str | None, str]] = []
        self._owner: list[str] = []
        self._many_seen = False
        self._depth = 0
        self._too_deep: set[str] = set()
        self.def_nesting: dict[tuple[str | None, str], int] = {}
        self._reported: set[int] = set()

    # ---- reporting ----
    def error(self, span: Span, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic.at(span, message, hint=hint, source=self.sources.get(span.file))
        )

    @staticmethod
    def _suggest(name: str, options: Iterable[str]) -> str | None:
        return suggest(name, options)

    # ---- entry point ----
    def check(self) -> RuleSet:
        """Check everything; raise :class:`RuleError` with all problems, or return the rules."""
        self._declare()
        for key, d in self.definitions.items():
            self._definition_type(key, d)
        for t in self.tables.values():
            self._owner = [f"table {t.name}"]
            self.visit_Table(t)
        for k in self.kpis:
            self._owner = [k.name]
            self.visit_Kpi(k)
            for c in (k.population, k.counted, k.pending, k.actual, k.planned, k.target):
                if c is not None:
                    self._limit_nesting(c.expr, c.span)
        for n in self.notices:
            self._owner = [n.name]
            self.visit_Notice(n)
            self._limit_nesting(n.records, n.span)
        for test in self.tests:
            self._owner = [test.name]
            self.visit_Test(test)
        if self.diagnostics:
            raise RuleError(sorted(self.diagnostics, key=lambda d: (d.file or "", d.line or 0)))
        return RuleSet(
            files=self.files, kpis=tuple(self.kpis), definitions=self.definitions,
            tables=self.tables, notices=tuple(self.notices), schedules=self.schedules,
            tests=tuple(self.tests), enums=self.enums,
            resolved=self.resolved, types=self.types,
        )

    def _declare(self) -> None:
        """Collect the names every file declares, reporting clashes."""
        seen: dict[tuple[str, str], Span] = {}

        def once(kind: str, name: str, span: Span) -> bool:
            if (kind, name) in seen:
                first = seen[(kind, name)]
                self.error(span, f"{kind} `{name}` is declared twice",
                           hint=f"the first is at {first}")
                return False
            seen[(kind, name)] = span
            return True

        for f in self.files:
            for item in f.items:
                if isinstance(item, ast.Kpi):
                    if once("kpi", item.name, item.name_span):
                        self.kpis.append(item)
                elif isinstance(item, ast.Notice):
                    if once(item.kind, item.name, item.span):
                        self.notices.append(item)
                elif isinstance(item, ast.Table):
                    if once("table", item.name, item.span):
                        self.tables[item.name] = item
                elif isinstance(item, ast.Definition):
                    self._declare_definition(item, once)
                elif isinstance(item, ast.Test):
                    if once("test", item.name, item.span):
                        self.tests.append(item)
                elif isinstance(item, ast.Schedule) and once("schedule", item.name, item.span):
                    if item.name in self.enums:
                        self.error(item.span, f"`{item.name}` is already the name of an "
                                   "enumeration", hint="choose another name for the schedule")
                        continue
                    self.schedules[item.name] = item
                    self.enums[item.name] = tuple(p.label for p in item.points)

    def _declare_definition(self, d: ast.Definition, once: Any) -> None:
        if d.subject is not None and d.subject not in BY_NAME:
            self.error(d.subject_span or d.span, f"unknown record type `{d.subject}`",
                       hint=self._suggest(d.subject, BY_NAME) or
                       "record types are " + ", ".join(BY_NAME))
            return
        where = f"definition for {d.subject}" if d.subject else "definition"
        if not once(where, d.name, d.span):
            return
        if d.subject and (d.name in FIELDS[d.subject] or self._link(d.subject, d.name)):
            self.error(d.span, f"`{d.name}` is already a field of {d.subject}",
                       hint="choose another name for the definition")
            return
        if isinstance(d.body, ast.Cases):
            if d.name in self.enums:
                self.error(d.span, f"`{d.name}` is already the name of an enumeration",
                           hint="choose another name for the classification")
                return
            labels = [c.label for c in d.body.cases] + [d.body.otherwise]
            first: dict[str, int] = {}
            for i, label in enumerate(labels):
                first.setdefault(label, i)
            for i, c in enumerate(d.body.cases):
                if i and first[c.label] != i:
                    self.error(c.span, f"label `{c.label}` is used twice")
            self.enums[d.name] = tuple(first)
        self.definitions[(d.subject, d.name)] = d

    # ---- declarations ----
    def _definition_type(self, key: tuple[str | None, str], d: ast.Definition) -> Type | None:
        """The type of a definition, checking its body once; reports a cycle if there is one."""
        if key in self.def_types:
            return self.def_types[key]
        if key in self._visiting:
            cycle = [*self._visiting[self._visiting.index(key):], key]
            path = " → ".join(n for _, n in cycle)
            self.error(d.span, f"definition `{d.name}` depends on itself: {path}",
                       hint="a definition may not use itself, directly or through others")
            self.def_types[key] = None
            return None
        if len(self._visiting) >= MAX_DEFINITION_DEPTH:
            self.error(d.span, f"definitions use each other more than {MAX_DEFINITION_DEPTH} "
                       "deep here", hint="no policy needs such a chain: write the condition "
                       "out in fewer definitions")
            self.def_types[key] = None
            return None
        self._visiting.append(key)
        self._owner.append(d.name)
        saved, self._many_seen = self._many_seen, False
        if isinstance(d.body, ast.Cases):
            for c in d.body.cases:
                self._condition(c.condition, d.subject, "a classification case")
            t: Type | None = Type("enum", d.name)
        else:
            t = self.visit(d.body, d.subject)
        self._limit_nesting(d.body, d.span, key)
        self.def_many[key] = self._many_seen
        self._many_seen = saved or self._many_seen
        self._owner.pop()
        self._visiting.pop()
        self.def_types.setdefault(key, t)
        return self.def_types[key]

    def visit_Table(self, t: ast.Table) -> None:
        labels: tuple[str, ...] = ()
        if t.key_type is not None:
            if t.key_type not in self.enums:
                self.error(t.key_span or t.span, f"unknown enumeration `{t.key_type}`",
                           hint=self._suggest(t.key_type, self.enums)
                           or "a table is keyed by an enumeration such as "
                           + ", ".join(sorted(self.enums)))
                return
            labels = self.enums[t.key_type]
        value_type: Type | None = None
        typed: list[tuple[ast.Expr, Type]] = []
        previous: ast.Version | None = None
        for version in t.versions:
            if previous is not None and previous.start is not None and version.start is not None \
                    and version.start <= previous.start:
                self.error(version.span, f"versions of table {t.name} must be in date order",
                           hint=f"this one starts on {version.start}, the one before it on "
                           f"{previous.start}")
            previous = version
            values = [row.value for row in version.rows] if labels else [version.value]
            if labels:
                self._table_rows(t, version, labels)
            elif version.rows:
                self.error(version.rows[0].span, f"table {t.name} has no `by`, so it holds one "
                           "value", hint=f"write `table {t.name} by ENUMERATION:` to key it")
                continue
            for value in values:
                if value is None:
                    continue
                if not is_value(value):
                    self.error(value.span, "a table holds values, such as 30% or £1,500.00, "
                               "not calculations", hint=f"keep the parameter in the table and "
                               f"the calculation in a definition that reads {t.name}")
                    continue
                vt = self.visit(value, None)
                if vt is not None:
                    typed.append((value, vt))
        kinds = {vt.kind for _, vt in typed}
        if "percent" in kinds and kinds <= {"percent", "integer", "number"}:
            value_type = Type("percent")  # a share written without its % somewhere
            for value, vt in typed:
                if vt.kind != "percent":
                    shown = as_percent(value_number(value))
                    self._error_once(value, f"this value is {vt} but the table's others are "
                                     "percentages", hint=f"write `{shown}`")
        else:
            def empty_set(vt: Type) -> bool:
                return vt.kind == "set" and vt.elem is None

            # an empty set `{}` fits a table of sets of any kind: the others say which
            typed.sort(key=lambda pair: empty_set(pair[1]))
            for value, vt in typed:
                if empty_set(vt) and value_type is not None and value_type.kind == "set":
                    continue
                if value_type is not None and vt != value_type:
                    self.error(value.span, f"this value is {vt} but the first is {value_type}",
                               hint="every value of a table has one type")
                value_type = value_type or vt
        if value_type is not None:
            self.types[id(t)] = value_type

    def _table_rows(self, t: ast.Table, version: ast.Version, labels: tuple[str, ...]) -> None:
        seen: set[str] = set()
        for row in version.rows:
            if row.key not in labels:
                self.error(row.span, f"`{row.key}` is not a value of {t.key_type}",
                           hint=self._suggest(row.key, labels)
                           or f"the values are {', '.join(labels)}")
            elif row.key in seen:
                self.error(row.span, f"`{row.key}` has two rows in table {t.name}")
            seen.add(row.key)
        missing = [lab for lab in labels if lab not in seen]
        if missing:
            when = f" from {version.start}" if version.start else ""
            self.error(version.span if version.start else t.span,
                       f"table {t.name}{when} has no row for {', '.join(missing)}",
                       hint=f"add a row for every value of {t.key_type}")

    def visit_Kpi(self, k: ast.Kpi) -> None:
        for key in _KPI_META_REQUIRED:
            if k.meta_value(key) is None:
                self.error(k.name_span, f"kpi {k.name} has no {key}",
                           hint=f'add a line `{key}: "…"`')
        if k.per is not None or k.actual is not None or k.planned is not None:
            self._measure(k)
        else:
            self._classify(k)
        if k.target is not None:
            self._target(k, k.target)

    def _target(self, k: ast.Kpi, target: ast.Clause) -> None:
        """A target is a percentage; a population's, a share of it from 0% to 100%."""
        t = self.visit(target.expr, None)
        way = f"{target.direction} "
        if t is not None and t.kind in ("integer", "number"):
            self._not_a_percentage(target.expr, t, "a target is a percentage",
                                   f"is the target of kpi {k.name}", way,
                                   computed=f"write it like `{way}75%`")
        elif t is not None and t.kind != "percent":
            self.error(target.expr.span, f"a target is a percentage, but this is {t}",
                       hint=f"write it like `{way}75%`")
        elif t is not None and k.population is not None:
            for origin, value in self._written(target.expr) or ():
                if value_kind(value) != "percent" or 0 <= value_number(value) <= 1:
                    continue
                shown = text_at(self.sources[value.span.file], value.span)
                met = "never" if (value_number(value) > 1) == (target.direction == "at least") \
                    else "always"
                why = f"{origin} is the target of kpi {k.name} at {target.expr.span}, so " \
                    if origin else ""
                self._error_once(value, f"a target is a share of the population, from 0% to "
                                 f"100%, but this is {shown}",
                                 hint=f"{why}`{way}{shown}` is {met} met")

    def _measure(self, k: ast.Kpi) -> None:
        """A KPI that compares each provider's ``actual`` with its ``planned``."""
        for clause in (k.population, k.counted, k.pending):
            if clause is not None:
                self.error(clause.span, f"kpi {k.name} measures `actual` against `planned`, so "
                           f"it has no `{clause.kind}` clause",
                           hint="a KPI either classifies a population or measures per provider")
        for clause, what in ((k.actual, "actual"), (k.planned, "planned"), (k.target, "target")):
            if clause is None:
                self.error(k.name_span, f"kpi {k.name} has no `{what}:` clause",
                           hint="a KPI measured per provider needs actual, planned and a target")
        if k.per != "provider":
            self.error(k.name_span, f"kpi {k.name} can only be measured `per: provider`")
            return
        for clause in (k.actual, k.planned):
            if clause is not None:
                t = self.visit(clause.expr, "provider")
                if t is not None and t.kind != "integer":
                    self.error(clause.expr.span, f"`{clause.kind}` is a count, but this is {t}",
                               hint="use count(…) or sum(….planned_starts)")

    def _classify(self, k: ast.Kpi) -> None:
        """A KPI that classifies each record of a population."""
        for clause, what in ((k.population, "population"), (k.counted, "counted when"),
                             (k.target, "target")):
            if clause is None:
                self.error(k.name_span, f"kpi {k.name} has no `{what}:` clause",
                           hint="a KPI needs a population, a counted condition and a target")
        if k.population is None:
            return
        subject = self._population(k.population.expr, "the population")
        for clause in (k.counted, k.pending):
            if clause is not None and subject is not None:
                self._condition(clause.expr, subject, f"`{clause.kind} when:`")
        for f in k.follow_ups:
            if f.verdict == "counted" or (f.verdict == "pending" and k.pending is None):
                self.error(f.span, f"no record is ever {f.verdict} for a follow-up to be useful"
                           if f.verdict == "pending" else
                           "a follow-up is for records that are not counted or pending")

    def visit_Test(self, test: ast.Test) -> None:
        """Given records must be well typed and expectations must name real results."""
        kinds = {"text": "text", "date": "date", "money": "money", "integer": "integer",
                 "boolean": "boolean"}
        for rec in test.records:
            fields = FIELDS.get(rec.type_name)
            if fields is None:
                self.error(rec.span, f"unknown record type `{rec.type_name}`",
                           hint=self._suggest(rec.type_name, FIELDS)
                           or "record types are " + ", ".join(FIELDS))
                continue
            for name, value in rec.fields:
                info = fields.get(name)
                if info is None:
                    self.error(value.span, f"unknown field `{name}` on {rec.type_name}",
                               hint=self._suggest(name, fields)
                               or f"{rec.type_name} has " + ", ".join(fields))
                    continue
                if info.kind == "text":
                    ok = isinstance(value, ast.Name) or (
                        isinstance(value, ast.Literal) and value.kind == "text")
                elif info.kind in ("enum", "set"):
                    enum = Type("enum", info.enum)
                    t = self.visit(value, None, enum if info.kind == "enum" else
                                   Type("set", elem=enum))
                    ok = t is not None and t in (enum, Type("set", elem=enum))
                    if t is None:
                        continue
                else:
                    t = self.visit(value, None)
                    ok = t is not None and (t.kind == kinds[info.kind] or
                                            (info.kind == "money" and t.kind in ("integer",
                                                                                 "number")))
                if not ok:
                    self.error(value.span, f"`{name}` of a {rec.type_name} is {info.kind}",
                               hint=f"{name}: {info.doc}")
        for x in test.entries:
            names = [n.name for n in self.notices if n.kind == x.kind]
            if x.kind == "action":
                names += [k.name for k in self.kpis if k.follow_ups]
            if x.name not in names:
                self.error(x.span, f"no {x.kind} is called `{x.name}`",
                           hint=self._suggest(x.name, names)
                           or f"the {x.kind}s are " + ", ".join(sorted(names)))
        for e in test.expects:
            known = [k.name for k in self.kpis]
            if e.kpi not in known:
                self.error(e.span, f"no kpi is called `{e.kpi}`",
                           hint=self._suggest(e.kpi, known))
            if e.scope not in _SCOPES:
                self.error(e.span, f"`{e.scope}` is not a scope",
                           hint="write `for bootcamp ID`, `for provider ID` or "
                           "`for programme all`")
            if e.status not in _STATUSES:
                self.error(e.span, f"`{e.status}` is not a status",
                           hint=self._suggest(e.status, _STATUSES)
                           or "statuses are " + ", ".join(_STATUSES))

    def visit_Notice(self, n: ast.Notice) -> None:
        self._records(n.records, f"the records of {n.kind} {n.name}")


def check(files: Iterable[ast.RuleFile]) -> RuleSet:
    """Check parsed rule files together; raises :class:`RuleError` with every problem."""
    return Checker(files).check()
