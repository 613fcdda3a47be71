"""Reading and writing the CSV data contract.

:func:`write_data` writes a :class:`~kpidsl.data.dataset.Dataset` as a folder of CSV files in the
spelling of KPI-SPEC §1; :func:`load_data` reads such a folder back, or raises one
:class:`~kpidsl.errors.DataError` listing every problem found.

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
import hashlib
import io
import itertools
import operator
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from kpidsl import limits
from kpidsl.collector import collector_paused as collector_paused  # also here: its first home
from kpidsl.contract.fields import FieldInfo
from kpidsl.contract.records import (
    BY_CLASS,
    FIELDS,
    RECORD_TYPES,
    REFERENCES,
    RecordType,
    plain_init,
    record_diagnostic,
)
from kpidsl.contract.values import MISSING as _MISSING
from kpidsl.contract.values import BadValue as _Bad
from kpidsl.contract.values import _short
from kpidsl.contract.values import cell_converter as _converter
from kpidsl.contract.values import fast_cell_converter as _fast_converter
from kpidsl.data.dataset import Dataset
from kpidsl.errors import DataError, Diagnostic
from kpidsl.files import Unreadable, open_output, open_regular

#: At most this many diagnostics are kept; a final note counts the rest.
MAX_DIAGNOSTICS = 200
#: Files longer than this (in characters) get no excerpt in their diagnostics.
EXCERPT_LIMIT = 2_000_000


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


class Writer:
    """``csv.writer`` with ``\n`` line ends that also quotes a cell holding a ``\r``: the csv
    module quotes only the line end's own characters, and a bare ``\r`` in a cell is a line end
    to every reader, so a name with one would come back as two rows."""

    def __init__(self, out: Any) -> None:
        self._plain = csv.writer(out, lineterminator="\n")
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[str]) -> None:
        cells = list(row)
        (self._quoted if "\r" in "".join(cells) else self._plain).writerow(cells)


def _written(t: RecordType, records: Sequence[Any], out: Any
             ) -> Iterator[tuple[Any, list[str]]]:
    """Each record with its cells, as the CSV text of its type's file is written to ``out``
    (anything with ``write``: the file, or a hash of it)."""
    fields = tuple(FIELDS[t.name].values())
    w = Writer(out)
    w.writerow(fi.name for fi in fields)
    for r in records:
        cells = [_cell(getattr(r, fi.name), fi) for fi in fields]
        w.writerow(cells)
        yield r, cells


def record_rows(dataset: Dataset, t: RecordType, hashes: dict[str, str | None] | None
                ) -> Iterator[tuple[Any, list[str]]]:
    """Each record of type ``t`` with its cells as :func:`write_data` writes them; with
    ``hashes``, the sha256 of the file it would write is put there once they are all through
    (``None`` for an optional file with no records, which it does not write). So an engine
    that writes the records out in a form of its own fingerprints them on the way
    (:func:`keep_fingerprints`), and they are not written twice."""
    records = dataset.of(t.name)
    if hashes is None:
        fields = tuple(FIELDS[t.name].values())
        for r in records:
            yield r, [_cell(getattr(r, fi.name), fi) for fi in fields]
        return
    if t.optional and not records:
        hashes[t.file] = None
        return
    out = _Sha256()
    yield from _written(t, records, out)
    hashes[t.file] = out.hash.hexdigest()


def keep_fingerprints(dataset: Dataset, hashes: dict[str, str | None]) -> None:
    """The data set's fingerprints (:func:`file_fingerprints`), from ``hashes`` of every
    contract file (by :func:`record_rows`) and of the files it was read from."""
    if dataset._fingerprints is None and len(hashes) == len(RECORD_TYPES):
        object.__setattr__(dataset, "_fingerprints", {
            **hashes, **{name: _hash_file(path) for name, path in dataset._sources}})


def write_data(dataset: Dataset, directory: str | os.PathLike[str]) -> None:
    """Write ``dataset`` as a data-set folder: one CSV file per record type.

    Columns follow the schema order, so the files are stable to diff. ``profiles.csv`` is
    written only when there are profiles (it is optional); every other file is always written,
    with just a header when empty, so the folder is complete.
    """
    os.makedirs(directory, exist_ok=True)
    for t in RECORD_TYPES:
        records = dataset.of(t.name)
        if t.optional and not records:
            continue
        with io.TextIOWrapper(open_output(os.path.join(directory, t.file)), encoding="utf-8",
                              newline="") as f:
            for _ in _written(t, records, f):
                pass


class _Sha256:
    """A text stream that only hashes what is written to it (as UTF-8)."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def write(self, text: str) -> None:
        self.hash.update(text.encode("utf-8"))


