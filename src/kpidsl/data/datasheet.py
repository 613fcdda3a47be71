"""The data contract as an Excel workbook: the provider's datasheet.

A workbook holds one sheet per file of the contract, named as the file without ``.csv``
(``learners``, ``cofunding``, …), each with the file's columns as its first non-blank row.
:func:`load_workbook` reads one into a :class:`~kpidsl.data.dataset.Dataset`;
:func:`write_workbook` writes the blank datasheet a provider fills in (``kpidsl template``), or
the same filled with a data set.

Reading reuses the CSV loader (:mod:`kpidsl.data.csvfiles`) whole: each cell is turned into
the contract's text and goes through the same converters, checks and integrity rules, so the
same data gives the same records and the same messages. Only the location changes: a problem
is at ``book.xlsx:learners!D14``, the sheet and cell a spreadsheet user goes to (a whole row
is ``learners!14:14``). A record's ``line`` is its row number.

How a cell becomes the contract's text, so that real Excel values and text both work:

- text is read as it is (a date or a number typed as text must be in the contract's spelling);
- a number is read as Excel shows it, to 15 significant digits (``450``, ``1500.5``), never
  in exponent notation;
- ``TRUE``/``FALSE`` are ``true``/``false``;
- a date is ``YYYY-MM-DD``, or ``YYYY-MM`` in a month column when it is the first of a month;
  a date with a time of day keeps the time, which the date check rejects with a hint;
- a cell holding an Excel error (``#N/A``, ``#DIV/0!``) is an error, never read as blank.

Blank rows and columns, formatting, validation and notes are ignored; so is the
``instructions`` sheet. Sheets the contract does not know are ignored with a warning, an
absent sheet is read as having no records with a warning (none for ``profiles``), as for CSV.

The reader is `python-calamine <https://pypi.org/project/python-calamine/>`_ (the Rust
``calamine`` library), which parses a sheet about as fast as the CSV loader reads the same
rows, many times faster than openpyxl: loading a 100,000-learner workbook takes about twice as
long as loading the same data as CSV (``nox -s bench-workbook``; the target is at most three
times), the sheets being parsed in a second thread while the Python side converts. The writer is
`XlsxWriter <https://pypi.org/project/XlsxWriter/>`_.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import attrs

from kpidsl.collector import collector_paused
from kpidsl.contract.fields import ENUMS, FieldInfo
from kpidsl.contract.records import FIELDS, RECORD_TYPES, RecordType
from kpidsl.contract.values import _Memo
from kpidsl.data.csvfiles import (
    _Collector,
    _File,
    _read_rows,
    columns,
    finish,
)
from kpidsl.data.dataset import Dataset
from kpidsl.errors import DataError, Diagnostic

#: Rows in a sheet (Excel's limit).
_MAX_ROWS = 1_048_576
#: The sheet that explains how to fill the workbook in; the loader ignores it.
INSTRUCTIONS = "instructions"


def sheet_name(rtype: RecordType) -> str:
    """The sheet that holds a record type: its CSV file's name without ``.csv``."""
    return rtype.file.removesuffix(".csv")


def place(sheet: str, row: int, index: int | None = None) -> str:
    """Where a problem is in a workbook, as a spreadsheet names it: the cell of the 0-based
    column ``index`` in ``row`` (``learners!D14``), or the whole row (``learners!14:14``)."""
    return f"{sheet}!{row}:{row}" if index is None else f"{sheet}!{column_letter(index)}{row}"


def column_letter(index: int) -> str:
    """The spreadsheet name of the 0-based column ``index``: 0 → ``A``, 26 → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --------------------------------------------------------------------------- cells as text


def _number(value: float) -> str:
    """A number as Excel shows it (15 significant digits), in plain digits."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(Decimal(format(value, ".15g")), "f")


def _datetime(value: dt.datetime) -> str:
    if value.time() == dt.time():
        return value.date().isoformat()
    return value.isoformat(" ", "seconds")


