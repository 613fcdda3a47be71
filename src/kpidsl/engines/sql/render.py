"""The generated SQL, written in DuckDB's dialect, in any dialect sqlglot writes: for
``kpidsl sql`` and for the engines that run it elsewhere (Spark, PostgreSQL, SQLite).

Calendar months clamp to the end of a shorter month in every dialect run (2024-08-31 plus six
months is 2025-02-28): Spark's ``ADD_MONTHS`` and PostgreSQL's interval addition do so
themselves; SQLite's ``DATE(x, '+6 months')`` rolls over into March, so it is written out.
A construct sqlglot cannot write in a dialect is an error (:class:`Untranslatable`), never a
query that means something else.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

#: The dialects kpidsl runs its SQL on, in its own tests: any other is written but untested.
TESTED = ("duckdb", "postgres", "sqlite", "spark")


class Untranslatable(Exception):
    """sqlglot cannot write this SQL in the dialect asked for; the message says what."""


#: One render at a time (:func:`render`): two threads asking for the same query (an engine's
#: results and, beside them, its findings, which read the same views) render it once.
_RENDERING = threading.Lock()


def render(sql: str, dialect: str = "duckdb", pretty: bool = True) -> str:
    """Our DuckDB-dialect SQL in ``dialect``, laid out for people when ``pretty``, without the
    views the query does not read. Remembered: rendering takes sqlglot 10-20 ms a query, and
    an evaluation in a database makes the same views for its results, its findings and its
    actions (all but the as-of dates are the same), some 30 renders of 50 at 0.4 s in all.
    Rendering is Python's work alone, so rendering one at a time costs no thread anything."""
    with _RENDERING:
        return _render(sql, dialect, pretty)


def render_soon(dialect: str) -> None:
    """Import sqlglot and render a first query in ``dialect`` on a thread, for a caller that
    renders next but waits on a database first (checking its tables): sqlglot takes 0.2 s to
    import and its first query 0.1-0.3 s more, which a query rendered later then waits for
    no longer."""
    threading.Thread(target=render, args=("SELECT 1", dialect, False), daemon=True,
                     name="kpidsl-render").start()


@functools.lru_cache(maxsize=256)
def _render(sql: str, dialect: str, pretty: bool) -> str:
    import sqlglot  # here, not at the top: only printing SQL needs it, and it is slow to load
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, UnsupportedError
    from sqlglot.optimizer.eliminate_ctes import eliminate_ctes

    def date_add(node: exp.Expr) -> exp.Expr:
        """``date + INTERVAL 'n' UNIT`` as each dialect adds calendar time."""
        if not (isinstance(node, exp.Add) and isinstance(node.expression, exp.Interval)):
            return node
        amount = int(node.expression.this.name)
        unit = node.expression.text("unit").upper()
        if dialect == "sqlite":  # written out as text: the date added to, its own first
            return _sqlite_date_add(node.this.transform(date_add).sql("sqlite"), amount, unit)
        added = exp.DateAdd(this=node.this, expression=exp.Literal.number(amount),
                            unit=exp.Var(this=unit))
        if dialect == "postgres":  # a date plus an interval is a timestamp there
            return exp.Cast(this=added, to=exp.DataType.build("DATE"))
        return added

    tree = eliminate_ctes(sqlglot.parse_one(sql, read="duckdb")).transform(date_add)
    try:
        return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as e:
        raise Untranslatable(f"sqlglot cannot write this query in {dialect}: {e}") from None


def _sqlite_date_add(x: str, amount: int, unit: str) -> exp.Expr:
    """SQLite's ``DATE(x, '+n months')`` rolls the 31st over into the next month; past a
    shorter month's end this takes that month's last day instead."""
    import sqlglot

    if unit in ("DAY", "WEEK"):
        days = amount * (7 if unit == "WEEK" else 1)
        return sqlglot.parse_one(f"DATE({x}, '{days:+d} days')", read="sqlite")
    months = amount * (12 if unit == "YEAR" else 1)
    plain = f"DATE({x}, '{months:+d} months')"
    last = f"DATE({x}, 'start of month', '{months + 1:+d} months', '-1 day')"
    return sqlglot.parse_one(f"(CASE WHEN STRFTIME('%d', {plain}) = STRFTIME('%d', {x}) "
                             f"THEN {plain} ELSE {last} END)", read="sqlite")
