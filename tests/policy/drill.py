"""The policy drill's edits: what a policy officer does to a rule set, worked out from its
current text so that the drill fits whatever the policy says today.

- **A target**: the first KPI whose target is a literal percentage strictly between 0% and 100%
  is made five points stricter (``at most 20%`` → ``at most 15%``, ``at least 75%`` →
  ``at least 80%``).
- **A parameter table**: the first percentage of the first table that holds one is lowered by
  five points (``large: 30%`` → ``large: 25%``), or raised when it is 5% or less.
- **A new KPI with its own test**, over fields of the data contract only.
- **A definition renamed with its uses**: the first definition used in another file, renamed
  wherever the rules name it (not in prose or comments: the lexer tells names apart).

Each edit records which KPIs it changes, so that the drill can tell which rule tests may fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
from pygments.token import Name

import kpidsl
from kpidsl.language import ast
from kpidsl.language.lexer import KpiLexer

NEW_KPI = "drill_completion"

NEW_KPI_TEXT = f'''# Added by the policy drill: a KPI of the officer's own.

kpi {NEW_KPI}:
  title: "Drill: completion"
  level: "At least half of the learners complete"

  policy: """
    At least half of the learners who start a bootcamp complete it.
    """

  population: learners
  counted when: completion_date is set
  target: at least 50%
'''

NEW_TEST_TEXT = f'''test {NEW_KPI}_one_in_two_is_met:
  """
  One of two learners completed: exactly 50% is the minimum.
  """
  as of: 2025-03-31
  given:
    provider P1
    bootcamp B1
    learner L1: learner_type = independent, completion_date = 2024-06-28
    learner L2: learner_type = independent
  expect {NEW_KPI} for bootcamp B1: met, 1 of 2, 0 pending
'''


@attrs.frozen
class Edit:
    """One edit: what it is, in words, and the KPIs whose results it may change."""

    what: str
    kpis: frozenset[str]


def _replace_once(path: Path, start: int, end: int, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:start] + new + text[end:], encoding="utf-8")


def _offset(source: str, line: int, column: int) -> int:
    lines = source.split("\n")
    return sum(len(x) + 1 for x in lines[:line - 1]) + column - 1


def _percent_text(node: ast.Expr, source: str) -> tuple[int, int, int] | None:
    """Where the literal percentage ``node`` is written, and its whole number of percent."""
    if not (isinstance(node, ast.Literal) and node.kind == "percent"):
        return None
    start = _offset(source, node.span.line, node.span.column)
    end = _offset(source, node.span.end_line, node.span.end_column)
    m = re.fullmatch(r"(\d+)%", source[start:end])
    return (start, end, int(m[1])) if m else None


def stricter_target(rules: kpidsl.RuleSet) -> Edit | None:
    sources = {f.path: f.source for f in rules.files}
    for kpi in rules.kpis:
        if kpi.target is None:
            continue
        found = _percent_text(kpi.target.expr, sources[kpi.span.file])
        if found is None or not 5 < found[2] < 95:
            continue
        start, end, value = found
        new = value - 5 if kpi.target.direction == "at most" else value + 5
        _replace_once(Path(kpi.span.file), start, end, f"{new}%")
        return Edit(f"target of {kpi.name}: {kpi.target.direction} {value}% → {new}%",
                    frozenset({kpi.name}))
    return None


def table_value(rules: kpidsl.RuleSet) -> Edit | None:
    sources = {f.path: f.source for f in rules.files}
    for table in rules.tables.values():
        for version in table.versions:
            values = [r.value for r in version.rows] if version.rows else [version.value]
            for value in values:
                found = _percent_text(value, sources[table.span.file]) if value else None
                if found is None:
                    continue
                start, end, old = found
                new = old - 5 if old > 5 else old + 5
                _replace_once(Path(table.span.file), start, end, f"{new}%")
                users = {k.name for k in rules.kpis if _uses(rules, k, table.name)}
                return Edit(f"table {table.name}: {old}% → {new}%", frozenset(users))
    return None


def _uses(rules: kpidsl.RuleSet, kpi: ast.Kpi, name: str) -> bool:
    """``kpi`` reads ``name`` (a table or definition), directly or through definitions."""
    seen: set[str] = set()
    todo: list[object] = [kpi]
    while todo:
        for n in ast.walk(todo.pop()):
            if isinstance(n, ast.Name | ast.Attribute | ast.Call) and n.name not in seen:
                if n.name == name:
                    return True
                seen.add(n.name)
                todo += [d for (_, d_name), d in rules.definitions.items() if d_name == n.name]
    return False


def new_kpi(folder: Path) -> Edit:
    (folder / f"zz_{NEW_KPI}.kpi").write_text(NEW_KPI_TEXT, encoding="utf-8")
    (folder / "tests").mkdir(exist_ok=True)
    (folder / "tests" / f"zz_{NEW_KPI}_test.kpi").write_text(NEW_TEST_TEXT, encoding="utf-8")
    return Edit(f"new KPI {NEW_KPI} with its test", frozenset({NEW_KPI}))


def renamed_definition(rules: kpidsl.RuleSet, folder: Path) -> Edit | None:
    files = sorted(folder.rglob("*.kpi"))
    texts = {f: f.read_text(encoding="utf-8") for f in files}
    for (_, name), d in rules.definitions.items():
        elsewhere = [f for f, text in texts.items()
                     if Path(d.span.file).resolve() != f.resolve() and re.search(rf"\b{name}\b", text)]
        if not elsewhere:
            continue
        new = f"{name}_renamed"
        for f, text in texts.items():
            out = "".join(new if token in Name and value == name else value
                          for _, token, value in KpiLexer().get_tokens_unprocessed(text))
            if out != text:
                f.write_text(out, encoding="utf-8")
        return Edit(f"definition {name} renamed {new}, with its uses", frozenset())
    return None


def drill(folder: Path) -> list[Edit]:
    """Make the officer's edits to the rule set in ``folder``; what was done."""
    edits = [stricter_target(kpidsl.load_rules(folder)),
             table_value(kpidsl.load_rules(folder)),
             new_kpi(folder),
             renamed_definition(kpidsl.load_rules(folder), folder)]
    return [e for e in edits if e is not None]
