"""Engines: run a checked rule set's plan on data.

``python`` is the reference engine (closures over records built in Python); ``duckdb`` runs the
SQL that ``sql`` generates, on the embedded DuckDB.
"""

#: The engines ``evaluate`` and ``history`` can use (``--engine`` on the command line).
ENGINES = ("duckdb", "python")