_TEXT: dict[type, Any] = {
    float: _number,
    int: str,
    bool: lambda v: "true" if v else "false",
    dt.date: dt.date.isoformat,
    dt.datetime: _datetime,
    dt.time: dt.time.isoformat,
    dt.timedelta: str,
}


def _text(cell: Any) -> str:
    """A cell as the contract's text."""
    return cell if type(cell) is str else _TEXT[type(cell)](cell)


def _month_text(cell: Any) -> str:
    """A month column's cell: a date on the first of a month is that month, ``YYYY-MM``."""
    if isinstance(cell, dt.date) and cell.day == 1 and (
            type(cell) is dt.date
            or (isinstance(cell, dt.datetime) and cell.time() == dt.time())):
        return f"{cell.year:04d}-{cell.month:02d}"
    return _text(cell)


def _as_text(rows: list[list[Any]], width: int, months: set[int]) -> list[tuple[str, ...]]:
    """The rows with every cell as text, cut to ``width`` columns.

    Converted a column at a time, since a column holds one kind of value: a column of text is
    kept as it is, any other goes through a memo of the values converted so far (dates and
    flags repeat). Not when it mixes ``True`` with numbers, which are equal as keys.
    """
    full = max(map(len, rows), default=0)
    if any(len(r) < full for r in rows):  # calamine gives equal rows; others may not
        rows = [[*r, *[""] * (full - len(r))] for r in rows]
    columns = list(zip(*rows, strict=True))[:width]
    for i, column in enumerate(columns):
        types = set(map(type, column))
        if types == {str}:
            continue
        convert = _month_text if i in months else _text
        if bool in types and (int in types or float in types):
            columns[i] = tuple(map(convert, column))
        else:
            columns[i] = tuple(map(_Memo(convert).__getitem__, column))
    return list(zip(*columns, strict=True))


class _Rows:
    """A sheet's rows as the CSV loader reads a file's: sequences of text, and ``line_num``,
    the row number of the last row read."""

    def __init__(self, rows: list[tuple[str, ...]]) -> None:
        self.rows = rows
        self.line_num = 0

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return self

    def __next__(self) -> tuple[str, ...]:
        try:
            row = self.rows[self.line_num]
        except IndexError:
            raise StopIteration from None
        self.line_num += 1
        return row


# --------------------------------------------------------------------------- reading


class _Sheet(_File):
    """One record type's sheet, read by the CSV loader's functions; problems are located by
    sheet and cell."""

    noun = "sheet"
    row_word = "row"

    def __init__(self, rtype: RecordType, book: str) -> None:
        super().__init__(rtype, os.path.dirname(book))
        self.path = book
        self.name = sheet_name(rtype)
        self.errors: set[tuple[int, int]] = set()
        """Cells holding an Excel error, as (row, column index): reported once, as that."""
        self.blank: set[int] = set()
        """Columns with nothing in them, header included: layout, not unnamed columns."""

    @property
    def home(self) -> str:
        return f"the {self.name} sheet"

    def place(self, row: int, index: int | None) -> str:
        return place(self.name, row, index)

    def report(self, out: _Collector, message: str, line: int, index: int | None = None, *,
               hint: str | None = None, severity: str = "error", field: str | None = None,
               value: Any = None, record_id: str | None = None, excerpt: bool = True) -> None:
        if index is not None and ((line, index) in self.errors or index in self.blank):
            return  # its Excel error is reported already, and says more
        out.add(Diagnostic(message=message, file=self.path, line=line,
                           place=self.place(line, index), hint=hint, severity=severity,
                           record_type=self.type.name if field else None, record_id=record_id,
                           field=field, value=value))


def _trimmed_width(rows: list[list[Any]]) -> int:
    """The number of columns up to the last one with anything in it (a column can be kept in
    the sheet's range by an empty text cell)."""
    width = max(map(len, rows), default=0)
    while width and all(r[width - 1] in ("", None) for r in rows if len(r) >= width):
        width -= 1
    return width


