"""Highlighting: a Pygments lexer for ``.kpi`` rule files (used by the docs and any editor).

Registered under ``[project.entry-points."pygments.lexers"]``, so ``pygmentize -l kpi`` and
Sphinx's ``.. code-block:: kpi`` find it once kpidsl is installed. It follows ``kpi.lark``:
anything the grammar accepts is lexed without an error token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

from kpidsl.language.builtins import BUILTINS

__all__ = ["KpiLexer"]

_SPACE = r"[ \t]+"
#: Pygments' ``bygroups`` (a callback for a rule's groups), which types-Pygments leaves
#: unannotated: declared here so that calling it is typed.
_bygroups: Callable[..., Any] = bygroups


class KpiLexer(RegexLexer):
    """Lexer for kpidsl rule files: KPIs, definitions, parameter tables, findings, actions."""

    name = "kpidsl"
    aliases: ClassVar[list[str]] = ["kpi", "kpidsl"]
    filenames: ClassVar[list[str]] = ["*.kpi"]
    mimetypes: ClassVar[list[str]] = ["text/x-kpidsl"]

    tokens: ClassVar[dict[str, list[tuple[Any, ...]]]] = {
        "root": [
            (r"\ufeff", Whitespace),
            (r"[ \t\r\n\f]+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"""(.|\n)*?"""', String.Doc),
            (r'"(\\.|[^"\\\n])*"', String.Double),
            # declarations: the keyword and the name it declares
            (r"(kpi|table|schedule)(" + _SPACE + r")([a-zA-Z_]\w*)",
             _bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (r"(define|test)(" + _SPACE + r")([a-zA-Z_]\w*)",
             _bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (r"(finding|action)(" + _SPACE + r")([a-zA-Z_]\w*)(?=[ \t]*:)",
             _bygroups(Keyword.Declaration, Whitespace, Name.Label)),
            # KPI clause keywords written in two words
            (r"follow[ \t]+up\b", Keyword),
            (r"at[ \t]+(least|most)\b", Keyword),
            (r"not[ \t]+counted\b", Keyword),
            (r"year[ \t]+starts\b", Keyword),
            (r"as[ \t]+of\b", Keyword),
            (r"is[ \t]+(set|missing)\b", Operator.Word),
            (r"not[ \t]+in\b", Operator.Word),
            (words(("title", "stage", "level", "descriptor", "measured", "monitors",
                    "source"), suffix=r"(?=[ \t]*:)"), Name.Attribute),
            (words(("policy", "decision", "population", "counted", "pending", "target",
                    "when", "otherwise", "for", "by", "message", "define", "kpi",
                    "table", "finding", "action", "per", "actual", "planned", "from",
                    "schedule", "test", "given", "expect", "of"), suffix=r"\b"), Keyword),
            (words(("and", "or", "not", "in", "is", "where"), suffix=r"\b"), Operator.Word),
            (words(("true", "false"), suffix=r"\b"), Keyword.Constant),
            (r"as_of\b", Name.Builtin.Pseudo),
            (words(tuple(BUILTINS), suffix=r"(?=[ \t]*\()"), Name.Builtin),
            # literals, most specific first (as in kpi.lark)
            (r"\d{4}-\d{2}-\d{2}", Literal.Date),
            (r"\d{1,2}[ \t]+(January|February|March|April|May|June|July|August|September"
             r"|October|November|December)\b", Literal.Date),
            (r"\d+(\.\d+)?%", Number),
            (r"£\d[\d,]*(\.\d\d)?", Number),
            (r"(\d+)(" + _SPACE + r")?((day|week|month|year)s?\b)",
             _bygroups(Number.Integer, Whitespace, Keyword.Type)),
            (r"\d+\.\d+", Number.Float),
            (r"\d+", Number.Integer),
            (r"<=|>=|!=|=|<|>|\+|-|\*|/", Operator),
            (r"[:(),.{}]", Punctuation),
            (r"[a-zA-Z_]\w*", Name),
        ],
    }
