"""Plan expressions → SQL text, in the frame of one query's rows at a time."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any, NamedTuple, NoReturn, TypeVar, overload

import attrs

from kpidsl.classes import fields_methods
from kpidsl.contract.records import BY_NAME, LINKS, ROW_DATES, Link, masked
from kpidsl.engines import Unsupported
from kpidsl.engines.sql.ddl import table_name
from kpidsl.engines.sql.values import Num, Value, exactly, known, quote, sql_date
from kpidsl.language.builtins import INTEGER, exact
from kpidsl.plan import nodes as p
from kpidsl.plan.lower import walk
from kpidsl.plan.visitor import Visitor

_MAX_DATE = "DATE '9999-12-31'"
_UNITS = {"day": ("DAY", 1), "week": ("DAY", 7), "month": ("MONTH", 1), "year": ("MONTH", 12)}
_NUMBER_KINDS = ("integer", "number", "percent", "money")
_T = TypeVar("_T")


def _mul(a: str, b: int | str) -> str:
    if b == 1 or b == "1":
        return a
    if a == "1":
        return str(b)
    return f"({a}) * ({b})"


def _mul_d(a: int | str, b: int | str) -> int | str:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    return _mul(str(a), b)


def _py_compare(op: str, a: Fraction, b: Fraction) -> bool:
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
            ">=": a >= b}[op]


class Joins:
    """The ``LEFT JOIN`` s that one query's rows need: the records they link to (each link
    once) and the figures over their related records."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, str]] = {}  # what is joined -> (alias, JOIN text)

    def add(self, what: str, alias: str, rel: str, on: str) -> str:
        """Join ``rel`` as ``alias`` on ``on`` unless ``what`` is joined already; the alias
        it has."""
        if what not in self.items:
            self.items[what] = (alias, f" LEFT JOIN {rel} AS {alias} ON {on}")
        return self.items[what][0]

    def sql(self) -> str:
        return "".join(join for _, join in self.items.values())


@attrs.frozen
@fields_methods
class Frame:
    """Where an expression is compiled: the alias of the row it reads, the row's record type
    (``None``: a row of ``_dates``, no record), its level (it reads the definitions of lower
    levels), and the joins of the query whose rows it reads (a linked record shares its
    query's joins)."""

    alias: str
    record: str | None
    level: int
    joins: Joins = attrs.field(factory=Joins, eq=False, repr=False)
    dated_by: str | None = None
    """For a record read from its table as written (not from its view over the dates), the
    alias of the row that holds the as-of date; its dated fields are masked here."""
    sparse: bool = False
    """The rows are the record's sparse view in a history (only the records and dates of
    ``<record>__e``): the lists linked by its key are read from their views over the same
    records and dates (``<target>_<level>__<record>``), not over every date."""

    def at(self, column: str) -> str:
        """A column of the ``_dates`` row in this frame: ``_as_of`` or a schedule's point."""
        return f"{self.dated_by or self.alias}.{column}"

    def source(self, rel: str) -> str:
        """``FROM`` text: ``rel`` as this frame's alias, with the joins its expressions
        needed (so call it after compiling them)."""
        return f"{rel} AS {self.alias}{self.joins.sql()}"


def keyed(link: Link) -> bool:
    """``link`` lists the records that name its source by the source's key (a learner's
    interviews and payments): in a history those lists have views over the records and
    dates of the source's sparse view (:class:`Frame`'s ``sparse``)."""
    return link.many and link.through is None and \
        (link.source_field,) == BY_NAME[link.source].key


def by_key(link: Link, outer: Frame) -> str:
    """The suffix of the views that the list ``link`` is read from in ``outer``: its views
    over the sparse records and dates of ``outer`` where there are some, else none."""
    return f"__{outer.record}" if outer.sparse and keyed(link) else ""


_TIMELESS = (p.Const, p.Field, p.DefRef, p.Not, p.And, p.Or, p.IsSet, p.Compare, p.In, p.Arith,
             p.Neg, p.Shift, p.Classify, p.SetOf)
"""The expressions that may make a definition timeless: no date, list, link or lookup."""