def _read_sheet(f: _Sheet, rows: list[list[Any]], errors: list[tuple[int, int, str]],
                out: _Collector) -> None:
    """Read one sheet's cells; first report its Excel errors, at their cells."""
    names = list(FIELDS[f.type.name])
    header = next((r for r in rows if any(c not in ("", None) for c in r)), None)
    for row, index, text in errors:
        f.errors.add((row, index))
        heading = header[index] if header is not None and index < len(header) else None
        column = f"{heading}: " if isinstance(heading, str) and heading.strip() in names else ""
        out.add(Diagnostic(message=f"{column}the cell holds the Excel error {text}",
                           file=f.path, line=row, place=f.place(row, index),
                           hint="correct the formula or type the value; leave the cell empty "
                           "for a value that is not recorded"))
    width = _trimmed_width(rows)
    months = set()
    if header is not None:
        f.blank = {i for i in range(width) if (i >= len(header) or header[i] in ("", None))
                   and all(i >= len(r) or r[i] in ("", None) for r in rows)}
        months = {i for i, c in enumerate(header) if isinstance(c, str)
                  and (fi := FIELDS[f.type.name].get(c.strip())) is not None and fi.month}
    _read_rows(f, _Rows(_as_text(rows, width, months)), out)


_SHEET_XML = re.compile(rb'<sheet\b([^>]*)>')
_REL_XML = re.compile(rb'<Relationship\b([^>]*)>')
_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)(?<!/)>(?:(?!</c>).)*?<v>([^<]*)</v>', re.S)
_CELL_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_XML_ESCAPES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'"}


def _attribute(name: bytes, attributes: bytes) -> bytes:
    m = re.search(rb'(?:^|\s)' + name + rb'="([^"]*)"', attributes)
    return m[1] if m else b""


def _column_index(letters: str) -> int:
    n = 0
    for c in letters:
        n = n * 26 + ord(c) - 64
    return n - 1


def _error_cells(path: str) -> dict[str, list[tuple[int, int, str]]]:
    """The cells holding an Excel error (``#N/A``), by sheet name: (row, column index, error).

    calamine reads them as empty cells, which would silently lose a value, so they are found
    in the sheets' XML: a cell of type ``e``. A workbook without any costs one substring
    search per sheet.
    """
    found: dict[str, list[tuple[int, int, str]]] = {}
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        rels = {_attribute(b"Id", a): _attribute(b"Target", a)
                for a in _REL_XML.findall(z.read("xl/_rels/workbook.xml.rels"))}
        for attributes in _SHEET_XML.findall(z.read("xl/workbook.xml")):
            name = _attribute(b"name", attributes)
            target = rels.get(_attribute(b"r:id", attributes), b"").decode()
            member = target.lstrip("/") if target.startswith("/") else "xl/" + target
            if member not in names:
                continue
            xml = z.read(member)
            if b't="e"' not in xml:
                continue
            cells = []
            for attributes, value in _ERROR_CELL.findall(xml):
                ref = _CELL_REF.search(attributes)
                if ref:
                    cells.append((int(ref[2]), _column_index(ref[1].decode()), value.decode()))
            sheet = name.decode()
            for escaped, char in _XML_ESCAPES.items():
                sheet = sheet.replace(escaped, char)
            found[sheet] = cells
    return found


def _unreadable(path: str, why: str) -> DataError:
    return DataError([Diagnostic(message=f"cannot read the workbook: {why}", file=path,
                                 hint="save it from Excel (or LibreOffice) as an Excel "
                                 "Workbook (.xlsx)")])


def load_workbook(path: str | os.PathLike[str]) -> Dataset:
    """Read a datasheet workbook (``.xlsx``) into a :class:`Dataset`, exactly as
    :func:`kpidsl.data.csvfiles.load_data` reads a folder: every problem is collected, and
    if any is an error one :class:`DataError` carries them all; warnings of a clean load are
    kept in ``Dataset.notices``."""
    return _load(path, {})[0]


