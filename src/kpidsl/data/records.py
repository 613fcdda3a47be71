"""Typed records: the data model that rules are checked against and evaluated on.

Each record type is a frozen attrs class whose fields are the columns of KPI-SPEC §1. Field
metadata (``doc``, ``enum``, the value checks ``minimum``/``maximum``/``pattern``) feeds the
CSV loader, :meth:`Dataset.problems`, the rule checker and the data-contract page from one
place, so they cannot drift apart. ``LINKS`` says how records refer to each other; rules
navigate those links (``learner.bootcamp``, ``learner.interviews``).

Developers who hold the data elsewhere (a database, an API) build the records directly and pass
them to :class:`Dataset`, or pass plain rows to :meth:`Dataset.from_rows`; nothing here reads
files. A record checks and converts its values when it is made, with the CSV loader's rules and
messages (``Learner L12: completion_date: '2024-13-01' is not a date``): text is read as a CSV
cell is, ``None`` is a missing value, and an int or float is money when that loses nothing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from kpidsl.language import limits
from kpidsl.language.source import DataError, Diagnostic

R = TypeVar("R")

#: Allowed values of each enumerated column, by enum name.
ENUMS: dict[str, tuple[str, ...]] = {
    "learner_type": ("independent", "co_funded", "self_employed"),
    "outcome": (
        "new_job",
        "apprenticeship",
        "accelerated_apprenticeship",
        "new_role",
        "new_responsibilities",
        "action_plan",
        "new_contract",
    ),
    "referral_kind": ("job", "training", "skills_bootcamp"),
    "result": ("offered_job", "unsuccessful", "declined", "pending"),
    "role": (
        "co_design",
        "needs_analysis",
        "approved_solution",
        "delivery",
        "interviewing",
        "own_staff",
    ),
}


def _f(
    doc: str,
    *,
    enum: str | None = None,
    default: Any = attrs.NOTHING,
    minimum: int | None = None,
    maximum: int | None = None,
    pattern: tuple[str, str] | None = None,
    month: bool = False,
    **kw: Any,
) -> Any:
    """A record field with its documentation, enum name and value constraints kept as metadata.

    The constraints are the contract's range checks (``minimum``/``maximum`` inclusive; a
    ``pattern`` is a regular expression the whole text must match and how to say it in words,
    e.g. ``("[0-9]{8}", "exactly 8 digits")``; ``month`` marks a date written ``YYYY-MM``). The
    loader and :meth:`Dataset.problems` enforce them and the data-contract page lists them, all
    from here.
    """
    metadata = {
        "doc": doc,
        "enum": enum,
        "minimum": minimum,
        "maximum": maximum,
        "pattern": pattern,
        "month": month,
    }
    return attrs.field(default=default, metadata=metadata, **kw)


def _line() -> Any:
    """Where the record came from (1-based line of its CSV file); not part of its value."""
    return attrs.field(default=None, eq=False, repr=False, metadata={"doc": None, "enum": None})


@attrs.frozen(kw_only=True)
class Provider:
    """A training provider holding a Skills Bootcamps contract (``providers.csv``)."""

    provider_id: str = _f("Unique id of the provider.")
    name: str = _f("Name of the provider.")
    ukprn: str | None = _f(
        "UK Provider Reference Number (8 digits).",
        default=None,
        pattern=("[0-9]{8}", "exactly 8 digits"),
    )
    line: int | None = _line()


@attrs.frozen(kw_only=True)
class Bootcamp:
    """One Skills Bootcamp delivered by a provider (``bootcamps.csv``)."""

    bootcamp_id: str = _f("Unique id of the bootcamp.")
    provider_id: str = _f("The provider that delivers it.")
    title: str = _f("Title of the bootcamp.")
    start_date: dt.date = _f("First day of training.")
    end_date: dt.date = _f("Last day of training.")
    course_cost: Decimal = _f(
        "Cost of the course per learner, in pounds (at least 0).", minimum=0
    )
    accelerated_apprenticeship: bool = _f(
        "The bootcamp leads to an accelerated apprenticeship.", default=False
    )
    line: int | None = _line()


@attrs.frozen(kw_only=True)
class Employer:
    """An employer engaged with bootcamps or co-funding learners (``employers.csv``)."""

    employer_id: str = _f("Unique id of the employer.")
    name: str = _f("Name of the employer.")
    employees: int = _f(
        "Number of employees (at least 0); the rules classify employers by size from it "
        "(see rules/definitions.kpi).",
        minimum=0,
    )
    line: int | None = _line()


@attrs.frozen(kw_only=True)
class Engagement:
    """An employer's engagement with one bootcamp (``engagements.csv``)."""

    bootcamp_id: str = _f("The bootcamp engaged with.")
    employer_id: str = _f("The employer engaged.")
    roles: frozenset[str] = _f(
        "The roles the employer has (a set).", enum="role", default=frozenset()
    )
    contact_attempts: int = _f(
        "How many times the employer was contacted (at least 0).", default=0, minimum=0
    )
    reached: bool | None = _f("The employer answered when contacted.", default=None)
    role_confirmed: bool | None = _f("The employer confirmed its role.", default=None)
    satisfaction: int | None = _f(
        "Satisfaction score from 0 to 5.", default=None, minimum=0, maximum=5
    )
    recorded_date: dt.date | None = _f(
        "Day the engagement was first recorded. After the as-of date it does not exist yet; "
        "an engagement without one exists at every as-of date.",
        default=None,
    )
    line: int | None = _line()


