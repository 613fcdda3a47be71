"""The record types of the data contract: their fields (columns of KPI-SPEC §1), files,
keys, links and dated rows, and what makes a value of one a problem.

Each record type is a frozen attrs class whose fields are the columns of KPI-SPEC §1; field
metadata (``doc``, ``enum``, the checks ``minimum``/``maximum``/``pattern``) feeds the loaders,
:meth:`~kpidsl.data.dataset.Dataset.problems`, the rule checker, the SQL generator and the
data-contract page from one place, so they cannot drift apart. ``LINKS`` says how records refer
to each other; rules navigate those links (``learner.bootcamp``, ``learner.interviews``).

A record checks and converts its values when it is made, with the CSV loader's rules and
messages (``Learner L12: completion_date: '2024-13-01' is not a date``): text is read as a CSV
cell is, ``None`` is a missing value, and an int or float is money when that loses nothing
(a float such as ``0.1 + 0.2``, which is not a whole number of pence, is refused: a float
cannot hold pence exactly, so money is given as a ``Decimal`` or as text).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from kpidsl.classes import fields_methods
from kpidsl.contract.fields import FieldInfo, field, fields_of, line_field
from kpidsl.contract.values import BadValue, fast_check, python_converter, value_problem
from kpidsl.errors import DataError, Diagnostic

R = TypeVar("R")


@attrs.frozen(kw_only=True)
@fields_methods
class Provider:
    """A training provider holding a Skills Bootcamps contract (``providers.csv``)."""

    provider_id: str = field("Unique id of the provider.")
    name: str = field("Name of the provider.")
    ukprn: str | None = field(
        "UK Provider Reference Number (8 digits).",
        default=None,
        pattern=("[0-9]{8}", "exactly 8 digits"),
    )
    line: int | None = line_field()


@attrs.frozen(kw_only=True)
@fields_methods
class Bootcamp:
    """One Skills Bootcamp delivered by a provider (``bootcamps.csv``)."""

    bootcamp_id: str = field("Unique id of the bootcamp.")
    provider_id: str = field("The provider that delivers it.")
    title: str = field("Title of the bootcamp.")
    start_date: dt.date = field("First day of training.")
    end_date: dt.date = field("Last day of training.")
    course_cost: Decimal = field(
        "Cost of the course per learner, in pounds (at least 0).", minimum=0
    )
    accelerated_apprenticeship: bool = field(
        "The bootcamp leads to an accelerated apprenticeship.", default=False
    )
    line: int | None = line_field()


@attrs.frozen(kw_only=True)
@fields_methods
class Employer:
    """An employer engaged with bootcamps or co-funding learners (``employers.csv``)."""

    employer_id: str = field("Unique id of the employer.")
    name: str = field("Name of the employer.")
    employees: int = field(
        "Number of employees (at least 0); the rules classify employers by size from it "
        "(see rules/definitions.kpi).",
        minimum=0,
    )
    line: int | None = line_field()


@attrs.frozen(kw_only=True)
@fields_methods
class Engagement:
    """An employer's engagement with one bootcamp (``engagements.csv``)."""

    bootcamp_id: str = field("The bootcamp engaged with.")
    employer_id: str = field("The employer engaged.")
    roles: frozenset[str] = field(
        "The roles the employer has (a set).", enum="role", default=frozenset()
    )
    contact_attempts: int = field(
        "How many times the employer was contacted (at least 0).", default=0, minimum=0
    )
    reached: bool | None = field("The employer answered when contacted.", default=None)
    role_confirmed: bool | None = field("The employer confirmed its role.", default=None)
    satisfaction: int | None = field(
        "Satisfaction score from 0 to 5.", default=None, minimum=0, maximum=5
    )
    recorded_date: dt.date | None = field(
        "Day the engagement was first recorded. After the as-of date it does not exist yet; "
        "an engagement without one exists at every as-of date.",
        default=None,
    )
    line: int | None = line_field()


