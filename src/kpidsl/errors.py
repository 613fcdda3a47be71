"""Diagnostics and errors: how every problem reaches a person (the bottom layer).

A :class:`Diagnostic` is one problem at one place; :class:`KpidslError` carries all the problems
found in one pass, so an author fixes a file (or a data set) in one go. ``render`` is the only
function that prints an excerpt with a caret; nothing else builds its own, and it shows only
printable characters, so a rule or data file cannot send escape sequences to a terminal.
"""

from __future__ import annotations

import calendar
import difflib
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from kpidsl import limits
from kpidsl.classes import fields_methods


@attrs.frozen
@fields_methods
class Span:
    """A region of a source file.

    Lines and columns are 1-based and the end is exclusive, as in lark: the token ``abc`` at the
    start of a file spans line 1, columns 1 to 4.
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def date_problem(text: str) -> str:
    """Why ``YYYY-MM-DD`` text is not a date (``February 2025 has 28 days``): one wording for
    rule files, CSV cells and the command line."""
    year, month, _ = (int(x) for x in text.split("-"))
    if year == 0:
        return "years start at 0001"
    if not 1 <= month <= 12:
        return "the month must be 01 to 12"
    days = calendar.monthrange(year, month)[1]
    return f"{calendar.month_name[month]} {year} has {days} days"


@attrs.frozen(kw_only=True)
@fields_methods
class Diagnostic:
    """One problem, located as precisely as it can be.

    ``file``/``line``/``column`` are 1-based; ``column`` may be ``None`` when only the line is
    known. ``place`` locates the problem in a file that has no lines, a workbook: the sheet and
    cell as a spreadsheet names them (``learners!D14``, or ``learners!14:14`` for a whole row);
    it is shown instead of the line and column. ``hint`` is a suggestion (``did you mean …?``).
    ``source`` is the text of the line(s) around the problem when it is known, for the excerpt.
    A problem in data also says which record, field and value it is about, for programs
    (``record_type``, ``record_id``, ``field``, ``value``); the message says the same for people.
    """

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    end_column: int | None = None
    place: str | None = None
    hint: str | None = None
    severity: str = "error"
    source: str | None = attrs.field(default=None, repr=False, eq=False)
    record_type: str | None = None
    """For a problem in data: the record's type (``learner``)."""
    record_id: str | None = None
    """For a problem in data: the record's id (``L12``), when its type has one."""
    field: str | None = None
    """For a problem in data: the field (``completion_date``)."""
    value: Any = None
    """For a problem in data: the value as given (``'2024-13-01'``)."""

    @classmethod
    def at(cls, span: Span, message: str, *, hint: str | None = None,
           source: str | None = None, severity: str = "error") -> Diagnostic:
        """A diagnostic at ``span`` of a file whose text is ``source``."""
        end = span.end_column if span.end_line == span.line else None
        return cls(message=message, file=span.file, line=span.line, column=span.column,
                   end_column=end, hint=hint, source=source, severity=severity)

    @property
    def location(self) -> str:
        """``file:line:col`` (or as much of it as is known); ``file:sheet!cell`` in a workbook."""
        where = (self.place,) if self.place is not None else (self.line, self.column)
        parts = [str(p) for p in (self.file, *where) if p is not None]
        return ":".join(parts) or "<input>"

    def render(self) -> str:
        """The message a person reads: location, message, excerpt with a caret, hint. Every
        line is printable and at most about :data:`~kpidsl.limits.MAX_EXCERPT` plus
        the message's own length (itself cut at ``_MAX_MESSAGE``)."""
        where = self.location
        head = f"{where + ': ' if where != '<input>' else ''}{self.severity}: {self.message}"
        out = [_cut(printable(head), _MAX_MESSAGE)]
        if self.source is not None and self.line is not None:
            out.extend(_excerpt(self.source, self.line, self.column, self.end_column))
        if self.hint:
            out.append(_cut(printable(f"  hint: {self.hint}"), _MAX_MESSAGE))
        return "\n".join(out)


#: A message or hint line is cut to this many characters (a name or a cell can be long).
_MAX_MESSAGE = 400


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _shown(c: str) -> str:
    """How one character appears in an excerpt or message: itself when printable, a space for
    a tab (so the caret stays aligned), else its escape (``\\x1b``, ``\\u202e``)."""
    if c == "\t":
        return " "
    if unicodedata.category(c) in _HIDDEN:
        return repr(c)[1:-1]
    return c