@attrs.frozen(kw_only=True)
class Learner:
    """A learner enrolled on a bootcamp, with the dates of their milestones (``learners.csv``)."""

    learner_id: str = _f("Unique id of the learner.")
    bootcamp_id: str = _f("The bootcamp the learner is enrolled on.")
    learner_type: str = _f("Independent, co-funded or self-employed.", enum="learner_type")
    employer_id: str | None = _f("The co-funding employer (required when co-funded).", default=None)
    start_date: dt.date = _f("Day the learner started training.")
    milestone1_date: dt.date | None = _f("Day Milestone 1 (start) was reached.", default=None)
    withdrawal_date: dt.date | None = _f("Day the learner withdrew.", default=None)
    completion_date: dt.date | None = _f("Day the learner completed (Milestone 2).", default=None)
    initial_assessment_date: dt.date | None = _f("Day of the initial assessment.", default=None)
    final_assessment_date: dt.date | None = _f("Day of the final assessment.", default=None)
    skills_gained: bool | None = _f(
        "The final assessment shows the skills were gained.", default=None
    )
    wants_interview: bool | None = _f(
        "The learner has a stated aim to have an interview.", default=None
    )
    new_role_evidence_date: dt.date | None = _f(
        "Day the employer evidenced the co-funded learner's new role or responsibilities.",
        default=None,
    )
    outcome: str | None = _f("The positive outcome achieved.", enum="outcome", default=None)
    outcome_date: dt.date | None = _f("Day of the outcome.", default=None)
    referral_date: dt.date | None = _f("Day the learner was referred elsewhere.", default=None)
    referral_kind: str | None = _f(
        "What the learner was referred to.", enum="referral_kind", default=None
    )
    line: int | None = _line()


@attrs.frozen(kw_only=True)
class Interview:
    """An interview offered to a learner (``interviews.csv``)."""

    learner_id: str = _f("The learner interviewed.")
    employer_id: str = _f("The interviewing employer.")
    offer_date: dt.date = _f("Day the interview was offered.")
    actual_job: bool = _f("The interview is for an actual job (an apprenticeship counts).")
    matches_skills: bool = _f("The role matches the skills the bootcamp teaches.")
    full_apprenticeship: bool = _f("The job is a full-length apprenticeship.", default=False)
    result: str = _f("What came of the interview.", enum="result", default="pending")
    line: int | None = _line()


