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

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from kpidsl.contract.records import FIELDS, RECORD_TYPES
from kpidsl.data.dataset import Dataset
from kpidsl.engines.connection import DIALECTS, Tables, run_query
from kpidsl.engines.loading import write_tables
from kpidsl.engines.sql import QueryBuilder, render
from kpidsl.engines.sql.checks import check_tables
from kpidsl.engines.sqlengine import SqlEngine
from kpidsl.errors import DataError, UsageError
from kpidsl.plan import nodes as p


class DatabaseEngine(SqlEngine):
    """Evaluates plans inside a database, on one DB-API 2.0 connection."""

    def __init__(self, connection: Any, dialect: str, tables: Tables | None = None) -> None:
        self.con = connection
        self.dialect = DIALECTS[dialect]
        self.name = dialect
        self.tables = tables or Tables.of()
        self.notices = ()

    def load_folder(self, folder: str | os.PathLike[str]) -> None:
        from kpidsl.data.load import load_data

        self.load_dataset(load_data(folder))

    def load_dataset(self, data: Dataset) -> None:
        """Records built in Python into temporary tables of this connection (to try the
        rules on the database's own SQL; ``kpidsl load`` writes lasting ones)."""
        write_tables(self.con, self.dialect, data, Tables.of(prefix="kpidsl_"), temporary=True)
        self._views(Tables.of(prefix="kpidsl_"))
        self.notices = tuple(data.notices)
        self._groups()

    def use_tables(self, tables: Any = None) -> None:
        """Evaluate over the database's own tables (where :class:`Tables` says, or as
        ``tables`` maps contract names to table names), once they check against the
        contract."""
        where = self.tables if tables is None else Tables.of(names=tables)
        problems, present = check_tables(self._query, self.dialect.name, where.names,
                                         self.dialect.money_scale)
        if problems:
            raise DataError(problems)
        self._views(where, present)
        self._groups()

    def _views(self, where: Tables, present: Mapping[str, set[str]] | None = None) -> None:
        """The contract's names as temporary views of the tables where they are, so the
        plan's SQL reads ``learners`` wherever the learners are kept; an optional column a
        table leaves out reads as missing (``present``: the columns each has; ``None``: the
        tables are kpidsl's own, with every column and ``_line``)."""
        self.lines = present is None
        for t in RECORD_TYPES:
            cols = [name if present is None or name in present[t.table] else
                    f"CAST(NULL AS {self.dialect.types[fi.kind]}) AS {name}"
                    for name, fi in FIELDS[t.name].items()]
            source = where.names[t.table]
            if self.dialect.name == "sqlite" and "." not in source:  # not the view itself
                source = f"{'temp' if present is None else 'main'}.{source}"
            self._create(t.table, f"SELECT {', '.join(cols)}{', _line' if self.lines else ''} "
                         f"FROM {source}", native=True)

    def _query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The database's own SQL: its columns' names and its rows."""
        return run_query(self.con, sql)

    def _builder(self, plan: p.Plan, dates: Sequence[Any]) -> QueryBuilder:
        key = (id(plan), tuple(dates))
        if self._built is not None and self._built[0] == key:
            return self._built[1]
        qb = QueryBuilder(plan, dates, inline=False, lines=self.lines,
                          money_scale=self.dialect.money_scale)
        for name, query in qb.prelude():
            self._create(name, query)
        self._built = (key, qb)
        return qb

    def _findings_builder(self, plan: p.Plan) -> QueryBuilder:
        return self._builder(plan, [None])

    def _create(self, name: str, query: str, native: bool = False) -> None:
        """A temporary view ``name`` of ``query`` (in kpidsl's SQL, or the database's own
        when ``native``), replacing one of that name."""
        sql = query if native else render(query, self.dialect.name, pretty=False)
        cur = self.con.cursor()
        temp = "temp" if self.dialect.name == "sqlite" else "pg_temp"
        cur.execute(f"DROP VIEW IF EXISTS {temp}.{name}"
                    + ("" if self.dialect.name == "sqlite" else " CASCADE"))
        cur.execute(f"CREATE TEMP VIEW {name} AS {sql}")

    def _tuples(self, sql: str) -> list[tuple[Any, ...]]:
        names, rows = self._query(render(sql, self.dialect.name, pretty=False))
        return [tuple(convert(v) for convert, v in zip(self._readers(names), row, strict=True))
                for row in rows]

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        names, rows = self._query(render(sql, self.dialect.name, pretty=False))
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
        fields = [fi for fi in FIELDS[t.name].values() if fi.name in present[t.table]]
        _, got = query(f"SELECT {', '.join(fi.name for fi in fields)} FROM "
                       f"{where.names[t.table]}")
        rows[t.table] = [{fi.name: _python(dialect, fi, v, scale)
                          for fi, v in zip(fields, row, strict=True)} for row in got]
    return Dataset.from_rows(**rows)
