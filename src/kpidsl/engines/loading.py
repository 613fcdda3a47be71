"""Writing a data set into a database (``kpidsl load``, and the temporary tables a database
engine evaluates records built in Python on): the contract's tables and their indexes, in one
transaction, all of it or none.

A data folder loading into PostgreSQL takes the quick way when it can: its files' bytes go
straight into ``COPY`` (what ``psql``'s ``\\copy`` does) while, beside it, DuckDB reads the same
files with the loader's own rules (:meth:`~kpidsl.engines.duckdb.DuckDBEngine.read_as_written`:
every cell, id and reference, as the DuckDB engine reads a folder). If anything is out of the
ordinary — a cell the database would read otherwise than the loader (spaces around it,
``20240308`` for a date, ``yes`` for true), a value that breaks the contract, a file the loader
reads otherwise (a blank row) — that transaction is rolled back and the data is read by the
loader, whose errors name the file, line, column and value.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpidsl.contract.records import BY_NAME, FIELDS, RECORD_TYPES, record_diagnostic
from kpidsl.data.dataset import Dataset
from kpidsl.engines.connection import (
    DIALECTS,
    Dialect,
    Tables,
    Target,
    connect,
    refused,
    run_query,
    target,
)
from kpidsl.engines.sql.checks import _columns
from kpidsl.engines.sql.ddl import BY_NAME_TABLE, INDEXES
from kpidsl.engines.sql.values import quote
from kpidsl.errors import DataError, Diagnostic, UsageError

if TYPE_CHECKING:
    from concurrent.futures import Future


def table_sql(dialect: Dialect, name: str, record: str, temporary: bool = False,
              lines: bool = False) -> str:
    """``CREATE TABLE`` of one record type's table in ``dialect``."""
    cols = [f"{fi.name} {dialect.types[fi.kind]}{' NOT NULL' if fi.required else ''}"
            for fi in FIELDS[record].values()]
    if lines:
        cols.append("_line BIGINT")
    return f"CREATE {'TEMP ' if temporary else ''}TABLE {name} ({', '.join(cols)})"


def existing(con: Any, dialect: Dialect, tables: Tables, replace: bool = True) -> list[str]:
    """The contract's tables the database has already: refused unless ``replace``, and
    refused when one lacks a column of the contract (its rows could not be replaced)."""
    query = lambda sql: run_query(con, sql)  # noqa: E731
    there = {t.table: found for t in RECORD_TYPES
             if (found := _columns(query, dialect.name, tables.names[t.table])) is not None}
    if there and not replace:
        raise UsageError(f"the database has the contract's tables already "
                         f"({', '.join(tables.names[t] for t in there)})",
                         "give --replace to replace their rows, or load into another "
                         + ("schema (?schema=NAME) or " if dialect.name == "postgres" else "")
                         + "with a prefix (?prefix=P)")
    for t in RECORD_TYPES:
        lacking = [n for n in FIELDS[t.name] if t.table in there and n not in there[t.table]]
        if lacking:
            raise UsageError(f"table {tables.names[t.table]} is not the contract's: it has no "
                             f"column {', '.join(lacking)}, so its rows cannot be replaced",
                             f"drop it (DROP TABLE {tables.names[t.table]}) for kpidsl load to "
                             "make it, or load with another prefix (?prefix=P)")
    return [tables.names[t] for t in there]


def write_tables(con: Any, dialect: Dialect, data: Dataset, tables: Tables, *,
                 temporary: bool = False, replace: bool = False) -> None:
    """``data``'s records into the tables at ``tables``, created with their indexes, in one
    transaction: all of them or, on any failure, none. Tables there already are replaced
    with ``replace``; without it they are an error. Money finer than the dialect holds
    (SQLite: a penny) is a :class:`DataError` naming each record, before anything is
    written."""
    problems = [record_diagnostic(r, fi.name, f"{getattr(r, fi.name)} is finer than a "
                                  f"{'penny' if dialect.money_scale == 100 else 'unit'}: "
                                  f"{dialect.name} keeps money as whole pence",
                                  hint="keep such amounts in PostgreSQL or DuckDB")
                for t in RECORD_TYPES for fi in FIELDS[t.name].values() if fi.kind == "money"
                and dialect.money_scale != 1 for r in data.of(t.name)
                if getattr(r, fi.name) is not None and (getattr(r, fi.name)
                                                        * dialect.money_scale) % 1]
    if problems:
        raise DataError(problems[:50])
    there = [] if temporary else existing(con, dialect, tables, replace)
    if dialect.name == "sqlite":
        con.isolation_level = None  # the tables' DDL in the transaction too: BEGIN by hand
        con.execute("BEGIN")
        try:
            _write(con.cursor(), dialect, data, tables, temporary, set(there))
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    else:
        with con.transaction():
            _write(con.cursor(), dialect, data, tables, temporary, set(there))
            if not temporary:
                analyze(con.cursor(), tables)