@attrs.frozen(kw_only=True)
class Payment:
    """A co-funding payment made by a learner's employer (``cofunding.csv``)."""

    learner_id: str = _f("The co-funded learner.")
    amount_paid: Decimal = _f("Amount paid, in pounds (at least 0).", minimum=0)
    paid_date: dt.date = _f("Day the payment was made.")
    line: int | None = _line()


@attrs.frozen(kw_only=True)
class Profile:
    """Planned Milestone 1 starts of a provider for one month (``profiles.csv``)."""

    provider_id: str = _f("The provider whose delivery plan this is.")
    month: dt.date = _f("The month (first day), written YYYY-MM in CSV.", month=True)
    planned_starts: int = _f(
        "Planned Milestone 1 starts in that month (at least 0).", minimum=0
    )
    line: int | None = _line()


@attrs.frozen
class RecordType:
    """How a record class appears in CSV and in the rule language."""

    name: str
    """Singular name used in rules (``learner``)."""
    plural: str
    """Name of the collection of all such records in rules (``learners``)."""
    cls: type
    file: str
    """CSV file name in a data set folder."""
    key: tuple[str, ...]
    """Fields that identify a record (unique within its file)."""


RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType("provider", "providers", Provider, "providers.csv", ("provider_id",)),
    RecordType("bootcamp", "bootcamps", Bootcamp, "bootcamps.csv", ("bootcamp_id",)),
    RecordType("employer", "employers", Employer, "employers.csv", ("employer_id",)),
    RecordType(
        "engagement", "engagements", Engagement, "engagements.csv", ("bootcamp_id", "employer_id")
    ),
    RecordType("learner", "learners", Learner, "learners.csv", ("learner_id",)),
    RecordType("interview", "interviews", Interview, "interviews.csv", ()),
    RecordType("payment", "payments", Payment, "cofunding.csv", ()),
    RecordType("profile", "profiles", Profile, "profiles.csv", ()),
)
BY_NAME: dict[str, RecordType] = {t.name: t for t in RECORD_TYPES}
BY_CLASS: dict[type, RecordType] = {t.cls: t for t in RECORD_TYPES}


@attrs.frozen
class Link:
    """A reference from one record type to another, followed by ``source.name`` in rules.

    ``many`` links collect every target whose ``target_field`` equals the source's
    ``source_field`` (a learner's interviews); single links look one target up by id. A link
    ``through`` another link of the target compares that record's field instead (a provider's
    learners are those whose bootcamp has the provider's id).
    """

    name: str
    source: str
    target: str
    source_field: str
    target_field: str
    many: bool = False
    through: str | None = None


LINKS: tuple[Link, ...] = (
    Link("provider", "bootcamp", "provider", "provider_id", "provider_id"),
    Link("bootcamps", "provider", "bootcamp", "provider_id", "provider_id", many=True),
    Link("profiles", "provider", "profile", "provider_id", "provider_id", many=True),
    Link("learners", "provider", "learner", "provider_id", "provider_id", many=True,
         through="bootcamp"),
    Link("learners", "bootcamp", "learner", "bootcamp_id", "bootcamp_id", many=True),
    Link("engagements", "bootcamp", "engagement", "bootcamp_id", "bootcamp_id", many=True),
    Link("bootcamp", "engagement", "bootcamp", "bootcamp_id", "bootcamp_id"),
    Link("employer", "engagement", "employer", "employer_id", "employer_id"),
    Link("bootcamp", "learner", "bootcamp", "bootcamp_id", "bootcamp_id"),
    Link("employer", "learner", "employer", "employer_id", "employer_id"),
    Link("interviews", "learner", "interview", "learner_id", "learner_id", many=True),
    Link("payments", "learner", "payment", "learner_id", "learner_id", many=True),
    Link("learner", "interview", "learner", "learner_id", "learner_id"),
    Link("employer", "interview", "employer", "employer_id", "employer_id"),
    Link("learner", "payment", "learner", "learner_id", "learner_id"),
    Link("provider", "profile", "provider", "provider_id", "provider_id"),
)