#: Control, format (bidirectional overrides), surrogate, private and separator characters.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def printable(text: str) -> str:
    """``text`` with every character that could move a terminal's cursor, change its colours
    or reorder the line shown escaped (line breaks stay)."""
    return "\n".join("".join(map(_shown, line)) for line in text.split("\n"))


def quote(text: str, limit: int = 40) -> str:
    """A token for a message: its first line only, printable, cut at ``limit`` characters."""
    first, _, rest = text.partition("\n")
    shown = printable(first)
    if rest or len(shown) > limit:
        shown = shown[:limit] + "…"
    return shown


def _excerpt(text: str, line: int, column: int | None, end_column: int | None) -> list[str]:
    """The line before, the line itself and the line after, with a gutter and a caret.

    Lines are counted as the parser counts them (at ``\\n`` only), shown printable, and a
    line longer than ``MAX_EXCERPT`` is cut to a window around the caret."""
    lines = text.removesuffix("\n").split("\n")
    if not 1 <= line <= len(lines):
        return []
    first, last = max(1, line - 1), min(len(lines), line + 1)
    width = len(str(last))
    start = 0
    if column is not None:  # the window, in characters of the caret's line
        start = max(0, column - 1 - limits.MAX_EXCERPT // 2)
    out = []
    for n in range(first, last + 1):
        shown, offsets = _window(lines[n - 1].rstrip(), start)
        out.append(f"  {n:>{width}} | {shown}".rstrip())  # a blank line ends with its bar
        if n == line and column is not None:
            at = offsets(column - 1)
            end = offsets((end_column or column + 1) - 1)
            length = max(1, min(end, len(shown)) - at)
            out.append(f"  {' ' * width} | {' ' * at}{'^' * length}")
    return out


def _window(line: str, start: int) -> tuple[str, Callable[[int], int]]:
    """The part of ``line`` shown from character ``start``, printable and at most
    ``MAX_EXCERPT`` wide, and a function from a character index to its display offset."""
    stop = start + limits.MAX_EXCERPT
    prefix = "…" if start > 0 else ""
    pieces = [_shown(c) for c in line[start:stop]]
    suffix = "…" if len(line) > stop else ""
    positions = [len(prefix)]
    for p in pieces:
        positions.append(positions[-1] + len(p))

    def offset(index: int) -> int:
        return positions[min(max(index - start, 0), len(pieces))]

    return prefix + "".join(pieces) + suffix, offset


#: The last resort when rules nest beyond what the parser's and checker's limits foresee.
TOO_DEEP = Diagnostic(message="the rules nest too deeply to be checked or evaluated",
                      hint="split long conditions and chains of definitions into fewer levels")


def suggest(name: str, options: Iterable[str]) -> str | None:
    """``did you mean `X`?`` for the option closest to a misspelt ``name``, if one is close."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


class KpidslError(Exception):
    """Problems that stop a command: bad rule files or bad data. Carries every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__(self.render())

    def render(self, limit: int = 50) -> str:
        """All diagnostics (at most ``limit``), each rendered, with a closing count."""
        shown = [d.render() for d in self.diagnostics[:limit]]
        errors = sum(d.severity == "error" for d in self.diagnostics)
        more = len(self.diagnostics) - len(shown)
        tail = f"{errors} error{'s' if errors != 1 else ''}"
        if more > 0:
            tail += f" ({more} more not shown)"
        return "\n\n".join(shown) + f"\n\n{tail}"


class RuleError(KpidslError):
    """A rule file does not parse or does not check."""


class DataError(KpidslError):
    """A data set breaks the CSV contract."""


class UsageError(KpidslError, ValueError):
    """kpidsl was asked something it cannot do: a date that is not a date, an option that
    does not fit (exit 2 on the command line)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__([Diagnostic(message=message, hint=hint)])

    def render(self, limit: int = 50) -> str:
        """The message, then ``hint: …`` when there is one (no location: it is about a call)."""
        d = self.diagnostics[0]
        return d.message + (f"; {d.hint}" if d.hint else "")


class NotFoundError(UsageError, KeyError):
    """No KPI, result or group has the name asked for; the hint says which is closest. A
    :class:`KeyError` too, for code that looks names up as in a dict."""

    def __str__(self) -> str:
        return self.render()
