"""Connections to the databases kpidsl evaluates in and loads into: how each dialect holds the
contract (:class:`Dialect`), where the contract's tables are (:class:`Tables`), and a DB-API 2.0
connection from a URL (:func:`connect`). Both the engine (:mod:`kpidsl.engines.database`) and
``kpidsl load`` (:mod:`kpidsl.engines.loading`) start here."""

from __future__ import annotations

import functools
import os
import re
import urllib.parse
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from kpidsl.classes import fields_methods
from kpidsl.contract.fields import FieldInfo
from kpidsl.contract.records import RECORD_TYPES
from kpidsl.engines.sql.ddl import DIALECT_TYPES, MONEY_SCALE
from kpidsl.errors import DataError, Diagnostic, UsageError, suggest


@attrs.frozen
@fields_methods
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
@fields_methods
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


_NAMES = {"postgres": "PostgreSQL", "sqlite": "SQLite", "duckdb": "DuckDB"}
#: The URL parameters kpidsl reads itself; the others go to the driver.
OURS = ("schema", "prefix")


@attrs.frozen
@fields_methods
class Target:
    """A database's URL, read: which database, how its driver is given it, where the
    contract's tables are in it."""

    dialect: str
    """``postgres``, ``sqlite`` or ``duckdb``."""
    driver: str
    """What the driver connects to: the URL without kpidsl's parameters (PostgreSQL), or the
    file's path (SQLite, DuckDB)."""
    tables: Tables
    shown: str
    """The URL for messages, its password masked."""

    @property
    def schemas(self) -> list[str]:
        """The schemas the tables are said to be in (as the database folds unquoted names)."""
        return sorted({n.rpartition(".")[0].lower() for n in self.tables.names.values()
                       if "." in n})


def target(url: str) -> Target:
    """``url`` read (see :func:`connect`), or a :class:`UsageError` saying what is wrong
    with it: a misspelt parameter (``?prefx=``) would otherwise be dropped or passed on, and
    the tables looked for in the wrong place."""
    shown = without_password(url)
    parts = urllib.parse.urlsplit(url)
    scheme, _, driver = parts.scheme.lower().partition("+")  # postgresql+psycopg://
    dialect = {"postgresql": "postgres", "postgres": "postgres", "sqlite": "sqlite",
               "duckdb": "duckdb"}.get(scheme)
    if dialect is None:
        raise UsageError(f"{shown}: not a database kpidsl reads",
                         "write postgresql://…, sqlite:///… or duckdb:///…")
    if driver and driver not in {"postgres": ("psycopg", "psycopg2"),
                                 "sqlite": ("pysqlite",), "duckdb": ()}[dialect]:
        raise UsageError(f"{shown}: kpidsl connects to {scheme} through its own driver, "
                         f"not {driver}", f"write {scheme}://…")
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    ours = {k: query.pop(k)[-1] for k in OURS if k in query}
    known = _driver_parameters() if dialect == "postgres" else ()
    for name in query:
        if name not in known:
            hint = suggest(name, [*OURS, *known]) or (
                "kpidsl reads ?schema=NAME and ?prefix=P; the other parameters are "
                "PostgreSQL's (host, port, user, sslmode, …)" if dialect == "postgres" else
                f"a {_NAMES[dialect]} URL takes only ?prefix=P")
            raise UsageError(f"{shown}: unknown parameter {name!r}", hint)
    if dialect == "duckdb" and ours:
        raise UsageError(f"{shown}: a DuckDB file's tables are read by the contract's names, "
                         "in its default schema", "leave out ?schema= and ?prefix=")
    if dialect == "sqlite" and "schema" in ours:
        raise UsageError(f"{shown}: SQLite has no schemas to put the tables in",
                         "keep several sets of tables apart with ?prefix=P, or in another "
                         "file")
    tables = Tables.of(ours.get("schema") or None, ours.get("prefix", ""))
    if dialect == "postgres":
        rest = urllib.parse.urlencode(query, doseq=True)
        return Target(dialect, _unsplit(parts, scheme, parts.netloc, rest), tables, shown)
    if parts.netloc:
        raise UsageError(f"{shown}: a {scheme} URL names a file, with three slashes",
                         f"write {scheme}:///relative/path or {scheme}:////absolute/path")
    return Target(dialect, parts.path[1:], tables, shown)


def _driver_parameters() -> tuple[str, ...]:
    """The parameters libpq takes in a URL (``host``, ``sslmode``, …)."""
    try:
        from psycopg import pq
    except ImportError:
        return ()
    return tuple(o.keyword.decode() for o in pq.Conninfo.get_defaults())