#: Date fields that date a whole row: after the as-of date the row has not happened yet. A row
#: whose date is missing (an engagement without ``recorded_date``) exists at every date.
ROW_DATES: dict[str, str] = {"interview": "offer_date", "payment": "paid_date",
                             "engagement": "recorded_date"}


@attrs.frozen
class FieldInfo:
    """One column of a record type, as the loader and the checker see it."""

    name: str
    kind: str
    """One of ``text``, ``date``, ``money``, ``integer``, ``boolean``, ``enum``, ``set``."""
    required: bool
    """A value must be given (no default and not optional)."""
    optional: bool
    """The value may be missing (``None``)."""
    enum: str | None
    doc: str
    default: Any
    minimum: int | None = None
    """Smallest allowed value (inclusive), for numbers."""
    maximum: int | None = None
    """Largest allowed value (inclusive), for numbers."""
    pattern: tuple[str, str] | None = None
    """A regular expression the whole text must match, and the same in words."""
    month: bool = False
    """A date written ``YYYY-MM`` (the first day of the month), not ``YYYY-MM-DD``."""


_KINDS = {"str": "text", "dt.date": "date", "Decimal": "money", "int": "integer", "bool": "boolean"}


def fields_of(cls: type) -> tuple[FieldInfo, ...]:
    """The data fields of a record class, in column order (the ``line`` field is not data)."""
    out = []
    for a in attrs.fields(cls):
        if a.name == "line":
            continue
        ann = str(a.type)
        optional = ann.endswith("| None")
        base = ann.removesuffix(" | None")
        enum = a.metadata["enum"]
        kind = "set" if base.startswith("frozenset") else "enum" if enum else _KINDS[base]
        has_default = a.default is not attrs.NOTHING
        out.append(
            FieldInfo(
                a.name,
                kind,
                required=not has_default,
                optional=optional,
                enum=enum,
                doc=a.metadata["doc"],
                default=None if not has_default else a.default,
                minimum=a.metadata["minimum"],
                maximum=a.metadata["maximum"],
                pattern=a.metadata["pattern"],
                month=a.metadata["month"],
            )
        )
    return tuple(out)


FIELDS: dict[str, dict[str, FieldInfo]] = {
    t.name: {f.name: f for f in fields_of(t.cls)} for t in RECORD_TYPES
}


#: The Python type of each kind of field, and how a message names it. Money is a ``Decimal``
#: only: an ``int`` or a ``float`` would mix with the rules' exact fractions differently.
_PYTHON_TYPES: dict[str, tuple[type, str]] = {
    "text": (str, "a str"),
    "enum": (str, "a str"),
    "date": (dt.date, "a datetime.date"),
    "money": (Decimal, "a Decimal"),
    "integer": (int, "an int"),
    "boolean": (bool, "a bool"),
    "set": (frozenset, "a frozenset"),
}
#: Subclasses that are not values of the kind: ``True`` is not a count, a datetime not a day.
_NOT_OF_KIND: dict[str, type] = {"integer": bool, "date": dt.datetime}


