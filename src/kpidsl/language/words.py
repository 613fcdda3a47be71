"""Rules in plain English: rule expressions, constants and dates as words for people.

:class:`Words` turns a rule's expressions into noun phrases ("the withdrawal date") and clauses
("the withdrawal date is recorded"); it falls back to the rule's own text for anything it does
not know. Words come out as :data:`Piece` s (text, styled text, links to documented objects),
not as markup, and this module imports nothing of docutils or Sphinx: the rule reference
(:mod:`kpidsl.sphinx`, where the pieces become docutils nodes) uses it, and so can the HTML
report and ``kpidsl explain``. :func:`percent`, the one way a share is shown to people, lives
here, below every output.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import TypeGuard

import attrs

from kpidsl.classes import fields_methods
from kpidsl.errors import Span
from kpidsl.language import ast
from kpidsl.language.builtins import Type
from kpidsl.language.checker import RuleSet
from kpidsl.language.expressions import Resolved
from kpidsl.language.source import text_at


@attrs.frozen
@fields_methods
class Styled:
    """Text in a style; the style is the subclass."""

    text: str


class Code(Styled):
    """A name or value shown as written in the rules."""


class Em(Styled):
    """A field of the data, in words."""


class Strong(Styled):
    """A label on a page."""


@attrs.frozen
@fields_methods
class Ref:
    """A link to a documented KPI (shown by its title) or to a definition, table, schedule or
    notice (shown as code). ``role`` is the ``kpi`` domain's role: ``rule``, ``def``, …"""

    role: str
    target: str
    text: str


Piece = str | Styled | Ref
Pieces = list[Piece]


def def_target(subject: str | None, name: str) -> str:
    """The cross-reference target of a definition: ``learner.completer`` or ``name``."""
    return f"{subject}.{name}" if subject else name


def kpi_title(kpi: ast.Kpi) -> str:
    """A KPI's title, or its name if it has none."""
    return kpi.meta_value("title") or kpi.name


#: What k and n are for a KPI that judges each record of a population.
COUNTED = ("counted", "population")
#: What k and n are for a KPI measured per provider: the figures its rule's ``actual:`` and
#: ``planned:`` give.
MEASURED = ("actual", "planned")


def count_words(kpi: ast.Kpi | None) -> tuple[str, str]:
    """What a KPI's k and n are called, as the reports label them: the records counted and
    the population, or for a KPI measured per provider (``per: provider``) the actual and
    planned figures of its rule (:data:`COUNTED` or :data:`MEASURED`)."""
    return MEASURED if kpi is not None and kpi.per is not None else COUNTED


def human(name: str) -> str:
    """A name as words: a field (``withdrawal_date`` → ``withdrawal date``), a status
    (``not_met`` → ``not met``) or a verdict; the one way every output spells them for
    people."""
    return name.replace("_", " ")


def to_text(pieces: Iterable[Piece]) -> str:
    """Pieces as plain text (what the page says, without links or styles)."""
    return "".join(p if isinstance(p, str) else p.text for p in pieces)


def ticks(text: str) -> Pieces:
    """Text in which ```name``` is shown as code."""
    return [Code(p) if i % 2 else p for i, p in enumerate(re.split(r"`([^`]+)`", text)) if p]


def join(parts: Sequence[Pieces], sep: str, last: str | None = None) -> Pieces:
    """``parts`` one after another, with ``sep`` between them (``last`` before the last)."""
    out: Pieces = []
    for i, p in enumerate(parts):
        if i:
            out.append(last if last is not None and i == len(parts) - 1 else sep)
        out.extend(p)
    return out


@functools.lru_cache(maxsize=4096)
def percent(value: Fraction | None, places: int = 1) -> str:
    """A fraction as a percentage for people (``Fraction(1, 5)`` → ``20%``); display only."""
    if value is None:
        return "–"
    value = Fraction(value)
    return percent_of(value.numerator, value.denominator, places)