@attrs.frozen(kw_only=True)
@fields_methods
class Learner:
    """A learner enrolled on a bootcamp, with the dates of their milestones (``learners.csv``)."""

    learner_id: str = field("Unique id of the learner.")
    bootcamp_id: str = field("The bootcamp the learner is enrolled on.")
    learner_type: str = field("Independent, co-funded or self-employed.", enum="learner_type")
    employer_id: str | None = field("The co-funding employer (required when co-funded).",
                                    default=None)
    start_date: dt.date = field("Day the learner started training.")
    milestone1_date: dt.date | None = field("Day Milestone 1 (start) was reached.", default=None)
    withdrawal_date: dt.date | None = field("Day the learner withdrew.", default=None)
    completion_date: dt.date | None = field("Day the learner completed (Milestone 2).",
                                            default=None)
    initial_assessment_date: dt.date | None = field("Day of the initial assessment.", default=None)
    final_assessment_date: dt.date | None = field("Day of the final assessment.", default=None)
    skills_gained: bool | None = field(
        "The final assessment shows the skills were gained.", default=None
    )
    wants_interview: bool | None = field(
        "The learner has a stated aim to have an interview.", default=None
    )
    new_role_evidence_date: dt.date | None = field(
        "Day the employer evidenced the co-funded learner's new role or responsibilities.",
        default=None,
    )
    outcome: str | None = field("The positive outcome achieved.", enum="outcome", default=None)
    outcome_date: dt.date | None = field("Day of the outcome.", default=None)
    referral_date: dt.date | None = field("Day the learner was referred elsewhere.", default=None)
    referral_kind: str | None = field(
        "What the learner was referred to.", enum="referral_kind", default=None
    )
    line: int | None = line_field()


@attrs.frozen(kw_only=True)
@fields_methods
class Interview:
    """An interview offered to a learner (``interviews.csv``)."""

    learner_id: str = field("The learner interviewed.")
    employer_id: str = field("The interviewing employer.")
    offer_date: dt.date = field("Day the interview was offered.")
    actual_job: bool = field("The interview is for an actual job (an apprenticeship counts).")
    matches_skills: bool = field("The role matches the skills the bootcamp teaches.")
    full_apprenticeship: bool = field("The job is a full-length apprenticeship.", default=False)
    result: str = field("What came of the interview.", enum="result", default="pending")
    line: int | None = line_field()


@attrs.frozen(kw_only=True)
@fields_methods
class Payment:
    """A co-funding payment made by a learner's employer (``cofunding.csv``)."""

    learner_id: str = field("The co-funded learner.")
    amount_paid: Decimal = field("Amount paid, in pounds (at least 0).", minimum=0)
    paid_date: dt.date = field("Day the payment was made.")
    line: int | None = line_field()


@attrs.frozen(kw_only=True)
@fields_methods
class Profile:
    """Planned Milestone 1 starts of a provider for one month (``profiles.csv``)."""

    provider_id: str = field("The provider whose delivery plan this is.")
    month: dt.date = field("The month (first day), written YYYY-MM in CSV.", month=True)
    planned_starts: int = field(
        "Planned Milestone 1 starts in that month (at least 0).", minimum=0
    )
    line: int | None = line_field()


@attrs.frozen
@fields_methods
class RecordType:
    """How a record type appears in every form: a CSV file, a SQL table, a workbook sheet, a
    :class:`~kpidsl.data.dataset.Dataset` attribute (all named :attr:`table`) and the rule
    language (:attr:`name`, :attr:`plural`)."""

    name: str
    """Singular name used in rules (``learner``)."""
    plural: str
    """Name of the collection of all such records in rules (``learners``)."""
    cls: type
    file: str
    """CSV file name in a data set folder."""
    key: tuple[str, ...]
    """Fields that identify a record (unique within its file)."""
    row_date: str | None = None
    """A date field that dates the whole row: after the as-of date the row has not happened
    yet, and a row whose date is missing (an engagement without ``recorded_date``) exists at
    every date."""
    optional: bool = False
    """The file may be absent from a data set even when it would not be empty."""
    plans: frozenset[str] = frozenset()
    """Date fields that are plans rather than events: the as-of date does not hide them."""

    @property
    def table(self) -> str:
        """The name of the file without ``.csv``: the SQL table, the workbook sheet and the
        data set's attribute (``cofunding``)."""
        return self.file.removesuffix(".csv")


RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType("provider", "providers", Provider, "providers.csv", ("provider_id",)),
    RecordType("bootcamp", "bootcamps", Bootcamp, "bootcamps.csv", ("bootcamp_id",)),
    RecordType("employer", "employers", Employer, "employers.csv", ("employer_id",)),
    RecordType("engagement", "engagements", Engagement, "engagements.csv",
               ("bootcamp_id", "employer_id"), row_date="recorded_date"),
    RecordType("learner", "learners", Learner, "learners.csv", ("learner_id",)),
    RecordType("interview", "interviews", Interview, "interviews.csv", (),
               row_date="offer_date"),
    RecordType("payment", "payments", Payment, "cofunding.csv", (), row_date="paid_date"),
    RecordType("profile", "profiles", Profile, "profiles.csv", (), optional=True,
               plans=frozenset({"month"})),
)
BY_NAME: dict[str, RecordType] = {t.name: t for t in RECORD_TYPES}
BY_CLASS: dict[type, RecordType] = {t.cls: t for t in RECORD_TYPES}


