"""Engines: run a checked rule set's plan on data.

``python`` is the reference engine (closures over records built in Python); ``duckdb`` runs the
SQL that ``sql`` generates on the embedded DuckDB, and ``spark`` runs the same SQL, rendered
for Spark, on a ``SparkSession``; ``base`` turns their query rows into results.
"""

#: The engines ``evaluate`` and ``history`` can use (``--engine`` on the command line).
ENGINES = ("duckdb", "python", "spark")
