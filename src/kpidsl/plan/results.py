"""What evaluation gives, whichever engine computes it: a :class:`Result` per KPI and group,
:class:`Entry` s (findings and actions), and for ``explain`` a :class:`Verdict` per record.

Written once for every engine: the verdict loop (:func:`decider`), the reporting hierarchy
(:func:`roll_up`, :func:`per_provider`, :meth:`Groups.in_order`), which clause explains a
verdict (:func:`reasons`) and how a value read is shown (:func:`shown_value`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from kpidsl.classes import fields_methods
from kpidsl.contract.records import BY_NAME, describe
from kpidsl.language.vocabulary import Scope, Status, VerdictKind
from kpidsl.plan import nodes as p

Fn = Callable[[Any], Any]
COUNTED, NOT_COUNTED, PENDING = VerdictKind.COUNTED, VerdictKind.NOT_COUNTED, VerdictKind.PENDING


def _scope(value: str) -> Scope:
    """A scope as given by an engine (its spelling, or the enum) as the enum."""
    return value if type(value) is Scope else Scope(value)


def _status(value: str) -> Status:
    """A status as given by an engine (its spelling, or the enum) as the enum."""
    return value if type(value) is Status else Status(value)


@attrs.frozen(kw_only=True)
@fields_methods
class Result:
    """A KPI's standing for one group: a bootcamp, a provider or the whole programme."""

    kpi: str
    scope: Scope = attrs.field(converter=_scope)
    """``bootcamp``, ``provider`` or ``programme``."""
    group: str
    """The bootcamp or provider id, or ``all``."""
    status: Status = attrs.field(converter=_status)
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


def _made_quickly() -> Callable[..., Result]:
    """:func:`result`: each field's slot set directly, in the order of :class:`Result`'s
    fields."""
    setters = [getattr(Result, f.name).__set__ for f in attrs.fields(Result)]
    assert len(setters) == 9 and not attrs.has(Result.__mro__[1])  # the fields, all slots
    k, scope, g, st, num, den, pend, direction, tgt = setters
    new = object.__new__

    def made(kpi: str, scope_: Scope, group: str, status: Status, numerator: int,
             denominator: int, pending: int, direction_: str, target: Fraction | None
             ) -> Result:
        r = new(Result)
        k(r, kpi)
        scope(r, scope_)
        g(r, group)
        st(r, status)
        num(r, numerator)
        den(r, denominator)
        pend(r, pending)
        direction(r, direction_)
        tgt(r, target)
        return r

    return made


result: Callable[[str, Scope, str, Status, int, int, int, str, Fraction | None], Result] = \
    _made_quickly()
"""A :class:`Result` of its fields in order, ``scope`` and ``status`` already the enums:
what an engine makes for every group whose counts change in a history (140,000 at 100,000
learners over 36 months), in half the time of ``Result(...)``, which takes keywords and
converts spellings. The same object, equal to ``Result(...)`` of the same fields."""


@attrs.frozen(kw_only=True)
@fields_methods
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
    """The file the record was read from: its CSV file (``learners.csv``), or the datasheet
    workbook as it was named (``book.xlsx``)."""
    line: int | None = None
    """The record's line in its CSV file, or its row in its sheet of the workbook."""
    place: str | None = None
    """In a workbook, the record's sheet and row as a spreadsheet names them
    (``learners!36:36``), as :attr:`kpidsl.errors.Diagnostic.place` locates a data error."""

    @property
    def location(self) -> str | None:
        """Where the record is, written as a data error's location is: ``learners.csv:36``,
        or ``book.xlsx:learners!36:36`` in a workbook; ``None`` when it is not known."""
        where = self.place if self.place is not None else self.line
        return None if self.file is None else \
            self.file if where is None else f"{self.file}:{where}"


def entry(kind: str, name: str, message: str, type_name: str, record: Any) -> Entry:
    """An entry about ``record`` (a record, or a row with its fields and ``line``)."""
    return Entry(kind=kind, name=name, message=message,
                 record=describe(type_name, record, line=False),
                 group=getattr(record, "bootcamp_id", None),
                 file=BY_NAME[type_name].file if record.line else None, line=record.line)


@attrs.frozen
@fields_methods
class Groups:
    """The groups of a data set that results are given for: its bootcamps and its providers
    (each sorted by id), and each bootcamp's provider."""

    bootcamps: tuple[str, ...]
    providers: tuple[str, ...]
    provider_of: dict[str, str]
    names: dict[tuple[str, str], str] = attrs.field(factory=dict)
    """Each group's name for people, by (scope, id): a bootcamp's title, a provider's name
    (the reports show them beside the ids)."""

    @classmethod
    def of(cls, provider_of: Mapping[str, str], providers: Iterable[str],
           titles: Iterable[tuple[str, str]] = (), names: Iterable[tuple[str, str]] = ()
           ) -> Groups:
        """The groups of a data set whose bootcamps have these providers, with the
        bootcamps' ``titles`` and the providers' ``names`` (each as (id, text); data read
        from ILR returns alone may lack them)."""
        named = {**{(Scope.BOOTCAMP.value, b): t for b, t in titles if t},
                 **{(Scope.PROVIDER.value, g): n for g, n in names if n}}
        return cls(tuple(sorted(provider_of)), tuple(sorted(providers)), dict(provider_of),
                   named)

    def in_order(self, per_provider: bool = False) -> list[tuple[Scope, str]]:
        """The groups a KPI is reported for, in report order: each bootcamp (not for a KPI
        measured per provider), each provider, then the programme (KPI-SPEC §2, "Groups")."""
        out = [] if per_provider else [(Scope.BOOTCAMP, b) for b in self.bootcamps]
        return [*out, *((Scope.PROVIDER, g) for g in self.providers), (Scope.PROGRAMME, "all")]

    def has(self, group: str, per_provider: bool = False) -> bool:
        """``group`` (``all``, a bootcamp or a provider id) is one of these groups."""
        return group == "all" or group in self.providers or (
            not per_provider and group in self.provider_of)

    def holds(self, group: str, bootcamp: str | None) -> bool:
        """A record of ``bootcamp`` belongs to ``group``: the programme, the bootcamp or its
        provider."""
        return group in ("all", bootcamp) or self.provider_of.get(bootcamp or "") == group


