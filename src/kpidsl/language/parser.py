"""Parsing: rule-file text → AST. Lark's tree and exceptions stop here.

One lark ``Transformer`` turns the parse tree into the nodes of :mod:`kpidsl.language.ast`;
syntax errors become :class:`~kpidsl.errors.Diagnostic` s that say what was found,
what could come there, and how to fix the commonest slips.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import textwrap
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from typing import Any

import lark
from lark import Token, v_args
from lark.visitors import Transformer_NonRecursive

from kpidsl import limits
from kpidsl.errors import Diagnostic, RuleError, Span, date_problem, quote
from kpidsl.language import ast
from kpidsl.language.source import normalise


class _RunTogether(Exception):
    """A keyword ran straight into more letters (``kpii``, ``populations``)."""

    def __init__(self, pos: int) -> None:
        self.pos = pos


class _TooLong(Exception):
    """A name or a quoted text is longer than the limits allow."""

    def __init__(self, token: Token, limit: int) -> None:
        self.token, self.limit = token, limit


#: The longest token of each kind (numbers are limited by their digits, in the transformer).
_TOKEN_LIMITS = {"NAME": limits.MAX_NAME, "STRING": limits.MAX_CELL}


class _WholeWords(lark.lark.PostLex):
    """Refuses a keyword glued to the next word: the contextual lexer would otherwise read
    ``kpilearner_dropout`` as ``kpi learner_dropout``. Refuses an over-long name or text."""

    always_accept = ()

    def process(self, stream: Any) -> Any:
        previous = None
        for token in stream:
            limit = _TOKEN_LIMITS.get(token.type)
            if limit is not None and len(token) > limit:
                raise _TooLong(token, limit)
            if (previous is not None and previous.end_pos == token.start_pos
                    and str(previous)[-1:].isalnum() and str(token)[:1].isalnum()):
                raise _RunTogether(previous.start_pos)
            yield token
            previous = token


def grammar(possessive: bool | None = None) -> str:
    """The text of ``kpi.lark`` for this Python's ``re``. Its text and prose patterns repeat a
    group possessively, ``(?:…)*+``: no backtracking, and little memory on a long unclosed
    text. Python 3.11.2's ``re`` (Debian 12's python3) gives up on such a repeat when an
    iteration fails part-way (``(?:ab+)*+aa`` does not match ``aa``), so that no rule file
    with a prose block parsed; there (``possessive`` false; ``None``: find out) each such
    group is atomic instead, ``(?>(?:…)*)``: the same matches, with more memory on a long
    unclosed text (480 MB rather than 55 MB for 9 MB)."""
    text = resources.files("kpidsl.language").joinpath("kpi.lark").read_text(encoding="utf-8")
    if possessive is None:
        possessive = re.match(r"(?:ab+)*+aa", "aa") is not None
    return text if possessive else re.sub(r"\(\?:([^()]*)\)\*\+", r"(?>(?:\1)*)", text)


_GRAMMAR = grammar()
#: The LALR tables are built once and cached by lark in the temporary folder (keyed by the
#: grammar's hash), so a command starts without rebuilding them.
_LARK = lark.Lark(_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True,
                  postlex=_WholeWords(), cache=True)
#: Every keyword, for "did you mean" on a misspelt one.
_ALL_KEYWORDS = sorted(
    {t.pattern.value for t in _LARK.terminals
     if isinstance(t.pattern, lark.lexer.PatternStr) and t.pattern.value.isalpha()}
    | {"title", "stage", "level", "descriptor", "measured", "monitors", "source", "finding",
       "action", "follow up", "at least", "at most"})

#: How terminals are named in messages for people.
_TERMINAL_NAMES = {
    "NAME": "a name",
    "STRING": 'a quoted text ("…")',
    "PROSE": 'a prose block ("""…""")',
    "INT": "a whole number",
    "DECIMAL": "a number",
    "PERCENT": "a percentage (20%)",
    "MONEY": "an amount (£1,500.00)",
    "DATE": "a date (2024-08-31)",
    "SLASHED_DATE": "a date (2024-08-31)",
    "BOOLEAN": "`true` or `false`",
    "UNIT": "`days`, `weeks`, `months` or `years`",
    "COMPARE": "a comparison (=, !=, <, <=, >, >=)",
    "ADD_OP": "+ or -",
    "MUL_OP": "* or /",
    "META_KEY": "a metadata key (title, stage, level, descriptor, measured, monitors, source)",
    "DIRECTION": "`at least` or `at most`",
    "VERDICT": "`counted`, `not counted` or `pending`",
    "NOTICE_KIND": "`finding` or `action`",
    "FOLLOW_UP": "`follow up`",
    "$END": "the end of the file",
}


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _span(path: str, meta: Any) -> Span:
    return Span(path, meta.line, meta.column, meta.end_line, meta.end_column)


def _prose(token: str) -> str:
    """The text of a ``\"\"\"…\"\"\"`` block, with the common indentation removed."""
    body = "\n".join(line.rstrip() for line in token[3:-3].split("\n"))  # blanks at line ends
    first, _, rest = body.partition("\n")                                # are layout, not text
    return (first.strip() + "\n" + textwrap.dedent(rest)).strip()


