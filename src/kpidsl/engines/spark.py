"""The Spark engine: the plan's SQL rendered in Spark SQL by sqlglot, run on a ``SparkSession``.

For data that has outgrown one machine. It runs over tables the session already has (temporary
views or catalog tables named after the contract's files: ``learners``, ``bootcamps``, …, with
the contract's columns), or, to try it, over a data folder or records built in Python, which it
loads into temporary views after the Python loader has checked them.

``pip install 'kpidsl[spark]'`` brings pyspark; Spark needs Java. Exactness: the session is
asked not to round decimals (``spark.sql.decimalOperations.allowPrecisionLoss`` false), so
money stays exact or the query fails; it never silently rounds.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import Any

from kpidsl.contract.records import FIELDS, RECORD_TYPES
from kpidsl.data.dataset import Dataset
from kpidsl.data.load import load_data
from kpidsl.engines.sql import render, table_name
from kpidsl.engines.sqlengine import SqlEngine
from kpidsl.errors import UsageError

#: What the queries rely on in any session, ours or yours: exact decimals (money never rounds).
SETTINGS = {"spark.sql.decimalOperations.allowPrecisionLoss": "false"}


def local_session() -> Any:
    """A local ``SparkSession`` for trying the rules on one machine; a :class:`UsageError`
    saying what to install when pyspark or Java is missing."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("the spark engine needs pyspark, which is not installed",
                         hint="pip install 'kpidsl[spark]' (Spark also needs Java), or use "
                         "--engine duckdb") from None
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise UsageError("the spark engine needs Java, which is not installed (no java on "
                         "the PATH, no JAVA_HOME)", hint="install a Java runtime (e.g. "
                         "apt install default-jre-headless), or use --engine duckdb")

    builder = SparkSession.builder.master("local[2]").appName("kpidsl")
    for key, value in {**SETTINGS, "spark.ui.enabled": "false",
                       "spark.ui.showConsoleProgress": "false",
                       "spark.sql.shuffle.partitions": "2"}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _spark_type(kind: str) -> Any:
    from pyspark.sql import types as T

    return {"text": T.StringType(), "enum": T.StringType(), "set": T.StringType(),
            "date": T.DateType(), "money": T.DecimalType(38, 10), "integer": T.LongType(),
            "boolean": T.BooleanType()}[kind]


def _cell(value: Any) -> Any:
    """A record's value as its Spark column holds it (a set as its ``;``-joined values)."""
    return ";".join(sorted(value)) if isinstance(value, frozenset) else value


class SparkEngine(SqlEngine):
    """Evaluates plans on a ``SparkSession`` (a local one when none is given)."""

    name = "spark"

    def __init__(self, session: Any = None) -> None:
        self.session = session or local_session()
        for key, value in SETTINGS.items():
            self.session.conf.set(key, value)
        self.notices: tuple[Any, ...] = ()

    def load_folder(self, folder: str | os.PathLike[str]) -> None:
        """A data folder or a datasheet workbook, read and checked by the Python loader, as
        temporary views."""
        self.load_dataset(load_data(folder))

    def load_dataset(self, data: Dataset) -> None:
        """Records built in Python as temporary views named after the contract's files."""
        from pyspark.sql import types as T

        for t in RECORD_TYPES:
            fields = tuple(FIELDS[t.name].values())
            schema = T.StructType([T.StructField(f.name, _spark_type(f.kind)) for f in fields]
                                  + [T.StructField("_line", T.LongType())])
            rows = [(*(_cell(getattr(r, f.name)) for f in fields), r.line)
                    for r in data.of(t.name)]
            frame = self.session.createDataFrame(rows, schema)
            frame.createOrReplaceTempView(table_name(t.name))
        self.notices = tuple(data.notices)
        self.lines = True
        self._groups()

    def use_tables(self, tables: Mapping[str, Any] | None = None) -> None:
        """Evaluate over tables the session has: ``tables`` maps a contract name
        (``"learners"``) to a DataFrame to register as a temporary view; names left out must
        already be tables or views of the session. Their records have no line numbers."""
        for name, frame in (tables or {}).items():
            frame.createOrReplaceTempView(name)
        self.lines = False
        self._groups()

    def _create(self, name: str, query: str) -> None:
        """Each view is a temporary view; definitions are cached, so every query reads them
        computed once rather than planning them again."""
        self.session.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {render(query, 'spark')}")
        if not name.endswith("_0"):
            self.session.sql(f"CACHE TABLE {name}")

    def _tuples(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.session.sql(render(sql, "spark", pretty=False))
                .collect()]

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.session.sql(render(sql, "spark", pretty=False))
                .collect()]


ENGINE = SparkEngine