Tally = Mapping[tuple[str, str], Sequence[int]]


def decider(counted: Fn, pending: Fn | None) -> Fn:
    """The verdict loop, written once: a record is counted if ``counted`` holds, else
    pending if ``pending`` holds, else not counted. Evaluation, ``explain`` and the rule
    tests' coverage all decide records with it (the SQL engines with the same ``CASE``)."""
    if pending is None:
        return lambda r: COUNTED if counted(r) else NOT_COUNTED
    return lambda r: COUNTED if counted(r) else PENDING if pending(r) else NOT_COUNTED


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


def per_provider(counts: Mapping[str, Sequence[int]]) -> Tally:
    """A KPI measured per provider: each provider's counts, and the programme's sum."""
    totals: dict[tuple[str, str], Sequence[int]] = {("provider", g): c
                                                    for g, c in counts.items()}
    totals[("programme", "all")] = [sum(c[i] for c in counts.values()) for i in range(3)]
    return totals


def _verdict(value: str) -> VerdictKind | Status:
    """A verdict as given by an engine (its spelling, or the enum) as the enum."""
    if type(value) is VerdictKind or type(value) is Status:
        return value
    return VerdictKind(value) if value in _KINDS else Status(value)


_KINDS = frozenset(VerdictKind)


@attrs.frozen(kw_only=True)
@fields_methods
class Explanation:
    """Why each record of a KPI's population in one group counts, or does not."""

    as_of: dt.date
    result: Result
    """The KPI's result for the group, which the verdicts add up to."""
    verdicts: tuple[Verdict, ...]
    """One per record of the population in the group, in data order."""
    name: str | None = attrs.field(default=None, eq=False)
    """The group's name for people (a bootcamp's title, a provider's name), when the data
    has one: shown beside its id, as the reports do."""
    audit: dict[str, str] = attrs.field(factory=dict, eq=False)
    """What produced it: the kpidsl version, the engine, the as-of date and the
    fingerprints of the rules and of the data (as a report's ``audit()``)."""


@attrs.frozen(kw_only=True)
@fields_methods
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
@fields_methods
class Verdict:
    """Why one record of a KPI's population is counted, not counted or pending.

    For a per-provider KPI there is one verdict per provider: its status (``met``,
    ``not_met``, ``no_data``) with its actual, planned, management point and tolerance.
    """

    record: str
    """What the record is, for a person: ``learner L0042``."""
    record_type: str
    """The record's type as the rules name it (``learner``, ``engagement``, ``provider``)."""
    record_id: str | None
    """The record's id, its key fields joined by ``/`` (``L0042``, ``BC01/EMP03``), to join
    back to one's own tables; ``None`` for a type without a key (an interview, a payment),
    which ``record`` names by its learner and line."""
    bootcamp: str | None
    """The bootcamp the record belongs to (``None`` for a provider)."""
    provider: str | None
    """The provider of the record's bootcamp; for a per-provider KPI, the provider itself."""
    verdict: VerdictKind | Status = attrs.field(converter=_verdict)
    """:class:`VerdictKind` (``counted``, ``not counted`` or ``pending``); a provider's
    :class:`Status` for a per-provider KPI. Both compare equal to their spelling."""
    reasons: tuple[Reason, ...]
    """The clause that decided it; a not-counted record also has the failed part of its
    ``pending when`` clause, when the KPI has one."""
    sources: tuple[tuple[str, str], ...] = ()
    """For a record read from ILR returns: each value read, by name, with the file, learner,
    aim and element it came from (``withdrawal_date``, ``ILR-….xml: learner SB1, aim 1,
    LearnActEndDate (CompStatus 3)``)."""

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


def reasons(shows: p.Clauses, verdict: str, holds: Callable[[p.Shown], bool],
            reason: Callable[[p.Shown], Reason]) -> tuple[Reason, ...]:
    """Why a record has ``verdict``, written once for every engine: a counted record's
    ``counted when``, a pending one's ``pending when``, and for a record not counted the
    first part of each that does not hold (``holds``), the whole clause if none."""
    if verdict == COUNTED:
        return (reason(shows.counted),)
    if verdict == PENDING:
        assert shows.pending is not None
        return (reason(shows.pending),)

    def first_false(parts: tuple[p.Shown, ...]) -> Reason:
        return reason(next((x for x in parts if not holds(x)), parts[-1]))

    return (first_false(shows.counted_parts),
            *([first_false(shows.pending_parts)] if shows.pending_parts else []))


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
