"""The reviewer's diff of two rule sets on the same data: the results whose status or counts
change, the KPIs added (with their results) and removed; as text and as JSON. What changed in
the rules themselves is :mod:`kpidsl.language.changes`."""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import textwrap
from collections.abc import Sequence
from typing import Any

import attrs

from kpidsl.classes import fields_methods
from kpidsl.language.changes import Changes, RuleChange
from kpidsl.language.words import human, percent
from kpidsl.outputs.jsonout import result_json
from kpidsl.outputs.report import Report
from kpidsl.outputs.text import table
from kpidsl.plan.results import Result


@attrs.frozen(kw_only=True)
@fields_methods
class Change:
    """A result whose status or counts differ between two rule sets (``None``: not there)."""

    kpi: str
    scope: str
    group: str
    old: Result | None
    new: Result | None


@attrs.frozen(kw_only=True)
@fields_methods
class Diff:
    """What a change of rules does to the results on the same data."""

    as_of: dt.date
    changes: tuple[Change, ...]
    added: tuple[str, ...]
    """KPIs only in the new rules."""
    removed: tuple[str, ...]
    """KPIs only in the old rules."""
    added_results: tuple[Result, ...] = ()
    """The results of the KPIs added, as the new rules give them."""


def compare(old: Report, new: Report) -> Diff:
    """The results of KPIs in both reports whose status, k, n or p differ; a target change
    that moves no status is not a change of result. The KPIs added come with their
    results."""
    def key(r: Result) -> tuple[str, str, str]:
        return (r.kpi, r.scope, r.group)

    def counts(r: Result | None) -> tuple[Any, ...] | None:
        return None if r is None else (r.status, r.numerator, r.denominator, r.pending)

    before, after = {key(r): r for r in old.results}, {key(r): r for r in new.results}
    old_kpis = list(dict.fromkeys(r.kpi for r in old.results))
    new_kpis = list(dict.fromkeys(r.kpi for r in new.results))
    both = set(old_kpis) & set(new_kpis)
    changes = [Change(kpi=k[0], scope=k[1], group=k[2], old=before.get(k), new=after.get(k))
               for k in dict.fromkeys([*before, *after])
               if k[0] in both and counts(before.get(k)) != counts(after.get(k))]
    return Diff(as_of=new.as_of, changes=tuple(changes),
                added=tuple(k for k in new_kpis if k not in both),
                removed=tuple(k for k in old_kpis if k not in both),
                added_results=tuple(r for r in new.results if r.kpi not in both))


def diff_json(changes: Changes, diff: Diff | None = None) -> dict[str, Any]:
    """The rule, text and test changes, the KPIs added and removed; then, when the results
    were compared (``diff``; else ``null``), the date, the results that change with the old
    and new result of each (``null`` where there is none), and the added KPIs' results."""
    def listed(found: Sequence[RuleChange]) -> list[dict[str, Any]]:
        return [{"item": c.item, "part": c.part, "old": c.old, "new": c.new,
                 "words": c.words()} for c in found]

    return {"as_of": diff and diff.as_of.isoformat(),
            "rule_changes": listed(changes.rules),
            "text_changes": listed(changes.texts),
            "test_changes": listed(changes.tests),
            "added": list(changes.added),
            "removed": list(changes.removed),
            "changes": diff and [{"kpi": c.kpi, "scope": c.scope, "group": c.group,
                                  "old": c.old and result_json(c.old),
                                  "new": c.new and result_json(c.new)} for c in diff.changes],
            "added_results": diff and [result_json(r) for r in diff.added_results]}


def _brief(r: Result | None) -> str:
    if r is None:
        return "(none)"
    text = f"{human(r.status)} {r.numerator}/{r.denominator}"
    return text + (f", {r.pending} pending" if r.pending else "")


#: The one line of a diff between rule sets that differ in nothing that counts.
NO_CHANGES = "No changes: the rules, their texts and their tests are the same."


def render_diff(changes: Changes, diff: Diff | None = None) -> str:
    """The rule changes, the text changes and the test changes, each apart, one line each (or
    a line for an item and one for each of its changes); then, when the results were
    compared (``diff``), the changed results grouped by KPI, old → new, and each added KPI's
    results. When nothing differs, one line says so."""
    if not changes and not (diff and diff.changes):
        return NO_CHANGES
    out = []
    for title, found in (("Rule changes, which can change results", changes.rules),
                         ("Text changes, which change no result", changes.texts),
                         ("Test changes", changes.tests)):
        out += [f"{title}: {len(found) or 'none'}", *_change_lines(found), ""]
    if diff is None:
        return "\n".join([*out, "Results were not compared: give --data DATA to evaluate both "
                          "rule sets on it."])
    n = len(diff.changes)
    moved = {0: "no result changes", 1: "1 result changes"}.get(n, f"{n} results change")
    out.append(f"Results as of {diff.as_of.isoformat()}: {moved} status or counts")
    by_kpi: dict[str, list[Change]] = {}
    for c in diff.changes:
        by_kpi.setdefault(c.kpi, []).append(c)
    for kpi, changed in by_kpi.items():
        targets = list(dict.fromkeys(f"{r.direction} {percent(r.target)}" for c in changed
                                     for r in (c.old, c.new) if r is not None))
        out += ["", f"{kpi}  (target: {' → '.join(targets)})"]
        rows = [(c.scope, c.group, _brief(c.old), "→", _brief(c.new)) for c in changed]
        out += ["  " + x for x in table(rows, ("scope", "group", "old", "", "new"))]
    for kpi in diff.added:
        results = [r for r in diff.added_results if r.kpi == kpi]
        first = results[0]
        out += ["", f"Added KPI {kpi}  (target: {first.direction} {percent(first.target)})"]
        figures = [(r.scope, r.group, human(r.status), percent(r.rate),
                    str(r.numerator), str(r.denominator), str(r.pending)) for r in results]
        out += ["  " + x for x in table(figures, ("scope", "group", "status", "rate", "k", "n",
                                                    "pending"))]
    return "\n".join(out)


def _change_lines(changes: Sequence[RuleChange]) -> list[str]:
    """One line for each change, wrapped; an item with several changes has a line of its
    own, with its changes below it."""
    out = []
    for item, group in itertools.groupby(changes, key=operator.attrgetter("item")):
        found = list(group)
        if len(found) == 1:
            out += _wrap(found[0].words(), "  ")
            continue
        out.append(f"  {item}:")
        for c in found:
            out += _wrap(c.words().removeprefix(f"{item}: "), "    ")
    return out


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, 78, initial_indent=indent, subsequent_indent=indent + "    ",
                         break_long_words=False, break_on_hyphens=False)
