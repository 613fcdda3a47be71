"""The SQL generator: a :class:`~kpidsl.plan.nodes.Plan` → one query, for any SQL dialect.

The query reads tables named after the data contract's files (``learners``, ``bootcamps``, …)
with the contract's columns (:func:`schema`), and a one-column table of as-of dates, so that
``history`` evaluates every month end in one pass. It is written in DuckDB's dialect and
rendered for others by sqlglot (``spark``, ``postgres``, ``tsql``, ``bigquery``, …).

How the language's semantics map onto SQL, stated once (the plan's rules, see
:mod:`kpidsl.plan.nodes`):

- **As of.** ``_dates`` holds one row per as-of date, with each schedule's current point as
  columns. Each record type gets a view ``<type>_0`` joined with ``_dates`` in which a dated
  field after the date is ``NULL`` and a dated row does not exist yet.
- **Definitions** are columns, computed once per record: definitions that use no other
  definition are added by ``<type>_1``, those that use them by ``<type>_2``, and so on, so reuse
  costs nothing however deep the chain.
- **Missing values.** ``NULL`` is missing. A condition is always ``TRUE`` or ``FALSE``: every
  comparison is wrapped in ``COALESCE(…, FALSE)`` and a boolean field is read as
  ``COALESCE(field, FALSE)`` where a condition is wanted, so "missing is not true" never
  depends on SQL's three-valued logic.
- **Exact numbers.** A number is generated as a pair (numerator, denominator): money is
  ``DECIMAL(38, 10)`` over 1, ``30%`` is 3 over 10, ``x / 3`` is x over 3. Comparisons
  cross-multiply, so no division ever rounds and no floating point decides anything.
- **Calendar months** are added with ``DATE_ADD``, which every supported dialect clamps to the
  end of a shorter month (2024-08-31 + 6 months = 2025-02-28), as the Python engine does.
- **Related records** are joins, so every engine computes them in one pass: a linked record
  (``bootcamp.course_cost``) is a ``LEFT JOIN`` of its type's view on the link's key and the
  as-of date, each link once per query; a figure over related records (``count(interviews
  where …)``) is a ``LEFT JOIN`` of that figure grouped by the link's key and the date. A
  record that links to nothing reads as missing, and a figure over no records as ``count``,
  ``sum`` and ``any`` say (0, 0, false).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import attrs

from kpidsl.contract.records import BY_NAME, FIELDS, LINKS, ROW_DATES, masked
from kpidsl.engines import Unsupported
from kpidsl.language.builtins import INTEGER, exact
from kpidsl.plan import nodes as p
from kpidsl.plan.points import current_point
from kpidsl.plan.visitor import Visitor

#: The column types of the contract's tables, by field kind.
SQL_TYPES = {"text": "VARCHAR", "enum": "VARCHAR", "set": "VARCHAR", "date": "DATE",
             "money": "DECIMAL(38, 10)", "integer": "BIGINT", "boolean": "BOOLEAN"}
_MAX_DATE = "DATE '9999-12-31'"
_UNITS = {"day": ("DAY", 1), "week": ("DAY", 7), "month": ("MONTH", 1), "year": ("MONTH", 12)}
_POINT_MEMBERS = ("label", "date", "year_start", "year_end")


def table_name(record: str) -> str:
    """The contract table a record type is read from (``cofunding``)."""
    return BY_NAME[record].table


def schema(dialect: str = "duckdb", *, line: bool = False) -> str:
    """``CREATE TABLE`` statements for the contract's tables. ``line`` adds ``_line``, the
    record's line in its file, which the engine uses to locate findings."""
    out = []
    for t in BY_NAME.values():
        cols = [f"{f.name} {SQL_TYPES[f.kind]}{' NOT NULL' if f.required else ''}"
                for f in FIELDS[t.name].values()]
        if line:
            cols.append("_line BIGINT")
        out.append(f"CREATE TABLE {table_name(t.name)} (\n  " + ",\n  ".join(cols) + "\n)")
    import sqlglot

    head = ("-- The data contract's tables (KPI-SPEC §1), for `kpidsl sql` queries. Load\n"
            "-- profiles.month as the first day of its month (the CSV writes YYYY-MM) and\n"
            "-- engagements.roles as its values joined by ';', as in the CSV.\n")
    return head + ";\n".join(sqlglot.transpile(";\n".join(out), read="duckdb", write=dialect,
                                               pretty=True)) + ";\n"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _date(d: dt.date | None) -> str:
    return "CAST(NULL AS DATE)" if d is None else f"DATE '{d.isoformat()}'"


@attrs.frozen
class Num:
    """A number as numerator and denominator (SQL text; an ``int`` when known now). The
    denominator is positive whenever the number is not missing."""

    n: str
    d: int | str

    @property
    def const(self) -> Fraction | None:
        if isinstance(self.d, int):
            try:
                return Fraction(int(self.n), self.d) if self.d else None
            except ValueError:
                return None
        return None


def _num(value: Any) -> Num:
    f = Fraction(value)
    return Num(str(f.numerator), f.denominator)


def _mul(a: str, b: int | str) -> str:
    if b == 1 or b == "1":
        return a
    if a == "1":
        return str(b)
    return f"({a}) * ({b})"


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
class Scope:
    """Where an expression is compiled: the alias of the record in scope (``None``: no
    record, a row of ``_dates``), its type, the level whose definitions it sees, and the
    joins of the query whose rows it reads (a linked record shares its query's joins)."""

    alias: str
    record: str | None
    level: int
    joins: Joins = attrs.field(factory=Joins, eq=False, repr=False)
    dated_by: str | None = None
    """For a record read from its table as written (not from its view over the dates), the
    alias of the row that holds the as-of date; its dated fields are masked here."""

    def at(self, column: str) -> str:
        """A column of the ``_dates`` row in scope: ``_as_of`` or a schedule's point."""
        return f"{self.dated_by or self.alias}.{column}"

    def source(self, rel: str) -> str:
        """``FROM`` text: ``rel`` as this scope's alias, with the joins its expressions
        needed (so call it after compiling them)."""
        return f"{rel} AS {self.alias}{self.joins.sql()}"