def analyze(cur: Any, tables: Tables) -> None:
    """PostgreSQL's statistics of the tables just loaded, in the load's transaction: without
    them its planner guesses the tables' sizes (a table of 150 rows replaced by 100,000 still
    looks small) and an evaluation right after a load takes ten times as long. From a sample
    of 3,000 rows a table (statistics target 10; PostgreSQL's default of 100 samples 30,000):
    each of the contract's enumerations (7 values at most) fits in its 10 most common values,
    it takes a sixth of the time (0.08 s against 0.5 s at 100,000 learners), and evaluations
    after it are as quick, at 100,000 learners and at 1,000,000. A column's own target, set
    by the database's owner, still counts."""
    cur.execute("SET LOCAL default_statistics_target = 10")
    for name in tables.names.values():
        cur.execute(f"ANALYZE {name}")


class _Failed(Exception):
    """Writing ``table`` failed with ``error`` (to name the table in the error)."""

    def __init__(self, table: str, error: BaseException) -> None:
        super().__init__(table, error)
        self.table, self.error = table, error


def _write(cur: Any, dialect: Dialect, data: Dataset, tables: Tables, temporary: bool,
           there: set[str]) -> None:
    """Write the records, into tables made anew (temporary ones: replacing any of the same
    name) or, for the tables ``there`` already, after deleting their rows (so the database's
    own views, grants and indexes on them stay)."""
    for t in RECORD_TYPES:
        name = tables.names[t.table]
        try:
            _write_table(cur, dialect, data, t.name, name, temporary, name in there)
        except Exception as e:
            raise _Failed(name, e) from e
    if not temporary:
        _indexes(cur, tables, there)


def _write_table(cur: Any, dialect: Dialect, data: Dataset, record: str, name: str,
                 temporary: bool, there: bool) -> None:
    """One record type's rows into its table ``name`` (emptied first when it is ``there``
    already)."""
    fields = list(FIELDS[record].values())
    if there:
        cur.execute(f"DELETE FROM {name}")
    else:
        if temporary:
            cur.execute(f"DROP TABLE IF EXISTS {name}"
                        + (" CASCADE" if dialect.name == "postgres" else ""))
        cur.execute(table_sql(dialect, name, record, temporary, lines=temporary))
    cols = [fi.name for fi in fields] + (["_line"] if temporary else [])
    rows = ([*(dialect.cell(getattr(r, fi.name), fi) for fi in fields),
             *([r.line if r.line is not None else i - 10**12] if temporary else [])]
            for i, r in enumerate(data.of(record)))
    if dialect.name == "sqlite":
        cur.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES "
                        f"({', '.join('?' * len(cols))})", rows)
    else:  # COPY: PostgreSQL's bulk load
        with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _indexes(cur: Any, tables: Tables, there: set[str]) -> None:
    """The indexes the queries use, on the tables made anew (not on those ``there``)."""
    for table, key in INDEXES:
        name = tables.names[table]
        if name in there:
            continue
        unique = "UNIQUE " if key == BY_NAME_TABLE[table].key else ""
        cur.execute(f"CREATE {unique}INDEX {name.rpartition('.')[2]}_{'_'.join(key)}_idx "
                    f"ON {name} ({', '.join(key)})")