def value_problem(info: FieldInfo, value: Any) -> str | None:
    """What is wrong with ``value`` as a value of the field ``info``, for a person; ``None``
    when nothing is.

    These are the loader's checks, on Python values: a value is given unless the field is
    optional (a required text may not be empty); it has the field's type: ``str`` (enum
    values too), ``datetime.date`` but not ``datetime.datetime``, ``Decimal`` (not ``int``
    or ``float``: money is exact), ``int`` but not ``bool``, ``bool``, a ``frozenset`` of enum
    values; it is one of the enum's values; and it is within the field's range, matches its
    pattern and, for a month, is the first day of one.
    """
    if value is None or (info.kind == "text" and info.required and isinstance(value, str)
                         and not value):
        if info.optional:
            return None
        return "missing required value" if info.required else \
            f"missing value; leave it out for the default {info.default!r}"
    cls, what = _PYTHON_TYPES[info.kind]
    if not isinstance(value, cls) or isinstance(value, _NOT_OF_KIND.get(info.kind, ())):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        return f"expected {what}, not {type(value).__name__} {shown}"
    if info.enum is not None:
        allowed = ENUMS[info.enum]
        bad = [v for v in ([value] if info.kind == "enum" else value) if v not in allowed]
        if bad:
            listed = ", ".join(sorted(map(repr, bad)))
            return f"{listed} {'is' if len(bad) == 1 else 'are'} not one of {', '.join(allowed)}"
    if info.kind == "money" and not value.is_finite():
        return f"{value} is not a number"
    if info.kind in ("money", "integer") and limits.out_of_bounds([value]):
        return f"a number of more than {limits.MAX_DIGITS} digits"  # too long to print
    if info.minimum is not None and value < info.minimum:
        return f"{value} is less than {info.minimum}"
    if info.maximum is not None and value > info.maximum:
        return f"{value} is more than {info.maximum}"
    if info.pattern is not None and not re.fullmatch(info.pattern[0], value):
        return f"{value!r} is not {info.pattern[1]}"
    if info.month and value.day != 1:
        return f"{value} is not the first day of a month"
    return None


def _plainly_valid(info: FieldInfo, values: list[Any]) -> bool:
    """A quick sweep of a whole column that passes it when no value can have a problem.

    It uses scans that run in C (the set of types, the set of enum values, min and max), so
    that a million records cost a fraction of a second; a column it does not pass is checked
    value by value with :func:`value_problem`, which alone decides what is wrong.
    """
    types = set(map(type, values))
    if info.optional:
        types.discard(type(None))
    if not types <= {_PYTHON_TYPES[info.kind][0]}:  # None, bool, datetime, subclasses: slowly
        return False
    if info.kind == "text" and info.required and "" in values:
        return False
    if info.enum is not None:
        seen = set(values) if info.kind == "enum" else set().union(*values)
        seen.discard(None)
        if not seen <= set(ENUMS[info.enum]):
            return False
    if info.kind not in ("money", "integer") and info.minimum is None \
            and info.maximum is None and info.pattern is None and not info.month:
        return True
    present = [v for v in values if v is not None]
    if info.kind == "money" and not all(map(Decimal.is_finite, present)):
        return False
    if info.kind in ("money", "integer") and limits.out_of_bounds(present):
        return False
    if present and info.minimum is not None and min(present) < info.minimum:
        return False
    if present and info.maximum is not None and max(present) > info.maximum:
        return False
    if info.pattern is not None and not all(re.fullmatch(info.pattern[0], v)
                                            for v in set(present)):
        return False
    return not (info.month and any(d.day != 1 for d in present))


