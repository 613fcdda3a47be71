"""Checking rule expressions: how every name resolves and what type each expression has.

:class:`ExpressionChecker` is the half of :class:`~kpidsl.language.checker.Checker` that walks
expressions with ``visit_<ClassName>`` methods; it records how each name resolved
(:class:`Resolved`) and each expression's :class:`~kpidsl.language.builtins.Type`. It keeps
evaluation linear in the data: lists of related records (``interviews``) may only be read for
the record a clause is about, and all records of a kind (``learners``) only in a population, a
finding, an action or a definition without a subject. And it holds money to shares: money is
multiplied only by a percentage, a plain number used so is reported where it is written (a
table row), with the percentage to write there.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from kpidsl import limits
from kpidsl.classes import fields_methods
from kpidsl.contract.records import BY_NAME, FIELDS, LINKS, Link, masked
from kpidsl.errors import Diagnostic, Span
from kpidsl.language import ast
from kpidsl.language.builtins import BOOLEAN, BUILTINS, NUMERIC, Type

_FIELD_TYPES = {"text": "text", "date": "date", "money": "money", "integer": "integer",
                "boolean": "boolean"}
#: Longer chains of definitions using definitions are refused: later stages follow them.
MAX_DEFINITION_DEPTH = limits.MAX_DEFINITION_DEPTH
_POINT_MEMBERS = ("date", "year_start", "year_end")
#: The hint for money multiplied by a number worked out (a field, a count).
_SHARE_OF_MONEY = ("a share of an amount is a percentage (`* 30%`); to split an amount, divide "
                   "it (`/ 3`)")


@attrs.frozen
@fields_methods
class Resolved:
    """What a name (or ``x.name``, or a call) stands for. ``kind`` is one of ``field``,
    ``link``, ``def`` (a definition of record type ``record``), ``const`` (a definition without
    subject), ``value`` (an enumeration value), ``as_of``, ``all`` (every record of type
    ``record``), ``builtin``, ``table``, ``schedule`` (a schedule's most recent point) or
    ``point`` (``.date``, ``.year_start`` or ``.year_end`` of one); ``each`` is true when it is
    applied to each record of a list (``payments.amount_paid``)."""

    kind: str
    name: str
    record: str | None = None
    link: Link | None = None
    masked: bool = False
    each: bool = False


def _record_type(t: Type | None) -> str | None:
    if t is not None and t.kind == "list" and t.elem is not None and t.elem.kind == "record":
        return t.elem.name
    return None


def is_value(node: ast.Expr) -> bool:
    """A constant as a table may hold it: a literal, possibly negative, or a set of values."""
    if isinstance(node, ast.Unary) and node.op == "-":
        return is_value(node.operand)
    return isinstance(node, ast.Literal | ast.SetLiteral)


def _table_values(t: ast.Table) -> list[ast.Expr]:
    """Every value a table holds, in every version, in the order written."""
    return [value for v in t.versions for value in (*(r.value for r in v.rows), v.value)
            if value is not None]


def value_number(value: ast.Expr) -> Any:
    """The number a written value stands for (``-5%`` is -1/20)."""
    if isinstance(value, ast.Unary):
        return -value_number(value.operand)
    assert isinstance(value, ast.Literal)
    return value.value


def value_kind(value: ast.Expr) -> str | None:
    """The kind of a written value (``-5%`` is a percent)."""
    if isinstance(value, ast.Unary):
        return value_kind(value.operand)
    return value.kind if isinstance(value, ast.Literal) else None


def as_percent(value: int | Decimal) -> str:
    """A plain number meant as a share, written as the percentage it stands for: 30 and 0.3
    are both ``30%`` (a number between 0 and 1 is read as a fraction, any other as a count
    of hundredths)."""
    n = Decimal(value)
    if isinstance(value, Decimal) and 0 < abs(n) < 1:
        n = n.scaleb(2)  # exact, whatever the digits
    return f"{n.normalize():f}%"


def _comparable(a: Type, b: Type, op: str) -> bool:
    if a.kind in ("integer", "number") and b.kind in ("integer", "number"):
        return True
    if a.kind != b.kind or (a.kind in ("enum", "point") and a.name != b.name):
        return False
    if op in ("=", "!="):
        return a.kind not in ("list", "set", "record")
    return a.kind in (*NUMERIC, "date")


def _arith(op: str, a: Type, b: Type) -> Type | None:
    """The type of ``a op b``, or ``None`` when the operation means nothing."""
    k = (a.kind, b.kind)
    if op == "+" and k in (("date", "duration"), ("duration", "date")):
        return Type("date")
    if op == "-" and k == ("date", "duration"):
        return a
    if not (a.kind in NUMERIC and b.kind in NUMERIC):
        return None
    plain = {"integer", "number"}
    if op in "+-":
        if a.kind == b.kind:
            return a
        return Type("number") if set(k) <= plain else None
    if op == "*":
        if "money" in k:  # a share of it: 30% of the cost, never 30 times the cost
            other = b if a.kind == "money" else a
            return Type("money") if other.kind == "percent" else None
        if "percent" in k:
            return Type("percent")
        return a if a.kind == b.kind == "integer" else Type("number")
    # division
    if a.kind == "money" and b.kind in plain:
        return a
    return Type("number") if b.kind != "money" or a.kind == "money" else None


class ExpressionChecker:
    """The expression half of the checker (see the module's text). The checker that uses it
    holds the rule set's declarations (``definitions``, ``tables``, ``schedules``, ``enums``),
    collects ``diagnostics`` and records ``resolved`` and ``types``."""

    diagnostics: list[Diagnostic]
    sources: dict[str, str]
    resolved: dict[int, Resolved]
    types: dict[int, Type]
    definitions: dict[tuple[str | None, str], ast.Definition]
    tables: dict[str, ast.Table]
    schedules: dict[str, ast.Schedule]
    enums: dict[str, tuple[str, ...]]
    def_types: dict[tuple[str | None, str], Type | None]
    def_many: dict[tuple[str | None, str], bool]
    def_nesting: dict[tuple[str | None, str], int]
    _owner: list[str]
    _many_seen: bool
    _depth: int
    _too_deep: set[str]
    _reported: set[int]

    def error(self, span: Span, message: str, hint: str | None = None) -> None:
        raise NotImplementedError

    def _suggest(self, name: str, options: Iterable[str]) -> str | None:
        raise NotImplementedError

    def _definition_type(self, key: tuple[str | None, str], d: ast.Definition) -> Type | None:
        raise NotImplementedError

    def _not_a_percentage(self, expr: ast.Expr, t: Type, what: str, role: str, way: str = "",
                          *, computed: str) -> None:
        """``expr``, a plain number, is used where a percentage is meant. The error is where
        the number is written — in ``expr``, or each value of the table or definition it
        reads, since that is the line to change — with the percentage to write there: a rate
        table holding ``30`` for 30% would otherwise make an employer owe thirty times the
        course cost. A number worked out (a field, a count) is reported at ``expr``."""
        written = self._written(expr)
        if written is None:
            self.error(expr.span, f"{what}, but this is {t}", hint=computed)
            return
        for origin, value in written:
            kind = value_kind(value)
            if kind not in ("integer", "number"):
                continue
            percent = as_percent(value_number(value))
            fix = (f"write `{percent}`: {origin} {role} at {expr.span}" if origin
                   else f"write `{way}{percent}`")
            self._error_once(value, f"{what}, but this is {Type(kind)}", fix)

    def _written(self, expr: ast.Expr, origin: str | None = None,
                 depth: int = 0) -> list[tuple[str | None, ast.Expr]] | None:
        """The values ``expr`` is written as, each with where it is written: ``expr`` itself
        (``None``), or the table or definition it reads (``"table cofunding_rate"``).
        ``None`` when its value is worked out: a field, a count, a calculation."""
        if is_value(expr):
            return [(origin, expr)]
        res = self.resolved.get(id(expr))
        if res is None or depth > MAX_DEFINITION_DEPTH:
            return None
        if res.kind == "table":
            return [(f"table {res.name}", v) for v in _table_values(self.tables[res.name])]
        d = self.definitions.get((res.record if res.kind == "def" else None, res.name))
        if res.kind not in ("def", "const") or d is None or isinstance(d.body, ast.Cases):
            return None
        return self._written(d.body, f"definition {d.name}", depth + 1)

    def _error_once(self, value: ast.Expr, message: str, hint: str) -> None:
        """An error at a written value, once however many rules read it."""
        if id(value) not in self._reported:
            self._reported.add(id(value))
            self.error(value.span, message, hint=hint)

    def _records(self, expr: ast.Expr, what: str) -> str | None:
        """Check a list of records; returns its record type."""
        t = self.visit(expr, None)
        subject = _record_type(t)
        if t is not None and subject is None:
            self.error(expr.span, f"{what} must be a list of records, but this is {t}",
                       hint="write it like `learners where completer`")
        return subject

    def _population(self, expr: ast.Expr, what: str) -> str | None:
        """Check a KPI's population; returns its record type if results can be grouped."""
        subject = self._records(expr, what)
        if subject is not None and "bootcamp_id" not in FIELDS[subject]:
            self.error(expr.span, f"{what} is a list of {subject}s, which belong to no bootcamp",
                       hint="results are reported per bootcamp: use learners or engagements")
            return None
        return subject

    def _condition(self, expr: ast.Expr, scope: str | None, what: str) -> None:
        t = self.visit(expr, scope)
        if t is not None and t != BOOLEAN:
            hint = "a field that may be empty is tested with `is set` or `is missing`"
            if isinstance(expr, ast.Name | ast.Attribute):
                hint = f"did you mean `{_show(expr)} is set`?"
            self.error(expr.span, f"{what} must be true or false, but this is {t}", hint=hint)

    # ---- nesting ----
    def _nesting(self, node: object) -> int:
        """How deep ``node`` nests, counting through the definitions it uses as evaluation
        follows them (each definition's own count is already known: it was checked first)."""
        deepest, stack = 0, [(node, 1)]
        while stack:
            n, depth = stack.pop()
            res = self.resolved.get(id(n))
            if res is not None and res.kind in ("def", "const"):
                depth += self.def_nesting.get((res.record if res.kind == "def" else None,
                                               res.name), 0)
            deepest = max(deepest, depth)
            stack.extend((c, depth + 1) for c in ast.children(n))
        return deepest

    def _limit_nesting(self, node: object, span: Span,
                       key: tuple[str | None, str] | None = None) -> None:
        """Refuse a rule that nests, through its definitions, beyond ``limits.MAX_NESTING``."""
        depth = self._nesting(node)
        if depth > limits.MAX_NESTING:
            self._nesting_error(span)
            depth = 0  # reported once, here, not again at every use
        if key is not None:
            self.def_nesting[key] = depth

    def _nesting_error(self, span: Span) -> None:
        self.error(span, f"this rule nests more than {limits.MAX_NESTING} levels deep, counting "
                   "the definitions it uses", hint="write the condition out in fewer levels, "
                   "or list values with `in {…}`")

    # ---- expressions ----
    def visit(self, node: ast.Expr, scope: str | None, expect: Type | None = None) -> Type | None:
        """Type ``node`` in the scope of a record type (``None`` outside any record).

        Checking follows definitions as it meets them; past ``limits.MAX_NESTING`` levels it
        stops with a located error rather than run out of stack."""
        if self._depth >= limits.MAX_NESTING:
            owner = self._owner[0] if self._owner else ""
            if owner not in self._too_deep:
                self._too_deep.add(owner)
                self._nesting_error(node.span)
            return None
        self._depth += 1
        try:
            t: Type | None = getattr(self, f"visit_{type(node).__name__}")(node, scope, expect)
        finally:
            self._depth -= 1
        if t is not None:
            self.types[id(node)] = t
        return t

    def _link(self, record: str, name: str) -> Link | None:
        return next((lk for lk in LINKS if lk.source == record and lk.name == name), None)

    def _member(self, record: str, name: str, node: Any, via_name: bool) -> Type | None:
        """Resolve ``name`` on a record type: a field, a link or a definition."""
        info = FIELDS[record].get(name)
        if info is not None:
            self.resolved[id(node)] = Resolved("field", name, record,
                                               masked=masked(record, name))
            if info.kind in ("enum", "set"):
                enum = Type("enum", info.enum)
                return enum if info.kind == "enum" else Type("set", elem=enum)
            return Type(_FIELD_TYPES[info.kind])
        link = self._link(record, name)
        if link is not None:
            if link.many:
                if not via_name:
                    self.error(node.span, f"`{_show(node)}` lists the {name} of another record",
                               hint="related records are only listed for the record a clause "
                               f"is about, so that evaluation stays linear; to judge each "
                               f"{record} by its {name}, write a KPI whose population is "
                               f"{BY_NAME[record].plural} and use `{name}` there")
                self._many_seen = True
                self.resolved[id(node)] = Resolved("link", name, record, link=link)
                return Type("list", elem=Type("record", link.target))
            self.resolved[id(node)] = Resolved("link", name, record, link=link)
            return Type("record", link.target)
        d = self.definitions.get((record, name))
        if d is not None:
            t = self._definition_type((record, name), d)
            if self.def_many.get((record, name)):
                if via_name:
                    self._many_seen = True
                else:
                    self.error(node.span, f"`{_show(node)}` reads the related records of another "
                               "record", hint=f"definition `{name}` lists related records, so it "
                               f"can only be used for the record a clause is about")
            self.resolved[id(node)] = Resolved("def", name, record)
            return t
        return None

    def _names_in(self, record: str | None) -> list[str]:
        out = ["as_of", *(k[1] for k in self.definitions if k[0] is None), *self.schedules]
        if record is None:
            out += [t.plural for t in BY_NAME.values()]
        else:
            out += list(FIELDS[record]) + [lk.name for lk in LINKS if lk.source == record]
            out += [k[1] for k in self.definitions if k[0] == record]
        return out

    def visit_Name(self, node: ast.Name, scope: str | None, expect: Type | None,
                   soft: bool = False) -> Type | None:
        name = node.name
        if name == "as_of":
            self.resolved[id(node)] = Resolved("as_of", name)
            return Type("date")
        if scope is not None:
            t = self._member(scope, name, node, via_name=True)
            if t is not None or id(node) in self.resolved:
                return t
        if name in self.schedules:
            self.resolved[id(node)] = Resolved("schedule", name)
            return Type("point", name)
        table = self.tables.get(name)
        if table is not None and table.key_type is None:
            self.resolved[id(node)] = Resolved("table", name)
            return self.types.get(id(table)) or self._table_type(table)
        const = self.definitions.get((None, name))
        if const is not None:
            self.resolved[id(node)] = Resolved("const", name)
            t = self._definition_type((None, name), const)
            if scope is not None and t is not None and t.kind == "list":
                self.error(node.span, f"`{name}` is a list of records, so it cannot be used "
                           f"inside a condition about a {scope}",
                           hint="a list of all records can only be used in a population, a "
                           "finding, an action or another definition without `for`, so that "
                           "evaluation stays linear in the data")
                return None
            return t
        plural = next((t for t in BY_NAME.values() if t.plural == name), None)
        if plural is not None:
            if scope is not None:
                self.error(node.span, f"`{name}` (every {plural.name}) cannot be used inside a "
                           f"condition about a {scope}", hint="every record of a kind can only "
                           "be listed in a population, a finding, an action or a definition "
                           "without `for`")
                return None
            self._many_seen = True
            self.resolved[id(node)] = Resolved("all", name, plural.name)
            return Type("list", elem=Type("record", plural.name))
        if expect is not None and expect.kind in ("enum", "point") and expect.name is not None:
            labels = self.enums.get(expect.name, ())
            if name in labels:
                self.resolved[id(node)] = Resolved("value", name)
                return expect
            if not soft:
                self.error(node.span, f"`{name}` is not a value of {expect.name}",
                           hint=self._suggest(name, labels) or
                           f"the values are {', '.join(labels)}")
            return None
        if soft:
            return None
        where = f"on {scope}" if scope else "here"
        hint = self._suggest(name, self._names_in(scope))
        if scope and hint is None:
            hint = f"{scope} has " + ", ".join(list(FIELDS[scope])[:12]) + ", …"
        self.error(node.span, f"unknown name `{name}` {where}", hint=hint)
        return None

    def visit_Attribute(self, node: ast.Attribute, scope: str | None,
                        expect: Type | None) -> Type | None:
        target = self.visit(node.target, scope)
        if target is None:
            return None
        if target.kind == "point":
            if node.name not in _POINT_MEMBERS:
                self.error(node.name_span, f"a point of schedule {target.name} has no "
                           f"`{node.name}`", hint="it has " + ", ".join(_POINT_MEMBERS))
                return None
            self.resolved[id(node)] = Resolved("point", node.name)
            return Type("date")
        each = target.kind == "list"
        record_type = target.elem if each else target
        if record_type is None or record_type.kind != "record" or record_type.name is None:
            self.error(node.name_span, f"`{node.name}` cannot be read from {target}",
                       hint="only records have fields")
            return None
        record = record_type.name
        t = self._member(record, node.name, node, via_name=False)
        if t is None and id(node) not in self.resolved:
            options = self._names_in(record)
            self.error(node.name_span, f"unknown field `{node.name}` on {record}",
                       hint=self._suggest(node.name, options) or
                       f"{record} has " + ", ".join(list(FIELDS[record])))
            return None
        if each and t is not None:
            self.resolved[id(node)] = attrs.evolve(self.resolved[id(node)], each=True)
            if t.kind == "list":
                self.error(node.span, "a list of lists cannot be used", hint="use a definition")
                return None
            return Type("list", elem=t)
        return t

    def visit_Call(self, node: ast.Call, scope: str | None, expect: Type | None) -> Type | None:
        table = self.tables.get(node.name)
        if table is not None:
            keyed = table.key_type is not None
            args = list(node.args)
            want = f"a value of {table.key_type}, then optionally a date" if keyed else \
                "optionally a date"
            if len(args) not in ((1, 2) if keyed else (0, 1)):
                self.error(node.span, f"table {node.name} takes {want}",
                           hint="the date picks the version in force on it (default: as_of)")
                return None
            if keyed:
                key = self.visit(args[0], scope, Type("enum", table.key_type))
                if key is not None and (key.kind not in ("enum", "point")
                                        or key.name != table.key_type):
                    self.error(args[0].span, f"table {node.name} is looked up by a value of "
                               f"{table.key_type}, but this is {key}")
            if len(args) > int(keyed):
                when = self.visit(args[-1], scope)
                if when is not None and when.kind != "date":
                    self.error(args[-1].span, f"the last value given to table {node.name} picks "
                               f"the version in force on a date, but this is {when}")
            self.resolved[id(node)] = Resolved("table", node.name)
            return self.types.get(id(table)) or self._table_type(table)
        builtin = BUILTINS.get(node.name)
        if builtin is None:
            self.error(node.span, f"unknown function or table `{node.name}`",
                       hint=self._suggest(node.name, [*BUILTINS, *self.tables]) or
                       "functions are " + ", ".join(BUILTINS))
            return None
        types = [self.visit(a, scope) for a in node.args]
        if any(t is None for t in types):
            return None
        result = builtin.result([t for t in types if t is not None])
        if isinstance(result, str):
            self.error(node.span, f"{node.name} {result}", hint=builtin.doc)
            return None
        self.resolved[id(node)] = Resolved("builtin", node.name)
        return result

    def _table_type(self, table: ast.Table) -> Type | None:
        first = table.versions[0]
        value = first.rows[0].value if first.rows else first.value
        return None if value is None or not is_value(value) else self.visit(value, None)

    def visit_Literal(self, node: ast.Literal, scope: str | None, expect: Type | None) -> Type:
        return Type(node.kind)

    def visit_SetLiteral(self, node: ast.SetLiteral, scope: str | None,
                         expect: Type | None) -> Type | None:
        elem = expect.elem if expect is not None and expect.kind in ("set", "list") else expect
        types = [self.visit(i, scope, elem) for i in node.items]
        if any(t is None for t in types) or not types:
            return None if types else Type("set", elem=elem)
        first = types[0]
        for item, t in zip(node.items, types, strict=False):
            if t != first:
                self.error(item.span, f"this is {t} but the set's first value is {first}")
                return None
        return Type("set", elem=first)

    def visit_Unary(self, node: ast.Unary, scope: str | None, expect: Type | None) -> Type | None:
        if node.op == "not":
            self._condition(node.operand, scope, "what follows `not`")
            return BOOLEAN
        t = self.visit(node.operand, scope)
        if t is not None and t.kind not in NUMERIC:
            self.error(node.span, f"only numbers can be negated, but this is {t}")
            return None
        return t

    def visit_IsSet(self, node: ast.IsSet, scope: str | None, expect: Type | None) -> Type:
        self.visit(node.operand, scope)
        return BOOLEAN

    def visit_Where(self, node: ast.Where, scope: str | None, expect: Type | None) -> Type | None:
        t = self.visit(node.source, scope)
        record = _record_type(t)
        if t is not None and record is None:
            self.error(node.source.span, f"`where` picks records from a list, but this is {t}")
            return None
        if record is not None:
            self._condition(node.condition, record, "the condition after `where`")
        return t

    def _pair(self, left: ast.Expr, right: ast.Expr, scope: str | None,
              expect_right: Any = None) -> tuple[Type | None, Type | None]:
        """Type both sides; a bare enum value on either side takes the other side's type."""
        lt = (self.visit_Name(left, scope, None, soft=True) if isinstance(left, ast.Name)
              else self.visit(left, scope))
        if lt is None and isinstance(left, ast.Name) and id(left) not in self.resolved:
            rt = self.visit(right, scope)
            hint = rt.elem if rt is not None and rt.kind in ("set", "list") else rt
            lt = self.visit(left, scope, hint)
            return lt, rt
        if lt is not None:
            self.types[id(left)] = lt
        want = expect_right(lt) if expect_right else lt
        return lt, self.visit(right, scope, want)

    def visit_Binary(self, node: ast.Binary, scope: str | None, expect: Type | None) -> Type | None:
        op = node.op
        if op == "-" and _hyphenated(node):
            self._hyphenated_name(node, scope, expect)
            return None
        if op in ("and", "or"):
            self._condition(node.left, scope, f"each side of `{op}`")
            self._condition(node.right, scope, f"each side of `{op}`")
            return BOOLEAN
        if op in ("in", "not in"):
            lt, rt = self._pair(node.left, node.right, scope,
                                lambda t: None if t is None else Type("set", elem=t))
            if lt is None or rt is None:
                return BOOLEAN
            if rt.kind not in ("set", "list") or rt.elem != lt:
                self.error(node.span, f"`{op}` looks for {lt} in {rt}",
                           hint="the right side must be a set of the same kind of value")
            return BOOLEAN
        lt, rt = self._pair(node.left, node.right, scope)
        if lt is None or rt is None:
            return None
        if op in ("=", "!=", "<", "<=", ">", ">="):
            if not _comparable(lt, rt, op):
                self.error(node.span, f"cannot compare {lt} with {rt} using `{op}`",
                           hint="both sides must be the same kind of value")
            return BOOLEAN
        t = _arith(op, lt, rt)
        factor = _plain_factor(node, lt, rt) if t is None else None
        if factor is not None:
            self._not_a_percentage(*factor, "money is multiplied only by a percentage",
                                   "is used as a share of an amount of money",
                                   computed=_SHARE_OF_MONEY)
        elif t is None:
            self.error(node.span, f"cannot compute {lt} {op} {rt}",
                       hint="dates take durations (`+ 6 months`); money takes percentages")
        return t

    def _hyphenated_name(self, node: ast.Binary, scope: str | None,
                         expect: Type | None) -> None:
        """One error for ``self-employed``, suggesting ``self_employed``."""
        assert isinstance(node.left, ast.Name) and isinstance(node.right, ast.Name)
        written = f"{node.left.name}-{node.right.name}"
        joined = f"{node.left.name}_{node.right.name}"
        known = self._names_in(scope)
        if expect is not None and expect.kind == "enum" and expect.name is not None:
            known = [*known, *self.enums.get(expect.name, ())]
        fix = (f"did you mean `{joined}`?" if joined in known else f"write `{joined}`")
        self.error(node.span, f"unknown name `{written}`",
                   hint=f"{fix} Names join words with `_`, not `-`")


def _plain_factor(node: ast.Binary, lt: Type, rt: Type) -> tuple[ast.Expr, Type] | None:
    """In ``money * n`` or ``n * money`` with ``n`` a plain number: ``n`` and its type."""
    if node.op == "*":
        for money, other, t in ((lt, node.right, rt), (rt, node.left, lt)):
            if money.kind == "money" and t.kind in ("integer", "number"):
                return other, t
    return None


def _hyphenated(node: ast.Binary) -> bool:
    """``self-employed``: two names joined by a ``-`` with no space, which reads as a
    subtraction but is meant as one name."""
    left, right = node.left, node.right
    return (isinstance(left, ast.Name) and isinstance(right, ast.Name)
            and left.span.line == right.span.line == left.span.end_line
            and left.span.end_column + 1 == right.span.column)


def _show(node: ast.Expr) -> str:
    """A short rendering of a name or path for messages."""
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Attribute):
        return f"{_show(node.target)}.{node.name}"
    return "…"