@attrs.frozen
@fields_methods
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

#: The type each reference names, by the referring type and field (``("learner",
#: "bootcamp_id")`` → ``"bootcamp"``): a dangling one is a problem.
REFERENCES: dict[tuple[str, str], str] = {
    (link.source, link.source_field): link.target for link in LINKS if not link.many
}

#: The record types whose rows are dated (:attr:`RecordType.row_date`), with that field.
ROW_DATES: dict[str, str] = {t.name: t.row_date for t in RECORD_TYPES if t.row_date}


FIELDS: dict[str, dict[str, FieldInfo]] = {
    t.name: {f.name: f for f in fields_of(t.cls)} for t in RECORD_TYPES
}


def masked(record: str, field: str) -> bool:
    """Whether the as-of date hides a field: a date after it is read as missing (KPI-SPEC §2).
    Every date field is an event, but for the plans of :attr:`RecordType.plans`."""
    return FIELDS[record][field].kind == "date" and field not in BY_NAME[record].plans


@attrs.frozen
@fields_methods
class RequiredWhen:
    """A field a record must give when another field has a value."""

    record: str
    field: str
    when: str
    value: str
    message: str


#: The contract's conditional requirements (KPI-SPEC §1: ``employer_id`` is required when
#: the learner is co-funded), checked by every loader and engine.
REQUIRED_WHEN: tuple[RequiredWhen, ...] = (
    RequiredWhen("learner", "employer_id", "learner_type", "co_funded",
                 "a co-funded learner must name its employer"),
)


def key_of(type_name: str, record: Any) -> str | None:
    """The id of a record as its key fields give it, joined by ``/`` (``L0042``,
    ``BC01/EMP03``); ``None`` for a type without a key (an interview, a payment)."""
    key = BY_NAME[type_name].key
    return "/".join(str(getattr(record, f)) for f in key) if key else None


def describe(type_name: str, record: Any, line: bool = True) -> str:
    """A record as a person names it: ``learner L0042``, ``engagement BC01/EMP03``; a record
    without an id by its owner, and its line when it has one and ``line`` (``interview of
    L3 (line 2)``; without ``line`` where its location is said beside it)."""
    ident = key_of(type_name, record)
    if ident is not None:
        return f"{type_name} {ident}"
    owner = getattr(record, "learner_id", None) or getattr(record, "provider_id", "")
    where = f" (line {record.line})" if record.line and line else ""
    return f"{type_name} of {owner}{where}"


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


#: Each record class's converters, field by field, as its ``__init__`` reads its values.
_CONVERTERS: dict[type, dict[str, Callable[[Any], Any]]] = {}


def stand_in(cls: type[R], values: Mapping[str, Any]) -> tuple[R, frozenset[str]]:
    """What is kept of a record some of whose ``values`` are bad, by a reader that reports
    every problem at once: a record of the values that convert (the others ``None``), and the
    names of those that did not. Its id and references are then checked with the others', as
    the CSV loader checks a row with a bad cell."""
    out, bad = {}, set()
    for name, convert in _CONVERTERS[cls].items():
        try:
            out[name] = convert(values.get(name))
        except BadValue:
            out[name] = None
            bad.add(name)
    return unchecked(cls, out), frozenset(bad)


def _checking_init(t: RecordType) -> None:
    """Make ``t.cls(...)`` convert and check each value (see the module docstring), raising
    one :class:`DataError` that lists every bad field of the record."""
    fields = FIELDS[t.name]
    converters = {name: python_converter(info, value_problem) for name, info in fields.items()}
    quick = {name: fast_check(info) for name, info in fields.items()}
    quick["line"] = lambda line: True
    required = frozenset(name for name, info in fields.items() if info.required)
    order = {name: i for i, name in enumerate(fields)}
    plain = _UNCHECKED[t.cls] = t.cls.__init__  # type: ignore[misc]
    _CONVERTERS[t.cls] = converters

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
