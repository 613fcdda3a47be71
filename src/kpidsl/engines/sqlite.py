"""The SQLite engine: the plan's SQL on a SQLite database (``--data sqlite:///file.db``, or a
``sqlite3`` connection), its tables checked first (:mod:`kpidsl.engines.database`)."""

from kpidsl.engines.database import SqliteEngine

ENGINE = SqliteEngine
