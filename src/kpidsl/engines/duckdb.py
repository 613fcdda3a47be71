"""The DuckDB engine: the plan's SQL (:mod:`kpidsl.engines.sql`) run on DuckDB, the default.

DuckDB reads the CSV files itself. Whether the data is valid is decided in SQL, in one pass per
file; only when it is not (or when a file is unusual: blank rows, cells over several lines)
does the Python loader read it, so every error keeps its exact, located message and nothing is
evaluated on half the data. Data built in Python (a :class:`~kpidsl.data.dataset.Dataset`)
goes in the same way, through the same typed tables.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any

import duckdb

from kpidsl import limits
from kpidsl.contract.fields import ENUMS, FieldInfo
from kpidsl.contract.records import BY_NAME, FIELDS, LINKS, RECORD_TYPES, REQUIRED_WHEN
from kpidsl.data import csvfiles
from kpidsl.data.dataset import Dataset
from kpidsl.data.load import load_data
from kpidsl.engines import Unrepresentable
from kpidsl.engines.sql import SQL_TYPES, QueryBuilder, table_name
from kpidsl.engines.sql.query import CHANGES
from kpidsl.engines.sqlengine import Beside, SqlEngine
from kpidsl.errors import DataError, Diagnostic, UsageError
from kpidsl.files import Unreadable, open_regular
from kpidsl.plan import nodes as p
from kpidsl.plan.results import Entry


def _pattern(fi: FieldInfo) -> str | None:
    if fi.kind == "date":
        return None  # checked by shape and cast below: a regular expression costs 5 times more
    if fi.kind == "money":
        return r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
    if fi.kind == "integer":
        return "-?[0-9]{1,18}"
    return fi.pattern[0] if fi.pattern else None


def _convert(fi: FieldInfo, x: str) -> tuple[str, str]:
    """SQL that converts the text cell ``x`` (``NULL`` when blank) to the column's type, and
    SQL that is true when the cell is plainly valid, exactly as the Python loader would
    accept it once stripped; unstripped, a cell with a space at an edge fails the check,
    unless it is text (see :meth:`DuckDBEngine._load_file`)."""
    checks = []
    pattern = _pattern(fi)
    if pattern:
        checks.append(f"regexp_full_match({x}, '{pattern}')")
    if fi.kind == "date":
        value = f"TRY_CAST({x} || '-01' AS DATE)" if fi.month else f"TRY_CAST({x} AS DATE)"
        # the cell is the date as DuckDB writes it (DuckDB also casts '-024-03-08', 25 BC,
        # '0000-03-08', a tab before the year, '2024/03/08'), and as long as the loader's
        # YYYY-MM-DD, which a date DuckDB writes before year 1 ('… (BC)') or after 9999 is
        # not; strlen counts bytes, a tenth of the cost of LIKE '____-__-__' over 8 columns
        written = f"left(CAST({value} AS VARCHAR), 7)" if fi.month else \
            f"CAST({value} AS VARCHAR)"
        checks.append(f"strlen({x}) = {7 if fi.month else 10} AND "
                      f"coalesce({written} = {x}, FALSE)")
    elif fi.kind == "money":
        value = f"TRY_CAST({x} AS DECIMAL(38, 10))"
        # held exactly: at most 10 decimals that matter and 28 digits before the point
        checks.append(f"{value} IS NOT NULL AND "
                      f"length(rtrim(split_part({x} || '.', '.', 2), '0')) <= 10")
    elif fi.kind == "integer":
        value = f"TRY_CAST({x} AS BIGINT)"
        checks.append(f"{value} IS NOT NULL")
    elif fi.kind == "boolean":
        value = f"(lower({x}) = 'true')"
        checks.append(f"lower({x}) IN ('true', 'false')")
    elif fi.kind == "enum":
        value = x
        checks.append(f"{x} IN ({', '.join(repr(v) for v in ENUMS[fi.enum or ''])})")
    elif fi.kind == "set":
        parts = f"list_filter(list_transform(string_split({x}, ';'), lambda e: trim(e)), " \
            "lambda e: e <> '')"
        allowed = ", ".join(repr(v) for v in ENUMS[fi.enum or ""])
        value = f"array_to_string(list_sort(list_distinct({parts})), ';')"
        checks.append(f"len(list_filter({parts}, lambda e: e NOT IN ({allowed}))) = 0")
    else:
        value = x
    if fi.minimum is not None:
        checks.append(f"{value} >= {fi.minimum}")
    if fi.maximum is not None:
        checks.append(f"{value} <= {fi.maximum}")
    ok = " AND ".join(checks) or "TRUE"
    if fi.kind == "set":
        return f"COALESCE({value}, '')", f"({x} IS NULL OR ({ok}))"
    missing_ok = "TRUE" if not fi.required else "FALSE"
    if fi.kind in ("boolean", "integer") and fi.default is not None:
        value = f"COALESCE({value}, {str(fi.default).upper()})"
        missing_ok = "TRUE"
    return value, f"(({x} IS NULL AND {missing_ok}) OR ({x} IS NOT NULL AND {ok}))"


#: The characters ``str.strip`` removes (``str.isspace``), as a test holds: DuckDB's own
#: ``trim`` removes only spaces (Unicode's Zs), not a tab, a line break or ``\x85``.
_SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
           "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
#: A regular expression (RE2) that finds one of them at either end of a cell.
_EDGE = "^[{0}]|[{0}]$".format("".join(f"\\x{{{ord(c):x}}}" for c in _SPACES))


def _lines(path: str) -> int | None:
    """A file's number of lines, read 1 MB at a time (read whole, the learners of a million
    took 100 MB more); ``None`` when a '\\r' stands alone (it ends a line for the loader, as
    the csv module counts it, not a row for DuckDB) or the file cannot be read."""
    try:
        with open_regular(path, limits.MAX_DATA_FILE_BYTES) as stream:
            return _counted(stream)
    except (Unreadable, OSError):
        return None


def _counted(stream: IO[bytes]) -> int | None:
    newlines = lone = 0
    chunk, last = stream.read(1 << 20), b""
    while chunk:
        newlines += chunk.count(b"\n")
        if b"\r" in chunk:  # seldom: looking is much quicker than counting
            lone += chunk.count(b"\r") - chunk.count(b"\r\n")
        if last == b"\r" and chunk.startswith(b"\n"):
            lone -= 1  # a '\r\n' across two pieces
        last, chunk = chunk[-1:], stream.read(1 << 20)
    return None if lone else newlines + (last != b"\n")


def memory() -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB's own memory for a connection kpidsl opens (``duckdb.connect``'s config): below
    its default (80% of the machine), so that a million learners evaluate in well under
    1 GiB; past it, DuckDB spills to a folder of the system's temporary directory rather
    than failing."""
    import tempfile  # here: with shutil and random, a start-up cost for every command

    return {"memory_limit": "600MB",
            "temp_directory": os.path.join(tempfile.gettempdir(), "kpidsl-duckdb")}