def _text(token: Token) -> str:
    if token.type == "PROSE":
        return _prose(str(token))
    return re.sub(r"\\(.)", r"\1", str(token)[1:-1])


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive[Token, ast.RuleFile]):
    """Builds AST nodes; problems it finds (a bad date, a clause given twice) are collected."""

    def __init__(self, path: str, source: str) -> None:
        super().__init__()
        self.path = path
        self.source = source
        self.diagnostics: list[Diagnostic] = []

    def _s(self, meta: Any) -> Span:
        return _span(self.path, meta)

    def _error(self, where: Any, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic.at(_span(self.path, where), message, hint=hint, source=self.source)
        )

    # ---- items ----
    def start(self, meta: Any, items: list[ast.Item]) -> ast.RuleFile:
        return ast.RuleFile(path=self.path, items=tuple(items), source=self.source)

    def kpi(self, meta: Any, children: list[Any]) -> ast.Kpi:
        name, *clauses = children
        found: dict[str, Any] = {}
        meta_items, decisions, follow_ups = [], [], []
        for kind, clause in clauses:
            if kind == "decision":
                decisions.append(clause)
                continue
            if kind == "follow_up":
                follow_ups.append(clause)
                continue
            key = clause.key if kind == "meta" else kind
            if key in found:
                first = found[key].span
                self._error(clause.span, f"`{key}` is given twice in kpi {name}",
                            hint=f"the first is at line {first.line}; keep one")
                continue
            found[key] = clause
            if kind == "meta":
                meta_items.append(clause)
        per = found.get("per")
        meta_items.sort(key=lambda m: ast.META_KEYS.index(m.key))
        return ast.Kpi(
            name=str(name), meta=tuple(meta_items), policy=found.get("policy"),
            decisions=tuple(decisions), population=found.get("population"),
            counted=found.get("counted"), pending=found.get("pending"),
            target=found.get("target"), follow_ups=tuple(follow_ups),
            per=None if per is None else per.text, actual=found.get("actual"),
            planned=found.get("planned"), name_span=_span(self.path, name), span=self._s(meta),
        )

    # KPI clauses are (kind, node) pairs, assembled by ``kpi``.
    def meta(self, meta: Any, c: list[Token]) -> tuple[str, ast.Text]:
        return "meta", ast.Text(key=str(c[0]), text=_text(c[1]), span=self._s(meta))

    def policy(self, meta: Any, c: list[Token]) -> tuple[str, ast.Text]:
        return "policy", ast.Text(key="policy", text=_text(c[0]), span=self._s(meta))

    def decision(self, meta: Any, c: list[Token]) -> tuple[str, ast.Text]:
        return "decision", ast.Text(key=_text(c[0]), text=_text(c[1]), span=self._s(meta))

    def per(self, meta: Any, c: list[Token]) -> tuple[str, ast.Text]:
        return "per", ast.Text(key="per", text=str(c[0]), span=self._s(meta))

    def _clause(self, kind: str, meta: Any, expr: ast.Expr,
                direction: str | None = None) -> tuple[str, ast.Clause]:
        return kind, ast.Clause(kind=kind, expr=expr, direction=direction, span=self._s(meta))

    def population(self, meta: Any, c: list[Any]) -> tuple[str, ast.Clause]:
        return self._clause("population", meta, c[0])

    def counted(self, meta: Any, c: list[Any]) -> tuple[str, ast.Clause]:
        return self._clause("counted", meta, c[0])

    def pending(self, meta: Any, c: list[Any]) -> tuple[str, ast.Clause]:
        return self._clause("pending", meta, c[0])

    def actual(self, meta: Any, c: list[Any]) -> tuple[str, ast.Clause]:
        return self._clause("actual", meta, c[0])

    def planned(self, meta: Any, c: list[Any]) -> tuple[str, ast.Clause]:
        return self._clause("planned", meta, c[0])

    def target(self, meta: Any, c: list[Any]) -> tuple[str, ast.Clause]:
        return self._clause("target", meta, c[1], " ".join(str(c[0]).split()))

    def follow_up(self, meta: Any, c: list[Token]) -> tuple[str, ast.FollowUp]:
        return "follow_up", ast.FollowUp(verdict=" ".join(str(c[1]).split()),
                                         message=_text(c[2]), span=self._s(meta))

    def definition(self, meta: Any, c: list[Any]) -> ast.Definition:
        name, subject, doc, body = c
        return ast.Definition(
            name=str(name), subject=None if subject is None else str(subject),
            doc=None if doc is None else _prose(doc), body=body,
            subject_span=None if subject is None else _span(self.path, subject),
            span=self._s(meta),
        )

    def subject(self, meta: Any, c: list[Token]) -> Token:
        return c[0]

    def cases(self, meta: Any, c: list[Any]) -> ast.Cases:
        *cases, otherwise = c
        return ast.Cases(cases=tuple(cases), otherwise=str(otherwise),
                         otherwise_span=_span(self.path, otherwise), span=self._s(meta))

    def case(self, meta: Any, c: list[Any]) -> ast.Case:
        return ast.Case(label=str(c[0]), condition=c[1], span=self._s(meta))

    def table(self, meta: Any, c: list[Any]) -> ast.Table:
        name, key_type, doc, *body = c
        if body and isinstance(body[0], ast.Version):
            versions = tuple(body)
        else:
            versions = (self._version(None, body, meta),)
        return ast.Table(name=str(name), key_type=None if key_type is None else str(key_type),
                         doc=None if doc is None else _prose(doc), versions=versions,
                         key_span=None if key_type is None else _span(self.path, key_type),
                         span=self._s(meta))

    def _version(self, start: dt.date | None, body: list[Any], meta: Any) -> ast.Version:
        rows = tuple(b for b in body if isinstance(b, ast.Row))
        value = None if rows else body[0]
        return ast.Version(start=start, rows=rows, value=value, span=self._s(meta))

    def version(self, meta: Any, c: list[Any]) -> ast.Version:
        return self._version(self._date(c[0]), c[1:], meta)

    def _date(self, token: Token) -> dt.date:
        if token.type == "SLASHED_DATE":
            self._error(token, "dates are written year-month-day", hint=_iso_hint(str(token)))
            return dt.date.min
        try:
            return dt.date.fromisoformat(str(token))
        except ValueError:
            self._error(token, f"`{token}` is not a real date", hint=date_problem(str(token)))
            return dt.date.min

    def _day_of_year(self, token: Token) -> tuple[int, int]:
        day, month = str(token).split()
        m = _MONTHS.index(month) + 1
        if not 1 <= int(day) <= (29 if m == 2 else 30 if m in (4, 6, 9, 11) else 31):
            self._error(token, f"`{token}` is not a day of the year")
        return m, int(day)

    def schedule(self, meta: Any, c: list[Any]) -> ast.Schedule:
        name, doc, start, *points = c
        month, day = self._day_of_year(start)
        return ast.Schedule(name=str(name), doc=None if doc is None else _prose(doc),
                            start_month=month, start_day=day, points=tuple(points),
                            span=self._s(meta))

    def point(self, meta: Any, c: list[Token]) -> ast.Point:
        month, day = self._day_of_year(c[1])
        return ast.Point(label=str(c[0]), month=month, day=day, span=self._s(meta))

    def test(self, meta: Any, c: list[Any]) -> ast.Test:
        name, doc, as_of, records, *expects = c
        return ast.Test(name=str(name), doc=None if doc is None else _prose(doc),
                        as_of=self._date(as_of), records=tuple(records),
                        expects=tuple(e for e in expects if isinstance(e, ast.Expect)),
                        entries=tuple(e for e in expects if isinstance(e, ast.ExpectEntries)),
                        span=self._s(meta))

    def given(self, meta: Any, c: list[ast.GivenRecord]) -> list[ast.GivenRecord]:
        return c

    def record_line(self, meta: Any, c: list[Any]) -> ast.GivenRecord:
        type_name, ident, *fields = c
        return ast.GivenRecord(type_name=str(type_name), id=str(ident),
                               fields=tuple(f for f in fields if f is not None),
                               span=self._s(meta))

    def field_value(self, meta: Any, c: list[Any]) -> tuple[str, ast.Expr]:
        return str(c[0]), c[1]

    def expect(self, meta: Any, c: list[Any]) -> ast.Expect:
        kpi, scope, group, status, counts, pending = c
        k, n = counts if counts is not None else (None, None)
        return ast.Expect(kpi=str(kpi), scope=str(scope), group=str(group), status=str(status),
                          numerator=k, denominator=n, pending=pending, span=self._s(meta))

    def expect_entries(self, meta: Any, c: list[Token]) -> ast.ExpectEntries:
        return ast.ExpectEntries(count=self._int(c[0]), kind=str(c[1]), name=str(c[2]),
                                 span=self._s(meta))

    def count_part(self, meta: Any, c: list[Token]) -> tuple[int, int]:
        return self._int(c[0]), self._int(c[1])

    def pending_part(self, meta: Any, c: list[Token]) -> int:
        return self._int(c[0])

    def row(self, meta: Any, c: list[Any]) -> ast.Row:
        return ast.Row(key=str(c[0]), value=c[1], span=self._s(meta))

    def notice(self, meta: Any, c: list[Any]) -> ast.Notice:
        kind, name, doc, message, records = c
        return ast.Notice(kind=str(kind), name=str(name), doc=None if doc is None else _prose(doc),
                          message=_text(message), records=records, span=self._s(meta))

    # ---- expressions ----
    def where(self, meta: Any, c: list[Any]) -> ast.Where:
        return ast.Where(source=c[0], condition=c[1], span=self._s(meta))

    def _binary(self, op: str, meta: Any, c: list[Any]) -> ast.Binary:
        return ast.Binary(op=op, left=c[0], right=c[-1], span=self._s(meta))

    def or_(self, meta: Any, c: list[Any]) -> ast.Binary:
        return self._binary("or", meta, c)

    def and_(self, meta: Any, c: list[Any]) -> ast.Binary:
        return self._binary("and", meta, c)

    def in_(self, meta: Any, c: list[Any]) -> ast.Binary:
        return self._binary("in", meta, c)

    def not_in(self, meta: Any, c: list[Any]) -> ast.Binary:
        return self._binary("not in", meta, c)

    def compare(self, meta: Any, c: list[Any]) -> ast.Binary:
        return self._binary(str(c[1]), meta, c)

    def arith(self, meta: Any, c: list[Any]) -> ast.Binary:
        return self._binary(str(c[1]), meta, c)

    def not_(self, meta: Any, c: list[Any]) -> ast.Unary:
        return ast.Unary(op="not", operand=c[0], span=self._s(meta))

    def neg(self, meta: Any, c: list[Any]) -> ast.Unary:
        return ast.Unary(op="-", operand=c[0], span=self._s(meta))

    def is_set(self, meta: Any, c: list[Any]) -> ast.IsSet:
        return ast.IsSet(operand=c[0], negated=False, span=self._s(meta))

    def is_missing(self, meta: Any, c: list[Any]) -> ast.IsSet:
        return ast.IsSet(operand=c[0], negated=True, span=self._s(meta))

    def attribute(self, meta: Any, c: list[Any]) -> ast.Attribute:
        return ast.Attribute(target=c[0], name=str(c[1]), name_span=_span(self.path, c[1]),
                             span=self._s(meta))

    def call(self, meta: Any, c: list[Any]) -> ast.Call:
        name, *args = c
        return ast.Call(name=str(name), args=tuple(a for a in args if a is not None),
                        span=self._s(meta))

    def name(self, meta: Any, c: list[Token]) -> ast.Name:
        return ast.Name(name=str(c[0]), span=self._s(meta))

    def set_literal(self, meta: Any, c: list[Any]) -> ast.SetLiteral:
        items = (ast.Name(name=str(x), span=_span(self.path, x)) if isinstance(x, Token) else x
                 for x in c if x is not None)
        return ast.SetLiteral(items=tuple(items), span=self._s(meta))

    def _lit(self, kind: str, value: ast.LiteralValue, meta: Any) -> ast.Literal:
        return ast.Literal(kind=kind, value=value, span=self._s(meta))

    def date(self, meta: Any, c: list[Token]) -> ast.Literal:
        return self._lit("date", self._date(c[0]), meta)

    def _digits_ok(self, token: Token) -> bool:
        """Whether a number's digits are within ``limits.MAX_DIGITS`` (else an error)."""
        n = limits.digit_count(token)
        if n <= limits.MAX_DIGITS:
            return True
        self._error(token, f"this number has {n} digits; at most {limits.MAX_DIGITS} are "
                    "allowed", hint="no rule needs a number that large")
        return False

    def percent(self, meta: Any, c: list[Token]) -> ast.Literal:
        value = Fraction(str(c[0])[:-1]) / 100 if self._digits_ok(c[0]) else Fraction(0)
        return self._lit("percent", value, meta)

    def money(self, meta: Any, c: list[Token]) -> ast.Literal:
        ok = self._digits_ok(c[0])
        return self._lit("money", Decimal(str(c[0])[1:].replace(",", "") if ok else 0), meta)

    def number(self, meta: Any, c: list[Token]) -> ast.Literal:
        return self._lit("number", Decimal(str(c[0]) if self._digits_ok(c[0]) else 0), meta)

    def _int(self, token: Token) -> int:
        return int(token) if self._digits_ok(token) else 0

    def integer(self, meta: Any, c: list[Token]) -> ast.Literal:
        return self._lit("integer", self._int(c[0]), meta)

    def duration(self, meta: Any, c: list[Token]) -> ast.Literal:
        unit = str(c[1]).removesuffix("s")
        return self._lit("duration", ast.Duration(amount=self._int(c[0]), unit=unit), meta)

    def string(self, meta: Any, c: list[Token]) -> ast.Literal:
        return self._lit("text", _text(c[0]), meta)

    def boolean(self, meta: Any, c: list[Token]) -> ast.Literal:
        return self._lit("boolean", str(c[0]) == "true", meta)


