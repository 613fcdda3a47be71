"""The PostgreSQL engine: the plan's SQL on a PostgreSQL database of yours (``--data
postgresql://…``, or a psycopg connection), its tables checked first
(:mod:`kpidsl.engines.database`)."""

from kpidsl.engines.database import PostgresEngine

ENGINE = PostgresEngine
