"""The funder's choices for reading ILR returns, read from the rules' ``ilr_*`` tables.

The ILR specification leaves some meanings open (what each EVI code records, when Milestone 1
is reached, which outcome an achievement date stands for, how many employees an SME has). They
are policy, so they live in the rules folder (``rules/ilr.kpi``) in the rule language, where
the generated reference shows them and a policy officer changes them like any rule. The
engine layer hands the tables over; this module holds them to their meaning and points at a
bad value in its rule file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import attrs
from dateutil.relativedelta import relativedelta

from kpidsl.classes import fields_methods
from kpidsl.contract.fields import ENUMS
from kpidsl.errors import Diagnostic, RuleError, suggest

T = TypeVar("T")

#: Each table read, with the kind of value it must hold, as the rule checker types it.
TABLES: dict[str, tuple[bool, str]] = {
    "ilr_event_codes": (True, "a set of text values"),
    "ilr_milestone1_after": (False, "a duration"),
    "ilr_default_outcome": (True, "a text"),
    "ilr_sme_employees": (False, "an integer"),
    "ilr_large_employees": (False, "an integer"),
}

_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}


@attrs.frozen
@fields_methods
class Versioned(Generic[T]):
    """A choice's versions, ``(first day or None, value)`` in date order: the one used for a
    learner is the version in force when their programme started."""

    versions: tuple[tuple[dt.date | None, T], ...]

    def at(self, day: dt.date) -> T | None:
        """The value in force on ``day``; ``None`` before the first version."""
        found = None
        for start, value in self.versions:
            if start is None or start <= day:
                found = value
        return found


@attrs.frozen
@fields_methods
class Choices:
    """What the rules say about reading returns (see ``rules/ilr.kpi``)."""

    events: Versioned[dict[str, str]]
    """EVI code → the event it records (``interview_offer``)."""
    milestone1_after: Versioned[relativedelta | dt.timedelta]
    """Days and weeks as a ``timedelta`` (quick to add); months and years as a
    ``relativedelta``, which ends a month early when the next is shorter, as the rules do."""
    default_outcome: Versioned[dict[str, str]]
    """Learner type → outcome."""
    sme_employees: Versioned[int]
    large_employees: Versioned[int]

    @classmethod
    def from_tables(cls, tables: Mapping[str, Any], sources: Mapping[str, str]) -> Choices:
        """The choices in ``tables`` (the plan's parameter tables, by name), checked: a
        table that is absent or of the wrong kind, an EVI code named twice, or an outcome
        the contract does not know is a :class:`RuleError` at the value (``sources`` are
        the rule files' texts, for the excerpt)."""
        problems: list[Diagnostic] = []

        def at(table: Any, version: int, label: str, message: str, hint: str) -> None:
            spans = table.spans[version] if version < len(table.spans) else {}
            span = spans.get(label)
            problems.append(Diagnostic.at(span, message, hint=hint,
                                          source=sources.get(span.file)) if span
                            else Diagnostic(message=f"table {table.name}: {message}",
                                            hint=hint))

        absent = [name for name in TABLES if name not in tables]
        if absent:  # one problem, one fix: rules without ilr.kpi lack every table
            tables_word = "table" if len(absent) == 1 else "tables"
            problems.append(Diagnostic(
                message=f"reading ILR returns needs the {tables_word} {', '.join(absent)} in "
                "the rules",
                hint="copy ilr.kpi from kpidsl's own rules folder into yours, and set the "
                "funder's choices there (see “Reading ILR returns” in the docs)"))
        for name, (keyed, kind) in TABLES.items():
            table = tables.get(name)
            if table is None:
                continue
            if table.keyed != keyed or str(table.type) != kind:
                what = ("values keyed by an enumeration, each" if keyed else "one value,") + \
                    f" {kind}"
                problems.append(Diagnostic(message=f"table {name} must hold {what}",
                                           hint="see ilr.kpi in kpidsl's own rules folder"))
        if problems:
            raise RuleError(problems)

        def versions(name: str) -> list[tuple[int, dt.date | None, Any]]:
            return [(i, start, value) for i, (start, value)
                    in enumerate(tables[name].versions)]

        events = []
        for i, start, rows in versions("ilr_event_codes"):
            codes: dict[str, str] = {}
            for event, values in rows.items():
                for code in sorted(values):
                    if code in codes:
                        at(tables["ilr_event_codes"], i, event, f"EVI code {code!r} is named "
                           f"for both {codes[code]} and {event}", "an EVI code records one "
                           "event: name it once")
                    codes[code] = event
            events.append((start, codes))
        outcomes = []
        allowed = ENUMS["outcome"]
        for i, start, rows in versions("ilr_default_outcome"):
            for learner_type, outcome in rows.items():
                if outcome not in allowed:
                    near = suggest(outcome, allowed)
                    at(tables["ilr_default_outcome"], i, learner_type,
                       f"{outcome!r} is not an outcome of the data contract",
                       near or "write one of " + ", ".join(f'"{o}"' for o in allowed))
            outcomes.append((start, dict(rows)))
        counts: dict[str, list[tuple[dt.date | None, int]]] = {}
        for name in ("ilr_sme_employees", "ilr_large_employees"):
            counts[name] = []
            for i, start, value in versions(name):
                if value < 0:
                    at(tables[name], i, "", "a number of employees is at least 0",
                       "write a whole number of employees")
                counts[name].append((start, value))
        if problems:
            raise RuleError(problems)
        return cls(
            events=Versioned(tuple(events)), default_outcome=Versioned(tuple(outcomes)),
            milestone1_after=Versioned(tuple(
                (start, dt.timedelta(**{_UNITS[value.unit]: value.amount})
                 if value.unit in ("day", "week")
                 else relativedelta(**{_UNITS[value.unit]: value.amount}))
                for _, start, value in versions("ilr_milestone1_after"))),
            sme_employees=Versioned(tuple(counts["ilr_sme_employees"])),
            large_employees=Versioned(tuple(counts["ilr_large_employees"])))
