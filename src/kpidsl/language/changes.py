"""What changed between two rule sets, rule by rule, in the rules' own words.

``kpidsl diff`` lists these before the results they move: a target, a parameter table's value
(in each dated version), a schedule's points, a definition, a clause of a KPI, a finding or an
action, and what was added or removed. Two rules are the same when they mean the same: layout,
comments and prose do not count (only a KPI's ``level`` among its texts, since it states the
target to readers). Tests are not compared: they are not policy.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator

import attrs

from kpidsl.language import ast
from kpidsl.language.checker import RuleSet
from kpidsl.language.source import Span, text_at


@attrs.frozen
class RuleChange:
    """One difference: ``item`` (``kpi learner_dropout``), the ``part`` that differs
    (``target``), and its text before and after (``None`` for added or removed)."""

    item: str
    part: str | None
    old: str | None
    new: str | None

    def words(self) -> str:
        """The change as a line: ``kpi learner_dropout: target: at most 20% → at most 15%``."""
        what = f"{self.item}: {self.part}" if self.part else self.item
        if self.old is None:
            return f"{what}: added" + (f" ({self.new})" if self.new and self.part else "")
        if self.new is None:
            return f"{what}: removed" + (f" (was {self.old})" if self.part else "")
        return f"{what}: {self.old} → {self.new}"


class _Text:
    def __init__(self, rules: RuleSet) -> None:
        self.sources = {f.path: f.source for f in rules.files}

    def __call__(self, span: Span) -> str:
        return " ".join(text_at(self.sources[span.file], span).split())


_CLAUSES = ("population", "counted", "pending", "target", "actual", "planned")
_CLAUSE_WORDS = {"counted": "counted when", "pending": "pending when"}


def compare_rules(old: RuleSet, new: RuleSet) -> list[RuleChange]:
    """Every difference in meaning between ``old`` and ``new``, in file order of ``new``."""
    return list(_changes(old, new))


def _changes(old: RuleSet, new: RuleSet) -> Iterator[RuleChange]:
    a, b = _Text(old), _Text(new)
    yield from _keyed("kpi", {k.name: k for k in old.kpis}, {k.name: k for k in new.kpis},
                      lambda name, x, y: _kpi(a, b, x, y), a, b)
    yield from _keyed("define", {f"{n} for {s}" if s else n: d
                                 for (s, n), d in old.definitions.items()},
                      {f"{n} for {s}" if s else n: d for (s, n), d in new.definitions.items()},
                      lambda name, x, y: [(None, a(x.body.span), b(y.body.span))]
                      if x.body != y.body else [], a, b)
    yield from _keyed("table", old.tables, new.tables, lambda n, x, y: _table(a, b, x, y), a, b)
    yield from _keyed("schedule", old.schedules, new.schedules,
                      lambda n, x, y: _schedule(x, y), a, b)
    yield from _keyed("", {f"{n.kind} {n.name}": n for n in old.notices},
                      {f"{n.kind} {n.name}": n for n in new.notices},
                      lambda n, x, y: _notice(a, b, x, y), a, b)


def _keyed(kind: str, old: dict, new: dict, parts, a: _Text, b: _Text) -> Iterator[RuleChange]:
    label = (lambda name: f"{kind} {name}") if kind else (lambda name: name)
    for name in old:
        if name not in new:
            yield RuleChange(label(name), None, "", None)
    for name, item in new.items():
        if name not in old:
            yield RuleChange(label(name), None, None, "")
            continue
        for part, before, after in parts(name, old[name], item):
            yield RuleChange(label(name), part, before, after)


def _kpi(a: _Text, b: _Text, x: ast.Kpi, y: ast.Kpi) -> Iterator[tuple[str, str | None,
                                                                        str | None]]:
    if x.meta_value("level") != y.meta_value("level"):
        yield "level", x.meta_value("level"), y.meta_value("level")
    if x.per != y.per:
        yield "per", x.per, y.per
    for kind in _CLAUSES:
        c, d = getattr(x, kind), getattr(y, kind)
        if c == d:
            continue
        word = _CLAUSE_WORDS.get(kind, kind)
        yield (word, _clause(a, c), _clause(b, d))
    if x.follow_ups != y.follow_ups:
        yield ("follow up", "; ".join(f.message for f in x.follow_ups) or None,
               "; ".join(f.message for f in y.follow_ups) or None)


def _clause(t: _Text, c: ast.Clause | None) -> str | None:
    if c is None:
        return None
    return f"{c.direction} {t(c.expr.span)}" if c.direction else t(c.expr.span)


def _table(a: _Text, b: _Text, x: ast.Table, y: ast.Table) -> Iterator[tuple[str, str | None,
                                                                            str | None]]:
    old = {v.start: v for v in x.versions}
    new = {v.start: v for v in y.versions}
    for start in dict.fromkeys([*old, *new]):
        when = f"from {start}: " if start is not None else ""
        v, w = old.get(start), new.get(start)
        if v is None or w is None:
            yield (f"{when}version".strip(), None if v is None else "in force",
                   None if w is None else "in force")
            continue
        if v.value != w.value:
            yield (f"{when}value".strip(), v.value and a(v.value.span),
                   w.value and b(w.value.span))
        rows_v, rows_w = {r.key: r for r in v.rows}, {r.key: r for r in w.rows}
        for key in dict.fromkeys([*rows_v, *rows_w]):
            r, s = rows_v.get(key), rows_w.get(key)
            if r is None or s is None or r.value != s.value:
                yield (f"{when}{key}", r and a(r.value.span), s and b(s.value.span))


def _schedule(x: ast.Schedule, y: ast.Schedule) -> Iterator[tuple[str, str | None,
                                                                  str | None]]:
    def day(month: int, d: int) -> str:
        return f"{d} {calendar.month_name[month]}"

    if (x.start_month, x.start_day) != (y.start_month, y.start_day):
        yield "year starts", day(x.start_month, x.start_day), day(y.start_month, y.start_day)
    old = {p.label: day(p.month, p.day) for p in x.points}
    new = {p.label: day(p.month, p.day) for p in y.points}
    for label in dict.fromkeys([*old, *new]):
        if old.get(label) != new.get(label):
            yield label, old.get(label), new.get(label)


def _notice(a: _Text, b: _Text, x: ast.Notice, y: ast.Notice) -> Iterator[tuple[str, str | None,
                                                                                str | None]]:
    if x.records != y.records:
        yield "for", a(x.records.span), b(y.records.span)
    if x.message != y.message:
        yield "message", x.message, y.message