def load_into(data: Dataset | str | os.PathLike[str], url: str, replace: bool = False
              ) -> tuple[dict[str, int], tuple[Diagnostic, ...]]:
    """``data`` written into the database at ``url`` (``kpidsl load``): the contract's tables
    made with their indexes, or with ``replace`` their rows replaced, in one transaction.
    A data folder goes into PostgreSQL the quick way when it can (the module's text). Returns
    how many rows each table got, and the loader's warnings. A record missing a value the
    contract requires (ILR returns without their datasheet) is refused before anything is
    written, naming the columns that would supply it. What the database refuses (a lock, a
    permission, a trigger) is an error for people, and leaves it as it was: a SQLite file
    made for the load is removed again."""
    where = target(url)
    if where.dialect == "duckdb":
        raise UsageError("kpidsl load writes into PostgreSQL or SQLite",
                         "DuckDB reads a data folder itself: kpidsl evaluate --data FOLDER")
    if where.driver == ":memory:":
        raise UsageError(f"{where.shown}: an in-memory database is gone when kpidsl load "
                         "ends", "load into a file: sqlite:///kpi.db")
    new_file = where.dialect == "sqlite" and not os.path.exists(where.driver)
    con, dialect, tables = connect(url, create=True)
    done = False
    try:
        result = _load(con, dialect, where, data, tables, replace)
        done = True
        return result
    except _Failed as e:
        raise refused(e.error, f"cannot load into {where.shown}", e.table,
                      "nothing was written") from None
    except Exception as e:
        error = refused(e, f"cannot load into {where.shown}", after="nothing was written")
        if error is e:
            raise
        raise error from None
    finally:
        con.close()
        if new_file and not done:
            with contextlib.suppress(OSError):
                os.remove(where.driver)


def _load(con: Any, dialect: str, where: Target, data: Dataset | str | os.PathLike[str],
          tables: Tables, replace: bool) -> tuple[dict[str, int], tuple[Diagnostic, ...]]:
    for schema in where.schemas:
        if not run_query(con, f"SELECT 1 FROM pg_namespace WHERE nspname = {quote(schema)}"
                         )[1]:
            raise UsageError(f"{where.shown}: the database has no schema {schema}",
                             f"create it first (CREATE SCHEMA {schema};), or leave out "
                             "?schema= to load into the default schema")
    if not isinstance(data, Dataset):
        headers = _headers(os.fspath(data)) if dialect == "postgres" else None
        if headers is not None:
            from concurrent.futures import ThreadPoolExecutor

            there = existing(con, DIALECTS[dialect], tables, replace)
            with ThreadPoolExecutor(1, "kpidsl-read") as pool:  # DuckDB lets go of the GIL
                read = pool.submit(_read, os.fspath(data))
                copied = _copy_folder(con, os.fspath(data), headers, tables, set(there), read)
            if copied is not None:
                return copied
        from kpidsl.data.load import load_data

        data = load_data(data)
    _required(data)
    write_tables(con, DIALECTS[dialect], data, tables, replace=replace)
    return {t.table: len(data.of(t.name)) for t in RECORD_TYPES}, tuple(data.notices)


def _required(data: Dataset) -> None:
    missing = {(t.table, fi.name): sum(getattr(r, fi.name) is None for r in data.of(t.name))
               for t in RECORD_TYPES for fi in FIELDS[t.name].values() if fi.required}
    lacking = [f"{table}.{name} ({n:,})" for (table, name), n in missing.items() if n]
    if lacking:
        raise DataError([Diagnostic(
            message="these required values are missing, so the contract's tables cannot hold "
            "the data: " + ", ".join(lacking),
            hint="give the datasheet after the ILR returns, which supplies them: kpidsl "
            "load RETURNS DATASHEET --into URL")])


class _Slow(Exception):
    """The quick way will not do: roll back, and read the folder with the loader."""


def _read(folder: str) -> tuple[dict[str, int], tuple[Diagnostic, ...]] | None:
    """How many records each table gets from the folder, read by DuckDB with the loader's
    rules, and the loader's warnings; ``None`` when a cell is not as it is written or the
    loader must read the folder (as when DuckDB cannot: out of memory, say)."""
    import duckdb

    from kpidsl.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine()
    try:
        counts = engine.read_as_written(folder)
        return None if counts is None else (counts, engine.notices)
    except duckdb.Error:
        return None
    finally:
        engine.con.close()


