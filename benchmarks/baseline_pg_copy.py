"""Baseline for ``kpidsl load --into postgresql://…``: PostgreSQL's own bulk load of the same
CSV files, plus the contract's checks.

``python benchmarks/baseline_pg_copy.py DATA_FOLDER URL``: makes the contract's tables (the
schema ``kpidsl sql --schema --dialect postgres`` prints), streams each CSV file's bytes into
``COPY … FROM STDIN (FORMAT csv, HEADER)`` — what ``psql``'s ``\\copy`` does — (profiles through
a text column, as its months are written ``YYYY-MM``), then runs the checks kpidsl runs on a
database's tables before evaluating them. Refuses to run on a database that has the tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

from kpidsl.contract.records import FIELDS, RECORD_TYPES
from kpidsl.engines.sql.checks import check_tables
from kpidsl.engines.sql.ddl import schema


def main(folder: str, url: str) -> int:
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(schema("postgres").replace("month DATE", "month TEXT"))
        for t in RECORD_TYPES:
            path = Path(folder) / t.file
            header = path.open(encoding="utf-8").readline().strip()
            with con.cursor().copy(f"COPY {t.table} ({header}) FROM STDIN "
                                   "(FORMAT csv, HEADER true)") as copy, path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
        con.execute("ALTER TABLE profiles ALTER COLUMN month TYPE DATE "
                    "USING to_date(month || '-01', 'YYYY-MM-DD')")

        def query(sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
            cur = con.execute(sql)
            return [d[0] for d in cur.description or ()], cur.fetchall()

        problems, _ = check_tables(query, "postgres", {t.table: t.table for t in RECORD_TYPES})
        assert not problems and FIELDS, problems
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
