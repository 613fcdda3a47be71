"""Formatting: rule-file text → the same rules in one canonical layout (``kpidsl fmt``).

The formatter parses a file to its AST and prints the AST back, so layout can never change
meaning: ``parse(format_source(x)) == parse(x)``, and formatting twice changes nothing. The one
exception is the order of a KPI's metadata, which is put in the guidance's order (title, stage,
level, descriptor, measured, monitors, source); the metadata is only ever looked up by key.

Expressions get the fewest parentheses the grammar's precedence allows, except that an ``and``
inside an ``or`` keeps its parentheses, so that no reader has to know which binds tighter. An
``and``/``or`` chain that does not fit in :data:`WIDTH` columns is broken one operand per line,
the operator first. Every prose block is written one way: the text between a line that ends
with ``\"\"\"`` and a closing ``\"\"\"`` on its own line, at the text's indentation. Literals come
out in one spelling (``£1,500.00``, ``12.5%``, ``6 months``).

The parser drops comments, so they are collected from the tokens and put back next to the clause
or item they were written beside: a comment on its own line goes before the clause or item that
follows it, a comment at the end of a line stays at the end of that clause's last line (or goes
before the clause, when the line it ended no longer exists). No comment is ever dropped.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import math
import os
import threading
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import lark

from kpidsl.classes import fields_eq, fields_methods, fields_repr
from kpidsl.errors import Diagnostic, RuleError
from kpidsl.files import open_output
from kpidsl.language import ast
from kpidsl.language.parser import _GRAMMAR, _MONTHS, parse
from kpidsl.language.source import decode_rules, normalise, read_rule_bytes

#: Lines are broken to stay within this many columns where the rules allow it.
WIDTH = 100
#: One level of indentation.
STEP = "  "

_COMPARISONS = {"=", "!=", "<", "<=", ">", ">=", "in", "not in"}

# How tightly each expression binds, loosest first, as in kpi.lark.
WHERE, OR, AND, NOT, COMPARE, SUM, PRODUCT, UNARY, POSTFIX, ATOM = range(10)


def format_source(source: str, path: str = "<rules>") -> str:
    """``source`` in canonical layout, its comments kept. Raises the parser's ``RuleError``."""
    source = normalise(source)
    tree = parse(source, path)
    return _Printer(_Tokens(source)).file(tree)


def format_ast(tree: ast.RuleFile) -> str:
    """An AST (parsed or built in code) printed in canonical layout, without comments."""
    return _Printer(None).file(tree)


# ---- literals and texts ------------------------------------------------------------------