@attrs.frozen(kw_only=True)
class Dataset:
    """One snapshot of the programme's data: every record, by type.

    Build it from CSV with :func:`kpidsl.load_data`, or directly from records. ``problems()``
    lists every value that breaks the contract (a missing required value, a value of the wrong
    Python type, outside its enum, range or pattern) and what breaks its integrity rules
    (duplicate ids, dangling references), so a data set built in Python is held to the same
    rules as one read from CSV.
    """

    providers: tuple[Provider, ...] = attrs.field(default=(), converter=tuple)
    bootcamps: tuple[Bootcamp, ...] = attrs.field(default=(), converter=tuple)
    employers: tuple[Employer, ...] = attrs.field(default=(), converter=tuple)
    engagements: tuple[Engagement, ...] = attrs.field(default=(), converter=tuple)
    learners: tuple[Learner, ...] = attrs.field(default=(), converter=tuple)
    interviews: tuple[Interview, ...] = attrs.field(default=(), converter=tuple)
    payments: tuple[Payment, ...] = attrs.field(default=(), converter=tuple)
    profiles: tuple[Profile, ...] = attrs.field(default=(), converter=tuple)
    notices: tuple[Any, ...] = attrs.field(default=(), converter=tuple, eq=False, repr=False)
    """Warnings found while loading (unknown columns, absent files): :class:`Diagnostic` s."""
    _values_checked: bool = attrs.field(default=False, init=False, eq=False, repr=False)
    """Every value was checked as it was made (by the CSV loader, by a rule test's builder):
    ``problems()`` checks only integrity. Set by :meth:`_mark_values_checked`; not copied by
    ``attrs.evolve``, so a changed copy is checked in full."""
    _problems: tuple[tuple[Any, str, str], ...] | None = attrs.field(
        default=None, init=False, eq=False, repr=False)
    _fingerprints: dict[str, str | None] | None = attrs.field(
        default=None, init=False, eq=False, repr=False)
    """The sha256 of each contract file: of its bytes as :func:`kpidsl.load_data` read them,
    or of the file :func:`kpidsl.write_data` would write (``None``: no file). Worked out once,
    by :func:`kpidsl.data.csvfiles.file_fingerprints`; not copied by ``attrs.evolve``."""

    @classmethod
    def from_rows(cls, *, providers: Rows = (), bootcamps: Rows = (), employers: Rows = (),
                  engagements: Rows = (), learners: Rows = (), interviews: Rows = (),
                  payments: Rows = (), profiles: Rows = ()) -> Dataset:
        """A data set from plain rows: mappings of column name to value, as a database driver
        returns them, or a pandas ``DataFrame`` or an Arrow table (one per record type).

        Each value is read as the record classes read it (text as in CSV, ``None`` or NaN as
        missing). Every problem is collected, then one :class:`DataError` lists them all, each
        at its row (``learners[11]``) and with its record, field and value; then the data set's
        integrity is checked, as :func:`kpidsl.load_data` does. A column the contract does not
        know is ignored, with a warning in ``notices``.
        """
        given = dict(providers=providers, bootcamps=bootcamps, employers=employers,
                     engagements=engagements, learners=learners, interviews=interviews,
                     payments=payments, profiles=profiles)
        problems: list[Diagnostic] = []
        notices: list[Diagnostic] = []
        made: dict[str, list[Any]] = {}
        row_of: dict[int, str] = {}
        for t in RECORD_TYPES:
            fields, unknown = FIELDS[t.name], set()
            records = made[t.plural] = []
            for i, row in enumerate(_rows(given[t.plural])):
                where = f"{t.plural}[{i}]"
                if not isinstance(row, Mapping):
                    problems.append(Diagnostic(
                        message=f"expected a mapping of column to value, not "
                        f"{type(row).__name__}", file=where, record_type=t.name))
                    continue
                for name in row.keys() - fields.keys() - unknown:
                    unknown.add(name)
                    near = difflib.get_close_matches(str(name), fields, 1)
                    notices.append(Diagnostic(
                        message=f"unknown column {name!r} is ignored", file=where,
                        severity="warning", record_type=t.name, field=str(name),
                        hint=f"did you mean `{near[0]}`?" if near else None))
                try:
                    record = t.cls(**{k: v for k, v in row.items() if k in fields})
                except DataError as e:
                    problems += [attrs.evolve(d, file=where) for d in e.diagnostics]
                    continue
                records.append(record)
                row_of[id(record)] = where
        if problems:
            raise DataError(problems)
        data = cls(**made, notices=notices)
        data._mark_values_checked()  # each record checked its own values
        integrity = [record_diagnostic(r, field, message, file=row_of[id(r)])
                     for r, field, message in data.problems()]
        if integrity:
            raise DataError(integrity)
        return data

    def _mark_values_checked(self) -> None:
        """For the code that made the records and checked their values already."""
        object.__setattr__(self, "_values_checked", True)

    def of(self, type_name: str) -> tuple[Any, ...]:
        """All records of the type called ``type_name`` in rules (``"learner"``)."""
        return getattr(self, BY_NAME[type_name].plural)  # type: ignore[no-any-return]

    def problems(self) -> list[tuple[Any, str, str]]:
        """Problems as ``(record, field, message)``: first the values, type by type in file
        order, then integrity.

        Checks every value of every record against its field (see :func:`value_problem`);
        then that ids are unique, that every reference names an existing record and that a
        co-funded learner names its employer. A message about a value does not repeat the
        field's name (``'cofunded' is not one of independent, co_funded, self_employed``). A
        data set cannot change, so the answer is worked out once and remembered: evaluating
        many dates costs one check. A data set from :func:`kpidsl.load_data` comes with its
        values checked cell by cell, so only integrity is checked here.
        """
        found = self._problems
        if found is None:
            values = [] if self._values_checked else list(self._value_problems())
            bad = {(id(r), field) for r, field, _ in values}
            found = (*values, *self._integrity_problems(bad))
            object.__setattr__(self, "_problems", found)
        return list(found)

    def _value_problems(self) -> Iterator[tuple[Any, str, str]]:
        for t in RECORD_TYPES:
            records = self.of(t.name)
            suspect = [f for f in FIELDS[t.name].values()
                       if not _plainly_valid(f, list(map(operator.attrgetter(f.name), records)))]
            for r in records if suspect else ():
                for f in suspect:
                    message = value_problem(f, getattr(r, f.name))
                    if message is not None:
                        yield r, f.name, message

    def _integrity_problems(self, bad: set[tuple[int, str]]) -> Iterator[tuple[Any, str, str]]:
        """Duplicates and dangling references, leaving out the fields in ``bad`` (their values
        are wrong already, and may not even be hashable)."""
        keys: dict[str, set[Any]] = {}
        for t in RECORD_TYPES:
            seen: set[Any] = set()
            if t.key:
                for r in self.of(t.name):
                    if bad and any((id(r), f) in bad for f in t.key):
                        continue
                    k = tuple(getattr(r, f) for f in t.key)
                    if k in seen:
                        what = ", ".join(f"{f} {v!r}" for f, v in zip(t.key, k, strict=False))
                        yield r, t.key[-1], f"duplicate {t.name}: {what} appears earlier"
                    seen.add(k)
            keys[t.name] = seen
        for link in LINKS:
            if link.many or link.target_field != BY_NAME[link.target].key[0]:
                continue
            known = keys[link.target]
            records = self.of(link.source)
            if bad:
                records = [r for r in records if (id(r), link.source_field) not in bad]
            for r in records:
                v = getattr(r, link.source_field)
                if v is not None and (v,) not in known:
                    yield r, link.source_field, f"no {link.target} has {link.target_field} {v!r}"
        for r in self.learners:
            if r.learner_type == "co_funded" and r.employer_id is None \
                    and (id(r), "employer_id") not in bad:
                yield r, "employer_id", "a co-funded learner must name its employer"


