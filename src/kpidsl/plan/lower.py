"""Lowering: a checked rule set → a :class:`~kpidsl.plan.nodes.Plan`.

The checker has already resolved every name and typed every expression (``RuleSet.resolved``
and ``RuleSet.types``, keyed by node); here that knowledge moves into the nodes themselves, so
engines never look anything up by ``id(node)``. Populations and notices are normalised to a
record type and a membership condition (``learners where a`` → learners, ``a``), whatever way
they were written.
"""

from __future__ import annotations

from typing import Any

from kpidsl.errors import Span
from kpidsl.language import ast
from kpidsl.language.builtins import BOOLEAN, Type
from kpidsl.language.checker import RuleSet
from kpidsl.language.expressions import Resolved
from kpidsl.language.source import text_at
from kpidsl.plan import nodes as p


class Lowerer:
    """Turns checked AST expressions into plan expressions."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def expr(self, node: ast.Expr) -> p.Expr:
        out: p.Expr = getattr(self, f"lower_{type(node).__name__}")(node)
        return out

    def _type(self, node: ast.Expr) -> Type:
        return self.rules.types.get(id(node)) or BOOLEAN

    def _resolved(self, res: Resolved, node: ast.Expr, t: Type | None = None) -> p.Expr:
        t, span = t or self._type(node), node.span
        if res.kind == "as_of":
            return p.AsOf(type=t, span=span)
        if res.kind == "value":
            return p.Const(type=t, span=span, value=res.name)
        if res.kind == "const":
            return p.DefRef(type=t, span=span, record=None, name=res.name)
        if res.kind == "all":
            assert res.record is not None  # the checker resolves `all` to a record type
            return p.All(type=t, span=span, record=res.record)
        if res.kind == "schedule":
            return p.Point(type=t, span=span, schedule=res.name)
        if res.kind == "table":
            return p.Lookup(type=t, span=span, table=res.name)
        if res.kind == "field":
            assert res.record is not None  # a field is resolved with its record type
            return p.Field(type=t, span=span, record=res.record, name=res.name,
                           masked=res.masked)
        if res.kind == "link":
            assert res.link is not None
            if res.link.many:
                return p.Related(type=t, span=span, link=res.link)
            return p.Link1(type=t, span=span, link=res.link)
        assert res.kind == "def", res
        return p.DefRef(type=t, span=span, record=res.record, name=res.name)

    def lower_Name(self, node: ast.Name) -> p.Expr:
        return self._resolved(self.rules.resolved[id(node)], node)

    def lower_Attribute(self, node: ast.Attribute) -> p.Expr:
        target = self.expr(node.target)
        res = self.rules.resolved[id(node)]
        t = self._type(node)
        if res.kind == "point":
            return p.PointMember(type=t, span=node.span, target=target, member=res.name)
        if res.each:
            body = self._resolved(res, node, t.elem)
            return p.Each(type=t, span=node.span, source=target, body=body)
        return p.Nav(type=t, span=node.span, target=target, body=self._resolved(res, node))

    def lower_Call(self, node: ast.Call) -> p.Expr:
        res = self.rules.resolved[id(node)]
        t = self._type(node)
        if res.kind == "table":
            keyed = self.rules.tables[res.name].key_type is not None
            key = self._label(node.args[0]) if keyed else None
            when = self.expr(node.args[-1]) if len(node.args) > int(keyed) else None
            return p.Lookup(type=t, span=node.span, table=res.name, key=key, when=when)
        return p.Agg(type=t, span=node.span, fn=res.name, source=self.expr(node.args[0]))

    def _label(self, node: ast.Expr) -> p.Expr:
        """An enumeration value; a schedule's point stands for its label."""
        e = self.expr(node)
        if e.type.kind != "point":
            return e
        label = Type("enum", e.type.name)
        if isinstance(e, p.Const):  # a point's label written out (`R04`)
            return p.Const(type=label, span=e.span, value=e.value)
        return p.PointMember(type=label, span=e.span, target=e, member="label")

    def lower_Literal(self, node: ast.Literal) -> p.Expr:
        return p.Const(type=self._type(node), span=node.span, value=node.value)

    def lower_SetLiteral(self, node: ast.SetLiteral) -> p.Expr:
        items = tuple(self.expr(i) for i in node.items)
        if all(isinstance(i, p.Const) for i in items):
            return p.Const(type=self._type(node), span=node.span,
                           value=frozenset(i.value for i in items))  # type: ignore[attr-defined]
        return p.SetOf(type=self._type(node), span=node.span, items=items)

    def lower_Unary(self, node: ast.Unary) -> p.Expr:
        operand = self.expr(node.operand)
        if node.op == "not":
            return p.Not(type=BOOLEAN, span=node.span, operand=operand)
        return p.Neg(type=self._type(node), span=node.span, operand=operand)

    def lower_IsSet(self, node: ast.IsSet) -> p.Expr:
        return p.IsSet(type=BOOLEAN, span=node.span, operand=self.expr(node.operand),
                       negated=node.negated)

    def lower_Where(self, node: ast.Where) -> p.Expr:
        return p.Filter(type=self._type(node), span=node.span, source=self.expr(node.source),
                        condition=self.expr(node.condition))

    def lower_Binary(self, node: ast.Binary) -> p.Expr:
        op, span = node.op, node.span
        if op in ("and", "or"):
            items = tuple(self.expr(x) for x in ast.operands(node, op))
            cls = p.And if op == "and" else p.Or
            return cls(type=BOOLEAN, span=span, items=items)
        if op in ("in", "not in"):
            return p.In(type=BOOLEAN, span=span, value=self._label(node.left),
                        set=self.expr(node.right), negated=op == "not in")
        left, right = self._label(node.left), self._label(node.right)
        if op in ("=", "!=", "<", "<=", ">", ">="):
            return p.Compare(type=BOOLEAN, span=span, op=op, left=left, right=right)
        t = self._type(node)
        for date, other, sign in ((left, right, 1 if op == "+" else -1), (right, left, 1)):
            if isinstance(other, p.Const) and isinstance(other.value, ast.Duration) \
                    and (date is left or op == "+"):
                return p.Shift(type=t, span=span, date=date, duration=other.value, sign=sign)
        return p.Arith(type=t, span=span, op=op, left=left, right=right)

    # ---- populations --------------------------------------------------------------------

    def records(self, node: ast.Expr) -> tuple[str, p.Expr | None]:
        """A list of records as its record type and a membership condition (``None``: all)."""
        e = self.expr(node)
        conditions: list[p.Expr] = []
        while True:
            if isinstance(e, p.Filter):
                conditions.insert(0, e.condition)
                e = e.source
            elif isinstance(e, p.DefRef) and e.record is None:
                e = self.definition(None, e.name).body
            else:
                break
        assert isinstance(e, p.All), e
        member = None if not conditions else conditions[0] if len(conditions) == 1 else \
            p.And(type=BOOLEAN, items=tuple(conditions))
        return e.record, member

    def definition(self, record: str | None, name: str) -> p.Definition:
        d = self.rules.definitions[(record, name)]
        if isinstance(d.body, ast.Cases):
            body: p.Expr = p.Classify(
                type=Type("enum", d.name), span=d.body.span,
                cases=tuple((self.expr(c.condition), c.label) for c in d.body.cases),
                otherwise=d.body.otherwise)
        else:
            body = self.expr(d.body)
        uses = tuple(dict.fromkeys((x.record, x.name) for x in walk(body)
                                   if isinstance(x, p.DefRef)))
        return p.Definition(record=record, name=name, body=body, uses=uses)


