"""The data contract checked in SQL, on tables a database already holds.

Before a database's own tables are evaluated, every row is held to the contract as the CSV
loader holds a file's: each table and required column is there with a type that fits; each
value is present when required, of its kind, one of its enumeration, within its range, of its
pattern; ids are unique and references known (KPI-SPEC §1). Each check is a query that scans a
table once and returns the rows that may break it (at most :data:`SHOWN` a table), and each
row is then judged by the loader's own rules (:func:`~kpidsl.contract.values.value_problem`),
so a value is wrong in a database for the same reason, and in the same words, as in a file. A
problem names the table, the record's key, the column, the value and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from kpidsl import limits
from kpidsl.contract.fields import ENUMS, FieldInfo
from kpidsl.contract.records import BY_NAME, FIELDS, LINKS, RECORD_TYPES, REQUIRED_WHEN
from kpidsl.contract.values import BadValue, read_date, value_problem
from kpidsl.engines.sql.values import quote
from kpidsl.errors import Diagnostic

#: At most this many problems are listed for each table and check.
SHOWN = 20

Query = Callable[[str], tuple[list[str], list[tuple[Any, ...]]]]
"""Runs the database's own SQL: the names of the columns and the rows."""

#: The catalogue types that hold each field kind (before any ``(precision)``), in
#: PostgreSQL and DuckDB; SQLite's declared types mean little, so its values are checked.
_TYPES = {
    "text": ("text", "character varying", "character", "varchar"),
    "enum": ("text", "character varying", "varchar"),
    "set": ("text", "character varying", "varchar"), "date": ("date",),
    "money": ("numeric", "decimal", "integer", "bigint", "smallint", "hugeint"),
    "integer": ("integer", "bigint", "smallint", "hugeint"), "boolean": ("boolean",)}
#: What SQLite must hold in each kind's column (``typeof``), and how a person says it.
_SQLITE_KINDS = {"date": ("text", "a date written YYYY-MM-DD (text)"),
                 "money": ("integer", "a whole number of pence (an INTEGER)"),
                 "integer": ("integer", "a whole number (an INTEGER)"),
                 "boolean": ("integer", "0 or 1"), "text": ("text", "text"),
                 "enum": ("text", "text"), "set": ("text", "text")}


def check_tables(query: Query, dialect: str, names: Mapping[str, str], money_scale: int = 1
                 ) -> tuple[list[Diagnostic], dict[str, set[str]]]:
    """Every way the tables at ``names`` (contract name → the table's name in the database)
    break the contract (nothing when they hold to it), and the contract's columns each table
    has (an optional column may be left out, and an optional table: it is then not among
    them). ``query`` runs SQL in ``dialect``."""
    problems: list[Diagnostic] = []
    present: dict[str, set[str]] = {}
    for t in RECORD_TYPES:
        where = names[t.table]
        catalogued = _catalogue(query, dialect, where)
        if catalogued is None and t.optional and _no_schema(query, dialect, where) is None:
            continue  # as an optional file left out of a folder: no records
        if catalogued is None:
            schema = _no_schema(query, dialect, where)
            problems.append(Diagnostic(
                message=f"table {where} does not exist" + (
                    f": the database has no schema {schema}" if schema else ""), file=where,
                hint=(f"CREATE SCHEMA {schema}; then " if schema else "")
                + f"kpidsl load writes it; its CREATE TABLE is in kpidsl sql --schema "
                f"--dialect {dialect}"))
            continue
        found, unreadable = catalogued
        denied = sorted(unreadable & FIELDS[t.name].keys())
        if denied:
            some = "" if set(denied) >= FIELDS[t.name].keys() & set(found) else \
                f" (its columns {', '.join(denied)})"
            problems.append(Diagnostic(
                message=f"table {where} cannot be read{some}: permission denied", file=where,
                hint=f"the database's owner can grant it: GRANT SELECT ON {where} TO "
                "the user of the URL"))
            continue
        present[t.table] = set(found)
        for fi in FIELDS[t.name].values():
            if fi.name not in found:
                if fi.required:
                    problems.append(Diagnostic(message=f"missing required column {fi.name}",
                                               file=where, record_type=t.name, field=fi.name))
            elif dialect != "sqlite" and \
                    found[fi.name].partition("(")[0] not in _TYPES[fi.kind]:
                problems.append(Diagnostic(
                    message=f"column {fi.name} is {found[fi.name]}, which cannot hold "
                    f"{fi.kind} values", file=where, record_type=t.name, field=fi.name,
                    hint=f"the contract's type is in kpidsl sql --schema --dialect {dialect}"))
    if not problems:
        for t in RECORD_TYPES:
            if t.table in present:
                problems += _values(query, dialect, t.name, names[t.table], present[t.table],
                                    money_scale)
    return problems or _integrity(query, {t: n for t, n in names.items() if t in present}), \
        present


def _columns(query: Query, dialect: str, table: str) -> dict[str, str] | None:
    """The columns of ``table`` and their types (lower case), or ``None`` if there is no
    such table or view."""
    found = _catalogue(query, dialect, table)
    return None if found is None else found[0]