# --------------------------------------------------------------------------- making records

#: Rows for :meth:`Dataset.from_rows`: mappings, or a DataFrame or Arrow table.
Rows = Iterable[Mapping[str, Any]] | Any


def _rows(rows: Rows) -> Iterable[Any]:
    """The rows of a table as mappings: a pandas ``DataFrame`` (``to_dict("records")``), an
    Arrow table (``to_pylist()``), a DB-API cursor (its rows named by ``description``), rows
    with ``keys()`` (``sqlite3.Row``), or any iterable of mappings as it is."""
    if hasattr(rows, "to_pylist"):
        return rows.to_pylist()  # type: ignore[no-any-return]
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        return rows.to_dict("records")  # type: ignore[no-any-return]
    description = getattr(rows, "description", None)
    if description:
        names = [d[0] for d in description]
        return (dict(zip(names, row, strict=True)) for row in rows)
    return (row if isinstance(row, Mapping) or not hasattr(row, "keys")
            else {k: row[k] for k in row.keys()} for row in rows)  # noqa: SIM118 (sqlite3.Row)


def _who(t: RecordType, values: Mapping[str, Any]) -> tuple[str, str | None]:
    """How a record is named in a message (``Learner L12``, ``Interview of L3``), and its id."""
    if t.key:
        ident = "/".join(str(values.get(f)) for f in t.key)
        return f"{t.cls.__name__} {ident}", ident
    owner = values.get("learner_id") or values.get("provider_id")
    return f"{t.cls.__name__} of {owner}" if owner else t.cls.__name__, None