def walk(node: p.Expr) -> list[p.Expr]:
    """``node`` and every expression below it, parents first."""
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(p.children(n)))
    return out


def _table(rules: RuleSet, lowerer: Lowerer, t: ast.Table) -> p.Table:
    def value(e: ast.Expr | None) -> Any:
        c = lowerer.expr(e) if e is not None else None
        while isinstance(c, p.Neg):  # a table holds literals, possibly negative
            inner = c.operand
            assert isinstance(inner, p.Const)
            c = p.Const(type=inner.type, value=-inner.value)  # type: ignore[operator]
        assert c is None or isinstance(c, p.Const)
        return None if c is None else c.value

    versions = tuple(
        (v.start, {row.key: value(row.value) for row in v.rows} if t.key_type else value(v.value))
        for v in t.versions)
    spans = tuple({row.key: row.value.span for row in v.rows} if t.key_type
                  else {"": (v.value or v).span} for v in t.versions)
    return p.Table(name=t.name, keyed=t.key_type is not None,
                   type=rules.types.get(id(t)) or Type("number"), versions=versions, spans=spans)


def source_text(rules: RuleSet, span: Span) -> str:
    """The text a span covers in its rule file, on one line (``(x or y)`` spans ``x or y``)."""
    text = next(f.source for f in rules.files if f.path == span.file)
    return " ".join(text_at(text, span).split())