def _catalogue(query: Query, dialect: str, table: str
               ) -> tuple[dict[str, str], set[str]] | None:
    """The columns of ``table`` with their types (lower case), and those of them the user
    may not read; ``None`` if there is no such table or view. The table is found as the
    queries find it: unquoted, so PostgreSQL folds its name to lower case and looks along
    the search path (``to_regclass``), DuckDB and SQLite match it in any case."""
    schema, _, name = table.rpartition(".")
    if dialect == "postgres":  # the catalogue itself: information_schema hides what one
        _, rows = query(          # may not read, and a table one may not read is not absent
            "SELECT a.attname, format_type(COALESCE(NULLIF(t.typbasetype, 0), a.atttypid), "
            "NULL), has_column_privilege(r.oid, a.attnum, 'SELECT') "
            f"FROM (SELECT to_regclass({quote(table)}) AS oid) AS r "
            "JOIN pg_attribute AS a ON a.attrelid = r.oid JOIN pg_type AS t ON t.oid = "
            "a.atttypid WHERE a.attnum > 0 AND NOT a.attisdropped")
        if not rows:
            return None
        return ({str(c).lower(): str(k).lower() for c, k, _ in rows},
                {str(c).lower() for c, _, readable in rows if not readable})
    if dialect != "sqlite":
        where = f"lower(table_schema) = lower({quote(schema)})" if schema else \
            "table_schema = current_schema()"
        _, rows = query(f"SELECT column_name, data_type FROM information_schema.columns "
                        f"WHERE {where} AND lower(table_name) = lower({quote(name)})")
    else:
        _, rows = query(f"SELECT name, type FROM pragma_table_info({quote(name)}"
                        + (f", {quote(schema)})" if schema else ")"))
    return ({str(c).lower(): str(k).lower() for c, k in rows}, set()) if rows else None


def _no_schema(query: Query, dialect: str, table: str) -> str | None:
    """The schema ``table`` is said to be in, when the database has no such schema."""
    schema = table.rpartition(".")[0]
    if not schema or dialect == "sqlite":
        return None
    _, rows = query(f"SELECT 1 FROM pg_namespace WHERE nspname = lower({quote(schema)})"
                    if dialect == "postgres" else  # (information_schema: only one's own)
                    "SELECT 1 FROM information_schema.schemata WHERE lower(schema_name) = "
                    f"lower({quote(schema)})")
    return None if rows else schema


def _suspect(dialect: str, fi: FieldInfo, money_scale: int) -> str | None:
    """An SQL condition true of every row whose value of ``fi`` may break the contract (more
    rows are fine: each is judged in Python), or ``None`` when only Python can tell."""
    col = fi.name
    tests = []
    if fi.required:
        tests.append(f"{col} IS NULL")
    if dialect == "sqlite":
        kind, _ = _SQLITE_KINDS[fi.kind]
        tests.append(f"({col} IS NOT NULL AND typeof({col}) <> '{kind}')")
        if fi.kind == "date":
            tests.append(f"({col} IS NOT NULL AND date({col}, '+0 days') IS NOT {col})")
        if fi.kind == "boolean":
            tests.append(f"{col} NOT IN (0, 1)")
    if fi.kind == "enum":
        tests.append(f"{col} NOT IN ({', '.join(quote(v) for v in ENUMS[fi.enum or ''])})")
    if fi.kind in ("text", "enum", "set"):
        tests.append(f"length({col}) > {limits.MAX_CELL}")
        if fi.required:
            tests.append(f"{col} = ''")
    scale = money_scale if fi.kind == "money" else 1
    if fi.minimum is not None:
        tests.append(f"{col} < {fi.minimum * scale}")
    if fi.maximum is not None:
        tests.append(f"{col} > {fi.maximum * scale}")
    if fi.month:
        day = f"strftime('%d', {col}) <> '01'" if dialect == "sqlite" else \
            f"EXTRACT(DAY FROM {col}) <> 1"
        tests.append(f"({col} IS NOT NULL AND {day})")
    return " OR ".join(tests) if tests else None


def _python(dialect: str, fi: FieldInfo, value: Any, money_scale: int) -> Any:
    """A database value as the contract's Python value, for the loader's judgement (one
    SQLite cannot hold as the contract says stays as it is, and is judged wrong)."""
    if value is None:
        return None
    if fi.kind == "set" and isinstance(value, str):
        return frozenset(v.strip() for v in value.split(";") if v.strip())
    if dialect != "sqlite":
        return value
    if fi.kind == "date" and isinstance(value, str):
        try:
            return read_date(value)  # the loader's reading: fromisoformat takes '20240308'
        except BadValue:
            return value
    if fi.kind == "money" and type(value) is int:
        return Decimal(value) / money_scale
    if fi.kind == "boolean" and value in (0, 1) and type(value) is int:
        return bool(value)
    return value


