"""Prose that agrees with the rule: numbers stated in a KPI's ``level``, ``policy`` and
``decision`` texts that its clauses no longer use.

The text of a rule is for readers and changes no result, so it can drift from the clauses: the
drop-out maximum edited to 15% while the policy still says 20%. :func:`prose_warnings` finds
four kinds of number in the prose — percentages (``20%``), amounts (``£150.00``), counts of
months (``6 months``, ``six-month``) and of attempts (``two attempts``) — and compares each with
the numbers of the same kind that the rule uses: in the KPI's clauses, in the definitions and
tables they read (every dated version), and in the findings and actions of the KPI's file. A
kind the rule does not use at all is not compared (prose may give a worked example in pounds
for a rule that holds no amount). Each warning is at the number in the text, and its hint
says where the rule states its numbers of that kind, first those no text states: they are the
ones that were edited.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

from kpidsl.errors import Diagnostic, Span
from kpidsl.language import ast
from kpidsl.language.checker import RuleSet

_WORDS = {w: i for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six",
                                       "seven", "eight", "nine", "ten", "eleven", "twelve"))}
_COUNT = r"(\d+|" + "|".join(_WORDS) + r")"
_PATTERNS = {
    "percent": re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%"),
    "money": re.compile(r"£(\d[\d,]*(?:\.\d+)?)"),
    "months": re.compile(_COUNT + r"(?:[ -]calendar)?[ -]months?\b", re.I),
    "attempts": re.compile(_COUNT + r"\s+(?:unsuccessful\s+)?attempts?\b", re.I),
}
_KIND_WORDS = {"percent": "percentage", "money": "amount", "months": "number of months",
               "attempts": "number of attempts"}

Value = Fraction | Decimal | int


def _stated(kind: str, text: str) -> Value:
    if kind == "percent":
        return Fraction(Decimal(text)) / 100
    if kind == "money":
        return Decimal(text.replace(",", ""))
    return _WORDS[text.lower()] if text.lower() in _WORDS else int(text)


def _show(kind: str, value: Value) -> str:
    if kind == "percent":
        pct = Fraction(value) * 100
        return f"{pct.numerator}%" if pct.denominator == 1 else f"{float(pct):g}%"
    if kind == "money":
        assert not isinstance(value, Fraction)  # amounts are read as Decimals, never fractions
        return f"£{Decimal(value):,.2f}"
    return f"{value} {kind}" if value != 1 else f"1 {kind[:-1]}"


class _Numbers:
    """The numbers a KPI's rule uses, by kind, with where each is written."""

    def __init__(self, rules: RuleSet, kpi: ast.Kpi) -> None:
        self.rules = rules
        self.found: dict[str, dict[Value, Span]] = {k: {} for k in _PATTERNS}
        self.seen: set[str] = set()
        for clause in (kpi.population, kpi.counted, kpi.pending, kpi.target, kpi.actual,
                       kpi.planned):
            if clause is not None:
                self.visit(clause.expr)
        for notice in rules.notices:
            if notice.span.file == kpi.span.file:
                self.visit(notice.records)

    def visit(self, node: object) -> None:
        for n in ast.walk(node):
            if isinstance(n, ast.Literal):
                self.literal(n)
            elif isinstance(n, ast.Binary) and n.op in ("=", "!=", "<", "<=", ">", ">="):
                self.attempts(n)
            if isinstance(n, ast.Name | ast.Call | ast.Attribute):
                self.follow(n.name)

    def literal(self, n: ast.Literal) -> None:
        if n.kind == "percent":
            self.found["percent"].setdefault(Fraction(n.value), n.span)  # type: ignore[arg-type]
        elif n.kind == "money":
            self.found["money"].setdefault(Decimal(n.value), n.span)  # type: ignore[arg-type]
        elif n.kind == "duration" and isinstance(n.value, ast.Duration):
            months = n.value.amount * {"month": 1, "year": 12}.get(n.value.unit, 0)
            if months:
                self.found["months"].setdefault(months, n.span)

    def attempts(self, n: ast.Binary) -> None:
        """``contact_attempts >= 3``: an integer compared with something counting attempts."""
        for side, other in ((n.left, n.right), (n.right, n.left)):
            name = getattr(side, "name", "")
            if "attempt" in name and isinstance(other, ast.Literal) and other.kind == "integer":
                self.found["attempts"].setdefault(other.value, other.span)  # type: ignore[arg-type]

    def follow(self, name: str) -> None:
        """Into the definitions and tables a name may mean (each once)."""
        if name in self.seen:
            return
        self.seen.add(name)
        for (_, defined), d in self.rules.definitions.items():
            if defined == name:
                self.visit(d.body)
        table = self.rules.tables.get(name)
        if table is not None:
            for version in table.versions:
                self.visit(version)


