"""What changed between two rule sets, item by item, in the rules' own words.

``kpidsl diff`` lists three kinds of change apart. :func:`compare_rules` gives the changes of
meaning, which can change results: a target, a parameter table's value (in each dated
version), a schedule's points, a definition, a clause of a KPI, a finding or an action, and
what was added or removed. :func:`compare_texts` gives the changes of the texts written for
readers, which change no result: a KPI's guidance table entries (``level``, ``stage``, …), its
``policy`` and its ``decision`` s (by title), and the description of a definition, table,
schedule, finding or action. :func:`compare_tests` gives the changes of the tests written
beside the rules. Layout and comments are no change: two rules are the same when they mean the
same, two texts when they have the same words.
"""

from __future__ import annotations

import calendar
import difflib
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import TypeVar

import attrs

from kpidsl.classes import fields_methods
from kpidsl.errors import Span
from kpidsl.language import ast
from kpidsl.language.checker import RuleSet
from kpidsl.language.source import text_at


@attrs.frozen
@fields_methods
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
            return f"{what}: removed" + (f" (was {self.old})" if self.old and self.part else "")
        return f"{what}: {self.old} → {self.new}"


#: A changed text is shown with this many words either side of what changed, and at most
#: ``SHOWN`` words of each side.
CONTEXT, SHOWN = 4, 40


@attrs.frozen
@fields_methods
class TextChange(RuleChange):
    """A change of a text for readers. ``old`` and ``new`` are whole texts (their words
    separated by single spaces); :meth:`words` shows only the words around what changed."""

    def words(self) -> str:
        """``kpi learner_dropout: policy: … drop-out of 20% between … → … drop-out of 15%
        between …``; an added or removed text is shown from its start."""
        old, new = self.old, self.new
        if old and new:
            old, new = excerpts(old, new)
        else:
            old, new = old and _cut(old.split()), new and _cut(new.split())
        return RuleChange(self.item, self.part, old, new).words()


def excerpts(old: str, new: str) -> tuple[str, str]:
    """The parts of each text that differ, with ``CONTEXT`` words either side and ``…`` for
    what is left out (``("… of 20% between …", "… of 15% between …")``); a stretch of at
    most ``2 * CONTEXT`` words that is the same is not left out."""
    a, b = old.split(), new.split()
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    x: list[str] = []
    y: list[str] = []
    for n, (tag, i, j, k, m) in enumerate(ops):
        if tag != "equal":
            x += a[i:j]
            y += b[k:m]
            continue
        same = a[i:j]
        if len(same) > 2 * CONTEXT:  # keep the words next to a change
            same = [*same[:CONTEXT if n else 0], "…",
                    *same[len(same) - (CONTEXT if n < len(ops) - 1 else 0):]]
        x += same
        y += same
    return _cut(x), _cut(y)


def _cut(words: list[str]) -> str:
    """At most ``SHOWN`` words, and ``…`` if there are more."""
    return " ".join(words[:SHOWN]) + (" …" if len(words) > SHOWN else "")


@attrs.frozen
@fields_methods
class Changes:
    """Everything that differs between two rule sets, each kind apart."""

    rules: tuple[RuleChange, ...]
    """Changes of meaning, which can change results (:func:`compare_rules`)."""
    texts: tuple[TextChange, ...]
    """Changes of the texts for readers, which change no result (:func:`compare_texts`)."""
    tests: tuple[RuleChange, ...]
    """Changes of the tests beside the rules (:func:`compare_tests`)."""
    added: tuple[str, ...]
    """The KPIs only in the new rules."""
    removed: tuple[str, ...]
    """The KPIs only in the old rules."""

    def __bool__(self) -> bool:
        return bool(self.rules or self.texts or self.tests)


def compare_all(old: RuleSet, new: RuleSet) -> Changes:
    """The changes of meaning, of texts and of tests between ``old`` and ``new`` (load both
    with their tests for the last)."""
    names = [k.name for k in old.kpis], [k.name for k in new.kpis]
    return Changes(rules=tuple(compare_rules(old, new)), texts=tuple(compare_texts(old, new)),
                   tests=tuple(compare_tests(old, new)),
                   added=tuple(k for k in names[1] if k not in names[0]),
                   removed=tuple(k for k in names[0] if k not in names[1]))