def _iso_hint(text: str) -> str:
    """How to write a date written ``01/08/2024``: day first, as England writes it, unless
    only month first makes a date (``08/31/2024``). The hint names the day in words, so the
    reader sees which way it was read."""
    first, second, year = (int(x) for x in text.split("/"))
    for day, month in ((first, second), (second, first)):
        try:
            d = dt.date(year, month, day)
        except ValueError:
            continue
        return f"write `{d.isoformat()}` ({d.day} {_MONTHS[d.month - 1]} {d.year})"
    return "write the year, the month and the day, as in `2024-08-31`"


def _percent_hint(before: str) -> str:
    """The fix for a percentage whose number ends ``before`` and whose ``%`` is missing or
    apart (``20 %``, ``20 percent``)."""
    m = re.search(r"(\d+(?:\.\d+)?)[ \t]*$", before)
    if m is None:
        return "a percentage is a number directly followed by %, like 20%"
    return f"write `{m[1]}%`: a percentage is a number directly followed by %"


def _place(source: str, pos: int) -> tuple[int, int]:
    """The line and column (1-based) of offset ``pos`` of ``source``."""
    return source.count("\n", 0, pos) + 1, pos - (source.rfind("\n", 0, pos) + 1) + 1


def _expected(names: set[str]) -> list[str]:
    """Terminal names as a person reads them, keywords first, sorted."""
    out = set()
    for n in names:
        if n in _TERMINAL_NAMES:
            out.add(_TERMINAL_NAMES[n])
            continue
        term = next((t for t in _LARK.terminals if t.name == n), None)
        if term is not None and isinstance(term.pattern, lark.lexer.PatternStr):
            out.add(f"`{term.pattern.value}`")
        else:
            out.add(n.lower())
    return sorted(out, key=lambda s: (not s.startswith("`"), s))