_Job = tuple[str, str, list[str], int, bool]
"""A file to load: its record type, path, header, size in bytes, and whether its cells must
be as written (:meth:`DuckDBEngine.read_as_written`)."""

#: Bytes in all below which a folder's files load one after the other: threads cost more
#: than they save on a small data set (about 20,000 rows).
SIDE_BY_SIDE = 2_000_000
#: The rows of a DuckDB row group, the unit its threads share a table's scan by.
ROW_GROUP = 122_880


class DuckDBEngine(SqlEngine):
    """Evaluates plans on one DuckDB connection holding one data set's tables."""

    name = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self._con = connection
        self._opening: Beside[duckdb.DuckDBPyConnection] | None = None
        if connection is None:  # opened beside what comes first: duckdb.connect takes 20-30
            config = memory()    # ms, a tenth of a small evaluation's start
            self._opening = Beside(lambda: duckdb.connect(config=config),
                                   "kpidsl-duckdb-connect")
        self.notices: tuple[Diagnostic, ...] = ()
        self._own = connection is None
        self._made: set[str] = set()
        """The tables and views this engine made: on a connection of its own, no others."""
        self._beside: list[tuple[Beside[Any], duckdb.DuckDBPyConnection]] = []
        """What runs beside the caller (:meth:`entries_soon`), with its cursor."""
        self._largest = 0
        """The records of the largest table loaded (:meth:`entries_soon` reads it)."""
        self._later: Callable[[], None] | None = None
        """What starts once the results' last query is under way (:meth:`_tallied`)."""

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection: given, or of the engine's own, opened beside what comes before its
        first use (reading the files' headers) and waited for here."""
        if self._con is None:
            assert self._opening is not None
            self._con = self._opening.wait()
        return self._con

    # ---- loading ----
    def load_folder(self, folder: str | os.PathLike[str]) -> None:
        """Read a data folder, or a datasheet workbook (into records first); raises
        :class:`DataError` exactly as :func:`kpidsl.data.load.load_data` would."""
        folder = os.fspath(folder)
        if not self._fast_load(folder):
            self.load_dataset(load_data(folder))

    def read_as_written(self, folder: str | os.PathLike[str]) -> dict[str, int] | None:
        """How many records each of the folder's tables has, when the Python loader would
        read it without a problem and every cell is as it is written: no text to strip, a
        set's members in order and once each. A database that takes the files' bytes as they
        are (PostgreSQL's ``COPY``) then holds what the loader would read, once each missing
        value is its field's default. ``None`` otherwise (or when the folder is unusual:
        blank rows, cells over several lines)."""
        if not self._fast_load(os.fspath(folder), as_written=True):
            return None
        row = self.con.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {t.table})"
                                                     for t in RECORD_TYPES)).fetchone()
        return dict(zip((t.table for t in RECORD_TYPES), row or (), strict=True))

    def _fast_load(self, folder: str, as_written: bool = False) -> bool:
        """Load and check the folder in SQL; ``False`` when the Python loader must read it
        (or, ``as_written``, when a cell is not as it is written: see
        :meth:`read_as_written`)."""
        if not os.path.isdir(folder):
            return False
        out = csvfiles._Collector()
        files = {t.name: csvfiles._File(t, folder) for t in RECORD_TYPES}
        if all(csvfiles._absent_or_empty(f.path) for f in files.values()
               if not f.type.optional):
            return False
        jobs: list[_Job] = []
        for t in RECORD_TYPES:
            f = files[t.name]
            nothing = csvfiles._absent_or_empty(f.path)
            if nothing is not None:
                if not t.optional:
                    out.add(Diagnostic(message=f"file is {nothing}; read as having no "
                                       f"{t.plural}", file=f.path, severity="warning"))
                self._empty_table(t.name)
                continue
            try:  # only a regular file within the size limit (else the Python loader says why)
                with open_regular(f.path, limits.MAX_DATA_FILE_BYTES) as stream:
                    head, size = stream.readline(), os.fstat(stream.fileno()).st_size
                # the rest is decoded by DuckDB, which refuses what is not UTF-8
                first = head.removesuffix(b"\n").decode("utf-8-sig")
            except (Unreadable, OSError, UnicodeDecodeError):
                return False
            reader = csv.reader(io.StringIO(first))
            if csvfiles._read_header(f, reader, out) != len(f.columns) or out.errors:
                return False  # no header, or columns the Python loader reports or ignores
            jobs.append((t.name, f.path, list(f.columns), size, as_written))
        jobs.sort(key=lambda job: -job[3])
        rows: dict[str, int] = {}
        if sum(job[3] for job in jobs) < SIDE_BY_SIDE:
            if not all(self._load_file(*job, rows) for job in jobs):
                return False
        elif not _side_by_side(lambda job: self._load_file(*job, rows), jobs):
            return False
        self._largest = max(rows.values(), default=0)
        csvfiles._unexpected_files(folder, out)
        if out.errors or not self._integrity_ok():
            return False
        self.notices = tuple(out.kept)
        self._groups()
        return True

    def _drop(self, name: str, con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Drop the table or view called ``name``, if there is one (a load that fell back to
        the Python loader replaces the fast path's views with tables)."""
        if self._own and name not in self._made:
            return  # nothing to ask the catalogue about
        con = con or self.con
        row = con.execute(
            "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? AND NOT internal "
            "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ?",
            [name, name]).fetchone()
        if row:
            con.execute(f"DROP {row[0]} {name}")

    def _empty_table(self, record: str) -> None:
        cols = ", ".join(f"{f.name} {SQL_TYPES[f.kind]}" for f in FIELDS[record].values())
        self._drop(table_name(record))
        self.con.execute(f"CREATE TABLE {table_name(record)} ({cols}, _line BIGINT)")
        self._made.add(table_name(record))

    def _load_file(self, record: str, path: str, header: list[str], size: int,
                   as_written: bool, rows: dict[str, int]) -> bool:
        """One file into its typed table, its rows into ``rows``; ``False`` if its rows are
        not its lines or a cell is not plainly valid (or, ``as_written``, not as it is
        written). Its lines are counted on a thread meanwhile (reading lets go of the GIL):
        at a million learners, counting them before took 0.3 s.

        The loader strips every cell (``str.strip``: any Unicode space at either end), which
        costs more in SQL than the rest of the reading, yet a cell seldom needs it: only a
        cell of text is taken as it is, any other that needs it fails its check. So the
        cells are read as they are, and only a file with a cell of text to strip or a cell
        that fails is read again, stripped."""
        texts = [fi.name for fi in FIELDS[record].values()
                 if fi.kind == "text" and fi.name in header]
        edged = [f"regexp_matches(\"{c}\", '{_EDGE}')" for c in texts]
        lines = Beside(lambda: _lines(path), "kpidsl-lines")
        if as_written:  # and a set as the loader writes it back: in order, once each
            edged += [f"{_convert(fi, x)[0]} <> {x}" for fi in FIELDS[record].values()
                      if fi.kind == "set" and fi.name in header for x in [f'"{fi.name}"']]
        got = self._read_cells(record, path, header, " OR ".join(edged) or "FALSE")
        if got is not None and got[1] and not as_written:
            got = self._read_cells(record, path, header, None)
        counted = lines.wait()
        # a different count: blank rows or cells over several lines, so lines are not rows
        if got is None or counted is None or got != (counted - 1, 0):
            return False
        rows[record] = got[0]
        return True

    def _read_cells(self, record: str, path: str, header: list[str],
                    edged: str | None) -> tuple[int, int] | None:
        """The file's cells converted and checked into its table, on a cursor of its own (so
        files load side by side), read as they are and with ``edged`` counted as bad, or
        stripped when ``edged`` is ``None``: its rows and bad rows, or ``None`` when DuckDB
        cannot read it."""
        name = table_name(record)
        present = set(header)
        cols, oks = [], ["_fits"]
        for fi in FIELDS[record].values():
            x = f"\"{fi.name}\"" if fi.name in present else "NULL"
            value, ok = _convert(fi, x)
            cols.append(f"CAST({value} AS {SQL_TYPES[fi.kind]}) AS {fi.name}")
            oks.append(ok)
        if edged is not None:
            oks.append(f"NOT coalesce({edged}, FALSE)")
            cells = [f"NULLIF(\"{c}\", '') AS \"{c}\"" for c in header]
        else:  # each cell stripped once, below the conversions and checks that read it
            cells = [f"NULLIF(CASE WHEN regexp_matches(\"{c}\", '{_EDGE}') THEN "
                     f"trim(\"{c}\", '{_SPACES}') ELSE \"{c}\" END, '') AS \"{c}\""
                     for c in header]
        # within the loader's cell limit (csv.field_size_limit) before it is stripped: in
        # bytes, the longest of the row's cells, which costs a third of each cell's length
        # in characters; a cell of more bytes than that (but not of more characters) is left
        # to the loader
        longest = ", ".join(f"strlen(\"{c}\")" for c in header)
        fits = f"coalesce(greatest({longest}) <= {limits.MAX_CELL}, TRUE)"
        try:
            con = self.con.cursor()
            # one pass over the file converts and checks every cell; the records keep the
            # file's order, so a record's line is its row number plus 2 (after the header)
            con.execute(
                f"CREATE OR REPLACE TABLE {name}__cells AS SELECT {', '.join(cols)}, "
                f"NOT ({' AND '.join(oks)}) AS _bad FROM (SELECT {', '.join(cells)}, "
                f"{fits} AS _fits FROM read_csv(?, header = true, auto_detect = false, "
                "columns = ?, delim = ',', quote = '\"', escape = '\"', strict_mode = true))",
                [path, dict.fromkeys(header, "VARCHAR")])
            self._drop(name, con)
            con.execute(f"CREATE VIEW {name} AS SELECT * EXCLUDE (_bad), "
                        f"rowid + 2 AS _line FROM {name}__cells")
            self._made.update((name, f"{name}__cells"))
            got = con.execute(f"SELECT count(*), count_if(_bad) FROM {name}__cells").fetchone()
            con.close()
        except duckdb.Error:
            return None
        return got

    def _integrity_ok(self) -> bool:
        """Ids unique, references known, co-funded learners with an employer: in SQL, in one
        query (each cell is checked as its file is read).

        A record type's ids and the references to them are counted together, by id, in one
        aggregate: an id held more than once, or referred to and held by none, is a problem.
        That reads each table once, where a count of distinct ids and a join for each
        reference built the learners' ids three times (and took a third longer)."""
        refs: dict[str, list[str]] = {}
        for link in LINKS:
            if not link.many and link.target_field == BY_NAME[link.target].key[0]:
                refs.setdefault(link.target, []).append(
                    f"SELECT {link.source_field}, 0 FROM {table_name(link.source)} "
                    f"WHERE {link.source_field} IS NOT NULL")
        checks = []
        for t in RECORD_TYPES:
            if len(t.key) == 1:
                ids = " UNION ALL ".join(
                    [f"SELECT {t.key[0]}, 1 FROM {table_name(t.name)}", *refs.get(t.name, ())])
                checks.append(f"(SELECT count(*) FILTER (held > 1 OR held = 0) FROM (SELECT "
                              f"sum(h) AS held FROM ({ids}) AS i(id, h) GROUP BY id))")
            elif t.key:
                key = ", ".join(t.key)
                checks.append(f"(SELECT count(*) - count(DISTINCT ({key})) FROM "
                              f"{table_name(t.name)})")
        checks += [f"(SELECT count(*) FROM {table_name(r.record)} WHERE {r.when} = "
                   f"'{r.value}' AND {r.field} IS NULL)" for r in REQUIRED_WHEN]
        row = self.con.execute("SELECT " + " + ".join(checks)).fetchone()
        return row is not None and row[0] == 0

    def load_dataset(self, data: Dataset) -> None:
        """Records built in Python (or read by the Python loader) into the typed tables."""
        import tempfile

        hashes: dict[str, str | None] | None = {} if data._fingerprints is None else None
        self._largest = max(len(data.of(t.name)) for t in RECORD_TYPES)
        with tempfile.TemporaryDirectory(prefix="kpidsl-") as tmp:
            for t in RECORD_TYPES:
                fields = tuple(FIELDS[t.name].values())
                path = os.path.join(tmp, t.file)
                with open(path, "w", encoding="utf-8", newline="") as f:
                    # lines end '\r\n': then the csv module quotes a cell with a '\r' too
                    w = csv.writer(f, lineterminator="\r\n")
                    w.writerow([*(fi.name for fi in fields), "_line"])
                    for i, (r, cells) in enumerate(csvfiles.record_rows(data, t, hashes)):
                        w.writerow([*cells, r.line if r.line is not None else i - 10**12])
                types_ = {fi.name: SQL_TYPES[fi.kind] for fi in fields} | {"_line": "BIGINT"}
                month = [fi.name for fi in fields if fi.month]
                for m in month:
                    types_[m] = "VARCHAR"
                cols = ", ".join(f"CAST({m} || '-01' AS DATE) AS {m}" if m in month else m
                                 for m in types_)
                self._drop(table_name(t.name))
                self.con.execute(
                    f"CREATE TABLE {table_name(t.name)} AS SELECT {cols} FROM "
                    "read_csv(?, header = true, delim = ',', quote = '\"', escape = '\"', "
                    "columns = ?)", [path, types_])
                self._made.add(table_name(t.name))
        if hashes is not None:  # the report's audit needs them: worked out on the way
            csvfiles.keep_fingerprints(data, hashes)
        self.notices = tuple(data.notices)
        self._groups()

    def use_tables(self, tables: Any = None) -> None:
        """Evaluate over tables the connection already has, named after the contract's files
        with the contract's columns (``kpidsl sql --schema``), once they check against the
        contract (:mod:`kpidsl.engines.sql.checks`)."""
        from kpidsl.engines.sql.checks import check_tables

        if tables:
            raise UsageError("a DuckDB connection reads its own tables: pass data=None")

        def query(sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
            cur = self.con.execute(sql)
            return [d[0] for d in cur.description or ()], cur.fetchall()

        problems, _ = check_tables(query, "duckdb", {t.table: t.table for t in RECORD_TYPES})
        if problems:
            raise DataError(problems)
        self.lines = False
        self._groups()

    # ---- evaluation ----
    def _findings_builder(self, plan: p.Plan) -> QueryBuilder:
        """Findings are a few simple queries: their views stay inline (DuckDB computes only
        what each reads), and the evaluation's tables are kept."""
        return QueryBuilder(plan, [None], lines=self.lines)

    def load(self, data: Any) -> DuckDBEngine:
        with _held():
            super().load(data)
        return self

    def _create(self, name: str, query: str) -> None:
        """One of the plan's views. They stay views, definitions too: DuckDB works a view out
        where a query reads it, which costs less than storing it first. The as-of dates are
        stored: a few rows, but as a view (a union of one ``SELECT`` per date) every view and
        query over them binds that union again, which for a history of 36 month ends cost
        more than working out the views' rows (0.10 s to create the views, against 0.07).
        So are a history's pairs of a record and a date to work it out on (``<record>__e``,
        :data:`~kpidsl.engines.sql.query.CHANGES`), for the same reason: each is a union of
        the days on which a record's values may change, each put in its month by a test of
        every date, and each of the record's views binds it again (its rows are worked out
        once either way): at 100,000 learners over 36 months, creating the views and running
        the tally queries took 1.58 s of CPU, against 1.81 s as a view."""
        kind = "TABLE" if name == "_dates" or name.endswith(CHANGES) else "VIEW"
        self.con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {query}")

    def _tuples(self, sql: str) -> list[tuple[Any, ...]]:
        with _held():
            return self.con.execute(sql).fetchall()

    def _tuples_soon(self, sql: str) -> Callable[[], list[tuple[Any, ...]]]:
        """The query on a thread (DuckDB lets go of the GIL while it works), on the engine's
        connection, which nothing else uses until it is done: the caller only makes the
        previous query's KPIs in Python meanwhile (at a million learners, a second each for
        the learners' six KPIs, beside the next query and the findings' queries)."""
        return Beside(lambda: self._tuples(sql), "kpidsl-tally").wait

    def _rows(self, sql: str, con: duckdb.DuckDBPyConnection | None = None
              ) -> list[dict[str, Any]]:
        with _held():
            cur = (con or self.con).execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def entries_soon(self, plan: p.Plan, as_of: dt.date
                     ) -> Callable[[], tuple[list[Entry], list[Entry]]]:
        """The findings and the actions as of ``as_of``, on a connection of the engine's own
        worked out on a thread and a cursor of their own beside what the caller does next (the
        results): their queries read the tables, with the views inline (a cursor does not see
        the evaluation's temporary views), and a query over 100,000 records, one row group,
        leaves one of two cores mostly idle; the findings and actions (0.07 s) are worked out
        there meanwhile. When a table has more row groups than the machine has cores, DuckDB
        fills every core with the results' big queries, and the thread would only compete
        with them (at a million learners, 4.58 s against 4.34 s after them): then they start
        once the results' last query is under way (:meth:`_tallied`), beside the Python
        that makes the results. On a connection given, whose tables a cursor may not see,
        they are worked out when called."""
        if not self._own:
            return super().entries_soon(plan, as_of)

        def start() -> Beside[tuple[list[Entry], list[Entry]]]:
            con = self.con.cursor()

            def rows(sql: str) -> list[dict[str, Any]]:
                return self._rows(sql, con)

            beside = Beside(lambda: (
                self._entries(self._findings_builder(plan), "finding", rows),
                self._entries(QueryBuilder(plan, [as_of], lines=self.lines), "action", rows)),
                "kpidsl-entries")
            self._beside.append((beside, con))
            return beside

        if self._largest <= ROW_GROUP * (os.cpu_count() or 1):
            return start().wait
        started: list[Beside[tuple[list[Entry], list[Entry]]]] = []

        def later() -> None:
            self._later = None
            if not started:
                started.append(start())

        def wanted() -> tuple[list[Entry], list[Entry]]:
            later()  # when no results were asked for first
            return started[0].wait()

        self._later = later
        return wanted

    def _tallied(self) -> None:
        """Start the findings and actions that :meth:`entries_soon` left for now."""
        if self._later is not None:
            self._later()

    def release(self) -> None:
        """Wait for what still runs beside (:meth:`entries_soon`, whatever it raises: an
        error of the caller's is the one to give) and close its cursors; what was left to
        start with the results' last query (:meth:`_tallied`) is not started."""
        self._later = None
        while self._beside:
            beside, con = self._beside.pop()
            with contextlib.suppress(Exception):
                beside.wait()
            con.close()


def _side_by_side(work: Callable[[_Job], bool], jobs: list[_Job]) -> bool:
    """``work`` of each job on two threads (DuckDB lets go of the GIL), each taking the next
    job as it finishes one (the longest first): whether it was true of every one. Two plain
    threads: ``concurrent.futures`` takes 0.023 s to import (with ``logging``), a tenth of
    what the threads save at 100,000 learners."""
    left, lock, done, failed = iter(jobs), threading.Lock(), list[bool](), list[BaseException]()

    def run() -> None:
        while True:
            with lock:
                job = next(left, None)
            if job is None:
                return
            try:
                done.append(work(job))
            except BaseException as e:  # raised here, once both threads are done
                failed.append(e)
                return

    threads = [threading.Thread(target=run, name="kpidsl-load") for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise failed[0]
    return all(done)


@contextlib.contextmanager
def _held() -> Iterator[None]:
    """DuckDB's conversion and out-of-range errors as :class:`Unrepresentable`: a value the
    contract allows (an integer of 19 digits, an amount of 29 before the point) that its
    types do not hold."""
    try:
        yield
    except (duckdb.ConversionException, duckdb.OutOfRangeException) as e:
        raise Unrepresentable(str(e).splitlines()[0][:200]) from None


ENGINE = DuckDBEngine
