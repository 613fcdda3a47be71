"""Connections to the databases kpidsl evaluates in and loads into: how each dialect holds the
contract (:class:`Dialect`), where the contract's tables are (:class:`Tables`), and a DB-API 2.0
connection from a URL (:func:`connect`). Both the engine (:mod:`kpidsl.engines.database`) and
``kpidsl load`` (:mod:`kpidsl.engines.loading`) start here."""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

import attrs

from kpidsl.contract.fields import FieldInfo
from kpidsl.contract.records import RECORD_TYPES
from kpidsl.engines.sql.ddl import DIALECT_TYPES, MONEY_SCALE
from kpidsl.errors import UsageError


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


def run_query(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """``sql`` run on ``con``: its columns' names and its rows."""
    cur = con.cursor()
    cur.execute(sql)
    return [d[0] for d in cur.description or ()], list(cur.fetchall())