def _values(query: Query, dialect: str, record: str, table: str, present: set[str],
            money_scale: int) -> list[Diagnostic]:
    """Each value of the table that breaks its field's rules (see the module's text)."""
    t = BY_NAME[record]
    fields = [fi for fi in FIELDS[record].values() if fi.name in present]
    key = [k for k in t.key or (owner(record),) if k in present] or [fields[0].name]
    out: list[Diagnostic] = []
    suspects = [s for fi in fields if (s := _suspect(dialect, fi, money_scale))]
    rows: list[tuple[Any, ...]] = []
    names: list[str] = []
    if suspects:
        names, rows = query(f"SELECT {', '.join(fi.name for fi in fields)} FROM {table} "
                            f"WHERE {' OR '.join(f'({s})' for s in suspects)} "
                            f"LIMIT {SHOWN * 5}")
    for fi in fields:  # sets and patterns: only Python can judge them, on distinct values
        if fi.kind == "set" or fi.pattern is not None:
            _, distinct = query(f"SELECT DISTINCT {fi.name} FROM {table} "
                                f"WHERE {fi.name} IS NOT NULL LIMIT 100000")
            bad = [v for (v,) in distinct
                   if value_problem(fi, _python(dialect, fi, v, money_scale))]
            if bad:
                names, more = query(
                    f"SELECT {', '.join(f.name for f in fields)} FROM {table} WHERE {fi.name} "
                    f"IN ({', '.join(quote(str(v)) for v in bad[:SHOWN])}) LIMIT {SHOWN}")
                rows += more
    seen = set()
    for row in rows:
        values = dict(zip(names, row, strict=True))
        ident = "/".join(str(values.get(k)) for k in key)
        for fi in fields:
            raw = values[fi.name]
            problem = value_problem(fi, _python(dialect, fi, raw, money_scale))
            if problem is None or (ident, fi.name) in seen:
                continue
            seen.add((ident, fi.name))
            hint = None
            if dialect == "sqlite" and problem.startswith("expected "):
                problem = f"{raw!r} is not {_SQLITE_KINDS[fi.kind][1]}"
                hint = _date_hint(raw) if fi.kind == "date" else None
            out.append(Diagnostic(
                message=f"{t.cls.__name__} {ident}: {fi.name}: {problem}", file=table,
                place=f"{'/'.join(key)}={ident}", record_type=record, record_id=ident,
                field=fi.name, value=raw, hint=hint))
            if len(out) >= SHOWN:
                return out
    return out


def _date_hint(raw: Any) -> str | None:
    """The CSV loader's hint for text that is not a date (``write 2024-03-08``)."""
    try:
        read_date(str(raw))
    except BadValue as e:
        return e.hint
    return None


def owner(record: str) -> str:
    """The field naming the record a keyless row belongs to (an interview's learner)."""
    return "learner_id" if "learner_id" in FIELDS[record] else "provider_id"


def _integrity(query: Query, names: Mapping[str, str]) -> list[Diagnostic]:
    """Duplicate ids, references to no record, co-funded learners without an employer."""
    out: list[Diagnostic] = []
    for t in RECORD_TYPES:
        if not t.key or t.table not in names:
            continue
        key = ", ".join(t.key)
        _, rows = query(f"SELECT {key} FROM {names[t.table]} GROUP BY {key} "
                        f"HAVING COUNT(*) > 1 LIMIT {SHOWN}")
        for row in rows:
            ident = "/".join(map(str, row))
            what = ", ".join(f"{k} {v!r}" for k, v in zip(t.key, row, strict=True))
            out.append(Diagnostic(
                message=f"duplicate {t.name}: {what} appears more than once",
                file=names[t.table], place=f"{'/'.join(t.key)}={ident}", record_type=t.name,
                record_id=ident, field=t.key[-1], value=row[-1]))
    for link in LINKS:
        src, dst = BY_NAME[link.source], BY_NAME[link.target]
        if link.many or src.table not in names or link.target_field != dst.key[0]:
            continue
        by = src.key[0] if src.key else owner(src.name)
        _, rows = query(
            f"SELECT s.{by}, s.{link.source_field} FROM {names[src.table]} AS s "
            f"WHERE s.{link.source_field} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
            f"{names[dst.table]} AS t WHERE t.{link.target_field} = s.{link.source_field}) "
            f"LIMIT {SHOWN}")
        out += [Diagnostic(
            message=f"{src.cls.__name__} {ident}: {link.source_field}: no {dst.name} has "
            f"{link.target_field} {value!r}", file=names[src.table], place=f"{by}={ident}",
            record_type=src.name, record_id=str(ident), field=link.source_field, value=value,
            hint=f"add the {dst.name} to {names[dst.table]}, or correct the id")
            for ident, value in rows]
    for rule in REQUIRED_WHEN:
        t = BY_NAME[rule.record]
        if t.table not in names:
            continue
        _, rows = query(f"SELECT {t.key[0]} FROM {names[t.table]} WHERE {rule.when} = "
                        f"{quote(rule.value)} AND {rule.field} IS NULL LIMIT {SHOWN}")
        out += [Diagnostic(message=f"{t.cls.__name__} {ident}: {rule.field}: {rule.message}",
                           file=names[t.table], place=f"{t.key[0]}={ident}",
                           record_type=t.name, record_id=str(ident), field=rule.field)
                for (ident,) in rows]
    return out