class Compiler(Visitor):
    """Compiles plan expressions to SQL text in one scope at a time."""

    def __init__(self, plan: p.Plan, levels: dict[tuple[str | None, str], int]) -> None:
        self.plan = plan
        self.levels = levels
        self.scope = Scope("d", None, max(levels.values(), default=0) + 1)
        self._aliases = 0

    def visit(self, node: Any) -> Any:
        try:
            return super().visit(node)
        except Unsupported as e:
            if e.span is None:
                e.span = getattr(node, "span", None)
            raise

    # ---- helpers ----
    def fresh(self) -> str:
        self._aliases += 1
        return f"x{self._aliases}"

    def within(self, scope: Scope, e: p.Expr, visit: Any = None) -> Any:
        """``e`` compiled (by ``visit``, else :meth:`visit`) in ``scope``."""
        saved, self.scope = self.scope, scope
        try:
            return (visit or self.visit)(e)
        finally:
            self.scope = saved

    def rel(self, record: str, level: int) -> str:
        """The view of ``record`` that has every definition of a level below ``level``."""
        have = [lv for (r, _), lv in self.levels.items() if r == record and lv < level]
        return f"{record}_{max(have, default=0)}"

    def value(self, e: p.Expr) -> Any:
        """``str`` SQL, or a :class:`Num` for numbers."""
        return self.visit(e)

    def cond(self, e: p.Expr) -> str:
        """SQL that is TRUE or FALSE, never NULL: a missing boolean is not true."""
        if isinstance(e, p.And | p.Or | p.Not | p.IsSet | p.Compare | p.In):
            return str(self.visit(e))
        if isinstance(e, p.Agg) and e.fn == "any":
            return str(self.visit(e))
        if isinstance(e, p.Const):
            return "TRUE" if e.value else "FALSE"
        return f"COALESCE({self.visit(e)}, FALSE)"

    def number(self, e: p.Expr) -> Num:
        v = self.visit(e)
        assert isinstance(v, Num), (e, v)
        return v

    # ---- leaves ----
    def visit_Const(self, e: p.Const) -> Any:
        v = e.value
        if e.type.kind in ("integer", "number", "percent", "money"):
            return _num(v)  # type: ignore[arg-type]
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, dt.date):
            return _date(v)
        if isinstance(v, str):
            return _quote(v)
        if isinstance(v, frozenset):
            return "(" + ", ".join(_quote(x) for x in sorted(v)) + ")"
        raise Unsupported(f"a constant {v!r}")

    def visit_AsOf(self, e: p.AsOf) -> str:
        return self.scope.at("_as_of")

    def visit_Field(self, e: p.Field) -> Any:
        col = f"{self.scope.alias}.{e.name}"
        if self.scope.dated_by and self.scope.record and masked(self.scope.record, e.name):
            col = f"(CASE WHEN {col} <= {self.scope.at('_as_of')} THEN {col} END)"
        if e.type.kind == "money" or e.type.kind == "integer":
            return Num(col, 1)
        return col

    def visit_DefRef(self, e: p.DefRef) -> Any:
        if e.record is None:  # a constant of the evaluation: computed where it is used
            return self.visit(self.plan.definitions[(None, e.name)].body) \
                if self.scope.record is None else self._const_def(e)
        col = f"{self.scope.alias}.{e.name}"
        if e.type.kind in ("integer", "number", "percent", "money"):
            return Num(f"{col}__n", f"{col}__d")
        return col

    def _const_def(self, e: p.DefRef) -> Any:
        """A constant definition read inside a record's scope: computed on ``_dates`` and
        joined on the date."""
        inner = Scope(self.fresh(), None, self.scope.level)
        value = self.within(inner, self.plan.definitions[(None, e.name)].body)
        cols = [f"{inner.alias}._as_of AS _k0"]
        if isinstance(value, Num):
            cols += [f"{value.n} AS v", *([f"{value.d} AS w"] if isinstance(value.d, str)
                                          else [])]
        else:
            cols.append(f"{value} AS v")
        j = self._join_figure(f"SELECT {', '.join(cols)} FROM {inner.source('_dates')}",
                              [self.scope.at("_as_of")])
        if isinstance(value, Num):
            return Num(f"{j}.v", f"{j}.w" if isinstance(value.d, str) else value.d)
        return f"{j}.v"

    def _join_figure(self, query: str, outer: list[str]) -> str:
        """Join ``query``, whose columns ``_k0``, ``_k1``, … hold one value each of the
        expressions ``outer``, to the rows in scope; its alias."""
        a = self.fresh()
        on = " AND ".join(f"{a}._k{i} = {o}" for i, o in enumerate(outer))
        return self.scope.joins.add(a, a, f"({query})", on)

    def visit_Point(self, e: p.Point) -> str:
        raise Unsupported("a schedule's point used as a value; use its .date or its label")

    def visit_PointMember(self, e: p.PointMember) -> str:
        if not isinstance(e.target, p.Point):
            raise Unsupported("a point that is not a schedule's current point")
        return self.scope.at(f"{e.target.schedule}__{e.member}")

    def visit_Lookup(self, e: p.Lookup) -> Any:
        table = self.plan.tables[e.table]
        when = self.value(e.when) if e.when is not None else self.scope.at("_as_of")
        key = self.value(e.key) if e.key is not None else None
        numeric = table.type.kind in ("integer", "number", "percent", "money")
        values = [v for _, version in table.versions
                  for v in (version.values() if isinstance(version, dict) else [version])]
        # every number of the table over one common denominator, so only the numerator varies
        scale = math.lcm(*(Fraction(v).denominator for v in values if v is not None)) \
            if numeric else 1

        def one(v: Any) -> str:
            if v is None:
                return "NULL"
            if numeric:
                return str(Fraction(v) * scale)
            return str(self.visit(p.Const(type=table.type, value=v)))

        arms = []
        for start, version in reversed(table.versions):
            if table.keyed:
                assert isinstance(version, dict) and key is not None
                inner = "CASE " + key + " " + " ".join(
                    f"WHEN {_quote(k)} THEN {one(v)}" for k, v in version.items()) + " END"
            else:
                inner = one(version)
            test = f"{when} >= {_date(start)}" if start is not None else f"{when} IS NOT NULL"
            arms.append(f"WHEN {test} THEN {inner}")
        picked = "(CASE " + " ".join(arms) + " END)"
        return Num(picked, scale) if numeric else picked

    # ---- navigation and lists ----
    def need(self, e: p.Expr) -> int:
        """The lowest level whose views have every definition ``e`` reads: a view with
        fewer definitions joins less (a figure over learners that reads only their dates
        needs none of the learners' definitions)."""
        top, stack, seen = 0, [e], set()
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

    def visit_Nav(self, e: p.Nav) -> Any:
        if isinstance(e.target, p.Point | p.PointMember):
            raise Unsupported("navigation from a point")
        if isinstance(e.target, p.Link1):
            return self.within(self._target(e.target, self.need(e.body)), e.body)
        return self.within(self._target(e.target), e.body)

    def _target(self, target: p.Expr, level: int | None = None) -> Scope:
        """The scope of the one record a navigation reaches, joined to the rows in scope
        (so a record that links to nothing reads as missing). A record that is there
        whatever the date and whose definitions are not read is joined from its table on
        the key alone, its dated fields masked where read: the join then does not grow with
        the number of dates."""
        if isinstance(target, p.Link1):
            link, outer = target.link, self.scope
            level = min(outer.level, level or outer.level)
            rel = self.rel(link.target, level)
            source, a = f"{outer.alias}.{link.source_field}", self.fresh()
            on = f"{a}.{link.target_field} = {source}"
            if rel.endswith("_0") and link.target not in ROW_DATES:
                a = outer.joins.add(f"{rel} {source}", a, table_name(link.target), on)
                return Scope(a, link.target, level, outer.joins, outer.dated_by or outer.alias)
            a = outer.joins.add(f"{rel} {source}", a, rel,
                                f"{on} AND {a}._as_of = {outer.at('_as_of')}")
            return Scope(a, link.target, level, outer.joins)
        if isinstance(target, p.Nav):
            return self.within(self._target(target.target), target.body, self._target)
        raise Unsupported(f"navigation from {type(target).__name__}")

    def _list(self, e: p.Expr, level: int | None = None
              ) -> tuple[str, list[tuple[str, str]], list[str], Scope, p.Expr | None]:
        """A list as its source (``FROM`` text, before the joins of its scope), the pairs
        (column of the list, expression of the scope outside) that tie it to the rows in
        scope, its conditions, the element's scope and the value taken of each. Its records
        come from the views with just the definitions the whole list reads (``level``)."""
        outer = self.scope
        level = level or min(outer.level, self.need(e))
        if isinstance(e, p.Filter):
            frm, ties, conds, inner, body = self._list(e.source, level)
            if body is not None:
                raise Unsupported("`where` on a list of values")
            return frm, ties, [*conds, self.within(inner, _cond_node(e.condition))], inner, \
                None
        if isinstance(e, p.Each):
            frm, ties, conds, inner, body = self._list(e.source, level)
            if body is not None:
                raise Unsupported("a list of lists")
            return frm, ties, conds, inner, e.body
        if isinstance(e, p.DefRef) and e.record is None:
            return self._list(self.plan.definitions[(None, e.name)].body, level)
        a = self.fresh()
        if isinstance(e, p.All):
            return f"{self.rel(e.record, level)} AS {a}", \
                [(f"{a}._as_of", outer.at("_as_of"))], [], Scope(a, e.record, level), None
        if isinstance(e, p.Related):
            link = e.link
            frm = f"{self.rel(link.target, level)} AS {a}"
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
            return frm, ties, [], Scope(a, link.target, level), None
        raise Unsupported(f"a list made by {type(e).__name__}")

    def visit_Agg(self, e: p.Agg) -> Any:
        frm, ties, conds, inner, body = self._list(e.source)
        if e.fn in ("count", "any"):
            v: Any = Num("1", 1)
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

    def shown(self, e: p.Expr) -> Any:
        """A value as ``explain`` shows it (:func:`kpidsl.engines.python.shown_value`): a
        record by its key, a list of records by how many."""
        if e.type.kind == "record":
            a = self._target(e).alias
            return " || '/' || ".join(f"CAST({a}.{k} AS VARCHAR)"
                                      for k in BY_NAME[e.type.name or ""].key)
        if e.type.kind == "list" and e.type.elem is not None and e.type.elem.kind == "record":
            return self.visit(p.Agg(type=INTEGER, span=e.span, fn="count", source=e))
        return self.visit(e)

    def visit_Each(self, e: p.Each) -> Any:
        raise Unsupported("a list of values outside count, sum, earliest, latest or `in`")

    visit_Filter = visit_Related = visit_All = visit_Link1 = visit_Each

    def visit_SetOf(self, e: p.SetOf) -> Any:
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
        v = self.value(x)
        test = f"({v.n} IS NOT NULL AND {v.d} IS NOT NULL)" if isinstance(v, Num) and \
            isinstance(v.d, str) else f"({v.n if isinstance(v, Num) else v} IS NOT NULL)"
        return f"(NOT {test})" if e.negated else test

    def visit_Compare(self, e: p.Compare) -> str:
        op = "<>" if e.op == "!=" else e.op
        left, right = self.value(e.left), self.value(e.right)
        if isinstance(left, Num) and isinstance(right, Num):
            a, b = left.const, right.const
            if a is not None and b is not None:
                return "TRUE" if _py_compare(e.op, a, b) else "FALSE"
            return f"COALESCE({_mul(left.n, right.d)} {op} {_mul(right.n, left.d)}, FALSE)"
        return f"COALESCE({left} {op} {right}, FALSE)"

    def visit_In(self, e: p.In) -> str:
        v = self.value(e.value)
        s = e.set
        if isinstance(s, p.Const):
            items = sorted(s.value)  # type: ignore[call-overload]
            test = "FALSE" if not items else f"{v} IN (" + ", ".join(_quote(i) for i in items) + ")"
        elif isinstance(s, p.Field) and s.type.kind == "set":
            test = f"(';' || {self.visit(s)} || ';') LIKE ('%;' || {v} || ';%')"
        elif isinstance(s, p.SetOf):
            items = [self.value(i) for i in s.items]
            test = "(" + " OR ".join(f"{v} = {i}" for i in items) + ")"
            if e.negated:
                return f"({v} IS NOT NULL AND NOT COALESCE({test}, FALSE))"
        else:
            frm, ties, conds, inner, body = self._list(s)
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
            return Num("NULL", "NULL") if r is None else _num(r)
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
        shifted = f"CAST({self.value(e.date)} + INTERVAL '{amount}' {unit} AS DATE)"
        # a date past year 9999 is missing, as in the Python engine
        return f"(CASE WHEN {shifted} <= {_MAX_DATE} THEN {shifted} END)"

    def visit_Classify(self, e: p.Classify) -> str:
        arms = " ".join(f"WHEN {self.cond(c)} THEN {_quote(label)}" for c, label in e.cases)
        return f"(CASE {arms} ELSE {_quote(e.otherwise)} END)"