def _keywords(names: set[str]) -> list[str]:
    words = []
    for n in names:
        term = next((t for t in _LARK.terminals if t.name == n), None)
        if term is not None and isinstance(term.pattern, lark.lexer.PatternStr):
            words.append(term.pattern.value)
    return words


def _word_error(path: str, source: str, pos: int) -> Diagnostic:
    """An unexpected word, shown whole (``populations``, not its last letter)."""
    start = end = pos
    while start > 0 and (source[start - 1].isalnum() or source[start - 1] == "_"):
        start -= 1
    while end < len(source) and (source[end].isalnum() or source[end] == "_"):
        end += 1
    word = source[start:end]
    line, column = _place(source, start)
    close = difflib.get_close_matches(word, _ALL_KEYWORDS, n=1, cutoff=0.7)
    glued = next((k for k in _ALL_KEYWORDS if word.startswith(k) and len(word) > len(k) + 2),
                 None)
    hint = (f"did you mean `{close[0]}`?" if close else
            f"put a space after `{glued}`" if glued else None)
    return Diagnostic(message=f"unexpected `{quote(word)}`", file=path, line=line, column=column,
                      end_column=column + len(word), hint=hint, source=source)


def _expected_hint(expected: set[str]) -> str | None:
    """What could come where the parser stopped, as a hint."""
    if {"NAME", "DATE", "INT"} <= expected:
        return ("expected a value or a condition: a name, a number, a percentage, a date, "
                "a quoted text, `not`, `-`, `(` or `{`")
    choices = _expected(expected)
    if not choices:
        return None
    shown = choices[:8] if len(choices) <= 8 else [*choices[:7], "…"]
    return "expected " + (", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1
                          else shown[0])