def _texts(kpi: ast.Kpi) -> Iterator[tuple[str, ast.Text]]:
    for m in kpi.meta:
        if m.key == "level":
            yield "level", m
    if kpi.policy is not None:
        yield "policy", kpi.policy
    for d in kpi.decisions:
        yield f'decision "{d.key}"', d


def _offset(source: str, line: int, column: int) -> int:
    starts = [0]
    for i, ch in enumerate(source):
        if ch == "\n":
            starts.append(i + 1)
            if len(starts) > line:
                break
    return starts[line - 1] + column - 1


def _bounds(source: str, span: Span) -> tuple[str, int, int]:
    """``source`` and the offsets of ``span`` in it, to search only there."""
    return (source, _offset(source, span.line, span.column),
            _offset(source, span.end_line, span.end_column))


def _uses(kind: str, used: dict[Value, Span], stated: set[tuple[str, Value]]) -> str:
    """The numbers of a kind the rule uses, with where; first those no text states, as they
    are the ones that changed (the edited rate, not the KPI's unchanged target)."""
    def listed(values: list[tuple[Value, Span]]) -> str:
        return ", ".join(f"{_show(kind, v)} ({s})" for v, s in values)

    new = [(v, s) for v, s in used.items() if (kind, v) not in stated]
    old = [(v, s) for v, s in used.items() if (kind, v) in stated]
    if not new:
        return f"the rule uses {listed(old)}"
    return f"the rule uses {listed(new)}, which the text does not state" + (
        f"; it also uses {listed(old)}" if old else "")


def prose_warnings(rules: RuleSet, kpi_name: str | None = None) -> list[Diagnostic]:
    """A warning for each number in a KPI's prose that its rule does not use (see the module's
    text), for every KPI or only ``kpi_name``. They are warnings, not errors: the rules still
    check and evaluate."""
    sources = {f.path: f.source for f in rules.files}
    out = []
    for kpi in rules.kpis:
        if kpi_name is not None and kpi.name != kpi_name:
            continue
        numbers = _Numbers(rules, kpi).found
        found = [(where, text, kind, m) for where, text in _texts(kpi)
                 for kind, pattern in _PATTERNS.items() if numbers[kind]
                 for m in pattern.finditer(*_bounds(sources[text.span.file], text.span))]
        stated = {(kind, _stated(kind, m[1])) for _, _, kind, m in found}
        for where, text, kind, m in found:
            if _stated(kind, m[1]) in numbers[kind]:
                continue
            source = sources[text.span.file]
            line = source.count("\n", 0, m.start()) + 1
            column = m.start() - (source.rfind("\n", 0, m.start()) + 1) + 1
            out.append(Diagnostic(
                message=f"the {where} of {kpi.name} says {m[0]}, a "
                f"{_KIND_WORDS[kind]} its rule does not use",
                file=text.span.file, line=line, column=column,
                end_column=column + len(m[0]), severity="warning", source=source,
                hint=_uses(kind, numbers[kind], stated) + "; make the text say what the rule "
                "does"))
    return out