def load_partial(path: str | os.PathLike[str], partial: Mapping[str, frozenset[str]]
                 ) -> tuple[Dataset, dict[str, dict[str, int]]]:
    """Read a datasheet that goes with ILR returns, as
    :func:`kpidsl.data.csvfiles.load_partial` reads a folder."""
    return _load(path, partial)


def _load(path: str | os.PathLike[str], partial: Mapping[str, frozenset[str]]
          ) -> tuple[Dataset, dict[str, dict[str, int]]]:
    from python_calamine import CalamineError, CalamineWorkbook, ZipError

    book = os.fspath(path)
    if not os.path.exists(book):
        raise DataError([Diagnostic(message="workbook does not exist", file=book)])
    if os.path.isdir(book):
        raise DataError([Diagnostic(message="a folder, not a workbook", file=book,
                                    hint="a folder of CSV files is read when its name does "
                                    "not end in .xlsx")])
    try:
        workbook = CalamineWorkbook.from_path(book)
    except ZipError as e:
        raise _unreadable(book, f"it is not an .xlsx file ({e})") from None
    except CalamineError as e:
        raise _unreadable(book, str(e) or type(e).__name__) from None
    except OSError as e:
        raise _unreadable(book, e.strerror or str(e)) from None

    def cells(sheet: str) -> list[list[Any]]:
        try:
            return workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except CalamineError as e:
            raise _unreadable(book, f"sheet {sheet!r}: {e}") from None

    sheets = {sheet_name(t): _Sheet(t, book) for t in RECORD_TYPES}
    for f in sheets.values():
        f.partial = partial.get(f.type.name, frozenset())
    present = {n.strip().lower(): n for n in workbook.sheet_names}
    out = _Collector()
    unknown = [n for n in workbook.sheet_names if n.strip().lower() not in sheets
               and n.strip().lower() != INSTRUCTIONS]
    for name in unknown:
        near = difflib.get_close_matches(name.strip().lower(), sheets, 1)
        out.add(Diagnostic(message=f"sheet {name!r} is not a sheet of the data contract; "
                           "it is ignored", file=book, severity="warning",
                           hint=f"did you mean `{near[0]}`?" if near else None))
    needed = [n for n, f in sheets.items() if not f.type.optional]
    if not any(n in present for n in needed):
        raise DataError([Diagnostic(message=f"no data sheets in {book}: expected "
                                    + ", ".join(needed), file=book), *out.kept])
    order = {n: i for i, n in enumerate(sheets)}

    def in_order(d: Diagnostic) -> tuple[int, int]:
        sheet = (d.place or "").partition("!")[0]
        return order.get(sheet, -1), d.line or 0

    # A second thread parses the sheets (calamine lets go of the GIL) while this one converts
    # the sheet before, so the two halves of a load overlap.
    pool = ThreadPoolExecutor(max_workers=1)
    parsed = {name: pool.submit(cells, present[name]) for name in sheets if name in present}
    try:
        try:
            errors = _error_cells(book)
        except (zipfile.BadZipFile, KeyError) as e:
            raise _unreadable(book, f"it is not an .xlsx file ({e})") from None
        except OSError as e:
            raise _unreadable(book, e.strerror or str(e)) from None
        with collector_paused():
            for name, f in sheets.items():
                actual = present.get(name)
                rows = parsed[name].result() if name in parsed else []
                if not rows or not any(c not in ("", None) for r in rows for c in r):
                    if not f.type.optional:
                        what = "absent" if actual is None else "empty"
                        out.add(Diagnostic(message=f"sheet {name} is {what}; read as having no "
                                           f"{f.type.plural}", file=book, severity="warning"))
                    continue
                _read_sheet(f, rows, errors.get(actual or "", []), out)
                del rows, parsed[name]
            files = {f.type.name: f for f in sheets.values()}
            data = finish(files, out, book, in_order, partial=bool(partial))
            data._mark_read_from_book(book)
            return data, columns(files)
    finally:
        pool.shutdown(cancel_futures=True)


# --------------------------------------------------------------------------- writing