def _unclosed(source: str, pos: int) -> str | None:
    """The quotes a text opened at ``pos`` needs to be closed (``\"\"\"`` or ``\"``), or
    ``None`` when it is closed."""
    if source.startswith('"""', pos):
        return None if '"""' in source[pos + 3:] else '"""'
    return None if re.match(r'"(\\.|[^"\\\n])*"', source[pos:]) else '"'


#: Where the file can end mid-rule: each item starts at the start of a line with its keyword.
_ITEM_START = re.compile(r"^(kpi|define|table|schedule|test|finding|action)\b[ \t]*(\w*)", re.M)


def _ends_early(path: str, source: str, expected: str | None) -> Diagnostic:
    """The file ends inside a rule: located where that rule begins, saying what is missing
    after the last text of the file."""
    text = source.rstrip()
    last_line = text.count("\n") + 1
    tail = text[text.rfind("\n") + 1:].strip()
    starts = list(_ITEM_START.finditer(text))
    after = f"after `{tail}` on line {last_line}, " if tail else ""
    hint = after + (expected or "the rule is not finished")
    if not starts:
        return Diagnostic(message="the file ends in the middle of a rule", file=path,
                          line=max(1, last_line), hint=hint, source=source)
    m = starts[-1]
    line = text.count("\n", 0, m.start()) + 1
    what = f"{m[1]} `{m[2]}`" if m[2] else m[1]
    return Diagnostic(message=f"the file ends in the middle of the {what} that begins here",
                      file=path, line=line, column=1, end_column=1 + len(m[0].rstrip()),
                      hint=hint, source=source)