class _Text:
    def __init__(self, rules: RuleSet) -> None:
        self.sources = {f.path: f.source for f in rules.files}

    def __call__(self, span: Span) -> str:
        return " ".join(text_at(self.sources[span.file], span).split())


_CLAUSES = ("population", "counted", "pending", "target", "actual", "planned")
_CLAUSE_WORDS = {"counted": "counted when", "pending": "pending when"}


def compare_rules(old: RuleSet, new: RuleSet) -> list[RuleChange]:
    """Every difference in meaning between ``old`` and ``new``, in file order of ``new`` (an
    item removed comes before those of its kind)."""
    return list(_changes(old, new))


def _changes(old: RuleSet, new: RuleSet) -> Iterator[RuleChange]:
    a, b = _Text(old), _Text(new)
    yield from _keyed("kpi", {k.name: k for k in old.kpis}, {k.name: k for k in new.kpis},
                      lambda name, x, y: _kpi(a, b, x, y), a, b)
    yield from _keyed("define", {f"{n} for {s}" if s else n: d
                                 for (s, n), d in old.definitions.items()},
                      {f"{n} for {s}" if s else n: d for (s, n), d in new.definitions.items()},
                      lambda name, x, y: [(None, a(x.body.span), b(y.body.span))]
                      if x.body != y.body else [], a, b,
                      same=lambda d: (d.subject, d.body))  # the same body: renamed
    yield from _keyed("table", old.tables, new.tables, lambda n, x, y: _table(a, b, x, y), a, b)
    yield from _keyed("schedule", old.schedules, new.schedules,
                      lambda n, x, y: _schedule(x, y), a, b)
    yield from _keyed("", {f"{n.kind} {n.name}": n for n in old.notices},
                      {f"{n.kind} {n.name}": n for n in new.notices},
                      lambda n, x, y: _notice(a, b, x, y), a, b)


#: A part of an item that differs (``None``: the item as a whole), its text before and after.
_Part = tuple[str | None, str | None, str | None]
_T = TypeVar("_T")


def _keyed(kind: str, old: Mapping[str, _T], new: Mapping[str, _T],
           parts: Callable[[str, _T, _T], Iterable[_Part]], a: _Text, b: _Text,
           same: Callable[[_T], Hashable] | None = None) -> Iterator[RuleChange]:
    """Items by name: removed, added, and for an item in both what differs (``parts``). With
    ``same`` (an item's content apart from its name), an item removed and one added with the
    same content are one item renamed, with what else differs listed under its new name."""
    label = (lambda name: f"{kind} {name}") if kind else (lambda name: name)
    renamed: dict[str, str] = {}  # new name -> old name
    if same is not None:
        gone = {same(item): name for name, item in old.items() if name not in new}
        for name, item in new.items():
            if name not in old and gone.get(same(item)) is not None:
                renamed[name] = gone.pop(same(item))
    for name in old:
        if name not in new and name not in renamed.values():
            yield RuleChange(label(name), None, "", None)
    for name, item in new.items():
        if name in renamed:
            yield RuleChange(label(name), "renamed", renamed[name], name)
            for part, before, after in parts(name, old[renamed[name]], item):
                yield RuleChange(label(name), part, before, after)
            continue
        if name not in old:
            yield RuleChange(label(name), None, None, "")
            continue
        for part, before, after in parts(name, old[name], item):
            yield RuleChange(label(name), part, before, after)


def _kpi(a: _Text, b: _Text, x: ast.Kpi, y: ast.Kpi) -> Iterator[tuple[str, str | None,
                                                                        str | None]]:
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
            yield (f"{when}value".strip(), None if v.value is None else a(v.value.span),
                   None if w.value is None else b(w.value.span))
        rows_v, rows_w = {r.key: r for r in v.rows}, {r.key: r for r in w.rows}
        for key in dict.fromkeys([*rows_v, *rows_w]):
            r, s = rows_v.get(key), rows_w.get(key)
            if r is None or s is None or r.value != s.value:
                yield (f"{when}{key}", None if r is None else a(r.value.span),
                       None if s is None else b(s.value.span))


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


def compare_texts(old: RuleSet, new: RuleSet) -> list[TextChange]:
    """Every change of a text for readers of an item in both ``old`` and ``new`` (an item
    added or removed is a change of meaning)."""
    before, after = _texts(old), _texts(new)
    return [TextChange(item, part, was.get(part), now.get(part))
            for item, now in after.items() if item in before
            for was in [before[item]]
            for part in dict.fromkeys([*was, *now]) if was.get(part) != now.get(part)]


