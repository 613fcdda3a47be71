"""The data contract's tables in SQL: each record type's table, its column types in each
dialect kpidsl runs on, the indexes its queries use, and how to load each type."""

from __future__ import annotations

from kpidsl.contract.records import BY_NAME, FIELDS, RECORD_TYPES

#: The column types of the contract's tables, by field kind (DuckDB's, and any dialect's that
#: sqlglot translates them to).
SQL_TYPES = {"text": "VARCHAR", "enum": "VARCHAR", "set": "VARCHAR", "date": "DATE",
             "money": "DECIMAL(38, 10)", "integer": "BIGINT", "boolean": "BOOLEAN"}

#: The column types in the databases kpidsl evaluates in (``engines/database.py``). SQLite has
#: no exact decimals and no dates: money is whole pence in an INTEGER, dates are text.
DIALECT_TYPES = {
    "postgres": {"text": "TEXT", "enum": "TEXT", "set": "TEXT", "date": "DATE",
                 "money": "NUMERIC(38, 10)", "integer": "BIGINT", "boolean": "BOOLEAN"},
    "sqlite": {"text": "TEXT", "enum": "TEXT", "set": "TEXT", "date": "TEXT",
               "money": "INTEGER", "integer": "INTEGER", "boolean": "INTEGER"},
}
#: Units of a money column to the pound, where it is not 1.
MONEY_SCALE = {"sqlite": 100}

#: The indexes ``kpidsl load`` creates: each table's key, and each reference the queries join.
INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    *((t.table, t.key) for t in RECORD_TYPES if t.key),
    ("bootcamps", ("provider_id",)), ("learners", ("bootcamp_id",)),
    ("engagements", ("bootcamp_id",)), ("interviews", ("learner_id",)),
    ("cofunding", ("learner_id",)), ("profiles", ("provider_id",)))

_HOW = {
    "sqlite": "-- SQLite: dates as YYYY-MM-DD text, yes/no as 0 or 1, money as whole pence in an\n"
              "-- INTEGER (£1,500.00 is 150000): SQLite has no exact decimals. kpidsl load\n"
              "-- writes them so.\n",
    "postgres": "-- PostgreSQL: dates as DATE, yes/no as BOOLEAN, money as NUMERIC (exact).\n",
    "duckdb": "-- DuckDB: dates as DATE, yes/no as BOOLEAN, money as DECIMAL(38, 10) (exact);\n"
              "-- INSERT INTO t BY NAME SELECT * FROM read_csv('t.csv', header = true) reads\n"
              "-- the CSV files so.\n",
    "spark": "-- Spark: dates as DATE, yes/no as BOOLEAN, money as DECIMAL(38, 10) (exact: set\n"
             "-- spark.sql.decimalOperations.allowPrecisionLoss=false);\n"
             "-- spark.read.csv(path, header=True, schema=…) with these columns reads the CSV\n"
             "-- files so.\n",
}
#: How to load each type in a dialect kpidsl does not run on: as the CREATE TABLE says.
_HOW_ELSEWHERE = ("-- Dates as DATE, yes/no as BOOLEAN, money as an exact DECIMAL(38, 10), as\n"
                  "-- the CREATE TABLE below says: never as text or floating point.\n")


def table_name(record: str) -> str:
    """The contract table a record type is read from (``payment``: ``cofunding``)."""
    return BY_NAME[record].table


def column_types(dialect: str) -> dict[str, str]:
    """The column type of each field kind in ``dialect``."""
    return DIALECT_TYPES.get(dialect, SQL_TYPES)


def schema(dialect: str = "duckdb") -> str:
    """``CREATE TABLE`` and ``CREATE INDEX`` statements for the contract's tables in
    ``dialect``, headed by how to load the columns whose form is not the CSV's."""
    import sqlglot  # here, not at the top: only printing SQL needs it, and it is slow to load

    types = column_types(dialect)
    out = []
    for t in RECORD_TYPES:
        cols = [f"{f.name} {types[f.kind]}{' NOT NULL' if f.required else ''}"
                for f in FIELDS[t.name].values()]
        out.append(f"CREATE TABLE {t.table} (\n  " + ",\n  ".join(cols) + "\n)")
    out += [f"CREATE {'UNIQUE ' if key == BY_NAME_TABLE[table].key else ''}INDEX "
            f"{table}_{'_'.join(key)}_idx ON {table} ({', '.join(key)})"
            for table, key in INDEXES]
    head = ("-- The data contract's tables (KPI-SPEC §1), for `kpidsl sql` queries and\n"
            "-- `kpidsl evaluate --data URL`. Load profiles.month as the first day of its month\n"
            "-- (the CSV writes YYYY-MM) and engagements.roles as its values joined by ';'.\n"
            + _HOW.get(dialect, _HOW_ELSEWHERE))
    if dialect in DIALECT_TYPES:  # written as the database takes it, not translated
        return head + ";\n".join(out) + ";\n"
    return head + ";\n".join(sqlglot.transpile(";\n".join(out), read="duckdb", write=dialect,
                                               pretty=True)) + ";\n"


BY_NAME_TABLE = {t.table: t for t in RECORD_TYPES}
