"""The plan: a checked rule set as typed, resolved data that every engine executes.

Every name is bound (a field, a link, a definition, a table, a schedule, ``as_of``), every
expression carries its :class:`~kpidsl.language.builtins.Type`, and the language's rules about
time and missing values are stated here, once, for every engine:

- **As-of masking.** A :class:`Field` with ``masked`` set is a dated event: after the as-of date
  it reads as missing. Rows dated by ``records.ROW_DATES`` (interviews, payments, recorded
  engagements) do not exist after the as-of date: :class:`All` and :class:`Related` only yield
  rows that exist.
- **Missing values.** A comparison or ``in`` with a missing operand is false; a missing boolean
  is not true (``Not`` of missing is true); arithmetic, navigation and table lookups on a missing
  value are missing; division by zero is missing; ``sum`` skips missing values and is 0 over
  nothing; ``earliest``/``latest`` over nothing are missing; ``count`` counts every element.
- **Exact numbers.** Integers, money (``Decimal``) and percentages (``Fraction``) are exact;
  ``Shift`` adds calendar time with the day clamped to the end of a shorter month, and a date
  past year 9999 is missing.

Nodes hold no behaviour; engines walk them with ``visit_<ClassName>`` methods
(:class:`~kpidsl.plan.visitor.Visitor`). A node's ``span`` points back at the rule text it came
from and takes no part in equality.
"""

from __future__ import annotations

import attrs

from kpidsl.classes import fields_methods
from kpidsl.contract.records import Link
from kpidsl.errors import Span
from kpidsl.language import ast
from kpidsl.language.builtins import Type


def _span() -> Span | None:
    return attrs.field(default=None, eq=False, repr=False)  # type: ignore[no-any-return]


@attrs.frozen(kw_only=True)
@fields_methods
class Expr:
    """Base of every plan expression: its type and where it was written."""

    type: Type
    span: Span | None = _span()


# ---- leaves ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
@fields_methods
class Const(Expr):
    """A constant: bool, int, ``Decimal`` (money, numbers), ``Fraction`` (percentages), date,
    text or enumeration label (``str``), ``ast.Duration``, or a ``frozenset`` of labels."""

    value: object


@attrs.frozen(kw_only=True)
@fields_methods
class AsOf(Expr):
    """The evaluation's as-of date."""


@attrs.frozen(kw_only=True)
@fields_methods
class Field(Expr):
    """A field of the record in scope. ``masked``: a dated event, missing after as-of."""

    record: str
    name: str
    masked: bool = False


@attrs.frozen(kw_only=True)
@fields_methods
class Link1(Expr):
    """The one record a single link of the record in scope names, or missing."""

    link: Link


@attrs.frozen(kw_only=True)
@fields_methods
class Related(Expr):
    """The records a many link collects for the record in scope (those that exist)."""

    link: Link


@attrs.frozen(kw_only=True)
@fields_methods
class All(Expr):
    """Every record of a type that exists on the as-of date."""

    record: str


@attrs.frozen(kw_only=True)
@fields_methods
class DefRef(Expr):
    """A definition: of the record in scope (``record`` is its type), or a constant of the
    whole evaluation (``record`` is ``None``). Bodies are in :attr:`Plan.definitions`, so an
    engine computes each once per record however often it is used."""

    record: str | None
    name: str


@attrs.frozen(kw_only=True)
@fields_methods
class Point(Expr):
    """A schedule's most recent point on or before the as-of date (missing before its first)."""

    schedule: str


@attrs.frozen(kw_only=True)
@fields_methods
class Lookup(Expr):
    """A parameter table's value: the version in force on ``when`` (``None``: the as-of date),
    then, for a keyed table, the row for ``key`` (an enumeration label)."""

    table: str
    key: Expr | None = None
    when: Expr | None = None


# ---- navigation and lists -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
@fields_methods
class Nav(Expr):
    """``body`` evaluated in the scope of the record ``target`` gives (missing if none)."""

    target: Expr
    body: Expr


@attrs.frozen(kw_only=True)
@fields_methods
class PointMember(Expr):
    """``date``, ``year_start``, ``year_end`` or ``label`` of a schedule's point."""

    target: Expr
    member: str


@attrs.frozen(kw_only=True)
@fields_methods
class Each(Expr):
    """``body`` for each record of the list ``source`` (``payments.amount_paid``)."""

    source: Expr
    body: Expr


@attrs.frozen(kw_only=True)
@fields_methods
class Filter(Expr):
    """The records of ``source`` for which ``condition`` holds (``where``)."""

    source: Expr
    condition: Expr


@attrs.frozen(kw_only=True)
@fields_methods
class Agg(Expr):
    """A builtin over a list: ``count``, ``any``, ``sum``, ``earliest`` or ``latest``."""

    fn: str
    source: Expr


@attrs.frozen(kw_only=True)
@fields_methods
class SetOf(Expr):
    """A set of values computed per record (a set literal that is not constant)."""

    items: tuple[Expr, ...]


# ---- operators ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
@fields_methods
class Not(Expr):
    operand: Expr


@attrs.frozen(kw_only=True)
@fields_methods
class And(Expr):
    items: tuple[Expr, ...]


@attrs.frozen(kw_only=True)
@fields_methods
class Or(Expr):
    items: tuple[Expr, ...]


@attrs.frozen(kw_only=True)
@fields_methods
class IsSet(Expr):
    """``x is set`` (``negated`` false) or ``x is missing``."""

    operand: Expr
    negated: bool