def _mul_d(a: int | str, b: int | str) -> int | str:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    return _mul(str(a), b)


def _cond_node(e: p.Expr) -> p.Expr:
    """``e`` as a condition node (so that ``cond`` is used for a ``where``)."""
    return p.And(type=e.type, span=e.span, items=(e,))


def _py_compare(op: str, a: Fraction, b: Fraction) -> bool:
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
            ">=": a >= b}[op]


def levels(plan: p.Plan) -> dict[tuple[str | None, str], int]:
    """Each record definition's level: 1 + the highest level of the definitions it uses."""
    out: dict[tuple[str | None, str], int] = {}

    def level(key: tuple[str | None, str]) -> int:
        if key not in out:
            d = plan.definitions[key]
            out[key] = 1 + max((level(u) for u in d.uses if u[0] is not None), default=0)
        return out[key]

    for key in plan.definitions:
        if key[0] is not None:
            level(key)
    return out


# ---- when a value may change -----------------------------------------------------------------


class _Reach:
    """One query of :class:`Changes`: the record's table and what is joined to it, and the
    days, as SQL over those rows, on which something read there may change."""

    def __init__(self, frm: str, joined: dict[str, str] | None = None) -> None:
        self.frm = frm
        self.days: dict[str, None] = {}
        self.joined = dict(joined or {})
        """The alias of each record joined by a link, so that a link is joined once."""


