"""The SQL generator: a :class:`~kpidsl.plan.nodes.Plan` → one query, for any SQL dialect.

The query reads tables named after the data contract's files (``learners``, ``bootcamps``, …)
with the contract's columns (:func:`schema`), and a one-column table of as-of dates, so that
``history`` evaluates every month end in one pass. It is written in DuckDB's dialect and
rendered for others by sqlglot (``spark``, ``postgres``, ``tsql``, ``bigquery``, …).

How the language's semantics map onto SQL, stated once (the plan's rules, see
:mod:`kpidsl.plan.nodes`):

- **As of.** ``_dates`` holds one row per as-of date, with each schedule's current point as
  columns. Each record type gets a view ``<type>_0`` joined with ``_dates`` in which a dated
  field after the date is ``NULL`` and a dated row does not exist yet.
- **Definitions** are columns, computed once per record and date: definitions that use no
  other record definition are added by ``<type>_1``, those that use them by ``<type>_2``, and
  so on, so reuse costs nothing however deep the chain. A definition of no record (a constant
  of the evaluation) is computed where it is read, on the row of ``_dates``.
- **Missing values.** ``NULL`` is missing. A condition is always ``TRUE`` or ``FALSE``: every
  comparison is wrapped in ``COALESCE(…, FALSE)`` and a boolean field is read as
  ``COALESCE(field, FALSE)`` where a condition is wanted, so "missing is not true" never
  depends on SQL's three-valued logic.
- **Exact numbers.** A number is generated as a pair (numerator, denominator): money is
  ``DECIMAL(38, 10)`` over 1, ``30%`` is 3 over 10, ``x / 3`` is x over 3. Comparisons
  cross-multiply, so no division ever rounds and no floating point decides anything.
- **Calendar months** are added as an interval (``date + INTERVAL '6' MONTH``), which
  :func:`render` writes as each dialect's own date addition (``ADD_MONTHS`` in Spark,
  ``DATEADD`` in T-SQL); all of them clamp to the end of a shorter month (2024-08-31 + 6
  months = 2025-02-28), as the Python engine does.
- **Related records** are joins, so every engine computes them in one pass: a linked record
  (``bootcamp.course_cost``) is a ``LEFT JOIN``, each link once per query, of its type's view
  on the link's key and the as-of date (or, when its rows are not dated and none of its
  definitions are read, of its table on the key alone, its dated fields masked where read); a
  figure over related records (``count(interviews where …)``) is a ``LEFT JOIN`` of that
  figure grouped by the link's key and the date. A record that links to nothing reads as
  missing, and a figure over no records as ``count``, ``sum`` and ``any`` say (0, 0, false).
"""

# The package, by job: ddl (the contract's tables), values (literals and exact numbers),
# compiler (an expression -> SQL), changes (the days a record may change on, for a history),
# query (the queries) and render (other dialects). Imports run one way: query imports
# changes, compiler, ddl and values; changes imports compiler, ddl and values; compiler
# imports ddl and values; ddl, values and render import none of them.

from kpidsl.engines.sql.ddl import SQL_TYPES, schema, table_name
from kpidsl.engines.sql.query import QueryBuilder
from kpidsl.engines.sql.render import render

__all__ = ["SQL_TYPES", "QueryBuilder", "render", "schema", "table_name"]