_PROSE = re.compile(r'"""(.|\n)*?"""')
#: A line that starts a clause or a metadata entry: inside a prose block it means the block
#: before it was never closed and ran on into the rule.
_CLAUSE_LINE = re.compile(r'^[ \t]+(decision "|(title|stage|level|descriptor|measured|monitors|'
                          r'source|policy|population|counted when|pending when|target|per|'
                          r'actual|planned|message|for)\s*:)', re.M)


def _swallowed(path: str, source: str, token: Token) -> Diagnostic | None:
    """An unclosed ``\"\"\"`` that the next block's opening quotes closed: the error comes
    after a prose block that holds a clause line. Located at the block's opening quotes."""
    assert token.start_pos is not None  # a token the parser stopped at was read from the source
    blocks = [m for m in _PROSE.finditer(source, 0, token.start_pos)]
    if not blocks:
        return None
    block = blocks[-1]
    clause = _CLAUSE_LINE.search(block[0])
    if clause is None:
        return None
    line, column = _place(source, block.start())
    before = line + block[0].count("\n", 0, clause.start())
    return Diagnostic(message="this text is never closed", file=path, line=line, column=column,
                      end_column=column + 3, source=source,
                      hint=f'add `"""` where the text ends, before line {before}')


def _hyphen_word(path: str, source: str, token: Token) -> Diagnostic | None:
    """``self-employed`` where a value is read: names join words with ``_``."""
    if str(token) != "-":
        return None
    m = re.search(r"(\w+)$", source[:token.start_pos])
    n = re.match(r"\w+", source[token.end_pos:])
    if m is None or n is None:
        return None
    written = f"{m[1]}-{n[0]}"
    line, column = _place(source, m.start())
    return Diagnostic(message=f"unknown name `{written}`", file=path, line=line, column=column,
                      end_column=column + len(written), source=source,
                      hint=f"write `{m[1]}_{n[0]}`: names join words with `_`, not `-`")