def timeless_records(plan: p.Plan) -> set[str]:
    """The record types (not dated rows) with definitions that all read only the record's
    own fields that no date masks, and each other: their values are the same on every date,
    so a view of them is worked out once (``<record>_<level>t``) and a link joins it on the
    key alone, rather than a view over every as-of date (an employer's size, for a history
    of 36 months, from 12,500 rows instead of 450,000)."""
    out = set()
    for record in BY_NAME:
        bodies = [d.body for (r, _), d in plan.definitions.items() if r == record]
        if bodies and record not in ROW_DATES and all(
                isinstance(x, _TIMELESS)
                and not (isinstance(x, p.Field) and masked(record, x.name))
                and not (isinstance(x, p.DefRef) and x.record != record)
                for body in bodies for x in walk(body)):
            out.add(record)
    return out


class Listing(NamedTuple):
    """A list of records compiled for the rows of a frame (:meth:`Compiler.listing`)."""

    source: str
    """``FROM`` text of its records, before the joins of :attr:`frame`."""
    ties: list[tuple[str, str]]
    """(a column of the list, an expression of the rows outside) pairs that must be equal."""
    conditions: list[str]
    frame: Frame
    """The frame of one record of the list."""
    value: p.Expr | None
    """The value taken of each record (``each``); ``None``: the records themselves."""