class Changes(Visitor):
    """The days on which the values of ``record`` 's expressions may change, for a history.

    A value read as of a date changes only where the date passes a day the data names: a dated
    field's day (it stops being missing), a dated row's day (it starts to exist), the day after
    a date compared with ``as_of``, a parameter table's version, a schedule's next point. The
    value on two dates is the same when no such day falls after the first and on or before the
    second, so a record need only be worked out again on the first month end on or after each
    of its days. The days are SQL over the record's table as written (``t``) and the records
    joined to it; :meth:`sql` gives the pairs (record, month end) to work out. What this cannot
    bound (``as_of`` used in arithmetic, every record of a type) raises :class:`Unsupported`,
    and the engine works the record out on every date instead.
    """

    def __init__(self, plan: p.Plan, record: str, dates: Sequence[dt.date]) -> None:
        self.plan, self.record, self.dates = plan, record, dates
        self.keys = BY_NAME[record].key
        self.everyone: set[dt.date] = {dates[0]}
        """Dates on which every record is worked out: the first, and a table's or schedule's
        change."""
        self.reach = _Reach(f"{table_name(record)} AS t")
        self.reaches = [self.reach]
        self.alias, self.at = "t", record
        self._aliases = 0
        self._seen: set[tuple[int, str, str | None, str]] = set()
        if record in ROW_DATES:  # a dated row starts to exist on its day
            self._day(f"t.{ROW_DATES[record]}")

    def __call__(self, e: p.Expr | None) -> None:
        if e is not None:
            self.visit(e)

    def _day(self, sql: str) -> None:
        self.reach.days[sql] = None

    def _from(self, day: dt.date) -> None:
        """Work out every record again on the first date on or after ``day``."""
        later = [d for d in self.dates if d >= day]
        if later and later[0] != self.dates[0]:
            self.everyone.add(later[0])

    def _within(self, alias: str, record: str, e: p.Expr) -> None:
        saved, (self.alias, self.at) = (self.alias, self.at), (alias, record)
        try:
            self.visit(e)
        finally:
            self.alias, self.at = saved

    def _join(self, record: str, on: str, kind: str = "LEFT") -> str:
        if kind == "LEFT" and on in self.reach.joined:
            return self.reach.joined[on]
        self._aliases += 1
        a = f"c{self._aliases}"
        self.reach.frm += f" {kind} JOIN {table_name(record)} AS {a} ON {on.format(a)}"
        if kind == "LEFT":
            self.reach.joined[on] = a
        if record in ROW_DATES:
            self._day(f"{a}.{ROW_DATES[record]}")
        return a

    # ---- what may change, node by node ----
    def visit_Const(self, e: p.Const) -> None:
        pass

    def visit_AsOf(self, e: p.AsOf) -> None:
        raise Unsupported("as_of used other than compared with a date")

    def visit_Field(self, e: p.Field) -> None:
        if masked(self.at, e.name):
            self._day(f"{self.alias}.{e.name}")

    def visit_DefRef(self, e: p.DefRef) -> None:
        seen = (id(self.reach), self.alias, e.record, e.name)
        if seen not in self._seen:  # once each: definitions that share others stay linear
            self._seen.add(seen)
            self.visit(self.plan.definitions[(e.record, e.name)].body)

    def visit_PointMember(self, e: p.PointMember) -> None:
        if not isinstance(e.target, p.Point):
            raise Unsupported("a point that is not a schedule's current point")
        schedule = self.plan.schedules[e.target.schedule]
        points = [current_point(schedule, d) for d in self.dates]
        for d, was, now in zip(self.dates[1:], points, points[1:], strict=False):
            if was != now:
                self.everyone.add(d)

    def visit_Lookup(self, e: p.Lookup) -> None:
        if e.when is None:
            for start, _ in self.plan.tables[e.table].versions:
                if isinstance(start, dt.date):
                    self._from(start)
        self(e.when)
        self(e.key)

    def visit_Nav(self, e: p.Nav) -> None:
        target = e.target
        if isinstance(target, p.Nav):
            return self.visit(p.Nav(type=e.type, target=target.target,
                                    body=p.Nav(type=e.type, target=target.body, body=e.body)))
        if not isinstance(target, p.Link1):
            raise Unsupported("navigation from a point")
        link, reach = target.link, self.reach
        before = reach.frm, len(reach.days), dict(reach.joined)
        a = self._join(link.target, f"{{}}.{link.target_field} = {self.alias}.{link.source_field}")
        self._within(a, link.target, e.body)
        if len(reach.days) == before[1]:  # nothing read there changes: no need to join it
            reach.frm, _, reach.joined = before

    def visit_Link1(self, e: p.Link1) -> None:
        if e.link.target in ROW_DATES:
            raise Unsupported("a link to a dated record")

    def _list(self, e: p.Expr) -> None:
        """A list's records joined to the rows in scope, in a query of their own (so the
        records of two lists do not multiply), and the days of what is read of each."""
        if isinstance(e, p.Filter | p.Each):
            self._list(e.source)
            self.visit(e.condition if isinstance(e, p.Filter) else e.body)
            return
        if isinstance(e, p.DefRef):
            return self._list(self.plan.definitions[(e.record, e.name)].body)
        if not isinstance(e, p.Related):
            raise Unsupported("every record of a type")
        link, outer = e.link, self.alias
        self.reach = _Reach(self.reach.frm, self.reach.joined)
        self.reaches.append(self.reach)
        if link.through is None:
            a = self._join(link.target, f"{{}}.{link.target_field} = {outer}.{link.source_field}",
                           "INNER")
        else:
            via = next(lk for lk in LINKS if lk.source == link.target and lk.name == link.through)
            b = self._join(via.target, f"{{}}.{link.target_field} = {outer}.{link.source_field}",
                           "INNER")
            a = self._join(link.target, f"{{}}.{via.source_field} = {b}.{via.target_field}",
                           "INNER")
        self.alias, self.at = a, link.target

    def visit_Agg(self, e: p.Agg) -> None:
        saved = self.alias, self.at, self.reach
        self._list(e.source)
        self.alias, self.at, self.reach = saved  # what follows reads the rows in scope again

    def visit_In(self, e: p.In) -> None:
        self.visit(e.value)
        if isinstance(e.set, p.Const | p.Field | p.SetOf):
            self.visit(e.set)
        else:
            self.visit_Agg(p.Agg(type=e.type, fn="any", source=e.set))

    def visit_Compare(self, e: p.Compare) -> None:
        for this, other in ((e.left, e.right), (e.right, e.left)):
            if isinstance(this, p.AsOf) and not isinstance(other, p.AsOf):
                # ``as_of <= x`` turns false the day after x, ``as_of < x`` on x itself
                x = Compiler(self.plan, {}).within(Scope(self.alias, self.at, 0),
                                                    self._date(other))
                self._day(x)
                self._day(f"CAST({x} + INTERVAL '1' DAY AS DATE)")
                self.visit(other)
                return
        self.visit(e.left)
        self.visit(e.right)

    def _date(self, e: p.Expr) -> p.Expr:
        """``e`` with its definitions written out, when it is a date of the record in scope
        that reads at most one dated field: then it is missing before that field's day and
        its value as written after it, so the value as written says when ``as_of`` passes."""
        out = self._written(e)
        if sum(isinstance(x, p.Field) and masked(self.at, x.name) for x in _walk(out)) > 1:
            raise Unsupported("as_of compared with a date worked out from several dates")
        return out

    def _written(self, e: p.Expr) -> p.Expr:
        if isinstance(e, p.DefRef) and e.record is not None:
            return self._written(self.plan.definitions[(e.record, e.name)].body)
        if isinstance(e, p.Shift):
            return attrs.evolve(e, date=self._written(e.date))
        if isinstance(e, p.Const | p.Field):
            return e
        raise Unsupported("as_of compared with a date other than a field's, shifted")

    def _children(self, e: p.Expr) -> None:
        for x in p.children(e):
            self.visit(x)

    visit_Not = visit_And = visit_Or = visit_IsSet = visit_Arith = visit_Neg = \
        visit_Shift = visit_Classify = visit_SetOf = _children

    def _unbounded(self, e: p.Expr) -> None:
        raise Unsupported(f"{type(e).__name__} where a history cannot bound its changes")

    visit_Point = visit_Related = visit_All = visit_Filter = visit_Each = _unbounded

    def sql(self) -> str:
        """The pairs to work out: each record (its key) with each date (``_as_of``) on
        which something it reads may have changed since the date before, and every record on
        :attr:`everyone`'s dates."""
        keys = ", ".join(f"t.{k}" for k in self.keys)
        by_source: dict[str, dict[str, None]] = {}  # two lists of the same records: one query
        for reach in self.reaches:
            by_source.setdefault(reach.frm, {}).update(reach.days)
        picks = []
        for frm, found in by_source.items():
            days = list(found)
            if not days:
                continue
            arms = " ".join(f"WHEN {i} THEN {d}" for i, d in enumerate(days))
            picks.append(f"SELECT {keys}, CASE n.i {arms} END AS _day FROM {frm} "
                         f"CROSS JOIN (VALUES {', '.join(f'({i})' for i in range(len(days)))})"
                         " AS n(i)")
        everyone = ", ".join(f"({_date(d)})" for d in sorted(self.everyone))
        out = f"SELECT {keys}, g._as_of FROM {table_name(self.record)} AS t CROSS JOIN " \
            f"(VALUES {everyone}) AS g(_as_of)"
        if picks:
            out += (f" UNION SELECT {', '.join(f'c.{k}' for k in self.keys)}, "
                    f"{_on_or_after('c._day', self.dates)} AS _as_of FROM ("
                    + " UNION ALL ".join(picks) + f") AS c WHERE c._day <= {_date(self.dates[-1])}")
        return out