def file_fingerprints(dataset: Dataset | str | os.PathLike[str]) -> dict[str, str | None]:
    """The sha256 (hex) of each file of the data contract, by file name; ``None`` when there is
    no such file.

    For a data set read by :func:`load_data` it is the hash of each file's bytes as read (what
    ``sha256sum learners.csv`` prints); for one built from records, of the file
    :func:`write_data` would write, so records written out and read back keep their
    fingerprint. Worked out once per data set. A data folder not read into records (the
    DuckDB engine reads it itself) gives the hash of each of its files. Records read from ILR
    returns and their datasheet add the hash of each of those files, by a name that does not
    depend on where they are (``returns/ILR-….xml``, ``datasheet/learners.csv``).
    """
    if not isinstance(dataset, Dataset):
        return {t.file: _hash_file(os.path.join(dataset, t.file)) for t in RECORD_TYPES}
    if dataset._fingerprints is None:
        hashes: dict[str, str | None] = {}
        for t in RECORD_TYPES:
            for _ in record_rows(dataset, t, hashes):
                pass
        keep_fingerprints(dataset, hashes)
    return dict(dataset._fingerprints or {})


def data_fingerprint(dataset: Dataset | str | os.PathLike[str]) -> str:
    """The sha256 (hex) of a data set: over the fingerprint of each file of the contract
    (:func:`file_fingerprints`: the files as read, or as :func:`write_data` would write the
    records)."""
    lines = "".join(f"{name} {sha or '-'}\n"
                    for name, sha in file_fingerprints(dataset).items())
    return hashlib.sha256(lines.encode()).hexdigest()


def fingerprint_soon(folder: str | os.PathLike[str]) -> None:
    """Start hashing the files of a data folder on a thread of its own, for
    :func:`file_fingerprints` to find done: hashlib lets go of the GIL, so the hashes are
    worked out beside what comes first (importing an engine, reading the data) rather than
    after the evaluation, where they took 0.02 s at 100,000 learners and 0.15 s at a
    million. A hash is used once, and only while its file is as it was hashed (the same
    size, times of change and inode, as ``make`` and Python's own bytecode cache judge)."""
    import threading

    soon = _Soon([os.path.join(folder, t.file) for t in RECORD_TYPES])
    _SOON.update(dict.fromkeys(soon.paths, soon))
    threading.Thread(target=soon.run, name="kpidsl-fingerprint", daemon=True).start()


def _stat(path: str) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class _Soon:
    """The hashes of a folder's files being worked out (:func:`fingerprint_soon`), each with
    its file's state, the same before and after it was hashed."""

    def __init__(self, paths: list[str]) -> None:
        import threading

        self.paths, self.done = paths, threading.Event()
        self.shas: dict[str, tuple[tuple[int, ...] | None, str | None]] = {}

    def run(self) -> None:
        try:
            for path in self.paths:
                before, sha = _stat(path), _digest(path)
                if _stat(path) == before:
                    self.shas[path] = (before, sha)
        finally:
            self.done.set()


_SOON: dict[str, _Soon] = {}


def _hash_file(path: str) -> str | None:
    """The sha256 of a file's bytes (worked out already, if :func:`fingerprint_soon` was
    asked and the file is unchanged), or ``None`` when it is absent (or unreadable: the
    loader reports that)."""
    soon = _SOON.pop(path, None)
    if soon is not None:
        soon.done.wait()
        state, sha = soon.shas.get(path, (None, None))
        if state is not None and state == _stat(path):
            return sha
    return _digest(path)


