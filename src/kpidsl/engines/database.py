"""Evaluating inside a database of your own: PostgreSQL and SQLite, through DB-API 2.0.

The plan's SQL (:mod:`kpidsl.engines.sql`) is rendered in the database's dialect and run there;
nothing but the results leaves it. The engine reads the contract's tables as the database holds
them (``learners``, ``bootcamps``, … or under a schema or a prefix, see :class:`Tables`) through
temporary views of the contract's columns, after checking them against the contract in SQL
(:mod:`kpidsl.engines.sql.checks`): a row that breaks it is an error naming the table, the
record, the column, the value and what was expected, and nothing is evaluated.

How each dialect holds the contract's types (:data:`DIALECTS`): PostgreSQL as the contract
says (``NUMERIC`` money is exact, ``BOOLEAN``, ``DATE``); SQLite, which has no exact decimals
and no dates, keeps money as whole pence in an ``INTEGER``, dates as ``YYYY-MM-DD`` text and
yes/no as 0 or 1 — as ``kpidsl load`` writes them, and as the schema (``kpidsl sql --schema
--dialect sqlite``) says.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from kpidsl.contract.fields import FieldInfo
from kpidsl.contract.records import FIELDS, RECORD_TYPES
from kpidsl.data.dataset import Dataset
from kpidsl.engines.sql import QueryBuilder, render
from kpidsl.engines.sql.checks import check_tables
from kpidsl.engines.sql.ddl import DIALECT_TYPES, MONEY_SCALE
from kpidsl.engines.sqlengine import SqlEngine
from kpidsl.errors import DataError, UsageError
from kpidsl.plan import nodes as p


@attrs.frozen
class Dialect:
    """How one database holds the contract and runs kpidsl's SQL."""

    name: str
    """The database's name in kpidsl and sqlglot (``postgres``, ``sqlite``)."""
    types: Mapping[str, str]
    """The column type of each field kind."""
    money_scale: int = 1
    """Units of a money column to the pound (SQLite keeps pence)."""
    placeholder: str = "%s"

    def cell(self, value: Any, fi: FieldInfo) -> Any:
        """A record's value as this database's column holds it (money that a scale cannot
        hold whole is refused before, by :func:`write_tables`)."""
        if value is None:
            return None
        if isinstance(value, frozenset):
            return ";".join(sorted(value))
        if self.money_scale != 1 and fi.kind == "money":
            return int(value * self.money_scale)
        if self.name == "sqlite" and fi.kind in ("date", "boolean"):
            return value.isoformat() if fi.kind == "date" else int(value)
        return value


DIALECTS = {name: Dialect(name, types, MONEY_SCALE.get(name, 1),
                          "?" if name == "sqlite" else "%s")
            for name, types in DIALECT_TYPES.items()}


@attrs.frozen
class Tables:
    """Where the contract's tables are in a database: each contract name (``learners``) to the
    table that holds it, as the database names it (``kpi.sb_learners``)."""

    names: Mapping[str, str]

    @classmethod
    def of(cls, schema: str | None = None, prefix: str = "",
           names: Mapping[str, str] | None = None) -> Tables:
        """Every table in ``schema`` (the connection's default when ``None``) named after its
        contract file with ``prefix`` before it, unless ``names`` gives it."""
        out = {}
        for t in RECORD_TYPES:
            name = (names or {}).get(t.table) or prefix + t.table
            for part in name.split("."):
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", part):
                    raise UsageError(f"{name!r} is not a table name kpidsl can read",
                                     "use letters, digits and _ (schema.table at most)")
            out[t.table] = f"{schema}.{name}" if schema and "." not in name else name
        return cls(out)


def connect(url: str, create: bool = False) -> tuple[Any, str, Tables]:
    """A connection to the database ``url`` names, its dialect, and where its tables are.

    ``postgresql://user@host:port/db`` (psycopg), ``sqlite:///relative.db`` or
    ``sqlite:////absolute.db``; ``?schema=NAME`` and ``?prefix=P`` say where the tables are
    and are not passed on to the driver. A SQLite file is made with ``create``."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    schema = query.pop("schema", [None])[0]
    prefix = query.pop("prefix", [""])[0]
    rest = url.partition("?")[0] + ("?" + urllib.parse.urlencode(query, doseq=True)
                                    if query else "")
    scheme = parts.scheme.lower()
    if scheme in ("postgresql", "postgres"):
        try:
            import psycopg
        except ImportError:
            raise UsageError("a PostgreSQL database needs psycopg, which is not installed",
                             "pip install 'kpidsl[postgres]'") from None
        try:
            return (psycopg.connect(rest, autocommit=True), "postgres",  # transactions: ours
                    Tables.of(schema, prefix))
        except psycopg.Error as e:
            raise UsageError(f"cannot connect to {without_password(url)}: "
                             f"{str(e).strip()}") from None
    if scheme == "sqlite":
        import sqlite3

        path = parts.path[1:]  # sqlite:///relative.db, sqlite:////absolute.db
        if not path or not (create or os.path.exists(path)):
            raise UsageError(f"{without_password(url)}: no such database file {path!r}",
                             "write sqlite:///relative/path.db or sqlite:////absolute/path.db")
        return sqlite3.connect(path), "sqlite", Tables.of(schema, prefix)
    raise UsageError(f"{without_password(url)}: not a database kpidsl reads",
                     "write postgresql://…, sqlite:///… or duckdb:///…")


def without_password(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


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
        from kpidsl.engines.loading import write_tables

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
        cur = self.con.cursor()
        cur.execute(sql)
        return [d[0] for d in cur.description or ()], list(cur.fetchall())

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
