"""Reading and writing the CSV data contract.

:func:`write_data` writes a :class:`~kpidsl.data.records.Dataset` as a folder of CSV files in the
spelling of KPI-SPEC §1; :func:`load_data` reads such a folder back, or raises one
:class:`~kpidsl.language.source.DataError` listing every problem found.

Diagnostic conventions. ``file`` is the folder as given joined with the file name. ``line`` is
the physical 1-based line of the file (the header is line 1; in a row whose quoted cells span
lines, the line where the cell starts). ``column`` is the 1-based *character* column where the
cell's text starts on that line, not the index of the CSV column, so the excerpt's caret points
at the value itself; the message names the CSV column instead. A message about one cell reads
``<column>: <value> <what is wrong>`` (``completion_date: '2024-13-01' is not a date``) and its
hint says what to write. Integrity problems (duplicate ids, dangling references, a co-funded
learner without employer) keep the wording of :meth:`Dataset.problems`, which names the column
itself, and point at the cell. Excerpts are attached for files up to ``EXCERPT_LIMIT``
characters; rendering one re-splits the whole text, so for bigger files the location alone
must do.

Lenient where spreadsheets are: a UTF-8 byte-order mark, CRLF line ends, spaces around cells,
blank rows and ``true``/``false`` in any case are accepted. Strict everywhere else.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import gc
import io
import itertools
import operator
import os
import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from kpidsl.data.records import (
    BY_CLASS,
    ENUMS,
    FIELDS,
    LINKS,
    RECORD_TYPES,
    Dataset,
    FieldInfo,
    RecordType,
)
from kpidsl.language import limits
from kpidsl.language.source import (
    DataError,
    Diagnostic,
    Unreadable,
    open_output,
    open_regular,
)

#: At most this many diagnostics are kept; a final note counts the rest.
MAX_DIAGNOSTICS = 200
#: Files longer than this (in characters) get no excerpt in their diagnostics.
EXCERPT_LIMIT = 2_000_000

_OPTIONAL_FILES = frozenset({"profiles.csv"})


# --------------------------------------------------------------------------- writing


def _cell(value: Any, field: FieldInfo) -> str:
    """One value in its CSV spelling (the inverse of the loader's converters)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, frozenset):
        return ";".join(sorted(value))
    if isinstance(value, Decimal):
        # format(…, "f") equals str() for ordinary amounts but never uses exponent notation,
        # which the loader rejects.
        return format(value, "f")
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}" if field.month else value.isoformat()
    return str(value)