def _digest(path: str) -> str | None:
    """The sha256 of a file's bytes, read now."""
    try:  # a regular file only: a named pipe would block, a device never end
        with open_regular(path, limits.MAX_DATA_FILE_BYTES) as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except (Unreadable, OSError):
        return None


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
    """One record type's file: its records and what the integrity check must know about it.

    The workbook loader reads a sheet through the same functions, with a subclass that
    locates cells the way a spreadsheet does (:mod:`kpidsl.data.datasheet`).
    """

    noun = "file"
    """What a person calls the thing read (in messages)."""
    row_word = "line"
    """What a person calls a row's number in it."""

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
        self.partial: frozenset[str] = frozenset()
        """Read as a datasheet beside ILR returns: the columns that may be absent or empty,
        since the returns may give them (:data:`kpidsl.data.sources.MAY_BE_EMPTY`); an empty
        cell of one is a missing value, whatever the field's default."""

    @property
    def home(self) -> str:
        """Where a person adds a record of this type: ``learners.csv``."""
        return self.type.file

    def report(self, out: _Collector, message: str, line: int, index: int | None = None, *,
               hint: str | None = None, severity: str = "error", field: str | None = None,
               value: Any = None, record_id: str | None = None, excerpt: bool = True) -> None:
        """Report a problem at cell ``index`` of the record starting on ``line`` (or the line;
        without ``excerpt``, just the line); a problem with one value also says which record,
        field and value, for programs.

        Finding the cell's column costs a scan of its line, so past the cap it is only counted.
        """
        if out.full:
            out.count(severity)
            return
        if not excerpt:
            out.add(Diagnostic(message=message, file=self.path, line=line, hint=hint,
                               severity=severity))
            return
        line, column, end = self.text.locate(line, index)
        out.add(Diagnostic(message=message, file=self.path, line=line, column=column,
                           end_column=end, hint=hint, severity=severity, source=self.text.source,
                           record_type=self.type.name if field else None,
                           record_id=record_id, field=field, value=value))


def _picker(indexes: Sequence[int]) -> Callable[[list[str]], Sequence[str]]:
    """A fast function picking the cells at ``indexes`` out of a row, always as a sequence."""
    if len(indexes) > 1:
        return operator.itemgetter(*indexes)
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
        f.report(out, f"the {f.noun} is empty; expected a header row", 1,
                 hint="the header is: " + ",".join(fields), excerpt=False)
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
    required = [n for n, fi in fields.items() if fi.required and n not in f.partial]
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
    fixed = dict.fromkeys(n for n, fi in fields.items() if fi.required and n not in f.columns)
    if f.partial:
        fields = {n: attrs.evolve(fi, required=False, default=None) if n in f.partial else fi
                  for n, fi in fields.items()}
    names = tuple(n for n in fields if n in f.columns)
    indexes = [f.columns[n] for n in names]
    converters = [_converter(fields[n]) for n in names]
    fast = [_fast_converter(fields[n], c) for n, c in zip(names, converters, strict=True)]
    pick = _picker(indexes)
    cls, records, key = f.type.cls, f.records, f.type.key
    new, init = object.__new__, plain_init(cls)  # every value is checked here already
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
                    f.report(out, f"{name}: {e.what}", start, i, hint=e.hint, field=name,
                             value=row[i], record_id=None if key_index is None or len(key) > 1
                             else row[key_index].strip() or None)
        record: object = new(cls)
        init(record, **dict(zip(names, values, strict=True)), **fixed, line=start)
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
        if not f.type.optional:
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


def _check_integrity(dataset: Dataset, files: Mapping[str, _File], out: _Collector) -> None:
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
            hint = f"the first is on {f.row_word} {line}" if line else None
        elif message.startswith("no "):
            target = files[REFERENCES[t.name, field]]
            if target.incomplete or getattr(record, field) in target.skipped_keys:
                continue
            hint = f"add the {target.type.name} to {target.home}, or correct the id"
        elif t.name == "learner" and field == "employer_id":
            hint = "fill in employer_id, or change learner_type"
        f.report(out, message, record.line, f.columns.get(field), hint=hint, field=field,
                 value=getattr(record, field), record_id=record_diagnostic(record, field,
                                                                           message).record_id)


#: The record type each single-record reference points at, by (source type, field).


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