def _headers(folder: str) -> dict[str, list[str]] | None:
    """The columns of each of a data folder's files, as its first line names them, when it
    can take the quick way: ``None`` when it is not a folder, or a file is absent or has a
    byte-order mark, or an unknown, repeated or missing column."""
    if not os.path.isdir(folder):
        return None
    headers = {}
    for t in RECORD_TYPES:
        path = Path(folder, t.file)
        if not path.is_file():
            return None
        with path.open("rb") as f:
            first = f.readline()
        names = first.decode("utf-8", "replace").rstrip("\r\n").split(",")
        if first.startswith(b"\xef\xbb\xbf") or len(set(names)) != len(names) or \
                not set(names) <= FIELDS[t.name].keys() or \
                not {n for n, fi in FIELDS[t.name].items() if fi.required} <= set(names):
            return None
        headers[t.table] = names
    return headers


def _copy_folder(con: Any, folder: str, headers: dict[str, list[str]], tables: Tables,
                 there: set[str],
                 read: Future[tuple[dict[str, int], tuple[Diagnostic, ...]] | None]
                 ) -> tuple[dict[str, int], tuple[Diagnostic, ...]] | None:
    """A data folder into PostgreSQL by ``COPY`` of its files' bytes (with the columns
    ``headers`` names; the tables ``there`` already emptied first), with its indexes and
    statistics, in one transaction, committed once ``read`` (the folder read by DuckDB,
    meanwhile) has found every cell as the loader reads it and as many rows: how many rows
    each table got and the loader's warnings. ``None`` (and nothing written) when the
    loader must read it."""
    import psycopg

    try:
        with con.transaction():
            cur = con.cursor()
            counts = {}
            for t in RECORD_TYPES:
                name = tables.names[t.table]
                try:
                    counts[t.table] = _copy_table(cur, folder, t.name, name, headers[t.table],
                                                  name in there)
                except Exception as e:
                    raise _Failed(name, e) from e
            _indexes(cur, tables, there)
            analyze(cur, tables)  # in the transaction, while DuckDB may still be reading
            checked = read.result()
            if checked is None or checked[0] != counts:
                raise _Slow  # (other rows than DuckDB's: the database split the file otherwise)
    except _Slow:
        return None
    except _Failed as e:
        if isinstance(e.error, psycopg.DataError | psycopg.IntegrityError):
            return None  # the loader reads the folder, and names the line
        raise
    return counts, checked[1]


def _copy_table(cur: Any, folder: str, record: str, name: str, header: list[str],
                there: bool) -> int:
    """One file's bytes into its table ``name`` by ``COPY`` (emptied first when it is
    ``there`` already), an empty cell as a missing value and each missing value its field's
    default, as the loader reads them: how many rows it got. The bytes are UTF-8, as the
    contract's files are, whatever the connection's encoding (a database in LATIN1 has one
    of its own)."""
    t = BY_NAME[record]
    dialect = DIALECTS["postgres"]
    if there:
        cur.execute(f"DELETE FROM {name}")
    else:
        cur.execute(table_sql(dialect, name, t.name))
    months = [fi.name for fi in FIELDS[t.name].values() if fi.month]
    # (a temporary table cannot be in the schema of the table it is for: unqualified)
    raw = f"kpidsl_{t.table}__raw" if months else name
    if months:  # written YYYY-MM: through text, to the first day of the month
        cur.execute(f"CREATE TEMP TABLE {raw} (LIKE {name}) ON COMMIT DROP")
        for m in months:
            cur.execute(f"ALTER TABLE {raw} ALTER COLUMN {m} TYPE TEXT")
    with cur.copy(f"COPY {raw} ({', '.join(header)}) FROM STDIN (FORMAT csv, HEADER true, "
                  f"FORCE_NULL ({', '.join(header)}), ENCODING 'UTF8')") as copy, \
            open(Path(folder, t.file), "rb") as f:
        while chunk := f.read(1 << 20):
            copy.write(chunk)
    rows: int = cur.rowcount
    if months:
        cols = ", ".join(f"to_date({n} || '-01', 'YYYY-MM-DD')" if n in months
                         else n for n in FIELDS[t.name])
        cur.execute(f"INSERT INTO {name} SELECT {cols} FROM {raw}")
        cur.execute(f"DROP TABLE {raw}")
    defaults = {fi.name: dialect.cell(fi.default, fi) for fi in FIELDS[t.name].values()
                if fi.default is not None}
    if defaults:
        cur.execute(f"UPDATE {name} SET "
                    + ", ".join(f"{n} = coalesce({n}, %s)" for n in defaults)
                    + " WHERE " + " OR ".join(f"{n} IS NULL" for n in defaults),
                    list(defaults.values()))
    return rows