def percent_of(k: int, n: int, places: int) -> str:
    """``k/n`` (``n`` > 0) as :func:`percent` writes it, in whole numbers: a history writes
    the rates of thousands of different counts."""
    scaled, rest = divmod(k * 100 * 10**places, n)  # exact, half to even; any size
    if 2 * rest > n or (2 * rest == n and scaled % 2):
        scaled += 1
    digits = str(abs(scaled)).rjust(places + 1, "0")
    text = digits[:-places] + "." + digits[-places:] if places else digits
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{'-' if scaled < 0 else ''}{text}%"


def day_month(month: int, day: int) -> str:
    """``31 August``."""
    return f"{day} {dt.date(2000, month, 1):%B}"


def format_date(d: dt.date) -> str:
    """``31 August 2024``."""
    return f"{day_month(d.month, d.day)} {d.year}"


def format_literal(node: ast.Literal) -> str:
    """A constant for a reader: ``£1,250.50``, ``20%``, ``31 August 2024``, ``6 months``."""
    match node.kind, node.value:
        case "boolean", v:
            return "true" if v else "false"
        case "percent", Fraction() as v:
            return percent(v, 2)  # as ``kpidsl explain`` shows a percentage
        case "money", v:
            return f"£{v:,}"
        case "date", dt.date() as v:
            return format_date(v)
        case "text", v:
            return f"“{v}”"
        case "duration", ast.Duration() as v:
            return f"{v.amount} {v.unit}{'' if v.amount == 1 else 's'}"
    return str(node.value)


_COMPARE_WORDS = {"=": "is", "<": "is less than", "<=": "is at most", ">": "is more than",
                  ">=": "is at least"}
_DATE_WORDS = {"=": "is", "<": "is before", "<=": "is on or before", ">": "is after",
               ">=": "is on or after"}
_ARITH_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_BUILTIN_WORDS = {"count": "the number of ", "sum": "the total of ",
                  "earliest": "the earliest of ", "latest": "the latest of "}
_POINT_WORDS = {"date": "date", "year_start": "first day of the year",
                "year_end": "last day of the year"}
_LEADS = {"and": "all of these hold:", "or": "at least one of these holds:"}
_LEARNERS = Type("list", elem=Type("record", "learner"))


def _compound(node: object) -> TypeGuard[ast.Binary]:
    """Whether ``node`` is an ``and`` or an ``or``."""
    return isinstance(node, ast.Binary) and node.op in ("and", "or")