def _percent_word(path: str, source: str, token: Token) -> Diagnostic | None:
    """``15 percent`` or ``15 per cent``, where ``15%`` is meant."""
    before = source[:token.start_pos]
    m = re.search(r"\d[ \t]+(per[ \t]+)?$", before)
    if m is None or str(token) != ("cent" if m[1] else "percent"):
        return None
    start = len(before) - len(m[1] or "")
    word = before[start:] + str(token)
    line, column = _place(source, start)
    return Diagnostic(message=f"unexpected `{word}`", file=path, line=line, column=column,
                      end_column=column + len(word), hint=_percent_hint(before[:start]),
                      source=source)


_SPACED_STATUSES = {("on", "track"), ("at", "risk"), ("not", "met"), ("no", "data")}


def _spaced_status(path: str, source: str, token: Token) -> Diagnostic | None:
    """``on track`` written as the status table spells it, where ``on_track`` is meant."""
    before = source[:token.start_pos]
    m = re.search(r"(\w+)[ \t]+$", before)
    if m is None or (m[1], str(token)) not in _SPACED_STATUSES:
        return None
    word = f"{m[1]}_{token}"
    line, column = _place(source, m.start())
    return Diagnostic(message=f"unexpected `{m[1]} {token}`", file=path, line=line,
                      column=column, end_column=column + len(m[0]) + len(str(token)),
                      hint=f"statuses are written with `_`: write `{word}`", source=source)


#: The slips that have a message of their own, tried in order on an unexpected token.
_SPECIAL_CASES = (_spaced_status, _swallowed, _hyphen_word, _percent_word)