def write_data(dataset: Dataset, directory: str | os.PathLike[str]) -> None:
    """Write ``dataset`` as a data-set folder: one CSV file per record type.

    Columns follow the schema order, so the files are stable to diff. ``profiles.csv`` is
    written only when there are profiles (it is optional); every other file is always written,
    with just a header when empty, so the folder is complete.
    """
    os.makedirs(directory, exist_ok=True)
    for t in RECORD_TYPES:
        records = dataset.of(t.name)
        if t.file in _OPTIONAL_FILES and not records:
            continue
        fields = tuple(FIELDS[t.name].values())
        with io.TextIOWrapper(open_output(os.path.join(directory, t.file)), encoding="utf-8",
                              newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(fi.name for fi in fields)
            for r in records:
                w.writerow(_cell(getattr(r, fi.name), fi) for fi in fields)


# --------------------------------------------------------------------------- converters


class _Bad(Exception):
    """A cell that does not convert: what is wrong with it, and what to write instead."""

    def __init__(self, what: str, hint: str | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint


_MISSING = "missing required value"
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DMY = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")
_MONEY = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INTEGER = re.compile(r"-?[0-9]+")
_DATE_HINT = "expected a date written YYYY-MM-DD, e.g. 2024-08-31"
_MONTH_HINT = "expected a month written YYYY-MM, e.g. 2024-08"
_MONEY_HINT = "expected a number of pounds, e.g. 1200.50"
_BOOLEANS = {"true": True, "false": False}
#: Parsed values are cached by their raw text only up to this many distinct texts.
_CACHE_LIMIT = 100_000


def _parse_date(text: str) -> dt.date:
    """An ISO ``YYYY-MM-DD`` date; other spellings get a hint with the ISO one."""
    m = _DATE.fullmatch(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise _Bad(f"{_short(text)} is not a date", _DATE_HINT) from None
    m = _DMY.fullmatch(text)
    if m:
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        for day, month in ((a, b), (b, a)):  # day first (UK), then month first
            try:
                iso = dt.date(year, month, day).isoformat()
            except ValueError:
                continue
            raise _Bad(f"{_short(text)} is not a date",
                       f"dates are written YYYY-MM-DD: write {iso}")
    if len(text) > 10 and text[10] in " T" and _DATE.fullmatch(text[:10]):
        raise _Bad(f"{_short(text)} is not a date", f"write the date alone: {text[:10]}")
    raise _Bad(f"{_short(text)} is not a date", _DATE_HINT)


def _parse_month(text: str) -> dt.date:
    """A ``YYYY-MM`` month, as the date of its first day."""
    m = _MONTH.fullmatch(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), 1)
        except ValueError:
            pass
    elif _DATE.fullmatch(text):
        raise _Bad(f"{_short(text)} is not a month", f"write the month alone: {text[:7]}")
    raise _Bad(f"{_short(text)} is not a month", _MONTH_HINT)


def _digits(text: str) -> None:
    """Refuse a number of more than ``limits.MAX_DIGITS`` digits (rules allow no more)."""
    n = limits.digit_count(text)
    if n > limits.MAX_DIGITS:
        raise _Bad(f"{_short(text)} has {n:,} digits; at most {limits.MAX_DIGITS} are allowed",
                   "no value of the data contract is that large; is the cell correct?")


def _parse_money(text: str) -> Decimal:
    """A plain decimal number of pounds: no '£', no thousands separators, no exponent."""
    if _MONEY.fullmatch(text):
        _digits(text)
        return Decimal(text)
    cleaned = text.replace("£", "").replace(",", "").strip()
    if cleaned != text and _MONEY.fullmatch(cleaned):
        _digits(cleaned)
        raise _Bad(f"{_short(text)} is not a number of pounds",
                   f"write {cleaned}, without '£' or commas")
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        value = None
    if (value is not None and value.is_finite() and "e" in cleaned.lower()
            and -limits.MAX_DIGITS < value.adjusted() < limits.MAX_DIGITS):
        raise _Bad(f"{_short(text)} is not a number of pounds",
                   f"write the number in full: {value:f}")
    raise _Bad(f"{_short(text)} is not a number of pounds", _MONEY_HINT)


def _short(text: str, limit: int = 30) -> str:
    """``repr(text)``, cut short with an ellipsis when it is long (a cell can be huge)."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _parse_integer(text: str) -> int:
    """A whole number written in ASCII digits (``int()`` alone would take '1_000' and '٣')."""
    if _INTEGER.fullmatch(text):
        _digits(text)
        return int(text)
    if (_MONEY.fullmatch(text) and limits.digit_count(text) <= limits.MAX_DIGITS
            and Decimal(text) == Decimal(text).to_integral_value()):
        raise _Bad(f"{_short(text)} is not a whole number", f"write {Decimal(text):.0f}")
    raise _Bad(f"{_short(text)} is not a whole number", "expected a whole number, e.g. 3")


def _parse_boolean(text: str) -> bool:
    """``true`` or ``false`` in any case."""
    value = _BOOLEANS.get(text.lower())
    if value is None:
        raise _Bad(f"{_short(text)} is not true or false", "expected true or false")
    return value


def _enum_parser(allowed: tuple[str, ...]) -> Callable[[str], str]:
    """A parser for one member of ``allowed``, suggesting the nearest on a miss."""
    members = {v: v for v in allowed}

    def parse(text: str) -> str:
        value = members.get(text)
        if value is not None:
            return value
        normal = re.sub(r"[\s-]+", "_", text.lower())
        near = [normal] if normal in members else difflib.get_close_matches(normal, allowed, 1)
        hint = f"did you mean `{near[0]}`?" if near else "allowed values: " + ", ".join(allowed)
        raise _Bad(f"{_short(text)} is not one of the allowed values", hint)

    return parse


def _set_parser(allowed: tuple[str, ...]) -> Callable[[str], frozenset[str]]:
    """A parser for ``;``-separated members of ``allowed`` (blank parts are ignored)."""
    member = _enum_parser(allowed)

    def parse(text: str) -> frozenset[str]:
        return frozenset(member(p.strip()) for p in text.split(";") if p.strip())

    return parse


def _range_check(fi: FieldInfo, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap ``parse`` to enforce the field's ``minimum``/``maximum`` from the schema."""
    low, high = fi.minimum, fi.maximum
    if low is None and high is None:
        return parse
    if high is None:
        expected = f"expected at least {low}"
    elif low is None:
        expected = f"expected at most {high}"
    else:
        expected = f"expected a value from {low} to {high}"

    def checked(text: str) -> Any:
        value = parse(text)
        if low is not None and value < low:
            raise _Bad(f"{_short(text)} is less than {low}", expected)
        if high is not None and value > high:
            raise _Bad(f"{_short(text)} is more than {high}", expected)
        return value

    return checked


def _pattern_check(fi: FieldInfo, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap ``parse`` to require the whole text to match the field's ``pattern``."""
    if fi.pattern is None:
        return parse
    regex, words = re.compile(fi.pattern[0]), fi.pattern[1]

    def checked(text: str) -> Any:
        if not regex.fullmatch(text):
            raise _Bad(f"{_short(text)} is not {words}")
        return parse(text)

    return checked


class _Memo(dict[str, Any]):
    """Values already converted, by raw cell text; a miss converts (and remembers, up to a limit).

    A large file repeats the same dates, ids and enum values over and over, and a hit is one
    C-level dict lookup instead of a Python call.
    """

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[str], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, cell: str) -> Any:
        value = self.convert(cell)
        if len(self) < _CACHE_LIMIT:
            self[cell] = value
        return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "text": str,
    "date": _parse_date,
    "money": _parse_money,
    "integer": _parse_integer,
    "boolean": _parse_boolean,
}


def _converter(fi: FieldInfo) -> Callable[[str], Any]:
    """The function that turns a raw cell of this column into its value or raises ``_Bad``.

    It strips the cell, maps an empty cell to the field's default (or rejects it when the
    field is required), parses the text by the field's kind and applies the schema's checks.
    """
    if fi.kind == "enum":
        parse = _enum_parser(ENUMS[fi.enum or ""])
    elif fi.kind == "set":
        parse = _set_parser(ENUMS[fi.enum or ""])
    else:
        parse = _parse_month if fi.month else _PARSERS[fi.kind]
    parse = _pattern_check(fi, _range_check(fi, parse))
    required, default = fi.required, fi.default

    def convert(cell: str) -> Any:
        text = cell.strip()
        if not text:
            if required:
                raise _Bad(_MISSING)
            return default
        return parse(text)

    return convert


def _fast_converter(fi: FieldInfo, convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """The same conversion for the hot loop: a memo lookup, or for plain required text just
    ``str.strip`` (the loop then treats an empty result as a failed row and redoes it slowly).
    """
    if fi.kind == "text" and fi.required and fi.pattern is None:
        return str.strip
    return _Memo(convert).__getitem__


# --------------------------------------------------------------------------- locating cells

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_EXTRA_BREAKS = str.maketrans(dict.fromkeys("\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", " "))


def _cell_spans(lines: Sequence[str], first: int) -> list[tuple[int, int, int | None]]:
    """Where each cell of the CSV record that starts on line ``first`` lies.

    One ``(line, start, end)`` per cell: the 1-based line where the cell starts, 0-based
    offsets in that line, the end exclusive, or ``None`` when the cell runs on to a later line
    (a quoted line break). A doubled quote inside quotes toggles twice, so a toggle suffices.
    """
    spans: list[tuple[int, int, int | None]] = []
    quoted = False
    cell_line, cell_start = first, 0
    for n, text in enumerate(itertools.islice(lines, first - 1, None), first):
        body = text.rstrip("\r\n")
        for i, c in enumerate(body):
            if c == '"':
                quoted = not quoted
            elif c == "," and not quoted:
                spans.append((cell_line, cell_start, i if cell_line == n else None))
                cell_line, cell_start = n, i + 1
        if not quoted:
            spans.append((cell_line, cell_start, len(body) if cell_line == n else None))
            return spans
    spans.append((cell_line, cell_start, None))
    return spans


class _Text:
    """The text of one CSV file, read again only when a diagnostic needs a place in it.

    Rows are streamed and no text is kept, so a clean load holds nothing; the first problem in
    a file pays for one more read, which gives the physical lines (to find a cell's character
    column) and, for files up to ``EXCERPT_LIMIT``, the excerpt source.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lines: list[str] | None = None
        self.source: str | None = None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            with _open_text(self.path, errors="replace") as f:
                text = f.read()
            self._lines = _LINE.findall(text)
            if len(text) <= EXCERPT_LIMIT:
                # Diagnostic.render splits with str.splitlines, which also breaks lines at
                # these characters; blank them so its line numbers stay the file's.
                self.source = text.translate(_EXTRA_BREAKS)
        return self._lines

    def locate(self, first: int, index: int | None) -> tuple[int, int | None, int | None]:
        """Line, column and end column of the stripped text of cell ``index`` of a record."""
        if index is None:
            self.lines  # noqa: B018 - loads the excerpt source
            return first, None, None
        cells = _cell_spans(self.lines, first)
        if index >= len(cells):
            return first, None, None
        line, start, end = cells[index]
        if end is None:
            return line, start + 1, None
        raw = self.lines[line - 1][start:end]
        column = start + 1 + len(raw) - len(raw.lstrip())
        return line, column, column + max(len(raw.strip()), 1)


# --------------------------------------------------------------------------- loading


class _Collector:
    """Every diagnostic of one load, up to ``MAX_DIAGNOSTICS``; the rest are only counted."""

    def __init__(self) -> None:
        self.kept: list[Diagnostic] = []
        self.more = 0
        self.errors = 0

    @property
    def full(self) -> bool:
        """No more diagnostics are kept (so there is no point in building them)."""
        return len(self.kept) >= MAX_DIAGNOSTICS

    def count(self, severity: str) -> None:
        """Count a diagnostic that is not kept."""
        self.errors += severity == "error"
        self.more += 1

    def add(self, d: Diagnostic) -> None:
        if self.full:
            self.count(d.severity)
        else:
            self.errors += d.severity == "error"
            self.kept.append(d)


class _File:
    """One record type's file: its records and what the integrity check must know about it."""

    def __init__(self, rtype: RecordType, folder: str) -> None:
        self.type = rtype
        self.path = os.path.join(folder, rtype.file)
        self.text = _Text(self.path)
        self.records: list[Any] = []
        self.columns: dict[str, int] = {}
        """Cell index of each known column present in the header."""
        self.absent: set[str] = set()
        """Required columns missing from the header (their values are all unknown)."""
        self.bad: dict[int, set[str]] = {}
        """Fields whose cell did not convert, by ``id`` of the record."""
        self.skipped_keys: set[str] = set()
        """Probable ids of rows skipped for a wrong cell count."""
        self.incomplete = False
        """Its ids are not all known (unreadable file, id column or cell): skip dangling checks."""

    def report(self, out: _Collector, message: str, line: int, index: int | None = None, *,
               hint: str | None = None, severity: str = "error") -> None:
        """Report a problem at cell ``index`` of the record starting on ``line`` (or the line).

        Finding the cell's column costs a scan of its line, so past the cap it is only counted.
        """
        if out.full:
            out.count(severity)
            return
        line, column, end = self.text.locate(line, index)
        out.add(Diagnostic(message=message, file=self.path, line=line, column=column,
                           end_column=end, hint=hint, severity=severity, source=self.text.source))


def _picker(indexes: Sequence[int]) -> Callable[[list[str]], Sequence[str]]:
    """A fast function picking the cells at ``indexes`` out of a row, always as a sequence."""
    if len(indexes) > 1:
        return operator.itemgetter(*indexes)  # type: ignore[return-value]
    if len(indexes) == 1:
        i = indexes[0]
        return lambda row: (row[i],)
    return lambda row: ()


def _read_header(f: _File, reader: Any, out: _Collector) -> int | None:
    """Read the header row; record the known columns and report the others.

    Returns the number of columns, or ``None`` when the file has no header at all.
    """
    fields = FIELDS[f.type.name]
    header = None
    for row in reader:
        if any(c.strip() for c in row):
            header = [c.strip() for c in row]
            break
    if header is None:
        f.incomplete = True
        out.add(Diagnostic(message="the file is empty; expected a header row", file=f.path,
                           line=1, hint="the header is: " + ",".join(fields)))
        return None
    line = reader.line_num
    unknown = []
    for i, name in enumerate(header):
        if name in f.columns:
            f.report(out, f"column {name} appears twice in the header", line, i)
        elif name in fields:
            f.columns[name] = i
        else:
            unknown.append(name)
            if not name:
                message, hint = f"column {i + 1} has no name; its cells are ignored", None
            else:
                near = difflib.get_close_matches(name.lower(), fields, 1)
                message = f"unknown column {_short(name)} is ignored"
                hint = (f"did you mean `{near[0]}`?" if near
                        else "known columns: " + ", ".join(fields))
            f.report(out, message, line, i, hint=hint, severity="warning")
    lowered = {u.lower(): u for u in unknown if u}
    required = [n for n, fi in fields.items() if fi.required]
    for name in required:
        if name not in f.columns:
            f.absent.add(name)
            near = difflib.get_close_matches(name, lowered, 1)
            hint = (f"is column `{lowered[near[0]]}` meant to be `{name}`?" if near
                    else "the required columns are " + ", ".join(required))
            f.report(out, f"missing required column {name}", line, hint=hint)
    if any(k in f.absent for k in f.type.key):
        f.incomplete = True
    return len(header)


def _read_rows(f: _File, reader: Any, out: _Collector) -> None:
    """Convert every data row into a record, reporting each cell that does not convert.

    This is the hot loop of a large load: one prebuilt converter per column, the cells picked
    with one ``itemgetter`` call, and a slow path (cell by cell, to report every bad cell) only
    for rows that fail.
    """
    ncols = _read_header(f, reader, out)
    if ncols is None:
        return
    fields = FIELDS[f.type.name]
    names = tuple(n for n in fields if n in f.columns)
    indexes = [f.columns[n] for n in names]
    converters = [_converter(fields[n]) for n in names]
    fast = [_fast_converter(fields[n], c) for n, c in zip(names, converters, strict=True)]
    pick = _picker(indexes)
    fixed = dict.fromkeys(f.absent)
    cls, records, key = f.type.cls, f.records, f.type.key
    key_index = f.columns.get(key[0]) if key else None
    previous = reader.line_num
    for row in reader:
        start, previous = previous + 1, reader.line_num
        if len(row) != ncols:
            if any(c.strip() for c in row):
                more = len(row) > ncols
                hint = ("a value that contains a comma must be written in double quotes" if more
                        else "leave a cell empty for a value that is not recorded")
                f.report(out, f"this row has {len(row)} cells but the header has {ncols} columns",
                         start, hint=hint)
                if key_index is not None and key_index < len(row):
                    f.skipped_keys.add(row[key_index].strip())
            continue
        bad = None
        try:
            values = list(map(operator.call, fast, pick(row)))
            if "" in values:  # an empty required text cell, from ``str.strip``
                raise _Bad(_MISSING)
        except _Bad:
            if not any(c.strip() for c in row):
                continue  # a blank row (spreadsheets leave them): no record, nothing lost
            values, bad = [], set()
            for name, convert, i in zip(names, converters, indexes, strict=True):
                try:
                    values.append(convert(row[i]))
                except _Bad as e:
                    values.append(None)
                    bad.add(name)
                    f.report(out, f"{name}: {e.what}", start, i, hint=e.hint)
        record = cls(**dict(zip(names, values, strict=True)), **fixed, line=start)
        records.append(record)
        if bad:
            f.bad[id(record)] = bad
            if bad.intersection(key):
                f.incomplete = True


def _absent_or_empty(path: str) -> str | None:
    """``"absent"`` or ``"empty"`` (0 bytes: how spreadsheets export an empty sheet), or
    ``None`` when there is something at that path (a dangling symbolic link is something:
    reading it says what is wrong, rather than reading it as no records)."""
    if not os.path.lexists(path):
        return "absent"
    return "empty" if os.path.isfile(path) and os.path.getsize(path) == 0 else None


def _open_text(path: str, errors: str = "strict") -> io.TextIOWrapper:
    """A data file opened as CSV text: only a regular file of at most
    ``limits.MAX_DATA_FILE_BYTES`` (else :class:`Unreadable` says why)."""
    return io.TextIOWrapper(open_regular(path, limits.MAX_DATA_FILE_BYTES),
                            encoding="utf-8-sig", errors=errors, newline="")


@contextlib.contextmanager
def _cell_limit() -> Iterator[None]:
    """Cells longer than ``limits.MAX_CELL`` characters stop the csv module (an unclosed
    quote would otherwise swallow the rest of the file into one cell)."""
    previous = csv.field_size_limit(limits.MAX_CELL)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _read_file(f: _File, out: _Collector) -> None:
    """Read one file, turning unreadable bytes and broken CSV into diagnostics. An absent or
    0-byte file is read as having no records, with a warning unless the file is optional."""
    nothing = _absent_or_empty(f.path)
    if nothing is not None:
        if f.type.file not in _OPTIONAL_FILES:
            out.add(Diagnostic(message=f"file is {nothing}; read as having no {f.type.plural}",
                               file=f.path, severity="warning"))
        return
    reader = None
    try:
        with _open_text(f.path) as stream, _cell_limit():
            reader = csv.reader(stream)
            _read_rows(f, reader, out)
    except Unreadable as e:
        f.incomplete = True
        out.add(Diagnostic(message=f"cannot read the file: {e}", file=f.path,
                           hint="a data file must be a regular file (not a pipe, a device or "
                           "a broken link)"))
    except UnicodeDecodeError:
        f.incomplete = True
        with open_regular(f.path, limits.MAX_DATA_FILE_BYTES) as binary:
            data = binary.read()
        skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        try:
            data[skip:].decode("utf-8")
            position = skip
        except UnicodeDecodeError as e:
            position = skip + e.start
        line = data.count(b"\n", 0, position) + 1
        f.report(out, f"the file is not UTF-8 text: byte 0x{data[position]:02x} cannot be read",
                 line, hint="save the file as UTF-8 (“CSV UTF-8”)")
    except csv.Error as e:
        f.incomplete = True
        line = reader.line_num if reader is not None else 1
        if "field larger than field limit" in str(e):
            f.report(out, f"a cell has more than {limits.MAX_CELL:,} characters", line,
                     hint="no value of the data contract is that long; is a quote left open?")
        else:
            f.report(out, f"the file is not valid CSV: {e}", line)
    except OSError as e:
        f.incomplete = True
        out.add(Diagnostic(message=f"cannot read the file: {e.strerror}", file=f.path))


def _check_integrity(dataset: Dataset, files: dict[str, _File], out: _Collector) -> None:
    """Report ``Dataset.problems()`` at the file, line and column of the offending cell.

    Problems that only echo an earlier error are left out: a cell that did not convert (its
    value is unknown, not missing), or a reference into a file whose ids are not all known.
    """
    first_lines: dict[str, dict[tuple[Any, ...], int]] = {}
    for record, field, message in dataset.problems():
        t = BY_CLASS[type(record)]
        f = files[t.name]
        duplicate = message.startswith("duplicate ")
        involved = t.key if duplicate else (field,)
        bad = f.bad.get(id(record), set())
        if any(n in bad or n in f.absent for n in involved):
            continue
        hint = None
        if duplicate:
            if t.name not in first_lines:
                first = first_lines[t.name] = {}
                for r in f.records:
                    first.setdefault(tuple(getattr(r, n) for n in t.key), r.line)
            line = first_lines[t.name].get(tuple(getattr(record, n) for n in t.key))
            hint = f"the first is on line {line}" if line else None
        elif message.startswith("no "):
            target = files[_TARGETS[t.name, field]]
            if target.incomplete or getattr(record, field) in target.skipped_keys:
                continue
            hint = f"add the {target.type.name} to {target.type.file}, or correct the id"
        elif t.name == "learner" and field == "employer_id":
            hint = "fill in employer_id, or change learner_type"
        f.report(out, message, record.line, f.columns.get(field), hint=hint)


#: The record type each single-record reference points at, by (source type, field).
_TARGETS: dict[tuple[str, str], str] = {
    (link.source, link.source_field): link.target for link in LINKS if not link.many
}


def _unexpected_files(folder: str, out: _Collector) -> None:
    """Warn about CSV files the contract does not know, often a misspelt file name."""
    known = [t.file for t in RECORD_TYPES]
    try:
        names = os.listdir(folder)
    except OSError as e:
        out.add(Diagnostic(message=f"cannot list the data folder: {e.strerror or e}",
                           file=folder))
        return
    for name in sorted(names):
        if name.lower().endswith(".csv") and name not in known:
            near = difflib.get_close_matches(name.lower(), known, 1)
            out.add(Diagnostic(message="not a file of the data contract; it is ignored",
                               file=os.path.join(folder, name), severity="warning",
                               hint=f"did you mean `{near[0]}`?" if near else None))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while loading.

    A load allocates millions of objects and no reference cycles, yet every few thousand
    allocations the collector rescans the ever-growing heap: a third of the time of a
    million-learner load, for nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_data(directory: str | os.PathLike[str]) -> Dataset:
    """Read a data-set folder (KPI-SPEC §1) into a :class:`Dataset`.

    Every problem is collected before anything is returned; if any is an error, one
    :class:`DataError` carries them all (at most ``MAX_DIAGNOSTICS``, then a note counting the
    rest), so nothing is ever evaluated on half the data. Warnings (unknown columns, absent
    or 0-byte files) of a clean load are kept in ``Dataset.notices``. A folder with none of
    the contract's files (other than the optional ``profiles.csv``) is an error.
    """
    folder = os.fspath(directory)
    if not os.path.exists(folder):
        raise DataError([Diagnostic(message="data folder does not exist", file=folder)])
    if not os.path.isdir(folder):
        raise DataError([Diagnostic(message="not a folder; a data set is a folder of CSV files",
                                    file=folder)])
    files = {t.name: _File(t, folder) for t in RECORD_TYPES}
    out = _Collector()
    if all(_absent_or_empty(f.path) for f in files.values() if f.type.file not in _OPTIONAL_FILES):
        expected = ", ".join(t.file for t in RECORD_TYPES if t.file not in _OPTIONAL_FILES)
        _unexpected_files(folder, out)  # a misspelt file name is the likely reason
        raise DataError([Diagnostic(message=f"no data files in {folder}: expected {expected}",
                                    file=folder), *out.kept])
    order = {f.path: i for i, f in enumerate(files.values())}

    def in_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        return sorted(diagnostics, key=lambda d: (order.get(d.file or "", len(order)),
                                                  d.line or 0))

    with _collector_paused():
        for f in files.values():
            _read_file(f, out)
        _unexpected_files(folder, out)
        # Built once, with its notices: only errors come after (the integrity check), and a
        # data set with errors is not returned. So the check it caches is the one evaluate uses.
        dataset = Dataset(**{f.type.plural: f.records for f in files.values()},
                          notices=in_order(out.kept))
        dataset._mark_values_checked()  # every cell was checked as it was converted
        _check_integrity(dataset, files, out)
    if out.errors:
        diagnostics = in_order(out.kept)
        if out.more:
            # First, because a rendered error shows only its first diagnostics.
            total = len(diagnostics) + out.more
            diagnostics.insert(0, Diagnostic(
                message=f"{total} problems found; only the first {len(diagnostics)} are listed",
                file=folder, severity="note"))
        raise DataError(diagnostics)
    return dataset