def _on_or_after(day: str, dates: Sequence[dt.date]) -> str:
    """SQL for the first of ``dates`` (ascending) on or after ``day`` (not after the last):
    a search halving the dates at each step, so a day costs a few comparisons, not one for
    every date or a join."""
    if len(dates) == 1:
        return f"CASE WHEN {day} <= {_date(dates[0])} THEN {_date(dates[0])} END"
    half = len(dates) // 2
    return (f"CASE WHEN {day} <= {_date(dates[half - 1])} THEN "
            f"{_on_or_after(day, dates[:half])} ELSE {_on_or_after(day, dates[half:])} END")


def _walk(e: p.Expr) -> list[p.Expr]:
    return [e, *(x for c in p.children(e) for x in _walk(c))]


# ---- the query ------------------------------------------------------------------------------


def _dates_cte(plan: p.Plan, dates: Sequence[dt.date | None]) -> str:
    """``_dates``: one row per as-of date with each schedule's current point. ``None`` is "the
    data as written" (findings): no date masks anything."""
    names = ["_as_of"] + [f"{s}__{m}" for s in plan.schedules for m in _POINT_MEMBERS]
    rows = []
    for d in dict.fromkeys(dates):  # each date once, or its records would count twice
        cells = [_date(d or dt.date.max)]
        for s in plan.schedules.values():
            pt = current_point(s, d) if d is not None else None
            cells += ["CAST(NULL AS VARCHAR)" if pt is None else _quote(pt.label),
                      *(_date(getattr(pt, m) if pt else None) for m in _POINT_MEMBERS[1:])]
        rows.append("(" + ", ".join(cells) + ")")
    return f"_dates AS (SELECT * FROM (VALUES {', '.join(rows)}) AS v({', '.join(names)}))"


def _base_cte(record: str, lines: bool, sparse: bool = False) -> str:
    """``<record>_0``: the record's table as it stood on each as-of date. ``sparse``:
    ``<record>_0e``, each record only on the dates of ``<record>__e`` (:class:`Changes`)."""
    cols = [f"CASE WHEN t.{f} <= d._as_of THEN t.{f} END AS {f}" if masked(record, f)
            else f"t.{f}" for f in FIELDS[record]]
    where = ""
    if record in ROW_DATES:
        rd = ROW_DATES[record]
        where = f" WHERE (t.{rd} IS NULL OR t.{rd} <= d._as_of)" if record == "engagement" \
            else f" WHERE t.{rd} <= d._as_of"
    if lines:
        cols.append("t._line")
    frm = f"{table_name(record)} AS t CROSS JOIN _dates AS d"
    if sparse:
        on = " AND ".join(f"t.{k} = e.{k}" for k in BY_NAME[record].key)
        frm = f"{record}__e AS e JOIN {table_name(record)} AS t ON {on} JOIN _dates AS d " \
            "ON d._as_of = e._as_of"
    return f"{record}_0{'e' if sparse else ''} AS (SELECT d.*, {', '.join(cols)} FROM {frm}{where})"