def connect(url: str, create: bool = False) -> tuple[Any, str, Tables]:
    """A connection to the database ``url`` names, its dialect, and where its tables are.

    ``postgresql://user@host:port/db`` (psycopg), ``sqlite:///relative.db`` or
    ``sqlite:////absolute.db``; ``?schema=NAME`` (PostgreSQL) and ``?prefix=P`` say where the
    tables are and are not passed on to the driver. A SQLite file is made with ``create``."""
    where = target(url)
    if where.dialect == "postgres":
        try:
            import psycopg
        except ImportError:
            raise UsageError("a PostgreSQL database needs psycopg, which is not installed",
                             "pip install 'kpidsl[postgres]'") from None
        try:
            con = psycopg.connect(where.driver, autocommit=True)  # ours
        except psycopg.Error as e:
            raise UsageError(f"cannot connect to {where.shown}: {str(e).strip()}",
                             "check the host, port, user and database; keep a password out "
                             "of the URL, in PGPASSWORD or ~/.pgpass") from None
        _OPENED[con] = where.driver
        return con, "postgres", where.tables
    if where.dialect == "sqlite":
        import sqlite3

        path = where.driver
        if path == ":memory:" or not path:
            raise UsageError(f"{where.shown}: " + ("an in-memory database is gone when "
                             "kpidsl ends" if path else "no database file named"),
                             "write sqlite:///relative/path.db or sqlite:////absolute/path.db")
        if not (create or os.path.exists(path)):
            raise UsageError(f"{where.shown}: no such database file {path!r}",
                             "write sqlite:///relative/path.db or sqlite:////absolute/path.db")
        if not os.path.isdir(os.path.dirname(path) or "."):
            raise UsageError(f"{where.shown}: no such folder {os.path.dirname(path)!r}",
                             "create the folder first, or give another path")
        try:
            return sqlite3.connect(path), "sqlite", where.tables
        except sqlite3.Error as e:
            raise UsageError(f"cannot open {where.shown}: {e}") from None
    raise UsageError(f"{where.shown}: kpidsl load writes into PostgreSQL or SQLite",
                     "DuckDB reads a data folder itself: kpidsl evaluate --data FOLDER")


#: The PostgreSQL connections :func:`connect` opened, with what their driver was given.
_OPENED: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def opener(con: Any) -> Callable[[], Any] | None:
    """How to open another connection (autocommit) to the database of ``con``, when
    :func:`connect` opened ``con`` from a URL, for an engine to work on beside it; ``None``
    for any other connection (a caller's own: kpidsl connects by itself only where it was
    given a URL)."""
    try:
        driver = _OPENED.get(con)
    except TypeError:  # not a connection connect opens (sqlite3's take no weak reference)
        return None
    if driver is None:
        return None
    import psycopg

    return functools.partial(psycopg.connect, driver, autocommit=True)


def without_password(url: str) -> str:
    """``url`` with any password masked (``user:***@``, ``?password=***``), for messages."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", ":***@")
    query = re.sub(r"(^|&)([^&=]*password)=[^&]*", r"\1\2=***", parts.query, flags=re.I)
    return _unsplit(parts, parts.scheme, netloc, query)


def _unsplit(parts: urllib.parse.SplitResult, scheme: str, netloc: str, query: str) -> str:
    """A URL from its parts, ``//`` kept when the host is empty (``postgresql:///db``, which
    ``urlunsplit`` writes ``postgresql:/db``)."""
    return f"{scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "") + \
        (f"#{parts.fragment}" if parts.fragment else "")


#: The classes of PostgreSQL's SQLSTATE that are the database's state or rights, not the
#: data and not kpidsl's SQL: connection (08), transaction state (25: read-only), rights
#: (28, 42501), no such database or schema (3D, 3F), rollback (40: deadlock), not now (55:
#: a lock), resources (53: disk full), the operator (57: shut down, timed out), the system
#: (58: I/O).
_STATE = ("08", "25", "28", "3D", "3F", "40", "42501", "53", "55", "57", "58")
#: The same of SQLite, by its words (it has no SQLSTATE).
_SQLITE_STATE = ("locked", "readonly", "unable to open", "disk", "not a database",
                 "permission", "busy")


def refused(e: BaseException, doing: str, table: str | None = None,
            after: str = "") -> BaseException:
    """A database's refusal as an error for people, saying what to do; any other exception
    (kpidsl's own SQL wrong: a bug) as it is. A row the database's own rules reject (a
    trigger, a constraint, a value its type cannot hold) is a :class:`DataError` at
    ``table``; a lock, a permission, a read-only transaction, a full disk or a lost
    connection is a :class:`UsageError`: the data is fine, the database will not take it now
    or from this user. ``after`` ends each hint (``nothing was written``)."""
    module = type(e).__module__.partition(".")[0]
    if module not in ("psycopg", "sqlite3"):
        return e
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]  # not PostgreSQL's LINE
    state = str(getattr(e, "sqlstate", None) or "")
    said = text.lower()

    def hint(what: str) -> str:
        return f"{what}; {after}" if after else what

    if state[:2] in ("22", "23") or state.startswith("P0") or \
            type(e).__name__ == "IntegrityError":
        return DataError([Diagnostic(
            message=f"the database refused the data: {text}", file=table,
            hint=hint("its own rules (a trigger, a constraint, a column's type) reject a "
                      "row the data contract allows"))])
    ours = any(w in said for w in _SQLITE_STATE) if module == "sqlite3" else \
        state.startswith(_STATE) or type(e).__name__ == "OperationalError"
    if not ours:
        return e
    if "locked" in said or "busy" in said or state[:2] in ("40", "55"):
        what = "another program is using the database; try again when it has finished"
    elif state == "25006":
        what = "the database is read-only here: write on the primary server, as a user " \
            "whose transactions may write"
    elif state == "42501" or state[:2] == "28" or "readonly" in said or \
            "permission" in said:
        what = "the database's owner can grant the right (GRANT …), or give a URL with a " \
            "user who has it"
    else:
        what = "the database's message says why"
    return UsageError(f"{doing}: {text}", hint(what))


def run_query(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """``sql`` run on ``con``: its columns' names and its rows."""
    cur = con.cursor()
    cur.execute(sql)
    if cur.description is None:  # a statement, not a query
        return [], []
    return [d[0] for d in cur.description], list(cur.fetchall())