#: The note on a column that the datasheet beside ILR returns fills in with their values.
_FILLED = ("Filled in with what the ILR returns give: this column replaces it for every row, "
           "so an empty cell is a missing value. Delete the column to keep the returns' "
           "values.")
#: The same, on a column of a sheet that replaces the returns' records as a whole.
_FILLED_SHEET = ("Filled in with what the ILR returns give: this sheet replaces it. Delete "
                 "the sheet to keep the returns' records.")


def _note(fi: FieldInfo, filled: str = "") -> str:
    """What goes in a column, for the note on its header (``filled``: what it says of the
    returns' values filled in)."""
    parts = [fi.doc]
    if fi.required:
        parts.append("Required.")
    elif filled:  # ``filled`` says what an empty cell is
        pass
    elif fi.default is None:
        parts.append("Optional: leave blank when not recorded.")
    elif fi.default == frozenset():
        parts.append("Optional: blank means none.")
    else:
        shown = "true" if fi.default is True else "false" if fi.default is False else fi.default
        parts.append(f"Optional: blank means {shown}.")
    if filled:
        parts.append(filled)
    parts.append(_how(fi))
    return " ".join(parts)


def _how(fi: FieldInfo) -> str:
    """How to write a value of the column."""
    if fi.kind == "enum":
        return "Pick one of: " + ", ".join(ENUMS[fi.enum or ""]) + "."
    if fi.kind == "set":
        return "One or more of " + ", ".join(ENUMS[fi.enum or ""]) + ", separated by ';'."
    if fi.kind == "boolean":
        return "Pick true or false."
    if fi.kind == "date":
        return "A month, e.g. 2024-08." if fi.month else "A date, e.g. 2024-08-31."
    if fi.kind == "money":
        return "Pounds, e.g. 1200.50 (no £ sign needed)."
    if fi.kind == "integer":
        return "A whole number."
    if fi.pattern is not None:
        return f"Text: {fi.pattern[1]}."
    return "Text."


_FORMATS = {"date": "yyyy-mm-dd", "month": "yyyy-mm", "money": "#,##0.00", "integer": "0",
            "text": "@"}


def _instructions(filled: Mapping[str, Sequence[str]] | None) -> list[tuple[str, str]]:
    """The first sheet's text: (style, line). ``filled``: the datasheet that goes with ILR
    returns, with these columns filled in with their values."""
    lines = [
        ("title", "Skills Bootcamps datasheet"),
        ("", "Fill in one sheet for each kind of record, one record per row, under the "
             "header row. kpidsl reads this workbook as it reads a folder of CSV files:"),
        ("code", "    kpidsl evaluate --data datasheet.xlsx --as-of 2025-03-31"),
        ("", ""),
    ] if filled is None else [
        ("title", "Skills Bootcamps datasheet, with ILR returns"),
        ("", "This datasheet holds what the ILR returns do not: fill it in and give it beside "
             "the returns (an .xml file or a folder of them):"),
        ("code", "    kpidsl evaluate --data returns/ --data datasheet.xlsx --as-of 2026-03-31"),
        ("", "• Rows match the returns on their ids: a provider on its ukprn, a bootcamp on "
             "its ConRefNumber, a learner on its LearnRefNumber. The ids of the returns "
             "are filled in already."),
        ("", "• What the returns derive or stand in for is filled in already: "
             + "; ".join(f"{sheet_name(t)}: {', '.join(filled[t.name])}"
                         for t in RECORD_TYPES if t.key and t.name in filled)
             + "; and the interviews sheet. Correct it where you know better."),
        ("", "• A column of this workbook replaces what the returns derive or stand in for, "
             "for each row listed, so an empty cell is a missing value, not the returns' "
             "value. Delete a column (or the interviews sheet) to keep the returns' values; "
             "add one (completion_date, milestone1_date) to replace them."),
        ("", "• What the ILR holds exactly (a learner's start, withdrawal and achievement "
             "dates, type and bootcamp) is not asked for here."),
        ("", ""),
    ]
    lines += [
        ("heading", "How to fill it in"),
        ("", "• Do not rename the sheets or the header cells. Columns may be in any order; "
             "a column that is not required may be deleted."),
        ("", "• Required columns have a dark header. Hover over a header to read its note: "
             "what goes there and how to write it."),
        ("", "• Leave a cell empty when the value is not recorded. Empty rows are ignored."),
        ("", "• Dates are real Excel dates (type 2024-08-31 or 31/08/2024) or text written "
             "YYYY-MM-DD. Months are written 2024-08."),
        ("", "• Yes/no columns and lists of values have a drop-down: pick from it. A column "
             "that takes several values (roles) separates them with ';'."),
        ("", "• Money is a number of pounds, e.g. 1200.50. Counts are whole numbers."),
        ("", "• Ids (learner_id, bootcamp_id, …) are text and must match across sheets: each "
             "learner names a bootcamp of the bootcamps sheet, and so on."),
        ("", "• A cell showing an Excel error (#N/A, #DIV/0!) is reported as an error."),
        ("", "• kpidsl lists every problem at once, by sheet and cell (learners!D14), with "
             "the value it found and what it expected. Nothing is evaluated until all are "
             "fixed."),
        ("", ""),
        ("heading", "The sheets"),
    ]
    for t in RECORD_TYPES:
        doc = (t.cls.__doc__ or "").split("\n")[0].split(" (``")[0]
        optional = " Optional: delete the sheet if unused." if t.optional else ""
        lines.append(("", f"• {sheet_name(t)}: {doc}.{optional}"))
    return lines


