"""The generated SQL, written in DuckDB's dialect, in any dialect sqlglot writes: for
``kpidsl sql`` and for the Spark engine, which runs it."""

from __future__ import annotations


def render(sql: str, dialect: str = "duckdb", pretty: bool = True) -> str:
    """Our DuckDB-dialect SQL in ``dialect``, laid out for people when ``pretty``, without the
    views the query does not read."""
    import sqlglot  # here, not at the top: only printing SQL needs it, and it is slow to load
    from sqlglot import exp
    from sqlglot.optimizer.eliminate_ctes import eliminate_ctes

    def date_add(node: exp.Expression) -> exp.Expression:
        """``date + INTERVAL 'n' UNIT`` as each dialect adds calendar time (``ADD_MONTHS`` in
        Spark, ``DATEADD`` in T-SQL), all of which clamp to the end of a shorter month."""
        if isinstance(node, exp.Add) and isinstance(node.expression, exp.Interval):
            interval = node.expression
            return exp.DateAdd(this=node.this, expression=exp.Literal.number(
                int(interval.this.name)), unit=exp.Var(this=interval.text("unit")))
        return node

    tree = eliminate_ctes(sqlglot.parse_one(sql, read="duckdb")).transform(date_add)
    return tree.sql(dialect=dialect, pretty=pretty)
