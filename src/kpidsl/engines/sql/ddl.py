"""The data contract's tables in SQL: each record type's table and its column types."""

from __future__ import annotations

from kpidsl.contract.records import BY_NAME, FIELDS

#: The column types of the contract's tables, by field kind.
SQL_TYPES = {"text": "VARCHAR", "enum": "VARCHAR", "set": "VARCHAR", "date": "DATE",
             "money": "DECIMAL(38, 10)", "integer": "BIGINT", "boolean": "BOOLEAN"}


def table_name(record: str) -> str:
    """The contract table a record type is read from (``payment``: ``cofunding``)."""
    return BY_NAME[record].table


def schema(dialect: str = "duckdb") -> str:
    """``CREATE TABLE`` statements for the contract's tables in ``dialect``, headed by how to
    load the two columns whose CSV form is not the column's type."""
    import sqlglot  # here, not at the top: only printing SQL needs it, and it is slow to load

    out = []
    for t in BY_NAME.values():
        cols = [f"{f.name} {SQL_TYPES[f.kind]}{' NOT NULL' if f.required else ''}"
                for f in FIELDS[t.name].values()]
        out.append(f"CREATE TABLE {table_name(t.name)} (\n  " + ",\n  ".join(cols) + "\n)")
    head = ("-- The data contract's tables (KPI-SPEC §1), for `kpidsl sql` queries. Load\n"
            "-- profiles.month as the first day of its month (the CSV writes YYYY-MM) and\n"
            "-- engagements.roles as its values joined by ';', as in the CSV.\n")
    return head + ";\n".join(sqlglot.transpile(";\n".join(out), read="duckdb", write=dialect,
                                               pretty=True)) + ";\n"