def write_workbook(path: str | os.PathLike[str], dataset: Dataset | None = None,
                   columns: Mapping[str, Sequence[str]] | None = None, *,
                   optional: Mapping[str, frozenset[str]] | None = None,
                   filled: Mapping[str, Sequence[str]] | None = None) -> None:
    """Write the datasheet workbook: an ``instructions`` sheet, then one sheet per record type
    with its columns as a frozen header row (a note on each header, required ones dark), a
    drop-down for every enumeration and yes/no column, and date, month and money formats;
    filled with ``dataset``'s records when one is given.

    Everything comes from the record schema (:data:`~kpidsl.contract.records.FIELDS`,
    :data:`~kpidsl.contract.fields.ENUMS`), so the template cannot drift from the loader. Raises
    ``ValueError`` when a record type has more records than a sheet has rows. ``columns``
    (by record type name) makes the datasheet that goes with ILR returns: only those columns
    of those record types (:data:`kpidsl.data.sources.DATASHEET`), of which those in
    ``optional`` may be left empty (a missing value) and those in ``filled`` hold the
    returns' values, as their notes say.
    """
    if dataset is not None:
        for t in RECORD_TYPES:
            if len(dataset.of(t.name)) >= _MAX_ROWS:
                raise ValueError(f"{len(dataset.of(t.name)):,} {t.plural} do not fit in the "
                                 f"{sheet_name(t)} sheet: a sheet holds {_MAX_ROWS - 1:,} "
                                 "records under its header; keep such a data set as CSV files")
    with open(path, "wb") as out:  # first, so that a bad path fails before any work
        _write_book(out, dataset, columns, optional or {},
                    None if columns is None else filled or {})


