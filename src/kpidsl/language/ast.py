"""The abstract syntax tree: what a rule file says, as frozen data.

Nodes hold no behaviour; the checker and the interpreter walk them with ``visit_<ClassName>``
methods. Every node has a ``span`` that does not take part in equality, so two trees compare
equal whatever their positions (the formatter and the parser tests rely on that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

import attrs

from kpidsl.classes import fields_methods
from kpidsl.errors import Span


def _span() -> Span:
    return attrs.field(eq=False, repr=False)  # type: ignore[no-any-return]


# ---- expressions ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
@fields_methods
class Name:
    """A bare name: a field, link or definition of the record in scope, a value of an
    enumeration, a collection of all records (``learners``) or ``as_of``."""

    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Attribute:
    """``target.name``: a field, link or definition of another record (``learner.bootcamp``)."""

    target: Expr
    name: str
    name_span: Span = _span()
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Call:
    """``name(args)``: a builtin function (``count``) or a parameter table lookup."""

    name: str
    args: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Duration:
    """A length of calendar time: ``6 months`` is ``Duration(amount=6, unit="month")``."""

    amount: int
    unit: str


LiteralValue = bool | int | Decimal | Fraction | dt.date | str | Duration


@attrs.frozen(kw_only=True)
@fields_methods
class Literal:
    """A constant. ``kind`` is its type: boolean, integer, number, percent, money, date, text
    or duration. Percentages are exact fractions (``20%`` is ``Fraction(1, 5)``)."""

    kind: str
    value: LiteralValue
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class SetLiteral:
    """``{new_job, apprenticeship}``: a set of values, tested with ``in``."""

    items: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Unary:
    """``not x`` or ``-x``."""

    op: str
    operand: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Binary:
    """``left op right``: ``and``, ``or``, a comparison, ``in``, ``not in`` or arithmetic."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class IsSet:
    """``x is set`` (``negated=False``) or ``x is missing`` (``negated=True``)."""

    operand: Expr
    negated: bool
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Where:
    """``records where condition``: the records for which the condition holds. Inside the
    condition, names refer to each record in turn."""

    source: Expr
    condition: Expr
    span: Span = _span()


Expr = Name | Attribute | Call | Literal | SetLiteral | Unary | Binary | IsSet | Where