class Compiler(Visitor):
    """Compiles plan expressions to SQL text in one frame at a time."""

    def __init__(self, plan: p.Plan, levels: dict[tuple[str | None, str], int],
                 money_scale: int = 1) -> None:
        self.plan = plan
        self.levels = levels
        self.money_scale = money_scale
        """Units of a money column to the pound: 100 where money is kept in pence."""
        self.frame = Frame("d", None, max(levels.values(), default=0) + 1)
        self._aliases = 0
        self.timeless = timeless_records(plan)
        """The record types whose definitions have views worked out once for every date
        (:func:`timeless_records`)."""

    def visit(self, node: Any) -> Value:
        """The node's SQL. A refusal (:class:`Unsupported`) is located at the innermost node
        that has a place in the rule text."""
        try:
            value: Value = super().visit(node)
        except Unsupported as e:
            if e.span is None:
                e.span = getattr(node, "span", None)
            raise
        return value

    # ---- helpers ----
    def fresh(self) -> str:
        self._aliases += 1
        return f"x{self._aliases}"

    @overload
    def within(self, frame: Frame, e: p.Expr) -> Value: ...

    @overload
    def within(self, frame: Frame, e: p.Expr, visit: Callable[[p.Expr], _T]) -> _T: ...

    def within(self, frame: Frame, e: p.Expr, visit: Callable[[p.Expr], Any] | None = None
               ) -> Any:
        """``e`` compiled (by ``visit``, else :meth:`visit`) in ``frame``."""
        saved, self.frame = self.frame, frame
        try:
            return (visit or self.visit)(e)
        finally:
            self.frame = saved

    def rel(self, record: str, level: int) -> str:
        """The view of ``record`` that has every definition of a level below ``level``."""
        have = [lv for (r, _), lv in self.levels.items() if r == record and lv < level]
        return f"{record}_{max(have, default=0)}"

    def cond(self, e: p.Expr) -> str:
        """SQL that is TRUE or FALSE, never NULL: a missing boolean is not true."""
        if isinstance(e, p.And | p.Or | p.Not | p.IsSet | p.Compare | p.In):
            return str(self.visit(e))
        if isinstance(e, p.Agg) and e.fn == "any":
            return str(self.visit(e))
        if isinstance(e, p.Const):
            return "TRUE" if e.value else "FALSE"
        return f"COALESCE({self.visit(e)}, FALSE)"

    def clause(self, e: p.Expr) -> str:
        """:meth:`cond` in parentheses, to stand alone after ``WHERE`` or ``WHEN``."""
        return f"({self.cond(e)})"

    def number(self, e: p.Expr) -> Num:
        v = self.visit(e)
        assert isinstance(v, Num), (e, v)
        return v

    # ---- leaves ----
    def visit_Const(self, e: p.Const) -> Value:
        v = e.value
        if e.type.kind in _NUMBER_KINDS:
            return known(v)
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, dt.date):
            return sql_date(v)
        if isinstance(v, str):
            return quote(v)
        if isinstance(v, frozenset):
            return "(" + ", ".join(quote(x) for x in sorted(v)) + ")"
        raise Unsupported(f"a constant {v!r}")

    def visit_AsOf(self, e: p.AsOf) -> str:
        return self.frame.at("_as_of")

    def visit_Field(self, e: p.Field) -> Value:
        col = f"{self.frame.alias}.{e.name}"
        if self.frame.dated_by and self.frame.record and masked(self.frame.record, e.name):
            col = f"(CASE WHEN {col} <= {self.frame.at('_as_of')} THEN {col} END)"
        if e.type.kind == "money":
            return Num(col, self.money_scale)
        if e.type.kind == "integer":
            return Num(col, 1)
        return col

    def visit_DefRef(self, e: p.DefRef) -> Value:
        if e.record is None:  # a constant of the evaluation: computed where it is used
            return self.visit(self.plan.definitions[(None, e.name)].body) \
                if self.frame.record is None else self._const_def(e)
        col = f"{self.frame.alias}.{e.name}"
        if e.type.kind in _NUMBER_KINDS:
            return Num(f"{col}__n", f"{col}__d")
        return col

    def _const_def(self, e: p.DefRef) -> Value:
        """A constant definition read inside a record's frame: computed on ``_dates`` and
        joined on the date."""
        inner = Frame(self.fresh(), None, self.frame.level)
        value = self.within(inner, self.plan.definitions[(None, e.name)].body)
        cols = [f"{inner.alias}._as_of AS _k0"]
        if isinstance(value, Num):
            cols += [f"{value.n} AS v", *([f"{value.d} AS w"] if isinstance(value.d, str)
                                          else [])]
        else:
            cols.append(f"{value} AS v")
        j = self._join_figure(f"SELECT {', '.join(cols)} FROM {inner.source('_dates')}",
                              [self.frame.at("_as_of")])
        if isinstance(value, Num):
            return Num(f"{j}.v", f"{j}.w" if isinstance(value.d, str) else value.d)
        return f"{j}.v"

    def _join_figure(self, query: str, outer: list[str]) -> str:
        """Join ``query``, whose columns ``_k0``, ``_k1``, … hold one value each of the
        expressions ``outer``, to the rows of the frame; its alias."""
        a = self.fresh()
        on = " AND ".join(f"{a}._k{i} = {o}" for i, o in enumerate(outer))
        return self.frame.joins.add(a, a, f"({query})", on)

    def visit_Point(self, e: p.Point) -> NoReturn:
        raise Unsupported("a schedule's point used as a value; use its .date or its label")

    def visit_PointMember(self, e: p.PointMember) -> str:
        if not isinstance(e.target, p.Point):
            raise Unsupported("a point that is not a schedule's current point")
        return self.frame.at(f"{e.target.schedule}__{e.member}")

    def visit_Lookup(self, e: p.Lookup) -> Value:
        table = self.plan.tables[e.table]
        when = self.visit(e.when) if e.when is not None else self.frame.at("_as_of")
        key = self.visit(e.key) if e.key is not None else None
        numeric = table.type.kind in _NUMBER_KINDS
        values = [v for _, version in table.versions
                  for v in (version.values() if isinstance(version, dict) else [version])]
        # every number of the table over one common denominator, so only the numerator varies
        scale = math.lcm(*(exactly(v).denominator for v in values if v is not None)) \
            if numeric else 1

        def one(v: object) -> str:
            if v is None:
                return "NULL"
            if numeric:
                return str(exactly(v) * scale)
            return str(self.visit(p.Const(type=table.type, value=v)))

        arms = []
        for start, version in reversed(table.versions):
            if table.keyed:
                assert isinstance(version, dict) and isinstance(key, str)
                inner = "CASE " + key + " " + " ".join(
                    f"WHEN {quote(k)} THEN {one(v)}" for k, v in version.items()) + " END"
            else:
                inner = one(version)
            test = f"{when} >= {sql_date(start)}" if isinstance(start, dt.date) \
                else f"{when} IS NOT NULL"
            arms.append(f"WHEN {test} THEN {inner}")
        picked = "(CASE " + " ".join(arms) + " END)"
        return Num(picked, scale) if numeric else picked

    # ---- navigation and lists ----
    def need(self, e: p.Expr) -> int:
        """The lowest level whose views have every definition ``e`` reads: a view with
        fewer definitions joins less (a figure over learners that reads only their dates
        needs none of the learners' definitions)."""
        top, stack = 0, [e]
        seen: set[str] = set()
        while stack:
            x = stack.pop()
            if isinstance(x, p.DefRef) and x.record is not None:
                top = max(top, self.levels[(x.record, x.name)])
            elif isinstance(x, p.DefRef):
                if x.name not in seen:
                    seen.add(x.name)
                    stack.append(self.plan.definitions[(None, x.name)].body)
            else:
                stack.extend(p.children(x))
        return top + 1

    def visit_Nav(self, e: p.Nav) -> Value:
        if isinstance(e.target, p.Point | p.PointMember):
            raise Unsupported("navigation from a point")
        if isinstance(e.target, p.Link1):
            return self.within(self._target(e.target, self.need(e.body)), e.body)
        return self.within(self._target(e.target), e.body)

    def _target(self, target: p.Expr, level: int | None = None) -> Frame:
        """The frame of the one record a navigation reaches, joined to the rows of the frame
        (so a record that links to nothing reads as missing). A record that is there
        whatever the date and whose definitions are not read, or are timeless
        (:attr:`timeless`), is joined from its table, or its timeless view, on the key
        alone, its dated fields masked where read: the join then does not grow with the
        number of dates."""
        if isinstance(target, p.Link1):
            link, outer = target.link, self.frame
            level = min(outer.level, level or outer.level)
            rel = self.rel(link.target, level)
            source, a = f"{outer.alias}.{link.source_field}", self.fresh()
            on = f"{a}.{link.target_field} = {source}"
            if link.target not in ROW_DATES and (rel.endswith("_0") or
                                                  link.target in self.timeless):
                a = outer.joins.add(f"{rel} {source}", a, table_name(link.target)
                                    if rel.endswith("_0") else f"{rel}t", on)
                return Frame(a, link.target, level, outer.joins, outer.dated_by or outer.alias)
            a = outer.joins.add(f"{rel} {source}", a, rel,
                                f"{on} AND {a}._as_of = {outer.at('_as_of')}")
            return Frame(a, link.target, level, outer.joins)
        if isinstance(target, p.Nav):
            return self.within(self._target(target.target), target.body, self._target)
        raise Unsupported(f"navigation from {type(target).__name__}")

    def listing(self, e: p.Expr, level: int | None = None) -> Listing:
        """A list, tied to the rows of the frame. Its records come from the views with just
        the definitions the whole list reads (``level``)."""
        outer = self.frame
        level = level or min(outer.level, self.need(e))
        if isinstance(e, p.Filter):
            frm, ties, conds, inner, body = self.listing(e.source, level)
            if body is not None:
                raise Unsupported("`where` on a list of values")
            return Listing(frm, ties, [*conds, self.within(inner, e.condition, self.clause)],
                           inner, None)
        if isinstance(e, p.Each):
            frm, ties, conds, inner, body = self.listing(e.source, level)
            if body is not None:
                raise Unsupported("a list of lists")
            return Listing(frm, ties, conds, inner, e.body)
        if isinstance(e, p.DefRef) and e.record is None:
            return self.listing(self.plan.definitions[(None, e.name)].body, level)
        a = self.fresh()
        if isinstance(e, p.All):
            return Listing(f"{self.rel(e.record, level)} AS {a}",
                           [(f"{a}._as_of", outer.at("_as_of"))], [],
                           Frame(a, e.record, level), None)
        if isinstance(e, p.Related):
            link = e.link
            frm = f"{self.rel(link.target, level)}{by_key(link, outer)} AS {a}"
            ties = [(f"{a}._as_of", outer.at("_as_of"))]
            if link.through is None:
                ties.append((f"{a}.{link.target_field}", f"{outer.alias}.{link.source_field}"))
            else:
                via = next(lk for lk in LINKS if lk.source == link.target
                           and lk.name == link.through)
                b = self.fresh()
                frm += f" JOIN {self.rel(via.target, level)} AS {b} ON " \
                    f"{b}.{via.target_field} = {a}.{via.source_field} AND {b}._as_of = {a}._as_of"
                ties.append((f"{b}.{link.target_field}", f"{outer.alias}.{link.source_field}"))
            return Listing(frm, ties, [], Frame(a, link.target, level), None)
        raise Unsupported(f"a list made by {type(e).__name__}")

    def visit_Agg(self, e: p.Agg) -> Value:
        frm, ties, conds, inner, body = self.listing(e.source)
        v: Value
        if e.fn in ("count", "any"):
            v = Num("1", 1)
            figure = "COUNT(*)"
        elif body is None:
            raise Unsupported(f"{e.fn} of records")
        else:
            v = self.within(inner, body)
            if isinstance(v, Num) and not isinstance(v.d, int):
                raise Unsupported(f"{e.fn} of values whose denominators differ")
            fn = {"sum": "SUM", "earliest": "MIN", "latest": "MAX"}[e.fn]
            figure = f"{fn}({v.n if isinstance(v, Num) else v})"
        keys = [inner_col for inner_col, _ in ties]
        j = self._join_figure(
            f"SELECT {', '.join(f'{k} AS _k{i}' for i, k in enumerate(keys))}, {figure} AS v "
            f"FROM {frm}{inner.joins.sql()} WHERE {' AND '.join(conds) or 'TRUE'} "
            f"GROUP BY {', '.join(keys)}", [outer for _, outer in ties])
        if e.fn == "count":
            return Num(f"COALESCE({j}.v, 0)", 1)
        if e.fn == "any":
            return f"(COALESCE({j}.v, 0) > 0)"
        if isinstance(v, Num):
            return Num(f"COALESCE({j}.v, 0)" if e.fn == "sum" else f"{j}.v", v.d)
        return f"{j}.v"

    def shown(self, e: p.Expr) -> Value:
        """A value as ``explain`` shows it (:func:`kpidsl.plan.results.shown_value`): a
        record by its key, a list of records by how many."""
        if e.type.kind == "record":
            a = self._target(e).alias
            return " || '/' || ".join(f"CAST({a}.{k} AS VARCHAR)"
                                      for k in BY_NAME[e.type.name or ""].key)
        if e.type.kind == "list" and e.type.elem is not None and e.type.elem.kind == "record":
            return self.visit(p.Agg(type=INTEGER, span=e.span, fn="count", source=e))
        return self.visit(e)

    def visit_Each(self, e: p.Expr) -> NoReturn:
        raise Unsupported("a list of values outside count, sum, earliest, latest or `in`")

    visit_Filter = visit_Related = visit_All = visit_Link1 = visit_Each

    def visit_SetOf(self, e: p.SetOf) -> NoReturn:
        raise Unsupported("a set of computed values outside `in`")

    # ---- operators ----
    def visit_Not(self, e: p.Not) -> str:
        return f"(NOT {self.cond(e.operand)})"

    def visit_And(self, e: p.And) -> str:
        return "(" + " AND ".join(self.cond(x) for x in e.items) + ")"

    def visit_Or(self, e: p.Or) -> str:
        return "(" + " OR ".join(self.cond(x) for x in e.items) + ")"

    def visit_IsSet(self, e: p.IsSet) -> str:
        x = e.operand
        if isinstance(x, p.Link1 | p.Related | p.All | p.Filter | p.Each):
            raise Unsupported("`is set` on records")
        v = self.visit(x)
        test = f"({v.n} IS NOT NULL AND {v.d} IS NOT NULL)" if isinstance(v, Num) and \
            isinstance(v.d, str) else f"({v.n if isinstance(v, Num) else v} IS NOT NULL)"
        return f"(NOT {test})" if e.negated else test

    def visit_Compare(self, e: p.Compare) -> str:
        op = "<>" if e.op == "!=" else e.op
        left, right = self.visit(e.left), self.visit(e.right)
        if isinstance(left, Num) and isinstance(right, Num):
            a, b = left.const, right.const
            if a is not None and b is not None:
                return "TRUE" if _py_compare(e.op, a, b) else "FALSE"
            return f"COALESCE({_mul(left.n, right.d)} {op} {_mul(right.n, left.d)}, FALSE)"
        return f"COALESCE({left} {op} {right}, FALSE)"

    def visit_In(self, e: p.In) -> str:
        v = self.visit(e.value)
        s = e.set
        if isinstance(s, p.Const):
            assert isinstance(s.value, frozenset), s.value
            items = sorted(s.value)
            test = "FALSE" if not items else f"{v} IN (" + ", ".join(quote(i) for i in items) + ")"
        elif isinstance(s, p.Field) and s.type.kind == "set":
            test = f"(';' || {self.visit(s)} || ';') LIKE ('%;' || {v} || ';%')"
        elif isinstance(s, p.SetOf):
            items = [self.visit(i) for i in s.items]
            test = "(" + " OR ".join(f"{v} = {i}" for i in items) + ")"
            if e.negated:
                return f"({v} IS NOT NULL AND NOT COALESCE({test}, FALSE))"
        else:
            frm, ties, conds, inner, body = self.listing(s)
            if body is None:
                raise Unsupported("`in` a list of records")
            item = self.within(inner, body)
            if isinstance(item, Num):
                raise Unsupported("`in` a list of numbers")
            found = " AND ".join([*(f"{a} = {b}" for a, b in ties), *conds, f"{item} = {v}"])
            # a count, not EXISTS: Spark allows EXISTS only in WHERE clauses
            exists = f"((SELECT COUNT(*) FROM {frm}{inner.joins.sql()} WHERE {found}) > 0)"
            return f"({v} IS NOT NULL AND NOT {exists})" if e.negated else \
                f"({v} IS NOT NULL AND {exists})"
        return f"COALESCE({'NOT ' if e.negated else ''}({test}), FALSE)"

    def visit_Arith(self, e: p.Arith) -> Num:
        a, b = self.number(e.left), self.number(e.right)
        ca, cb = a.const, b.const
        if ca is not None and cb is not None:
            r = exact(e.op)(ca, cb)
            return Num("NULL", "NULL") if r is None else known(r)
        if e.op in "+-":
            return Num(f"({_mul(a.n, b.d)} {e.op} {_mul(b.n, a.d)})", _mul_d(a.d, b.d))
        if e.op == "*":
            return Num(_mul(a.n, b.n), _mul_d(a.d, b.d))
        # division: a/b = (a.n * b.d) / (a.d * b.n), with the sign moved to the numerator;
        # division by zero is missing
        if cb is not None:
            if cb == 0:
                return Num("NULL", "NULL")
            return Num(_mul(_mul(a.n, cb.denominator), -1 if cb < 0 else 1),
                       _mul_d(a.d, abs(cb.numerator)))
        n = f"({_mul(a.n, b.d)}) * SIGN({b.n})"
        d = f"NULLIF({_mul(str(a.d), f'ABS({b.n})')}, 0)"
        return Num(n, d)

    def visit_Neg(self, e: p.Neg) -> Num:
        v = self.number(e.operand)
        return Num(f"(-({v.n}))", v.d)

    def visit_Shift(self, e: p.Shift) -> str:
        unit, times = _UNITS[e.duration.unit]
        amount = e.duration.amount * times * e.sign
        shifted = f"CAST({self.visit(e.date)} + INTERVAL '{amount}' {unit} AS DATE)"
        # a date past year 9999 is missing, as in the Python engine
        return f"(CASE WHEN {shifted} <= {_MAX_DATE} THEN {shifted} END)"

    def visit_Classify(self, e: p.Classify) -> str:
        arms = " ".join(f"WHEN {self.cond(c)} THEN {quote(label)}" for c, label in e.cases)
        return f"(CASE {arms} ELSE {quote(e.otherwise)} END)"