@attrs.frozen(kw_only=True)
@fields_methods
class Compare(Expr):
    """``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``; enumeration labels compare as text."""

    op: str
    left: Expr
    right: Expr


@attrs.frozen(kw_only=True)
@fields_methods
class In(Expr):
    """``value in set`` (``negated``: ``not in``)."""

    value: Expr
    set: Expr
    negated: bool


@attrs.frozen(kw_only=True)
@fields_methods
class Arith(Expr):
    """``+ - * /`` on numbers, money and percentages, exactly."""

    op: str
    left: Expr
    right: Expr


@attrs.frozen(kw_only=True)
@fields_methods
class Neg(Expr):
    operand: Expr


@attrs.frozen(kw_only=True)
@fields_methods
class Shift(Expr):
    """A date plus (``sign`` 1) or minus (-1) a calendar duration, clamped to month ends."""

    date: Expr
    duration: ast.Duration
    sign: int


# ---- declarations ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
@fields_methods
class Classify(Expr):
    """A classification's body: the label of the first case whose condition holds."""

    cases: tuple[tuple[Expr, str], ...]
    otherwise: str


@attrs.frozen(kw_only=True)
@fields_methods
class Definition:
    """A definition's resolved body, and the definitions it uses directly."""

    record: str | None
    name: str
    body: Expr
    uses: tuple[tuple[str | None, str], ...]


@attrs.frozen(kw_only=True)
@fields_methods
class Table:
    """A parameter table's versions: ``(start, value)`` with ``start`` ``None`` for an undated
    one; a keyed table's value is a mapping label → value."""

    name: str
    keyed: bool
    type: Type
    versions: tuple[tuple[object, object], ...]
    spans: tuple[dict[str, Span], ...] = attrs.field(default=(), eq=False, repr=False)
    """Where each version's values are written (by label; ``""`` for a plain table's), for
    a stage that reads a table's values as settings (:mod:`kpidsl.data.ilr`) and must point
    at a bad one."""


@attrs.frozen
@fields_methods
class Shown:
    """A clause, or one part of it, as ``explain`` shows it: the kind of clause, its source,
    its condition and what it reads (label as written, expression), lowered to the plan so
    that every engine computes them."""

    clause: str
    source: str
    test: Expr
    reads: tuple[tuple[str, Expr], ...]


@attrs.frozen
@fields_methods
class Clauses:
    """What ``explain`` shows of a KPI judged record by record: its ``counted when`` (and
    ``pending when``) clause, whole and in its ``and`` parts."""

    counted: Shown
    counted_parts: tuple[Shown, ...]
    pending: Shown | None
    pending_parts: tuple[Shown, ...]

    @property
    def all(self) -> list[Shown]:
        return [self.counted, *self.counted_parts, *([self.pending] if self.pending else []),
                *self.pending_parts]


@attrs.frozen(kw_only=True)
@fields_methods
class KpiPlan:
    """A KPI that classifies each record of a population as counted, pending or not.

    ``member`` tests a record of ``record`` for the population (``None``: every record);
    ``counted`` and ``pending`` are asked in that order (a counted record is never pending).
    ``follow_ups`` maps a verdict (``not counted``/``pending``) to the action it lists.
    """

    name: str
    record: str
    member: Expr | None
    counted: Expr
    pending: Expr | None
    target: Expr
    direction: str
    follow_ups: tuple[tuple[str, str], ...]
    explain: Clauses = attrs.field(eq=False, repr=False)
    """What ``explain`` shows of the clauses that decide a record."""


@attrs.frozen(kw_only=True)
@fields_methods
class MeasurePlan:
    """A KPI measured per provider: ``actual`` (k) against ``planned`` (n), nothing pending."""

    name: str
    actual: Expr
    planned: Expr
    target: Expr
    direction: str
    explain: Shown = attrs.field(eq=False, repr=False)
    """What ``explain`` shows of the target (what it reads: a management point, a
    tolerance)."""


@attrs.frozen(kw_only=True)
@fields_methods
class NoticePlan:
    """A finding (judged on the data as written) or an action (at the as-of date) listed for
    each record of ``record`` for which ``member`` holds."""

    kind: str
    name: str
    message: str
    record: str
    member: Expr | None


@attrs.frozen(kw_only=True)
@fields_methods
class Plan:
    """Everything an engine needs to evaluate a rule set."""

    kpis: tuple[KpiPlan | MeasurePlan, ...]
    notices: tuple[NoticePlan, ...]
    definitions: dict[tuple[str | None, str], Definition]
    tables: dict[str, Table]
    schedules: dict[str, ast.Schedule]
    sources: dict[str, str] = attrs.field(factory=dict, eq=False, repr=False)
    """The text of each rule file by its path, for messages that quote a rule."""

    def kpi(self, name: str) -> KpiPlan | MeasurePlan:
        for k in self.kpis:
            if k.name == name:
                return k
        raise KeyError(name)


def children(node: object) -> list[Expr]:
    """The plan expressions directly below ``node``."""
    out: list[Expr] = []
    cls = type(node)
    assert attrs.has(cls), cls  # every node is an attrs class
    for a in attrs.fields(cls):
        value = getattr(node, a.name)
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, tuple):  # a classification's (condition, label)
                out += [x for x in v if isinstance(x, Expr)]
            elif isinstance(v, Expr):
                out.append(v)
    return out