def record_diagnostic(record: Any, field: str, message: str, *, file: str | None = None,
                      line: int | None = None, hint: str | None = None) -> Diagnostic:
    """A problem with one field of a record: ``Learner L12: completion_date: …``, with the
    record's type, id, field and value as data."""
    t = BY_CLASS[type(record)]
    values = {f: getattr(record, f, None) for f in (*t.key, "learner_id", "provider_id")}
    who, ident = _who(t, values)
    return Diagnostic(message=f"{who}: {field}: {message}", file=file, line=line, hint=hint,
                      record_type=t.name, record_id=ident, field=field,
                      value=getattr(record, field, None))


#: Each record class's own ``__init__`` as attrs made it: no conversion, no checks.
_UNCHECKED: dict[type, Callable[..., None]] = {}


def plain_init(cls: type) -> Callable[..., None]:
    """The ``__init__`` attrs made for a record class, which neither converts nor checks: for
    the hot loop of the CSV loader, whose every value is checked already."""
    return _UNCHECKED[cls]


def unchecked(cls: type[R], values: Mapping[str, Any]) -> R:
    """A record made from values that were checked (or reported) already, as the CSV loader
    and the rule tests' builder make them: nothing is converted or checked again."""
    record = object.__new__(cls)
    _UNCHECKED[cls](record, **values)
    return record


def _checking_init(t: RecordType) -> None:
    """Make ``t.cls(...)`` convert and check each value (see the module docstring), raising
    one :class:`DataError` that lists every bad field of the record."""
    from kpidsl.data.values import BadValue, fast_check, python_converter  # reads this module

    fields = FIELDS[t.name]
    converters = {name: python_converter(info, value_problem) for name, info in fields.items()}
    quick = {name: fast_check(info) for name, info in fields.items()}
    quick["line"] = lambda line: True
    required = frozenset(name for name, info in fields.items() if info.required)
    order = {name: i for i, name in enumerate(fields)}
    plain = _UNCHECKED[t.cls] = t.cls.__init__  # type: ignore[misc]

    def __init__(self: Any, **values: Any) -> None:
        for name, value in values.items():  # the common case, fast: every value is fine
            ok = quick.get(name)
            if ok is None or not ok(value):
                break
        else:
            if required <= values.keys():
                plain(self, **values)
                return
        bad: list[tuple[str, Any, str, str | None]] = []
        for name, value in values.items():
            convert = converters.get(name)
            if convert is None:
                if name != "line":
                    near = difflib.get_close_matches(name, fields, 1)
                    bad.append((name, value, "no such field",
                                f"did you mean `{near[0]}`?" if near else None))
                continue
            try:
                new = convert(value)
            except BadValue as e:
                bad.append((name, value, e.what, e.hint))
                continue
            if new is not value:
                values[name] = new
        bad += [(name, None, "missing required value", None) for name in sorted(required)
                if name not in values]
        if bad:
            bad.sort(key=lambda b: order.get(b[0], len(order)))  # in column order
            who, ident = _who(t, values)
            raise DataError([Diagnostic(message=f"{who}: {name}: {what}", hint=hint,
                                        record_type=t.name, record_id=ident, field=name,
                                        value=value) for name, value, what, hint in bad])
        plain(self, **values)

    __init__.__doc__ = plain.__doc__
    __init__.__annotations__ = plain.__annotations__
    t.cls.__init__ = __init__  # type: ignore[misc]


for _t in RECORD_TYPES:
    _checking_init(_t)