def _definition_ctes(plan: p.Plan, lv: dict[tuple[str | None, str], int],
                     sparse: str | None = None) -> list[str]:
    """``<record>_<level>``: the view before with the definitions of that level as columns.
    ``sparse``: only that record's, over its sparse view (``<record>_<level>e``)."""
    out = []
    c = Compiler(plan, lv)
    suffix = "e" if sparse else ""
    for level in range(1, max(lv.values(), default=0) + 1):
        for record in [sparse] if sparse else BY_NAME:
            defs = [k for k, v in lv.items() if v == level and k[0] == record]
            if not defs:
                continue
            cols, scope = [], Scope("s", record, level)
            for key in defs:
                value = c.within(scope, plan.definitions[key].body)
                if isinstance(value, Num):
                    cols += [f"{value.n} AS {key[1]}__n", f"{value.d} AS {key[1]}__d"]
                else:
                    cols.append(f"{value} AS {key[1]}")
            out.append(f"{record}_{level}{suffix} AS (SELECT s.*, {', '.join(cols)} "
                       f"FROM {scope.source(c.rel(record, level) + suffix)})")
    return out


def _key_columns(record: str) -> list[str]:
    t = BY_NAME[record]
    cols = list(t.key) or [f for f in ("learner_id", "provider_id") if f in FIELDS[record]][:1]
    if "bootcamp_id" in FIELDS[record] and "bootcamp_id" not in cols:
        cols.append("bootcamp_id")
    return cols