def _texts(rules: RuleSet) -> dict[str, dict[str, str]]:
    """Each item's texts by part (``policy``, ``decision "…"``, ``description``), their
    words separated by single spaces."""
    out: dict[str, dict[str, str | None]] = {}
    for k in rules.kpis:
        titles = Counter(d.key for d in k.decisions)
        seen: Counter[str] = Counter()
        parts: dict[str, str | None] = {m.key: m.text for m in k.meta}
        parts["policy"] = k.policy.text if k.policy else None
        for d in k.decisions:  # a title given twice is told apart by its place
            seen[d.key] += 1
            parts[f'decision "{d.key}"' + (f" ({seen[d.key]})" if titles[d.key] > 1
                                           else "")] = d.text
        out[f"kpi {k.name}"] = parts
    for (subject, name), definition in rules.definitions.items():
        out[f"define {name} for {subject}" if subject else f"define {name}"] = {
            "description": definition.doc}
    out.update({f"table {t.name}": {"description": t.doc} for t in rules.tables.values()})
    out.update({f"schedule {s.name}": {"description": s.doc}
                for s in rules.schedules.values()})
    out.update({f"{n.kind} {n.name}": {"description": n.doc} for n in rules.notices})
    return {item: {part: " ".join(text.split()) for part, text in parts.items() if text}
            for item, parts in out.items()}


def compare_tests(old: RuleSet, new: RuleSet) -> list[RuleChange]:
    """Every test added or removed, and for a test in both, what differs: its as-of date, its
    description (a :class:`TextChange`), each record given (added, removed, or a field of it)
    and each expectation (``expect learner_dropout for bootcamp B1``)."""
    a, b = _Text(old), _Text(new)
    found = _keyed("test", {t.name: t for t in old.tests}, {t.name: t for t in new.tests},
                   lambda name, x, y: _test(a, b, x, y), a, b,
                   same=lambda t: (t.as_of, t.records))  # the same cohort: renamed
    return [TextChange(c.item, c.part, c.old, c.new) if c.part == "description" else c
            for c in found]


def _test(a: _Text, b: _Text, x: ast.Test, y: ast.Test) -> Iterator[tuple[str, str | None,
                                                                         str | None]]:
    if x.as_of != y.as_of:
        yield "as of", x.as_of.isoformat(), y.as_of.isoformat()
    docs = [" ".join(t.doc.split()) if t.doc else None for t in (x, y)]
    if docs[0] != docs[1]:
        yield "description", docs[0], docs[1]
    old = {f"{r.type_name} {r.id}": r for r in x.records}
    new = {f"{r.type_name} {r.id}": r for r in y.records}
    for key in dict.fromkeys([*old, *new]):
        r, s = old.get(key), new.get(key)
        if r is None or s is None:
            yield (f"given {key}", None if r is None else _fields(a, r),
                   None if s is None else _fields(b, s))
            continue
        f, g = dict(r.fields), dict(s.fields)
        for name in dict.fromkeys([*f, *g]):
            if f.get(name) != g.get(name):
                yield (f"given {key}, {name}", a(f[name].span) if name in f else None,
                       b(g[name].span) if name in g else None)
    was, now = _expected(x), _expected(y)
    for key in dict.fromkeys([*was, *now]):
        if was.get(key) != now.get(key):
            yield f"expect {key}", was.get(key), now.get(key)


def _fields(t: _Text, r: ast.GivenRecord) -> str:
    return ", ".join(f"{name} = {t(value.span)}" for name, value in r.fields)


def _expected(test: ast.Test) -> dict[str, str]:
    """Each expectation as the test writes it: ``learner_dropout for bootcamp B1`` →
    ``met, 1 of 5, 0 pending``; ``action employer_unreachable`` → ``1``."""
    out = {}
    for e in test.expects:
        counts = f", {e.numerator} of {e.denominator}" if e.numerator is not None else ""
        pending = f", {e.pending} pending" if e.pending is not None else ""
        out[f"{e.kpi} for {e.scope} {e.group}"] = f"{e.status}{counts}{pending}"
    out.update({f"{x.kind} {x.name}": str(x.count) for x in test.entries})
    return out
