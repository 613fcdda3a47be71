"""Evaluating inside a database of your own: PostgreSQL and SQLite, through DB-API 2.0.

The plan's SQL (:mod:`kpidsl.engines.sql`) is rendered in the database's dialect and run there;
nothing but the results leaves it. The engine reads the contract's tables as the database holds
them (``learners``, ``bootcamps``, … or under a schema or a prefix, see :class:`Tables`) through
temporary views of the contract's columns, after checking them against the contract in SQL
(:mod:`kpidsl.engines.sql.checks`): a row that breaks it is an error naming the table, the
record, the column, the value and what was expected, and nothing is evaluated.

How each dialect holds the contract's types (:data:`kpidsl.engines.connection.DIALECTS`):
PostgreSQL as the contract says (``NUMERIC`` money is exact, ``BOOLEAN``, ``DATE``); SQLite,
which has no exact decimals and no dates, keeps money as whole pence in an ``INTEGER``, dates
as ``YYYY-MM-DD`` text and yes/no as 0 or 1 — as ``kpidsl load`` writes them, and as the
schema (``kpidsl sql --schema --dialect sqlite``) says.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from kpidsl.contract.records import FIELDS, RECORD_TYPES
from kpidsl.data.dataset import Dataset
from kpidsl.engines.connection import DIALECTS, Tables, opener, refused, run_query
from kpidsl.engines.loading import write_tables
from kpidsl.engines.sql import render
from kpidsl.engines.sql.checks import check_tables
from kpidsl.engines.sql.render import render_soon
from kpidsl.engines.sqlengine import Beside, SqlEngine
from kpidsl.errors import DataError, UsageError
from kpidsl.plan import nodes as p
from kpidsl.plan.results import Entry


class DatabaseEngine(SqlEngine):
    """Evaluates plans inside a database, on one DB-API 2.0 connection."""

    def __init__(self, connection: Any, dialect: str, tables: Tables | None = None) -> None:
        self.con = connection
        self.dialect = DIALECTS[dialect]
        self.name = dialect
        self.tables = tables or Tables.of()
        self.notices = ()
        self.inline: dict[str, str] | None = None
        """Where the database lets no view be made (a read-only transaction, no right to
        make temporary objects): the SELECT of each contract table, put at the head of every
        query instead of a view, with the plan's own views inline too."""
        self._made: list[tuple[str, str]] = []  # (kind, name): the temporary objects made
        self._shared: dict[str, str] | None = None
        """The SELECTs of the contract's tables when they are the database's own, which
        another connection sees too (not temporary tables of this one's)."""
        self._beside: list[Beside[tuple[list[Entry], list[Entry]] | None]] = []
        """What runs beside the caller (:meth:`entries_soon`)."""
        self._began = self.name == "postgres" and _idle(connection)

    def load(self, data: Any) -> DatabaseEngine:
        """:meth:`SqlEngine.load`, the connection given back as it came if it fails."""
        try:
            super().load(data)
        except BaseException:
            self.release()
            raise
        return self

    def load_folder(self, folder: str | os.PathLike[str]) -> None:
        from kpidsl.data.load import load_data

        self.load_dataset(load_data(folder))

    def load_dataset(self, data: Dataset) -> None:
        """Records built in Python into temporary tables of this connection (to try the
        rules on the database's own SQL; ``kpidsl load`` writes lasting ones)."""
        own = Tables.of(prefix="kpidsl_")
        write_tables(self.con, self.dialect, data, own, temporary=True)
        self._made += [("TABLE", name) for name in own.names.values()]
        self._views(own)
        self.notices = tuple(data.notices)
        self._groups()

    def use_tables(self, tables: Any = None) -> None:
        """Evaluate over the database's own tables (where :class:`Tables` says, or as
        ``tables`` maps contract names to table names), once they check against the
        contract. An optional table the database does not have (``profiles``) has no
        records, as an absent optional file has none."""
        where = self.tables if tables is None else Tables.of(names=tables)
        render_soon(self.dialect.name)  # while the database checks
        problems, present = check_tables(self._query, self.dialect.name, where.names,
                                         self.dialect.money_scale)
        if problems:
            raise DataError(problems)
        self._views(where, present)
        self._groups()

    def _views(self, where: Tables, present: Mapping[str, set[str]] | None = None) -> None:
        """The contract's names as temporary views of the tables where they are, so the
        plan's SQL reads ``learners`` wherever the learners are kept; an optional column a
        table leaves out reads as missing, and an optional table it leaves out as a table of
        no rows (``present``: the columns each table has; ``None``: the tables are kpidsl's
        own, with every column and ``_line``). Where no view can be made, the same SELECTs
        go at the head of each query (:attr:`inline`)."""
        self.lines = present is None
        selects = {}
        for t in RECORD_TYPES:
            there = present is None or t.table in present
            cols = [name if present is None or name in present.get(t.table, ()) else
                    f"CAST(NULL AS {self.dialect.types[fi.kind]}) AS {name}"
                    for name, fi in FIELDS[t.name].items()]
            source = where.names[t.table]
            if self.dialect.name == "sqlite" and "." not in source:  # not the view itself
                source = f"{'temp' if present is None else 'main'}.{source}"
            selects[t.table] = (f"SELECT {', '.join(cols)}{', _line' if self.lines else ''} "
                                + (f"FROM {source}" if there else "WHERE 1 = 0"))
        self._shared = None if present is None else selects
        self._read_through(selects)

    def _read_through(self, selects: dict[str, str]) -> None:
        """The contract's tables read through ``selects``: as temporary views, or where none
        can be made, at the head of each query (:attr:`inline`)."""
        self.inline = None if self._can_make_views() else selects
        if self.inline is None:
            for name, select in selects.items():
                self._create(name, select, native=True)

    def _can_make_views(self) -> bool:
        """Whether this connection may make temporary views: not in a read-only transaction
        (a standby, ``default_transaction_read_only``), nor without the right to make
        temporary objects. Evaluating needs no more than reading."""
        if self.dialect.name != "postgres":
            return True
        import psycopg

        try:
            with self.con.transaction():
                self.con.execute("CREATE TEMP VIEW kpidsl_probe AS SELECT 1")
                self.con.execute("DROP VIEW pg_temp.kpidsl_probe")
        except (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege):
            return False
        return True

    def entries_soon(self, plan: p.Plan, as_of: dt.date
                     ) -> Callable[[], tuple[list[Entry], list[Entry]]]:
        """The findings and the actions as of ``as_of``, worked out on a second connection to
        the database, on a thread of its own, while the caller works out the results on this
        one: the server runs each connection's queries in a process of its own, so both
        cores work. Only on a connection kpidsl opened from a URL (:func:`opener`) to the
        database's own tables, which the other connection sees too; it sees none of this
        one's temporary views and makes its own. Otherwise, or when the database refuses a
        second connection, on this connection when called.

        Neither connection then has a query use parallel workers: they would only compete
        with the other connection for the cores, and each worker joins the inner sides of
        its joins again (the server's work for an evaluation of 100,000 learners, 2.5 s of
        CPU with them, is 2.05 s without)."""
        later = super().entries_soon(plan, as_of)
        open_another, shared = opener(self.con), self._shared
        if open_another is None or shared is None:
            return later
        import psycopg

        self._query(_ONE_PROCESS)

        def work() -> tuple[list[Entry], list[Entry]] | None:
            try:
                con = open_another()
            except psycopg.OperationalError:
                return None  # (too many connections): on this one, when called
            try:
                twin = DatabaseEngine(con, self.dialect.name, self.tables)
                twin._query(_ONE_PROCESS)
                twin.lines = self.lines
                twin._read_through(shared)
                return (twin.entries(plan, as_of, "finding"),
                        twin.entries(plan, as_of, "action"))
            finally:
                con.close()  # its temporary views go with it

        beside = Beside(work, "kpidsl-entries")
        self._beside.append(beside)
        return lambda: beside.wait() or later()

    def release(self) -> None:
        """Wait for what still runs beside (:meth:`entries_soon`, whatever it raises: an
        error of the caller's is the one to give); drop the temporary views and tables made
        on the connection and, on a psycopg connection that had no transaction open, end the
        one its statements began: a connection of one's own is given back as it came."""
        while self._beside:
            with contextlib.suppress(Exception):
                self._beside.pop().wait()
        made, self._made, self._built = self._made, [], None
        if self._began:
            self.con.rollback()  # the temporary views and tables go with it
            return
        temp = "temp" if self.dialect.name == "sqlite" else "pg_temp"
        cascade = "" if self.dialect.name == "sqlite" else " CASCADE"
        for kind, name in reversed(made):
            with contextlib.suppress(Exception):  # (a transaction of the caller's, failed)
                self.con.cursor().execute(f"DROP {kind} IF EXISTS {temp}.{name}{cascade}")

    def _query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The database's own SQL: its columns' names and its rows (a database's refusal, a
        lock or a permission, as an error for people: :func:`refused`)."""
        try:
            return run_query(self.con, sql)
        except Exception as e:
            raise refused(e, "cannot evaluate in the database") from None

    def _views_inline(self) -> bool:
        return self.inline is not None

    def _money_scale(self) -> int:
        return self.dialect.money_scale

    def _verdicts_apart(self) -> bool:
        return self.dialect.name == "postgres"

    def _create(self, name: str, query: str, native: bool = False) -> None:
        """A temporary view ``name`` of ``query`` (in kpidsl's SQL, or the database's own
        when ``native``), replacing one of that name."""
        sql = query if native else render(query, self.dialect.name, pretty=False)
        temp = "temp" if self.dialect.name == "sqlite" else "pg_temp"
        self._query(f"DROP VIEW IF EXISTS {temp}.{name}"
                    + ("" if self.dialect.name == "sqlite" else " CASCADE"))
        self._query(f"CREATE TEMP VIEW {name} AS {sql}")
        if ("VIEW", name) not in self._made:
            self._made.append(("VIEW", name))

    def _run(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """kpidsl's SQL rendered in the database's dialect and run, headed by the SELECTs of
        the contract's tables when they are not views (:attr:`inline`)."""
        if self.inline is not None:
            head = ",\n".join(f"{name} AS ({select})" for name, select in self.inline.items())
            body = sql.lstrip()
            sql = f"WITH {head},\n{body[5:]}" if body[:5].upper() == "WITH " else \
                f"WITH {head}\n{body}"
        return self._query(render(sql, self.dialect.name, pretty=False))

    def _tuples(self, sql: str) -> list[tuple[Any, ...]]:
        names, rows = self._run(sql)
        return [tuple(convert(v) for convert, v in zip(self._readers(names), row, strict=True))
                for row in rows]

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        names, rows = self._run(sql)
        readers = self._readers(names)
        return [{n: convert(v) for n, convert, v in zip(names, readers, row, strict=True)}
                for row in rows]

    def _readers(self, names: Sequence[str]) -> list[Callable[[Any], Any]]:
        """How each column of a query's rows is read as the other engines give it: a count
        that PostgreSQL sums as ``NUMERIC`` as an ``int``, the as-of date that SQLite keeps as
        text as a date (values typed by the plan are read by their type, in
        :mod:`~kpidsl.engines.sqlengine`)."""
        sqlite = self.dialect.name == "sqlite"
        return [_as_date if sqlite and n == "_as_of" else _whole for n in names]