class Words:
    """Rule expressions in plain English, as a list of :data:`Piece` s.

    ``value`` says what an expression is ("the withdrawal date"); ``condition`` says when a
    condition holds ("the withdrawal date is recorded"). Every node type of
    :mod:`kpidsl.language.ast` has a rendering; anything else (a node added later) is shown as
    its rule text. Without a checked rule set the words are plainer, as names cannot be told
    apart.
    """

    def __init__(self, rules: RuleSet | None = None,
                 sources: Mapping[str, str] | None = None) -> None:
        self.rules = rules
        self.sources: Mapping[str, str] = sources if sources is not None else (
            {f.path: f.source for f in rules.files} if rules is not None else {})

    # ---- helpers ----
    def _res(self, node: object) -> Resolved | None:
        return self.rules.resolved.get(id(node)) if self.rules is not None else None

    def _kind(self, node: object) -> str | None:
        res = self._res(node)
        return res.kind if res is not None else None

    def _type(self, node: object) -> Type | None:
        return self.rules.types.get(id(node)) if self.rules is not None else None

    def type_kind(self, node: object) -> str | None:
        """The kind of ``node``'s type (``boolean``, ``date``, …), if the checker knows it."""
        t = self._type(node)
        return t.kind if t is not None else None

    def fallback(self, node: object) -> Pieces:
        """The rule text of a node the renderer has no words for."""
        span: Span | None = getattr(node, "span", None)
        source = self.sources.get(span.file) if span is not None else None
        if span is None or source is None:
            return [Code(type(node).__name__)]
        return [Code(" ".join(text_at(source, span).split()))]

    def _dispatch(self, prefix: str, node: ast.Expr) -> Pieces:
        method: Callable[[ast.Expr], Pieces] | None = getattr(
            self, f"{prefix}_{type(node).__name__}", None)
        if method is None:
            method = self.fallback if prefix == "value" else self._truthy
        try:
            return method(node)
        except (AttributeError, KeyError, TypeError, ValueError):
            return self.fallback(node)

    def _paren(self, pieces: Pieces, node: ast.Expr) -> Pieces:
        return ["(", *pieces, ")"] if _compound(node) else pieces

    @staticmethod
    def _def_ref(res: Resolved) -> Ref:
        return Ref("def", def_target(res.record, res.name), res.name)

    def _who(self, records: ast.Expr) -> str:
        return "for whom" if self._type(records) == _LEARNERS else "for which"

    # ---- values ----
    def value(self, node: ast.Expr) -> Pieces:
        """What ``node`` is, as a noun phrase."""
        return self._dispatch("value", node)

    def value_Name(self, node: ast.Name) -> Pieces:
        res, n = self._res(node), node.name
        if res is not None and res.kind in ("const", "def"):
            return ["the ", self._def_ref(res)]
        by_kind: dict[str | None, Pieces] = {
            "as_of": ["the as-of date"], "value": [Code(n)], "all": [f"all {human(n)}"],
            "link": [f"the {human(n)}"], "schedule": ["the current ", Ref("schedule", n, n)],
            "table": ["the ", Ref("table", n, n)]}
        return by_kind.get(self._kind(node), ["the ", Em(human(n))])

    def _member(self, name: str, res: Resolved | None) -> Pieces:
        kind = res.kind if res is not None else None
        if res is not None and kind == "def":
            return [self._def_ref(res)]
        return [human(name)] if kind == "link" else [Em(human(name))]

    def value_Attribute(self, node: ast.Attribute) -> Pieces:
        res = self._res(node)
        target = self.value(node.target)
        if res is not None and res.kind == "point":
            return [f"the {_POINT_WORDS.get(node.name, human(node.name))} of ", *target]
        if res is not None and res.each:
            return ["the ", *self._member(node.name, res), " of each of ", *target]
        return [*target, "'s ", *self._member(node.name, res)]

    def value_Call(self, node: ast.Call) -> Pieces:
        args = node.args
        table = self.rules.tables.get(node.name) if self.rules is not None else None
        if table is not None:  # the key, if the table has one, then the date, if given
            key = [" for ", *self.value(args[0])] if table.key_type and args else []
            dates = args[1:] if table.key_type else args
            when = [" in force on ", *self.value(dates[0])] if dates else []
            return ["the ", Ref("table", node.name, node.name), *key, *when]
        if node.name in _BUILTIN_WORDS and len(args) == 1:
            arg, res = args[0], self._res(args[0])
            if (isinstance(arg, ast.Attribute) and res is not None and res.each
                    and node.name != "count"):
                # sum(payments.amount_paid): the total amount paid of the payments
                return [_BUILTIN_WORDS[node.name].removesuffix("of "),
                        *self._member(arg.name, res), " of ", *self.value(arg.target)]
            return [_BUILTIN_WORDS[node.name], *self.value(arg)]
        if node.name == "any" and len(args) == 1:
            return ["whether there is at least one of ", *self.value(args[0])]
        return self.fallback(node)  # only unchecked rules call anything else

    def value_Literal(self, node: ast.Literal) -> Pieces:
        return [format_literal(node)]

    def value_SetLiteral(self, node: ast.SetLiteral) -> Pieces:
        if not node.items:
            return ["no values"]
        return join([self.value(i) for i in node.items], ", ", " or ")

    def value_Unary(self, node: ast.Unary) -> Pieces:
        if node.op == "-":
            return ["minus ", *self.value(node.operand)]
        return ["whether ", *self.condition(node)]

    def value_IsSet(self, node: ast.IsSet) -> Pieces:
        return ["whether ", *self.condition(node)]

    def _operand(self, node: ast.Expr, parent: str, right: bool) -> Pieces:
        pieces = self.value(node)
        if isinstance(node, ast.Binary) and node.op in _PRECEDENCE:
            mine, theirs = _PRECEDENCE[node.op], _PRECEDENCE[parent]
            if mine < theirs or (right and mine == theirs and parent in "-/"):
                return ["(", *pieces, ")"]
        return pieces

    def value_Binary(self, node: ast.Binary) -> Pieces:
        if node.op in _ARITH_WORDS:
            return [*self._operand(node.left, node.op, False), f" {_ARITH_WORDS[node.op]} ",
                    *self._operand(node.right, node.op, True)]
        return ["whether ", *self.condition(node)]

    def value_Where(self, node: ast.Where) -> Pieces:
        cond = self.condition(node.condition)
        return [*self.value(node.source), f" {self._who(node.source)} ",
                *self._paren(cond, node.condition)]

    # ---- conditions ----
    def condition(self, node: ast.Expr) -> Pieces:
        """When ``node`` holds, as a clause."""
        return self._dispatch("cond", node)

    def _truthy(self, node: ast.Expr, negate: bool = False) -> Pieces:
        """A yes/no value that holds: a boolean field is true, a definition holds. Names,
        attributes and literals have no ``cond_`` method and come here."""
        res = self._res(node)
        kind = res.kind if res is not None else None
        if res is not None and kind in ("def", "const"):
            head: Pieces = [self._def_ref(res)]
            if isinstance(node, ast.Attribute):
                head = [*self.value(node.target), "'s ", *head]
            return [*head, " does not hold" if negate else " holds"]
        if isinstance(node, ast.Name) and kind in ("field", None):
            head = [Em(human(node.name))]
        elif isinstance(node, ast.Literal) and node.kind == "boolean":
            return ["never" if bool(node.value) == negate else "always"]
        else:
            head = self.value(node)
        return [*head, " is not true" if negate else " is true"]

    def cond_IsSet(self, node: ast.IsSet, negated: bool | None = None) -> Pieces:
        negated = node.negated if negated is None else negated
        field = self._kind(node.operand) == "field" or (
            self.rules is None and isinstance(node.operand, ast.Name | ast.Attribute))
        verb = "recorded" if field else "known"
        return [*self.value(node.operand), f" is {'not ' if negated else ''}{verb}"]

    def cond_Unary(self, node: ast.Unary) -> Pieces:
        if node.op != "not":
            return self._truthy(node)
        inner = node.operand
        if isinstance(inner, ast.IsSet):
            return self.cond_IsSet(inner, negated=not inner.negated)
        if isinstance(inner, ast.Name | ast.Attribute) or (
                isinstance(inner, ast.Literal) and inner.kind == "boolean"):
            return self._truthy(inner, negate=True)
        return ["it is not the case that ", *self._paren(self.condition(inner), inner)]

    def chain(self, node: ast.Expr) -> tuple[str | None, list[ast.Expr]]:
        """``a and b and c`` as ``("and", [a, b, c])``; anything else as ``(None, [node])``."""
        if not _compound(node):
            return None, [node]

        def flatten(n: ast.Expr) -> list[ast.Expr]:
            if isinstance(n, ast.Binary) and n.op == node.op:
                return [*flatten(n.left), *flatten(n.right)]
            return [n]

        return node.op, flatten(node)

    def cond_Binary(self, node: ast.Binary) -> Pieces:
        op = node.op
        if op in ("and", "or"):
            _, parts = self.chain(node)
            return join([self._paren(self.condition(p), p) for p in parts], f" {op} ")
        left = self.value(node.left)
        if op in ("in", "not in"):
            yes = op == "in"
            items = ([self.value(i) for i in node.right.items]
                     if isinstance(node.right, ast.SetLiteral) else [])
            if len(items) == 1:
                return [*left, " is " if yes else " is recorded and is not ", *items[0]]
            if len(items) == 2:
                a, b = items
                if yes:
                    return [*left, " is either ", *a, " or ", *b]
                return [*left, " is recorded and is neither ", *a, " nor ", *b]
            if items:
                return [*left, " is one of " if yes else " is recorded and is none of ",
                        *join(items, ", ")]
            return [*left, " is one of " if yes else " is recorded and is not one of ",
                    *self.value(node.right)]
        if op == "!=":
            if isinstance(node.right, ast.Literal) or self._kind(node.right) == "value":
                return [*left, " is recorded and is not ", *self.value(node.right)]
            return [*left, " and ", *self.value(node.right), " are both known and differ"]
        dates = any(self.type_kind(e) == "date" or (isinstance(e, ast.Literal) and e.kind == "date")
                    for e in (node.left, node.right))
        words = _DATE_WORDS if dates else _COMPARE_WORDS
        if op in words:
            return [*left, f" {words[op]} ", *self.value(node.right)]
        return self._truthy(node)

    def cond_Call(self, node: ast.Call) -> Pieces:
        if node.name == "any" and len(node.args) == 1 and self._kind(node) in ("builtin", None):
            return ["there is at least one of ", *self.value(node.args[0])]
        return self._truthy(node)

    # ---- clauses ----
    def _split(self, cond: ast.Expr) -> tuple[Pieces, list[Pieces]] | None:
        """A chain of three or more ``and``/``or`` parts as a lead and one bullet a part."""
        op, parts = self.chain(cond)
        if op is None or len(parts) < 3:
            return None
        return [_LEADS[op]], [self._paren(self.condition(p), p) for p in parts]

    def clause(self, expr: ast.Expr) -> tuple[Pieces, list[Pieces]]:
        """A condition for a page: a sentence, or a lead and bullets for long ``and``/``or``
        chains (``all of these hold:``)."""
        return self._split(expr) or (self.condition(expr), [])

    def population(self, expr: ast.Expr) -> tuple[Pieces, list[Pieces]]:
        """A list of records for a page: ``all learners for whom …``."""
        if not isinstance(expr, ast.Where):
            return self.value(expr), []
        lead, bullets = self.clause(expr.condition)
        return [*self.value(expr.source), f" {self._who(expr.source)} ", *lead], bullets

    def amount(self, expr: ast.Expr) -> tuple[Pieces, list[Pieces]]:
        """A count or total for a page; a long condition inside it becomes bullets
        (``the number of the learners for whom all of these hold:``)."""
        if isinstance(expr, ast.Call) and len(expr.args) == 1:
            arg, head = expr.args[0], self.value(expr)
            where = arg if isinstance(arg, ast.Where) else getattr(arg, "target", None)
            if isinstance(where, ast.Where):
                split = self._split(where.condition)
                if split is not None:
                    inner = self._paren(self.condition(where.condition), where.condition)
                    # the words of the call end with those of the condition: swap in the lead
                    if head[-len(inner):] == inner:
                        return [*head[:-len(inner)], *split[0]], split[1]
        return self.value(expr), []

    def target(self, kpi: ast.Kpi) -> Pieces:
        """``at most 20% of the population is counted``."""
        clause = kpi.target
        if clause is None:
            return ["no target"]
        direction = clause.direction or ""
        amount = self.value(clause.expr)
        if isinstance(clause.expr, ast.Binary):
            amount = ["(", *amount, ")"]
        if kpi.per is not None:
            return ["actual is ", direction, " ", *amount, " of planned"]
        return [direction, " ", *amount, " of the population is counted"]