def _quote(text: str) -> str:
    """A one-line text in double quotes; the parser reads ``\\x`` back as ``x``."""
    if "\n" in text:
        raise ValueError(f"a quoted text cannot hold a line break: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _prose_ok(text: str) -> bool:
    """Whether a ``\"\"\"`` block gives back exactly ``text``: the parser strips the ends,
    removes the common indentation and empties lines of spaces, and the block ends at the
    first ``\"\"\"``."""
    return (text == text.strip() and '"""' not in text
            and all(line.strip() or not line for line in text.split("\n")))


def _prose(text: str, indent: str) -> list[str]:
    """The text's lines at ``indent``, closed by ``\"\"\"`` (the caller writes the opening)."""
    if not _prose_ok(text):
        raise ValueError(f"this text cannot be written as prose: {text!r}")
    return [indent + line if line else "" for line in text.split("\n")] + [indent + '"""']


def _percent(value: Fraction) -> str:
    """``Fraction(1, 8)`` → ``12.5%``: the shortest exact decimal, as the parser reads it."""
    scaled, places = value * 100, 0
    rest = scaled.denominator
    for p in (2, 5):
        while rest % p == 0:
            rest //= p
    if rest != 1 or scaled < 0:
        raise ValueError(f"{value} cannot be written as a percentage")
    while scaled.denominator != 1:
        scaled, places = scaled * 10, places + 1
    digits = str(scaled.numerator).rjust(places + 1, "0")
    return (digits[:-places] + "." + digits[-places:] if places else digits) + "%"


def _money(value: Decimal) -> str:
    """``£1,500.00``; exact for any amount (no rounding context is involved)."""
    pounds, _, pence = f"{value:f}".partition(".")
    if not value.is_finite() or value < 0 or pence.rstrip("0")[2:]:
        raise ValueError(f"{value} cannot be written as an amount")
    return f"£{int(pounds):,}.{(pence + '00')[:2]}"


def _number(value: Decimal) -> str:
    text = f"{value:f}"
    return text if "." in text else text + ".0"


def _duration(d: ast.Duration) -> str:
    return f"{d.amount} {d.unit}{'' if d.amount == 1 else 's'}"


def _literal(lit: ast.Literal) -> str:
    v: Any = lit.value
    match lit.kind:
        case "boolean":
            return "true" if v else "false"
        case "integer":
            return str(v)
        case "number":
            return _number(v)
        case "percent":
            return _percent(v)
        case "money":
            return _money(v)
        case "date":
            assert isinstance(v, dt.date)  # the parser reads a date literal as a date
            return v.isoformat()
        case "text":
            return _quote(v)
        case "duration":
            return _duration(v)
    raise ValueError(f"unknown literal kind {lit.kind!r}")


def _day_of_year(month: int, day: int) -> str:
    return f"{day} {_MONTHS[month - 1]}"


# ---- expressions -----------------------------------------------------------------------


def _level(e: ast.Expr) -> int:
    """How tightly ``e`` binds: an operand that binds less tightly than its place needs gets
    parentheses."""
    if isinstance(e, ast.Where):
        return WHERE
    if isinstance(e, ast.Binary):
        if e.op in ("or", "and"):
            return OR if e.op == "or" else AND
        if e.op in _COMPARISONS:
            return COMPARE
        return SUM if e.op in ("+", "-") else PRODUCT
    if isinstance(e, ast.Unary):
        return NOT if e.op == "not" else UNARY
    if isinstance(e, ast.IsSet):
        return COMPARE
    if isinstance(e, ast.Attribute | ast.Call):
        return POSTFIX
    return ATOM


def _is_or(e: ast.Expr) -> bool:
    return isinstance(e, ast.Binary) and e.op == "or"


Part = str | tuple[ast.Expr, int]


class _Layout:
    """Lays out an expression that starts at column ``col`` and is followed on its last line
    by ``tail`` more characters. Returns its lines: the first without indentation (it goes
    after whatever precedes it), the others with their full indentation."""

    def __init__(self, width: float = WIDTH) -> None:
        self.width = width

    def lines(self, e: ast.Expr, col: int, tail: int = 0) -> list[str]:
        result: list[str] = getattr(self, f"visit_{type(e).__name__}")(e, col, tail)
        return result

    def flat(self, e: ast.Expr) -> str:
        return _FLAT.lines(e, 0)[0]

    def _fits(self, e: ast.Expr, col: int, tail: int) -> bool:
        """Whether ``e`` fits on one line here; always, for the one-line layout."""
        return self.width == math.inf or col + len(self.flat(e)) + tail <= self.width

    def _operand(self, e: ast.Expr, need: int, col: int, tail: int) -> list[str]:
        """``e`` where an expression binding at least ``need`` may stand, in parentheses if
        it binds more loosely."""
        if _level(e) >= need:
            return self.lines(e, col, tail)
        inner = self.lines(e, col + 1, tail + 1)
        return ["(" + inner[0], *inner[1:-1], inner[-1] + ")"] if len(inner) > 1 \
            else ["(" + inner[0] + ")"]

    def _seq(self, col: int, tail: int, *parts: Part) -> list[str]:
        """Texts and operands one after the other; an operand that breaks moves the rest down."""
        out = [""]
        for i, part in enumerate(parts):
            if isinstance(part, str):
                out[-1] += part
                continue
            after = parts[i + 1:]
            follow = 0
            for p in after:
                if not isinstance(p, str):
                    break
                follow += len(p)
            else:
                follow += tail
            here = col + len(out[0]) if len(out) == 1 else len(out[-1])
            sub = self._operand(part[0], part[1], here, follow)
            out[-1] += sub[0]
            out.extend(sub[1:])
        return out

    def visit_Name(self, e: ast.Name, col: int, tail: int) -> list[str]:
        return [e.name]

    def visit_Literal(self, e: ast.Literal, col: int, tail: int) -> list[str]:
        return [_literal(e)]

    def visit_SetLiteral(self, e: ast.SetLiteral, col: int, tail: int) -> list[str]:
        return self._seq(col, tail, "{", *self._commas(e.items), "}")

    def visit_Call(self, e: ast.Call, col: int, tail: int) -> list[str]:
        return self._seq(col, tail, e.name + "(", *self._commas(e.args), ")")

    @staticmethod
    def _commas(items: tuple[ast.Expr, ...]) -> list[Part]:
        parts: list[Part] = []
        for i, item in enumerate(items):
            parts += [", "] if i else []
            parts.append((item, WHERE))
        return parts

    def visit_Attribute(self, e: ast.Attribute, col: int, tail: int) -> list[str]:
        return self._seq(col, tail, (e.target, POSTFIX), "." + e.name)

    def visit_Unary(self, e: ast.Unary, col: int, tail: int) -> list[str]:
        if e.op == "not":
            return self._seq(col, tail, "not ", (e.operand, NOT))
        # ``--a`` reads like a typo; ``- -a`` says what it is. Only a minus binds as tightly
        # as a minus and starts with one (anything looser gets parentheses).
        sign = "- " if isinstance(e.operand, ast.Unary) and e.operand.op == "-" else "-"
        return self._seq(col, tail, sign, (e.operand, UNARY))

    def visit_IsSet(self, e: ast.IsSet, col: int, tail: int) -> list[str]:
        return self._seq(col, tail, (e.operand, SUM), " is missing" if e.negated else " is set")

    def visit_Binary(self, e: ast.Binary, col: int, tail: int) -> list[str]:
        if e.op in ("and", "or"):
            return self._chain(e, col, tail, under_where=False)
        return self._binary(e, col, tail)

    def _binary(self, e: ast.Binary, col: int, tail: int) -> list[str]:
        level = _level(e)
        if level == COMPARE:  # comparisons do not chain: both sides are sums
            return self._seq(col, tail, (e.left, SUM), f" {e.op} ", (e.right, SUM))
        left, right = level, level + 1
        if e.op == "or":
            left = OR if _is_or(e.left) else NOT
            right = NOT
        return self._seq(col, tail, (e.left, left), f" {e.op} ", (e.right, right))

    def _chain(self, e: ast.Binary, col: int, tail: int, under_where: bool) -> list[str]:
        """An ``and``/``or`` chain: on one line if it fits, else one operand per line with the
        operator first. Under ``where`` the operators hang left so the operands line up with
        the first (``where a`` / ``  and b``); elsewhere they stand under the first operand."""
        if self._fits(e, col, tail):
            return self._binary(e, col, tail)
        operands: list[ast.Expr] = []
        x: ast.Expr = e
        while isinstance(x, ast.Binary) and x.op == e.op:
            operands.append(x.right)
            x = x.left
        operands.append(x)
        operands.reverse()
        first, rest = (NOT, NOT) if e.op == "or" else (AND, NOT)
        hang = col - len(e.op) - 1 if under_where and col > len(e.op) else col
        out = self._operand(operands[0], first, col, 0)
        for i, operand in enumerate(operands[1:], start=2):
            prefix = " " * hang + e.op + " "
            sub = self._operand(operand, rest, len(prefix), tail if i == len(operands) else 0)
            out += [prefix + sub[0], *sub[1:]]
        return out

    def visit_Where(self, e: ast.Where, col: int, tail: int) -> list[str]:
        if self._fits(e, col, tail):
            return self._seq(col, tail, (e.source, WHERE), " where ", (e.condition, OR))
        out = self._operand(e.source, WHERE, col, len(" where "))
        out[-1] += " where "
        here = col + len(out[0]) if len(out) == 1 else len(out[-1])
        cond = e.condition
        if isinstance(cond, ast.Binary) and cond.op in ("and", "or"):
            sub = self._chain(cond, here, tail, under_where=True)
        else:
            sub = self._operand(cond, OR, here, tail)
        out[-1] += sub[0]
        return out + sub[1:]


_FLAT = _Layout(math.inf)
_LAYOUT = _Layout()


# ---- comments --------------------------------------------------------------------------


@attrs.frozen
@fields_methods
class _Comment:
    line: int
    column: int
    text: str
    own_line: bool  # nothing but spaces before it on its line
    blank_after: bool  # the next line is blank: kept, as it separates the comment from code


_COMMENTS: list[lark.Token] = []
_SCAN_LOCK = threading.Lock()


def _keep(token: lark.Token) -> lark.Token:
    _COMMENTS.append(token)
    return token


#: The parser's grammar again, keeping every token in the tree and reporting each comment: the
#: parser keeps neither, and the formatter needs both to put comments back.
_SCANNER = lark.Lark(_GRAMMAR, parser="lalr", keep_all_tokens=True,
                     lexer_callbacks={"COMMENT": _keep})


class _Tokens:
    """The tokens of a source that parsed: where each piece of code and each comment is."""

    def __init__(self, source: str) -> None:
        with _SCAN_LOCK:
            _COMMENTS.clear()
            tree = _SCANNER.parse(source)
            found = list(_COMMENTS)
        # iter_subtrees walks without recursion (scan_values recurses, and parentheses nest
        # without limit: they leave no node in the AST)
        self.code = sorted((c for sub in tree.iter_subtrees() for c in sub.children
                            if isinstance(c, lark.Token)), key=lambda t: t.start_pos or 0)
        self.code_lines = {n for t in self.code for n in range(t.line or 0, (t.end_line or 0) + 1)}
        lines = source.split("\n")
        self.comments: list[_Comment] = []
        for t in found:
            assert t.line is not None and t.column is not None  # the lexer places every token
            self.comments.append(
                _Comment(t.line, t.column, t.rstrip(), own_line=t.line not in self.code_lines,
                         blank_after=t.line < len(lines) and not lines[t.line].strip()))

        self._by_kind: dict[str, list[tuple[int, int]]] = {}
        for t in self.code:  # already in source order
            self._by_kind.setdefault(t.type, []).append((t.line or 0, t.column or 0))
        self.sorted_lines = sorted(self.code_lines)

    def find(self, kind: str, after: tuple[int, int]) -> tuple[int, int]:
        """Where the first ``kind`` token at or after ``after`` is."""
        places = self._by_kind[kind]
        return places[bisect.bisect_left(places, after)]

    def last_code_line(self, start: int, stop: float) -> int:
        """The last line with code in ``[start, stop)``, or ``start`` if there is none."""
        k = bisect.bisect_left(self.sorted_lines, stop) - 1
        return max(start, self.sorted_lines[k]) if k >= 0 else start


@attrs.define
class _Block:
    """Output lines that move as one: an item's header, a clause, a row. ``at`` is where it
    starts in the source (``None`` for an AST built in code); comments attach to blocks."""

    __repr__ = fields_repr
    __eq__ = fields_eq

    at: tuple[int, int] | None
    lines: list[str]
    indent: str
    before: list[_Comment] = attrs.Factory(list)
    trailing: _Comment | None = None


def _attach(blocks: list[_Block], tokens: _Tokens) -> list[_Comment]:
    """Attach each comment to a block; returns the comments that come after every block.

    A block runs in the source from its start to the last line with code before the next
    block starts. A comment at the end of a block's last line trails it; any other comment
    inside a block goes before it; a comment between blocks goes before the next one.
    """
    placed = sorted((b for b in blocks if b.at is not None), key=lambda b: b.at or (0, 0))
    starts = [b.at for b in placed if b.at is not None]
    ends = []
    for i, (line, _) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else math.inf
        ends.append(tokens.last_code_line(line, stop))
    leftover: list[_Comment] = []
    for c in tokens.comments:
        k = bisect.bisect_right(starts, (c.line, c.column)) - 1  # the block the comment is in
        if k >= 0 and not c.own_line and c.line == ends[k]:
            placed[k].trailing = c
        elif k >= 0 and c.line <= ends[k]:
            placed[k].before.append(c)
        elif k + 1 < len(placed):
            placed[k + 1].before.append(c)
        else:
            leftover.append(c)
    return leftover


def _emit(block: _Block) -> list[str | None]:
    """The block's lines with its comments; ``None`` is a blank line that may be merged with
    the next one (a blank line inside prose is ``""`` and is never touched)."""
    out: list[str | None] = []
    for c in block.before:
        out.append(block.indent + c.text)
        if c.blank_after:
            out.append(None)
    out += block.lines
    if block.trailing is not None:
        out[-1] = f"{out[-1]}  {block.trailing.text}"
    return out


# ---- items -----------------------------------------------------------------------------


Groups = list[list[_Block]]


class _Printer:
    """Prints a rule file: each item is groups of blocks, groups separated by a blank line."""

    def __init__(self, tokens: _Tokens | None) -> None:
        self.tokens = tokens

    def file(self, tree: ast.RuleFile) -> str:
        items = [getattr(self, f"visit_{type(i).__name__}")(i) for i in tree.items]
        blocks = [b for groups in items for group in groups for b in group]
        leftover = _attach(blocks, self.tokens) if self.tokens else []
        out: list[str | None] = []
        for groups in items:
            for group in groups:
                out.append(None)
                for block in group:
                    out += _emit(block)
        if leftover:
            out.append(None)
            out += _emit(_Block(None, [], "", before=leftover))
        text: list[str | None] = []
        for line in out:  # at most one blank line in a row, none at either end
            if line is not None or (text and text[-1] is not None):
                text.append(line)
        while text and text[-1] is None:
            text.pop()
        return "".join(("" if line is None else line) + "\n" for line in text)

    # -- helpers --

    def _at(self, node: Any) -> tuple[int, int] | None:
        span = getattr(node, "span", None)
        return None if self.tokens is None or span is None else (span.line, span.column)

    def _find(self, kind: str, node: Any) -> tuple[int, int] | None:
        """Where a keyword or prose of ``node`` without a span of its own is."""
        at = self._at(node)
        return None if at is None or self.tokens is None else self.tokens.find(kind, at)

    def _expr(self, at: tuple[int, int] | None, indent: str, head: str, e: ast.Expr) -> _Block:
        """``head`` then an expression, on as many lines as it needs."""
        lines = _LAYOUT.lines(e, len(indent) + len(head))
        return _Block(at, [indent + head + lines[0], *lines[1:]], indent)

    def _text(self, at: tuple[int, int] | None, indent: str, head: str, text: str,
              prose: bool) -> _Block:
        """``head`` then a text: a prose block if ``prose`` (or the text has several lines),
        else one quoted line."""
        if (prose and _prose_ok(text)) or "\n" in text:
            return _Block(at, [indent + head + ' """', *_prose(text, indent + STEP)], indent)
        return _Block(at, [indent + head + " " + _quote(text)], indent)

    def _doc(self, node: Any) -> list[_Block]:
        """An item's documentation: ``\"\"\"`` lines around the text, one level in."""
        if node.doc is None:
            return []
        return [_Block(self._find("PROSE", node), [STEP + '"""', *_prose(node.doc, STEP)],
                       STEP)]

    def _header(self, node: Any, text: str) -> _Block:
        return _Block(self._at(node), [text], "")

    def _one_line(self, node: Any, head: str, e: ast.Expr) -> _Block | None:
        """``head value`` on one line when there is no documentation and it fits."""
        text = head + " " + _FLAT.flat(e)
        return _Block(self._at(node), [text], "") if len(text) <= WIDTH else None

    # -- visitors --

    def visit_Kpi(self, k: ast.Kpi) -> Groups:
        meta = k.meta  # the parser keeps it in the guidance's order
        groups: Groups = [
            [self._text(self._at(m), STEP, m.key + ":", m.text, prose=False) for m in meta],
        ]
        if k.policy is not None:
            groups.append([self._text(self._at(k.policy), STEP, "policy:", k.policy.text,
                                      prose=True)])
        for d in k.decisions:
            groups.append([self._text(self._at(d), STEP, f"decision {_quote(d.key)}:", d.text,
                                      prose=True)])
        rules: list[_Block] = []
        heads = {"population": "population:", "counted": "counted when:",
                 "pending": "pending when:", "actual": "actual:", "planned": "planned:"}
        for kind in ("population", "counted", "pending", "per", "actual", "planned", "target"):
            if kind == "per":
                if k.per is not None:
                    rules.append(_Block(self._find("PER", k), [f"{STEP}per: {k.per}"], STEP))
                continue
            clause = getattr(k, kind)
            if clause is None:
                continue
            head = f"target: {clause.direction} " if kind == "target" else heads[kind] + " "
            rules.append(self._expr(self._at(clause), STEP, head, clause.expr))
        for f in k.follow_ups:
            rules.append(self._text(self._at(f), STEP, f"follow up when {f.verdict}:", f.message,
                                    prose=False))
        groups.append(rules)
        groups = [g for g in groups if g]
        header = self._header(k, f"kpi {k.name}:")
        return [[header, *groups[0]], *groups[1:]] if groups else [[header]]

    def visit_Definition(self, d: ast.Definition) -> Groups:
        head = f"define {d.name}" + (f" for {d.subject}" if d.subject else "") + ":"
        if isinstance(d.body, ast.Cases):
            body = [self._expr(self._at(c), STEP, f"{c.label} when ", c.condition)
                    for c in d.body.cases]
            at = None if self.tokens is None else (d.body.otherwise_span.line,
                                                   d.body.otherwise_span.column)
            body.append(_Block(at, [f"{STEP}{d.body.otherwise} otherwise"], STEP))
        else:
            one = None if d.doc is not None else self._one_line(d, head, d.body)
            if one is not None:
                return [[one]]
            body = [self._expr(self._at(d.body), STEP, "", d.body)]
        return [[self._header(d, head), *self._doc(d), *body]]

    def visit_Table(self, t: ast.Table) -> Groups:
        head = f"table {t.name}" + (f" by {t.key_type}" if t.key_type else "") + ":"
        body: list[_Block] = []
        for v in t.versions:
            indent = STEP
            if v.start is not None:
                vhead = f"{STEP}from {v.start.isoformat()}:"
                if v.value is not None:
                    body.append(self._expr(self._at(v), STEP, f"from {v.start.isoformat()}: ",
                                           v.value))
                    continue
                body.append(_Block(self._at(v), [vhead], STEP))
                indent = STEP * 2
            elif v.value is not None:
                one = None if t.doc is not None else self._one_line(t, head, v.value)
                if one is not None:
                    return [[one]]
                body.append(self._expr(self._at(v.value), STEP, "", v.value))
            body += [self._expr(self._at(r), indent, f"{r.key}: ", r.value) for r in v.rows]
        return [[self._header(t, head), *self._doc(t), *body]]

    def visit_Schedule(self, s: ast.Schedule) -> Groups:
        start = _Block(self._find("YEAR", s),
                       [f"{STEP}year starts: {_day_of_year(s.start_month, s.start_day)}"], STEP)
        points = [_Block(self._at(p), [f"{STEP}{p.label}: {_day_of_year(p.month, p.day)}"], STEP)
                  for p in s.points]
        return [[self._header(s, f"schedule {s.name}:"), *self._doc(s), start, *points]]

    def visit_Notice(self, n: ast.Notice) -> Groups:
        message = self._text(self._find("MESSAGE", n), STEP, "message:", n.message, prose=False)
        records = self._expr(self._find("FOR", n), STEP, "for: ", n.records)
        return [[self._header(n, f"{n.kind} {n.name}:"), *self._doc(n), message, records]]

    def visit_Test(self, t: ast.Test) -> Groups:
        blocks = [self._header(t, f"test {t.name}:"), *self._doc(t),
                  _Block(self._find("AS", t), [f"{STEP}as of: {t.as_of.isoformat()}"], STEP),
                  _Block(self._find("GIVEN", t), [f"{STEP}given:"], STEP)]
        blocks += [self._record(r) for r in t.records]
        for e in t.expects:
            line = f"{STEP}expect {e.kpi} for {e.scope} {e.group}: {e.status}"
            if e.numerator is not None:
                line += f", {e.numerator} of {e.denominator}"
            if e.pending is not None:
                line += f", {e.pending} pending"
            blocks.append(_Block(self._at(e), [line], STEP))
        for x in t.entries:
            blocks.append(_Block(self._at(x), [f"{STEP}expect {x.count} {x.kind} {x.name}"],
                                 STEP))
        return [blocks]

    def _record(self, r: ast.GivenRecord) -> _Block:
        """``learner L1: a = 1, b = 2``, the fields filling lines under the first field."""
        indent = STEP * 2
        if not r.fields:
            return _Block(self._at(r), [f"{indent}{r.type_name} {r.id}"], indent)
        first = f"{indent}{r.type_name} {r.id}: "
        hang = " " * len(first)
        lines: list[str] = []
        line = first
        for i, (name, value) in enumerate(r.fields):
            field = f"{name} = {_FLAT.flat(value)}" + ("," if i + 1 < len(r.fields) else "")
            if line not in (first, hang) and len(line) + len(field) > WIDTH:
                lines.append(line.rstrip())
                line = hang
            line += field + " "
        return _Block(self._at(r), [*lines, line.rstrip()], indent)


# ---- files ----------------------------------------------------------------------------------


@attrs.frozen
@fields_methods
class Reformatted:
    """One rule file whose layout is not the canonical one: its path and the unified diff of
    the change (what ``kpidsl fmt --check`` shows)."""

    path: Path
    diff: tuple[str, ...]


def reformat(paths: Iterable[str | os.PathLike[str]], *, write: bool
             ) -> tuple[list[Reformatted], int, list[Diagnostic]]:
    """Lay out each rule file of ``paths`` (a folder: every ``.kpi`` file below it) on its own,
    rewriting it when ``write``: the files that change, how many were read, and the problems
    (a file that does not parse is left as it is and reported)."""
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted(p.rglob("*.kpi")) if p.is_dir() else [p]
    changed: list[Reformatted] = []
    problems: list[Diagnostic] = []
    for path in files:
        try:
            raw = read_rule_bytes(path)
            text = decode_rules(raw, str(path))
            new = format_source(text, str(path))
        except RuleError as e:
            problems += e.diagnostics
            continue
        if new.encode("utf-8") == raw:
            continue
        if write:
            try:
                with open_output(path) as out:
                    out.write(new.encode("utf-8"))
            except OSError as e:
                problems.append(Diagnostic(message="cannot write the formatted rule file: "
                                           f"{e.strerror or e}", file=str(path)))
                continue
        changed.append(Reformatted(path, tuple(difflib.unified_diff(
            text.splitlines(), new.splitlines(), str(path), f"{path} (formatted)", n=1,
            lineterm=""))))
    return changed, len(files), problems