# ---- declarations -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
@fields_methods
class Case:
    """One line of a classification: ``large when employees >= 250``."""

    label: str
    condition: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Cases:
    """A classification: the first case whose condition holds gives the label, else
    ``otherwise``. Its labels form an enumeration named after the definition."""

    cases: tuple[Case, ...]
    otherwise: str
    otherwise_span: Span = _span()
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Definition:
    """``define name for subject: body``. With a subject it is a computed field of that record
    type; without one it is a constant of the whole evaluation."""

    name: str
    subject: str | None
    doc: str | None
    body: Expr | Cases
    subject_span: Span | None = attrs.field(default=None, eq=False, repr=False)
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Row:
    """One row of a parameter table: ``large: 30%``."""

    key: str
    value: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Version:
    """The values of a table from one date on (``from 2025-04-01: …``). ``start`` is ``None``
    for a table written without dates. A keyed table has ``rows``; a plain one a ``value``."""

    start: dt.date | None
    rows: tuple[Row, ...]
    value: Expr | None
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Table:
    """``table name [by enumeration]: …``: parameters kept out of the rules' logic.

    A keyed table has a value for each value of an enumeration, looked up with ``name(key)``;
    a plain one is a single value, read as ``name``. Either may have dated versions: a lookup
    uses the version in force on the as-of date, or on the date given as the last argument
    (``cofunding_rate(employer.size, bootcamp.start_date)``)."""

    name: str
    key_type: str | None
    doc: str | None
    versions: tuple[Version, ...]
    key_span: Span | None = attrs.field(default=None, eq=False, repr=False)
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Point:
    """One point of a schedule: ``R04: 31 December``."""

    label: str
    month: int
    day: int
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Schedule:
    """A yearly calendar of named points (``schedule management_point: year starts: 1 August
    …``). Each point is the first such day after the previous one, so a point may fall after
    its year ends (R14 on 31 October). Read as a name, a schedule is its most recent point on
    or before the as-of date, with ``.date``, ``.year_start`` and ``.year_end``."""

    name: str
    doc: str | None
    start_month: int
    start_day: int
    points: tuple[Point, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Text:
    """A piece of prose or a metadata value (``title: "Learner Drop-Out"``)."""

    key: str
    text: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Clause:
    """One rule clause of a KPI: ``population``, ``counted``, ``pending``, ``target``, or for a
    KPI measured per provider ``actual`` and ``planned``. ``direction`` is ``at least`` or
    ``at most`` for the target, else ``None``."""

    kind: str
    expr: Expr
    direction: str | None = None
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class FollowUp:
    """``follow up when not counted: "…"``: an action listed for every such record."""

    verdict: str
    message: str
    span: Span = _span()


#: The guidance table's columns, in its order: the order ``Kpi.meta`` is kept in.
META_KEYS = ("title", "stage", "level", "descriptor", "measured", "monitors", "source")


@attrs.frozen(kw_only=True)
@fields_methods
class Kpi:
    """A key performance indicator: its metadata from the guidance, its prose, the decisions
    it takes, and the clauses that decide each record.

    ``meta`` keeps the guidance table's entries in the table's order (``META_KEYS``), however
    they were written; ``decisions`` are ``Text`` nodes whose key is the
    decision's title."""

    name: str
    meta: tuple[Text, ...]
    policy: Text | None
    decisions: tuple[Text, ...]
    population: Clause | None
    counted: Clause | None
    pending: Clause | None
    target: Clause | None
    follow_ups: tuple[FollowUp, ...]
    per: str | None = None
    """``provider`` for a KPI that measures each provider as a whole (``actual`` against
    ``planned``) rather than classifying records; ``None`` for the usual form."""
    actual: Clause | None = None
    planned: Clause | None = None
    name_span: Span = _span()
    span: Span = _span()

    def meta_value(self, key: str) -> str | None:
        """The text of metadata entry ``key`` (``"title"``), if given."""
        return next((m.text for m in self.meta if m.key == key), None)


@attrs.frozen(kw_only=True)
@fields_methods
class Notice:
    """A ``finding`` (a data-quality problem, judged on the data as written) or an ``action``
    (a follow-up, judged at the as-of date) listed for each record of ``records``."""

    kind: str
    name: str
    doc: str | None
    message: str
    records: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class GivenRecord:
    """One record of a test's cohort: ``learner L1: bootcamp_id = B1, …``."""

    type_name: str
    id: str
    fields: tuple[tuple[str, Expr], ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Expect:
    """What a test expects of one result: ``expect learner_dropout for bootcamp B1: met,
    1 of 5, 0 pending``. Counts left out are not checked."""

    kpi: str
    scope: str
    group: str
    status: str
    numerator: int | None
    denominator: int | None
    pending: int | None
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class ExpectEntries:
    """``expect 1 action employer_unreachable``: how many findings or actions the rule called
    ``name`` lists (a KPI's follow-ups are listed under the KPI's name)."""

    count: int
    kind: str
    name: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
@fields_methods
class Test:
    """A test written beside the rules: a tiny cohort, an as-of date, expected results."""

    name: str
    doc: str | None
    as_of: dt.date
    records: tuple[GivenRecord, ...]
    expects: tuple[Expect, ...]
    entries: tuple[ExpectEntries, ...] = ()
    span: Span = _span()


Item = Kpi | Definition | Table | Notice | Schedule | Test


def children(node: object) -> Iterator[object]:
    """The nodes directly below ``node``, in field order (spans are not nodes)."""
    cls = type(node)
    assert attrs.has(cls), cls  # every node is an attrs class
    for a in attrs.fields(cls):
        value = getattr(node, a.name)
        for v in value if isinstance(value, tuple) else (value,):
            if attrs.has(type(v)) and not isinstance(v, Span):
                yield v


def operands(node: Expr, op: str) -> list[Expr]:
    """The parts of a chain of one operator: ``a and b and c`` → ``[a, b, c]``; anything else
    is a chain of one."""
    if isinstance(node, Binary) and node.op == op:
        return [*operands(node.left, op), *operands(node.right, op)]
    return [node]


def walk(node: object) -> Iterator[object]:
    """``node`` and every node below it, parents first."""
    yield node
    for child in children(node):
        yield from walk(child)


@attrs.frozen(kw_only=True)
@fields_methods
class RuleFile:
    """One parsed ``.kpi`` file."""

    path: str
    items: tuple[Item, ...]
    source: str = attrs.field(eq=False, repr=False)