def _write_book(out: Any, dataset: Dataset | None,
                columns: Mapping[str, Sequence[str]] | None,
                optional: Mapping[str, frozenset[str]],
                filled: Mapping[str, Sequence[str]] | None) -> None:
    import xlsxwriter  # type: ignore[import-untyped]  # xlsxwriter ships no types

    book = xlsxwriter.Workbook(out)
    styles = {
        "title": book.add_format({"bold": True, "font_size": 16}),
        "heading": book.add_format({"bold": True, "font_size": 12}),
        "code": book.add_format({"font_name": "Consolas"}),
        "": book.add_format({}),
        "required": book.add_format({"bold": True, "font_color": "#ffffff",
                                     "bg_color": "#1f4e79", "border": 1}),
        "optional": book.add_format({"bold": True, "bg_color": "#d9e2f3", "border": 1}),
    }
    formats = {k: book.add_format({"num_format": v}) for k, v in _FORMATS.items()}
    about = book.add_worksheet(INSTRUCTIONS)
    about.set_column(0, 0, 110)
    for row, (style, text) in enumerate(_instructions(filled)):
        about.write_string(row, 0, text, styles[style])
    for t in RECORD_TYPES:
        fields = list(FIELDS[t.name].values())
        only = columns.get(t.name) if columns is not None else None
        if only is not None:
            fields = [fi for fi in fields if fi.name in only]
        ws = book.add_worksheet(sheet_name(t))
        ws.freeze_panes(1, 0)
        may_be_empty = optional.get(t.name, frozenset())
        ours = (filled or {}).get(t.name, ())
        said = _FILLED if t.key else _FILLED_SHEET
        for col, fi in enumerate(fields):
            kind = "month" if fi.month else fi.kind
            if fi.name in may_be_empty:  # beside returns an empty cell is a missing value
                fi = attrs.evolve(fi, required=False, default=None)
            ws.set_column(col, col, max(12, len(fi.name) + 2), formats.get(kind))
            ws.write_string(0, col, fi.name,
                            styles["required" if fi.required else "optional"])
            note = _note(fi, said if fi.name in ours else "")
            ws.write_comment(0, col, note, {"x_scale": 2, "y_scale": 1.5})
            _validate(ws, col, fi)
        records = dataset.of(t.name) if dataset is not None else ()
        for row, record in enumerate(records, 1):
            for col, fi in enumerate(fields):
                _write(ws, row, col, getattr(record, fi.name), fi, formats)
    book.close()


def _validate(ws: Any, col: int, fi: FieldInfo) -> None:
    """A drop-down for an enumeration or a yes/no column; range checks for numbers."""
    last = 1_048_575
    if fi.kind in ("enum", "boolean"):
        allowed = list(ENUMS[fi.enum or ""]) if fi.kind == "enum" else ["true", "false"]
        ws.data_validation(1, col, last, col, {
            "validate": "list", "source": allowed, "error_title": fi.name,
            "error_message": ("Pick one of: " + ", ".join(allowed))[:255]})
    elif fi.kind in ("integer", "money") and (fi.minimum is not None or fi.maximum is not None):
        low = fi.minimum if fi.minimum is not None else -(10**9)
        high = fi.maximum if fi.maximum is not None else 10**12
        ws.data_validation(1, col, last, col, {
            "validate": "integer" if fi.kind == "integer" else "decimal",
            "criteria": "between", "minimum": low, "maximum": high, "error_title": fi.name,
            "error_message": _how(fi) + (f" From {low} to {high}." if fi.maximum is not None
                                         else f" At least {low}.")})
    elif fi.kind == "set":
        ws.data_validation(1, col, last, col, {
            "validate": "any", "input_title": fi.name,
            "input_message": ("Any of: " + "; ".join(ENUMS[fi.enum or ""]))[:255]})


def _write(ws: Any, row: int, col: int, value: Any, fi: FieldInfo,
           formats: dict[str, Any]) -> None:
    """One value as a provider would enter it: dates as Excel dates, numbers as numbers
    (money only when a number holds it exactly), everything else as the contract's text."""
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_string(row, col, "true" if value else "false")
    elif isinstance(value, dt.date):
        fmt = formats["month" if fi.month else "date"]
        ws.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), fmt)
    elif isinstance(value, Decimal):
        if Decimal(_number(float(value))) == value:
            ws.write_number(row, col, float(value), formats["money"])
        else:
            ws.write_string(row, col, format(value, "f"))
    elif isinstance(value, int):
        ws.write_number(row, col, value)
    elif isinstance(value, frozenset):
        ws.write_string(row, col, ";".join(sorted(value)))
    else:
        ws.write_string(row, col, str(value))