class QueryBuilder:
    """Builds the queries of a plan for a set of as-of dates (``None``: as written)."""

    def __init__(self, plan: p.Plan, dates: Sequence[dt.date | None], *,
                 inline: bool = True, lines: bool = True) -> None:
        self.plan = plan
        self.lv = levels(plan)
        self.top = max(self.lv.values(), default=0) + 1
        self.compiler = Compiler(plan, self.lv)
        self.ctes = [_dates_cte(plan, dates), *(_base_cte(r, lines) for r in BY_NAME),
                     *_definition_ctes(plan, self.lv)]
        """``name AS (query)`` for the as-of dates, the record views and the definitions:
        the head of every query when ``inline``; otherwise an engine creates them once
        (:meth:`prelude`) and the queries read them by name."""
        self.sparse: set[str] = set()
        """The record types that :meth:`tallies` works out only on the dates where something
        they read may change (:class:`Changes`): in a history of ascending dates, those with
        a key whose KPIs' changes can be bounded."""
        # (with lines: the engine loaded the tables and checked that keys are unique)
        if lines and len(dates) > 1 and all(a is not None and b is not None and a < b
                                            for a, b in itertools.pairwise(dates)):
            for record in dict.fromkeys(k.record for k in plan.kpis
                                        if isinstance(k, p.KpiPlan) and BY_NAME[k.record].key):
                changes = Changes(plan, record, dates)  # type: ignore[arg-type]
                try:
                    for k in plan.kpis:
                        if isinstance(k, p.KpiPlan) and k.record == record:
                            changes(k.member), changes(k.counted), changes(k.pending)
                except Unsupported:
                    continue
                self.sparse.add(record)
                self.ctes += [f"{record}__e AS ({changes.sql()})",
                              _base_cte(record, lines, sparse=True),
                              *_definition_ctes(plan, self.lv, record)]
        self.with_ = "WITH " + ",\n".join(self.ctes) if inline else "WITH _ AS (SELECT 1)"
        self.line = ", s._line" if lines else ""

    def prelude(self) -> list[tuple[str, str]]:
        """``(name, query)`` of each view the queries read when not ``inline``, in the order
        to create them: the as-of dates, each record type's view, its definitions."""
        out = []
        for cte in self.ctes:
            name, query = cte.split(" AS (", 1)
            out.append((name, query[:-1]))
        return out

    def _scope(self, record: str | None) -> Scope:
        return Scope("s" if record else "d", record, self.top)

    def verdicts(self, k: p.KpiPlan, comments: bool = True) -> str:
        """The per-record verdicts of a KPI: one row per record of its population."""
        c, s = self.compiler, self._scope(k.record)
        rel = c.rel(k.record, self.top)
        member = c.within(s, _cond_node(k.member)) if k.member is not None else "TRUE"
        counted = c.within(s, _cond_node(k.counted))
        pending = c.within(s, _cond_node(k.pending)) if k.pending is not None else "FALSE"
        keys = ", ".join(f"s.{x}" for x in _key_columns(k.record))
        note = (lambda clause: f" /* {clause} */") if comments else (lambda clause: "")
        return (f"SELECT s._as_of, {keys}{self.line}, CASE WHEN{note('counted when')} {counted} "
                f"THEN 'counted' WHEN{note('pending when')} {pending} THEN 'pending' "
                f"ELSE 'not counted' END AS verdict FROM {s.source(rel)} "
                f"WHERE{note('population')} {member}")

    def explained(self, record: str,
                  verdict: tuple[p.Expr | None, p.Expr | None, p.Expr | None],
                  tests: Sequence[p.Expr], reads: Sequence[p.Expr]) -> str:
        """For ``explain``: each record of a population (``verdict``: its membership,
        ``counted when`` and ``pending when``; no membership test for the providers of a KPI
        measured per provider) in data order, with its ids (:data:`ID_COLUMNS`), its
        ``verdict``, whether each of ``tests`` holds (``t<i>``) and each value of ``reads``
        (``r<i>``, and ``d<i>`` for a number's denominator; a list of values gives the
        values that tie it to its records, ``r<i>_<j>``: see :meth:`listed`)."""
        c, s = self.compiler, self._scope(record)
        member, counted, pending = (c.within(s, _cond_node(x)) if x is not None else None
                                    for x in verdict)
        cols = [f"CASE WHEN {counted} THEN 'counted' WHEN {pending or 'FALSE'} THEN 'pending' "
                "ELSE 'not counted' END AS verdict" if counted else "NULL AS verdict"]
        cols += [f"{c.within(s, _cond_node(t))} AS t{i}" for i, t in enumerate(tests)]
        for i, e in enumerate(reads):
            if isinstance(e, p.Point):
                continue  # the same for every record: worked out from the date
            if isinstance(e, p.Each):
                _, ties, _, _, _ = c.within(s, e, c._list)
                cols += [f"{outer} AS r{i}_{j}" for j, (_, outer) in enumerate(ties)]
                continue
            v = c.within(s, e, c.shown)
            cols += [f"{v.n} AS r{i}", f"{v.d} AS d{i}"] if isinstance(v, Num) else \
                [f"{v} AS r{i}"]
        have = _key_columns(record)
        ids = ", ".join(f"{'s.' + x if x in have else 'CAST(NULL AS VARCHAR)'} AS {x}"
                        for x in ID_COLUMNS)
        order = "s._line" if self.line else ", ".join(f"s.{x}" for x in have)
        return (f"{self.with_}\nSELECT {ids}{self.line}, {', '.join(cols)} FROM "
                f"{s.source(self.compiler.rel(record, self.top))} WHERE {member or 'TRUE'} "
                f"ORDER BY {order}")

    def listed(self, record: str, e: p.Each) -> str:
        """The values of the list ``e`` read for each record of ``record``: rows of the values
        that tie a value to its record (``_k<j>``, as :meth:`explained`'s ``r<i>_<j>``), and
        the value ``v`` (with ``w``, a number's denominator), in data order."""
        c = self.compiler
        frm, ties, conds, inner, body = c.within(self._scope(record), e, c._list)
        v = c.within(inner, body)
        keys = [f"{col} AS _k{j}" for j, (col, _) in enumerate(ties)]
        value = [f"{v.n} AS v", f"{v.d} AS w"] if isinstance(v, Num) else [f"{v} AS v"]
        order = f"{inner.alias}._line" if self.line else ", ".join(col for col, _ in ties)
        return (f"{self.with_}\nSELECT {', '.join(keys + value)} FROM {frm}{inner.joins.sql()} "
                f"WHERE {' AND '.join(conds) or 'TRUE'} ORDER BY {order}")

    def _counts(self, k: p.KpiPlan | p.MeasurePlan, i: int = 0
                ) -> tuple[list[str], list[str]]:
        """The views and the ``SELECT`` s (to be joined by ``UNION ALL``) that give a KPI's
        n, k and p per date and group: each bootcamp, each provider (its bootcamps together)
        and the programme (KPI-SPEC §2, "Groups"). ``i`` keeps the views of several KPIs
        apart in one query."""
        m, v, a = f"m{i}", f"v{i}", f"a{i}"
        if isinstance(k, p.MeasurePlan):
            c, s = self.compiler, self._scope("provider")
            actual = c.within(s, k.actual)
            planned = c.within(s, k.planned)
            per = (f"SELECT s._as_of, s.provider_id, COALESCE({planned.n}, 0) AS n, "
                   f"COALESCE({actual.n}, 0) AS k FROM {s.source(c.rel('provider', self.top))}")
            return [f"{m} AS ({per})"], [
                f"SELECT _as_of, 'provider' AS scope, provider_id AS group_id, n AS denominator,"
                f" k AS numerator, 0 AS pending FROM {m}",
                f"SELECT d._as_of, 'programme', 'all', COALESCE(SUM({m}.n), 0), "
                f"COALESCE(SUM({m}.k), 0), 0 FROM _dates AS d LEFT JOIN {m} "
                f"ON {m}._as_of = d._as_of GROUP BY d._as_of"]
        agg = (f"{a} AS (SELECT _as_of, bootcamp_id, COUNT(*) AS n, "
               "SUM(CASE WHEN verdict = 'counted' THEN 1 ELSE 0 END) AS k, "
               f"SUM(CASE WHEN verdict = 'pending' THEN 1 ELSE 0 END) AS p FROM {v} "
               "GROUP BY _as_of, bootcamp_id)")
        sums = f"COALESCE(SUM({a}.n), 0), COALESCE(SUM({a}.k), 0), COALESCE(SUM({a}.p), 0)"
        join = f"LEFT JOIN {a} ON {a}._as_of = d._as_of AND {a}.bootcamp_id = b.bootcamp_id"
        return [f"{v} AS ({self.verdicts(k)})", agg], [
            f"SELECT d._as_of, 'bootcamp' AS scope, b.bootcamp_id AS group_id, "
            f"COALESCE({a}.n, 0) AS denominator, COALESCE({a}.k, 0) AS numerator, "
            f"COALESCE({a}.p, 0) AS pending FROM _dates AS d CROSS JOIN bootcamps AS b {join}",
            f"SELECT d._as_of, 'provider', r.provider_id, {sums} FROM _dates AS d "
            "CROSS JOIN providers AS r LEFT JOIN bootcamps AS b ON b.provider_id = "
            f"r.provider_id {join} GROUP BY d._as_of, r.provider_id",
            f"SELECT d._as_of, 'programme', 'all', {sums} FROM _dates AS d "
            f"LEFT JOIN {a} ON {a}._as_of = d._as_of GROUP BY d._as_of"]

    def counts(self, k: p.KpiPlan | p.MeasurePlan) -> str:
        """One KPI's n, k and p per date and group (what ``kpidsl sql`` prints)."""
        views, selects = self._counts(k)
        return f"{self.with_},\n" + ",\n".join(views) + "\n" + "\nUNION ALL\n".join(selects)

    def tallies(self) -> list[tuple[str, list[str], bool]]:
        """Every KPI's counts per date and bootcamp (or provider, for a KPI measured per
        provider), as ``(query, KPI names, changes)``: one query per record type, so the KPIs
        on learners are all counted in one scan of the learners and each definition is worked
        out once. A query's rows hold ``_as_of``, ``group_id`` and, for its ``i``-th KPI,
        ``n<i>``, ``k<i>`` and ``p<i>``; with ``changes`` (a record type in :attr:`sparse`)
        they are the changes since the date before, the first date's from nothing, and a
        group whose counts did not change has no row. The engines add them up the reporting
        hierarchy with :func:`kpidsl.engines.python.roll_up`, so each record's verdict is
        worked out once."""
        by_record: dict[str | None, list[p.KpiPlan | p.MeasurePlan]] = {}
        for k in self.plan.kpis:
            by_record.setdefault(None if isinstance(k, p.MeasurePlan) else k.record,
                                 []).append(k)
        out = []
        for record, kpis in by_record.items():
            c = self.compiler
            if record is None:  # measured per provider: planned and actual, one row each
                s = self._scope("provider")
                cols = []
                for i, k in enumerate(kpis):
                    assert isinstance(k, p.MeasurePlan)
                    cols.append(f"COALESCE({c.within(s, k.planned).n}, 0) AS n{i}, "
                                f"COALESCE({c.within(s, k.actual).n}, 0) AS k{i}, 0 AS p{i}")
                out.append((f"{self.with_}\nSELECT s._as_of, s.provider_id AS group_id, "
                            f"{', '.join(cols)} FROM {s.source(c.rel('provider', self.top))}",
                            [k.name for k in kpis], False))
                continue
            s = self._scope(record)
            verdicts, members = [], []
            for i, k in enumerate(kpis):  # v<i>: 2 counted, 1 pending, 0 not, NULL not in
                assert isinstance(k, p.KpiPlan)
                member = c.within(s, _cond_node(k.member)) if k.member is not None else "TRUE"
                pending = c.within(s, _cond_node(k.pending)) if k.pending is not None \
                    else "FALSE"
                verdicts.append(f"CASE WHEN {member} THEN CASE WHEN "
                                f"{c.within(s, _cond_node(k.counted))} THEN 2 WHEN {pending} "
                                f"THEN 1 ELSE 0 END END AS v{i}")
                members.append(member)
            names = [k.name for k in kpis]
            rel = c.rel(record, self.top)
            if record not in self.sparse:
                sums = [f"COUNT(v{i}) AS n{i}, SUM(CASE WHEN v{i} = 2 THEN 1 ELSE 0 END) AS "
                        f"k{i}, SUM(CASE WHEN v{i} = 1 THEN 1 ELSE 0 END) AS p{i}"
                        for i in range(len(kpis))]
                out.append((f"{self.with_}\nSELECT _as_of, bootcamp_id AS group_id, "
                            f"{', '.join(sums)} FROM (SELECT s._as_of, s.bootcamp_id, "
                            f"{', '.join(verdicts)} FROM {s.source(rel)} WHERE "
                            f"{' OR '.join(f'({m})' for m in members)}) AS v "
                            "GROUP BY _as_of, bootcamp_id", names, False))
                continue
            # worked out only where it may have changed: each record's verdicts against its
            # verdicts the time before, summed as changes to the counts
            keys = ", ".join(BY_NAME[record].key)
            picked = ", ".join(f"s.{x}" for x in dict.fromkeys(["bootcamp_id",
                                                                *BY_NAME[record].key]))

            def moved(test: str) -> str:
                return (f"SUM(CASE WHEN v{test} THEN 1 ELSE 0 END - "
                        f"CASE WHEN u{test} THEN 1 ELSE 0 END)")

            lags = [f"v{i}, LAG(v{i}) OVER (PARTITION BY {keys} ORDER BY _as_of) AS u{i}"
                    for i in range(len(kpis))]
            sums = [f"{moved(f'{i} IS NOT NULL')} AS n{i}, {moved(f'{i} = 2')} AS k{i}, "
                    f"{moved(f'{i} = 1')} AS p{i}" for i in range(len(kpis))]
            changed = " OR ".join(f"COALESCE(v{i}, -1) <> COALESCE(u{i}, -1)"
                                  for i in range(len(kpis)))
            out.append((f"{self.with_}\nSELECT _as_of, bootcamp_id AS group_id, "
                        f"{', '.join(sums)} FROM (SELECT _as_of, bootcamp_id, {', '.join(lags)} "
                        f"FROM (SELECT s._as_of, {picked}, {', '.join(verdicts)} "
                        f"FROM {s.source(rel + 'e')}) AS v) AS w "
                        f"WHERE {changed} GROUP BY _as_of, bootcamp_id", names, True))
        return out

    def targets(self) -> str:
        """Every KPI's target at each date, as numerator ``n<i>`` and denominator ``d<i>``."""
        cols, d = [], self._scope(None)
        for i, k in enumerate(self.plan.kpis):
            t = self.compiler.within(d, k.target)
            assert isinstance(t, Num)
            cols += [f"{t.n} AS n{i}", f"{t.d} AS d{i}"]
        return f"{self.with_}\nSELECT d._as_of, {', '.join(cols)} FROM {d.source('_dates')}"

    def entries(self, kind: str) -> tuple[str, list[p.NoticePlan | p.KpiPlan]]:
        """One query listing the records of every finding, or of every action and KPI
        follow-up, and what its column ``_i`` indexes. Each row names its record by the
        columns of :data:`ID_COLUMNS` (``NULL`` where its type has none) and ``verdict``."""
        sources: list[p.NoticePlan | p.KpiPlan] = [n for n in self.plan.notices
                                                   if n.kind == kind]
        if kind == "action":
            sources += [k for k in self.plan.kpis if isinstance(k, p.KpiPlan) and k.follow_ups]
        views, selects = [], []
        for i, src in enumerate(sources):
            have = _key_columns(src.record)
            ids = ", ".join(f"{'s.' + c if c in have else 'CAST(NULL AS VARCHAR)'} AS {c}"
                            for c in ID_COLUMNS)
            if isinstance(src, p.NoticePlan):
                s = self._scope(src.record)
                cond = self.compiler.within(s, _cond_node(src.member)) \
                    if src.member is not None else "TRUE"
                rel = self.compiler.rel(src.record, self.top)
                frm, verdict = f"{s.source(rel)} WHERE {cond}", "CAST(NULL AS VARCHAR)"
            else:
                views.append(f"f{i} AS ({self.verdicts(src)})")
                wanted = ", ".join(_quote(v) for v, _ in src.follow_ups)
                frm, verdict = f"f{i} AS s WHERE s.verdict IN ({wanted})", "s.verdict"
            line = ", s._line" if self.line else ""
            selects.append(f"SELECT {i} AS _i, {ids}, {verdict} AS verdict{line} FROM {frm}")
        if not selects:
            return "", sources
        order = "_i, _line" if self.line else "_i, " + ", ".join(ID_COLUMNS)
        head = f"{self.with_},\n" + ",\n".join(views) if views else self.with_
        return f"{head}\n" + "\nUNION ALL\n".join(selects) + f"\nORDER BY {order}", sources


#: The columns that name a record in the rows of :meth:`QueryBuilder.entries`.
ID_COLUMNS = ("learner_id", "provider_id", "bootcamp_id", "employer_id")


def render(sql: str, dialect: str = "duckdb", pretty: bool = True) -> str:
    """Our DuckDB-dialect SQL in another dialect, laid out for people, without the views
    the query does not read."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.eliminate_ctes import eliminate_ctes

    def date_add(node: exp.Expression) -> exp.Expression:
        """``date + INTERVAL 'n' UNIT`` as each dialect adds calendar time (``ADD_MONTHS`` in
        Spark, ``DATEADD`` in T-SQL), all of which clamp to the end of a shorter month."""
        if isinstance(node, exp.Add) and isinstance(node.expression, exp.Interval):
            interval = node.expression
            return exp.DateAdd(this=node.this, expression=exp.Literal.number(
                int(interval.this.name)), unit=exp.Var(this=interval.unit.name))
        return node

    tree = eliminate_ctes(sqlglot.parse_one(sql, read="duckdb")).transform(date_add)
    return tree.sql(dialect=dialect, pretty=pretty)