def _syntax_error(path: str, source: str, e: lark.exceptions.UnexpectedInput) -> Diagnostic:
    """A lark syntax error as a diagnostic a policy officer can act on."""
    line, column = e.line, e.column
    if isinstance(e, lark.exceptions.UnexpectedCharacters):
        pos = e.pos_in_stream
        if pos is not None and pos > 0 and source[pos].isalnum() and source[pos - 1].isalnum():
            return _word_error(path, source, pos)
        char = source[pos] if pos is not None else "?"
        if char == '"' and pos is not None:
            if source[pos - 2:pos] == '""':  # `""` was read as an empty text: `"""` opens here
                pos, column = pos - 2, column - 2
            unclosed = _unclosed(source, pos)
            if unclosed is not None:
                return Diagnostic(message="this text is never closed", file=path, line=line,
                                  column=column, end_column=column + len(unclosed),
                                  hint=f"add `{unclosed}` where the text ends"
                                  + (", on the same line" if unclosed == '"' else ""),
                                  source=source)
        hint = None
        if char == "'":
            hint = 'texts are written in double quotes: "like this"'
        elif char == "%" and pos is not None:
            hint = _percent_hint(source[:pos])
        elif char == "\u201c" or char == "\u201d":
            hint = 'use straight double quotes ("), not curly ones'
        return Diagnostic(message=f"unexpected character `{char}`", file=path, line=line,
                          column=column, hint=hint, source=source)
    token = getattr(e, "token", None)
    expected = getattr(e, "expected", None) or set()
    start = getattr(token, "start_pos", None)
    if (token is not None and start and str(token)[:1].isalnum()
            and source[start - 1].isalnum()):
        return _word_error(path, source, start)
    if token is None or token.type == "$END":
        return _ends_early(path, source, _expected_hint(set(expected)))
    for special in _SPECIAL_CASES:
        found = special(path, source, token)
        if found is not None:
            return found
    message = f"unexpected `{quote(str(token))}`"
    line, column = token.line, token.column
    close = difflib.get_close_matches(str(token), _keywords(set(expected)), n=1, cutoff=0.7)
    if close:
        hint = f"did you mean `{close[0]}`?"
    elif token.type == "COMPARE" and "DIRECTION" in expected:
        value = source[token.end_pos:].split("\n", 1)[0].strip() or "90%"
        word = "at most" if str(token) in ("<", "<=") else "at least"
        hint = f"a target says which way it goes in words: write `{word} {value}`"
    elif token.type == "COMPARE":
        hint = "comparisons cannot be chained: write `a < b and b < c`"
    else:
        hint = _expected_hint(set(expected))
    return Diagnostic(message=message, file=path, line=line, column=column,
                      end_column=column + len(str(token).split("\n")[0]), hint=hint, source=source)


#: Deeper rules are refused: every later stage walks the tree, and Python's stack is finite.
MAX_DEPTH = limits.MAX_DEPTH


def _too_deep(tree: lark.Tree[Token]) -> lark.Tree[Token] | None:
    """The clause or definition body (three levels down: file, item, clause) holding something
    nested more than ``MAX_DEPTH`` levels deep, found without recursion."""
    stack: list[tuple[lark.Tree[Token], int, lark.Tree[Token]]] = [(tree, 1, tree)]
    while stack:
        node, depth, outer = stack.pop()
        below = [c for c in node.children if isinstance(c, lark.Tree)]
        if depth == MAX_DEPTH and below:
            return outer
        stack.extend((c, depth + 1, c if depth + 1 == 3 else outer) for c in below)
    return None


def parse(source: str, path: str = "<rules>") -> ast.RuleFile:
    """Parse one rule file. Raises :class:`RuleError` with every problem found.

    Lark stops at the first syntax error, so a file has at most one syntax diagnostic; value
    problems (an impossible date, a clause written twice) are all collected. Line ends are
    normalised first (:func:`~kpidsl.language.source.normalise`), as the rule reader does.
    """
    source = normalise(source)
    try:
        tree = _LARK.parse(source)
    except lark.exceptions.UnexpectedInput as e:
        raise RuleError([_syntax_error(path, source, e)]) from None
    except _RunTogether as e:
        raise RuleError([_word_error(path, source, e.pos)]) from None
    except _TooLong as e:
        t = e.token
        what = "name" if t.type == "NAME" else "quoted text"
        raise RuleError([Diagnostic(
            message=f"this {what} has {len(t):,} characters; at most {e.limit:,} are allowed",
            file=path, line=t.line, column=t.column, source=source,
            hint="shorten it" if t.type == "NAME" else "put a long text in a prose block "
            '("""…""") or shorten it')]) from None
    deep = _too_deep(tree)
    if deep is not None:
        raise RuleError([Diagnostic.at(
            _span(path, deep.meta), f"this rule nests more than {MAX_DEPTH} levels deep",
            hint="split it into definitions, or list values with `in {…}`", source=source)])
    builder = _ToAst(path, source)
    result = builder.transform(tree)
    if builder.diagnostics:  # found bottom-up: reported top-down
        raise RuleError(sorted(builder.diagnostics, key=lambda d: (d.line or 0, d.column or 0)))
    return result