def load_data(directory: str | os.PathLike[str]) -> Dataset:
    """Read a data-set folder (KPI-SPEC §1) into a :class:`Dataset`.

    Every problem is collected before anything is returned; if any is an error, one
    :class:`DataError` carries them all (at most ``MAX_DIAGNOSTICS``, then a note counting the
    rest), so nothing is ever evaluated on half the data. Warnings (unknown columns, absent
    or 0-byte files) of a clean load are kept in ``Dataset.notices``. A folder with none of
    the contract's files (other than the optional ``profiles.csv``) is an error.
    """
    return _load(directory, {})[0]


def load_partial(directory: str | os.PathLike[str], partial: Mapping[str, frozenset[str]]
                 ) -> tuple[Dataset, dict[str, dict[str, int]]]:
    """Read a data folder that goes with ILR returns: the columns of ``partial`` (by record
    type) may be absent or empty, and the integrity of the whole is checked once merged. Also
    returns the columns each file has (each one's index), by table."""
    return _load(directory, partial)


def _load(directory: str | os.PathLike[str], partial: Mapping[str, frozenset[str]]
          ) -> tuple[Dataset, dict[str, dict[str, int]]]:
    folder = os.fspath(directory)
    if not os.path.exists(folder):
        raise DataError([Diagnostic(message="data folder does not exist", file=folder)])
    if not os.path.isdir(folder):
        raise DataError([Diagnostic(message="not a folder; a data set is a folder of CSV files "
                                    "or an .xlsx workbook", file=folder)])
    files = {t.name: _File(t, folder) for t in RECORD_TYPES}
    for f in files.values():
        f.partial = partial.get(f.type.name, frozenset())
    out = _Collector()
    if all(_absent_or_empty(f.path) for f in files.values() if not f.type.optional):
        expected = ", ".join(t.file for t in RECORD_TYPES if not t.optional)
        _unexpected_files(folder, out)  # a misspelt file name is the likely reason
        raise DataError([Diagnostic(message=f"no data files in {folder}: expected {expected}",
                                    file=folder), *out.kept])
    order = {f.path: i for i, f in enumerate(files.values())}

    with collector_paused():
        for f in files.values():
            _read_file(f, out)
        _unexpected_files(folder, out)
        return finish(files, out, folder, lambda d: (order.get(d.file or "", len(order)),
                                                     d.line or 0),
                      {f.type.file: _hash_file(f.path) for f in files.values()},
                      bool(partial)), columns(files)


def columns(files: Mapping[str, _File]) -> dict[str, dict[str, int]]:
    """The known columns of each file read, with their index, by table (a file not there has
    none)."""
    return {f.type.table: dict(f.columns) for f in files.values() if f.columns}


def finish(files: Mapping[str, _File], out: _Collector, where: str,
           order: Callable[[Diagnostic], Any],
           fingerprints: dict[str, str | None] | None = None, partial: bool = False
           ) -> Dataset:
    """The data set of files read into ``out``, after the integrity check (not of a
    ``partial`` one: it is checked once merged); or the
    :class:`DataError` listing every problem (sorted by ``order``), capped with a count of
    the rest, that ``where`` holds. ``fingerprints`` are the files' hashes as read (without
    them, :func:`file_fingerprints` hashes the records as :func:`write_data` writes them)."""
    # Built once, with its notices: only errors come after (the integrity check), and a
    # data set with errors is not returned. So the check it caches is the one evaluate uses.
    records: dict[str, Any] = {f.type.table: f.records for f in files.values()}
    dataset = Dataset(**records, notices=sorted(out.kept, key=order))
    dataset._mark_values_checked()  # every cell was checked as it was converted
    if fingerprints is not None:
        object.__setattr__(dataset, "_fingerprints", fingerprints)
    if not partial:
        _check_integrity(dataset, files, out)
    if out.errors:
        diagnostics = sorted(out.kept, key=order)
        if out.more:
            # First, because a rendered error shows only its first diagnostics.
            total = len(diagnostics) + out.more
            diagnostics.insert(0, Diagnostic(
                message=f"{total} problems found; only the first {len(diagnostics)} are listed",
                file=where, severity="note"))
        raise DataError(diagnostics)
    return dataset