#: A session's queries each run by its server process alone, with no parallel workers.
_ONE_PROCESS = "SET max_parallel_workers_per_gather = 0"


def _idle(con: Any) -> bool:
    """A psycopg connection that is not in autocommit and has no transaction open: the
    transaction its first statement begins is the engine's, to end."""
    if not type(con).__module__.startswith("psycopg"):
        return False  # (a DuckDB connection, read as PostgreSQL's by read_dataset)
    from psycopg.pq import TransactionStatus

    return not con.autocommit and con.info.transaction_status == TransactionStatus.IDLE


def _whole(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def _as_date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


class PostgresEngine(DatabaseEngine):
    name = "postgres"

    def __init__(self, connection: Any = None, tables: Tables | None = None) -> None:
        if connection is None:
            raise UsageError("the postgres engine runs on a database of yours",
                             "give --data postgresql://…")
        super().__init__(connection, "postgres", tables)


class SqliteEngine(DatabaseEngine):
    name = "sqlite"

    def __init__(self, connection: Any = None, tables: Tables | None = None) -> None:
        if connection is None:
            import sqlite3

            connection = sqlite3.connect(":memory:")
        super().__init__(connection, "sqlite", tables)


def read_dataset(con: Any, dialect: str, names: Mapping[str, str] | None) -> Dataset:
    """The records of a database's contract tables (``names``: contract name → table; by
    default the contract's names), checked in SQL first, as a :class:`Dataset` for an engine
    of Python's side (``--engine python`` on a database)."""
    from kpidsl.engines.sql.checks import _python

    where = Tables.of(names=names)
    query = DatabaseEngine(con, "postgres" if dialect == "duckdb" else dialect)._query
    problems, present = check_tables(query, dialect, where.names,
                                     DIALECTS.get(dialect, DIALECTS["postgres"]).money_scale)
    if problems:
        raise DataError(problems)
    scale = 100 if dialect == "sqlite" else 1
    rows: dict[str, list[dict[str, Any]]] = {}
    for t in RECORD_TYPES:
        if t.table not in present:  # an optional table left out: no records
            continue
        fields = [fi for fi in FIELDS[t.name].values() if fi.name in present[t.table]]
        _, got = query(f"SELECT {', '.join(fi.name for fi in fields)} FROM "
                       f"{where.names[t.table]}")
        rows[t.table] = [{fi.name: _python(dialect, fi, v, scale)
                          for fi, v in zip(fields, row, strict=True)} for row in got]
    return Dataset.from_rows(**rows)