def _reads(rules: RuleSet, node: ast.Expr) -> list[ast.Expr]:
    """What a condition reads of the record in scope, as a person would look it up: fields,
    definitions and ``a.b`` paths whole, calls whole and then their arguments. A definition
    of the record is followed by what its body reads (``positive_outcome`` → ``outcome``),
    since its value alone rarely says why. A ``where`` condition is about other records
    (each interview), so only its source is read here. Each definition is followed once."""
    out: list[ast.Expr] = []
    followed: set[tuple[str | None, str]] = set()

    def walk(n: Any) -> None:
        if isinstance(n, ast.Name):
            res = rules.resolved.get(id(n))
            if res is not None and res.kind not in ("value", "all"):
                out.append(n)
            if res is not None and res.kind == "def" and (res.record, res.name) not in followed:
                followed.add((res.record, res.name))
                walk(rules.definitions[(res.record, res.name)].body)
        elif isinstance(n, ast.Attribute):
            out.append(n)
        elif isinstance(n, ast.Call):
            out.append(n)
            for a in n.args:
                walk(a)
        elif isinstance(n, ast.Where):
            walk(n.source)
        else:
            for child in ast.children(n):
                walk(child)

    walk(node)
    return out


def shown(rules: RuleSet, lowerer: Lowerer, clause: str, node: ast.Expr) -> p.Shown:
    """A clause or part of the kind ``clause``, with what it reads, lowered by ``lowerer``."""
    reads: dict[str, p.Expr] = {}
    for n in _reads(rules, node):
        reads.setdefault(source_text(rules, n.span), lowerer.expr(n))
    return p.Shown(clause, source_text(rules, node.span), lowerer.expr(node), tuple(reads.items()))


def clauses(rules: RuleSet, lowerer: Lowerer, k: ast.Kpi) -> p.Clauses:
    """What ``explain`` shows of a KPI judged record by record, lowered by ``lowerer``."""
    assert k.counted is not None

    def one(clause: str, node: ast.Expr) -> tuple[p.Shown, tuple[p.Shown, ...]]:
        return shown(rules, lowerer, clause, node), tuple(
            shown(rules, lowerer, clause, x) for x in ast.operands(node, "and"))

    counted, counted_parts = one("counted when", k.counted.expr)
    pending, pending_parts = one("pending when", k.pending.expr) if k.pending else (None, ())
    return p.Clauses(counted, counted_parts, pending, pending_parts)


def lower(rules: RuleSet) -> p.Plan:
    """The plan of a checked rule set."""
    lw = Lowerer(rules)
    kpis: list[p.KpiPlan | p.MeasurePlan] = []
    for k in rules.kpis:
        assert k.target is not None and k.target.direction is not None
        target = lw.expr(k.target.expr)
        if k.per is not None:
            assert k.actual is not None and k.planned is not None
            kpis.append(p.MeasurePlan(name=k.name, actual=lw.expr(k.actual.expr),
                                      planned=lw.expr(k.planned.expr), target=target,
                                      direction=k.target.direction,
                                      explain=shown(rules, lw, "target", k.target.expr)))
            continue
        assert k.population is not None and k.counted is not None
        record, member = lw.records(k.population.expr)
        kpis.append(p.KpiPlan(
            name=k.name, record=record, member=member, counted=lw.expr(k.counted.expr),
            pending=lw.expr(k.pending.expr) if k.pending else None, target=target,
            direction=k.target.direction,
            follow_ups=tuple((f.verdict, f.message) for f in k.follow_ups),
            explain=clauses(rules, lw, k)))
    notices = []
    for n in rules.notices:
        record, member = lw.records(n.records)
        notices.append(p.NoticePlan(kind=n.kind, name=n.name, message=n.message, record=record,
                                    member=member))
    return p.Plan(
        kpis=tuple(kpis), notices=tuple(notices),
        definitions={key: lw.definition(*key) for key in rules.definitions},
        tables={name: _table(rules, lw, t) for name, t in rules.tables.items()},
        schedules=dict(rules.schedules), sources={f.path: f.source for f in rules.files})
