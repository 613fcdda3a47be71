"""Engines: a plan and a data set in, results out. The one protocol every engine implements.

An engine (:class:`Engine`) loads a data set once (:meth:`Engine.load`); what it loaded
(:class:`Loaded`) then gives, for any plan, the results at any dates, the findings and actions,
and the verdicts of ``explain``. The API, the rule tests, the evidence bundles and every output
go through :mod:`kpidsl.engines.run`, which chooses the engine; nothing else calls one.

``python`` is the reference engine (closures over records built in Python); ``duckdb`` runs the
plan's SQL (:mod:`kpidsl.engines.sql`) on the embedded DuckDB, ``spark`` the same SQL on a
``SparkSession`` (both through :class:`kpidsl.engines.sqlengine.SqlEngine`). Adding an engine is
one module that implements these two protocols, and one line in :data:`ENGINES` that names it,
says what it is for and which connection objects it runs on: :mod:`kpidsl.engines.run` and
``--engine`` read them from there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from kpidsl.classes import fields_methods

if TYPE_CHECKING:  # for the protocols' annotations: ``--help`` and ``check`` need no plan
    from kpidsl.errors import Diagnostic, Span
    from kpidsl.plan import nodes as p
    from kpidsl.plan.results import Entry, Groups, Result, Verdict


@attrs.frozen
@fields_methods
class Registered:
    """An engine as the registry declares it, without importing it (``kpidsl --help`` lists
    the engines and must not import DuckDB or Spark to do so)."""

    module: str
    """The module whose ``ENGINE`` is the engine's class (called with a connection given)."""
    help: str
    """What ``--engine`` says of it."""
    connections: str | None = None
    """The top-level package of the connection objects it runs on (``None``: none)."""

    def accepts(self, obj: object) -> bool:
        """``obj`` is a connection this engine runs on (by the package of its type)."""
        package = type(obj).__module__.lstrip("_").partition(".")[0]
        return self.connections is not None and package == self.connections


#: The engines by name (``--engine`` on the command line).
ENGINES = {
    "duckdb": Registered("kpidsl.engines.duckdb", "the default for a data folder of 2 MB or "
                         "more: SQL on the embedded DuckDB, fast on big data",
                         connections="duckdb"),
    "python": Registered("kpidsl.engines.python", "the reference engine, and the default "
                         "for smaller data (it starts quicker)"),
    "spark": Registered("kpidsl.engines.spark", "a local Spark; needs kpidsl[spark] and Java",
                        connections="pyspark"),
    "postgres": Registered("kpidsl.engines.postgres", "inside a PostgreSQL database of yours "
                           "(--data postgresql://…); needs kpidsl[postgres]",
                           connections="psycopg"),
    "sqlite": Registered("kpidsl.engines.sqlite", "inside a SQLite database (--data "
                         "sqlite:///file.db)", connections="sqlite3"),
}

DataSource = Any
"""What an engine loads: a data folder (a path), a :class:`~kpidsl.data.dataset.Dataset`, or
for an engine that keeps tables of its own (a DuckDB connection, a ``SparkSession``) ``None``
(its tables named after the contract's files) or a mapping of those names to its tables."""


class Loaded(Protocol):
    """One data set, loaded on an engine and checked against the contract, ready to
    evaluate any plan on."""

    name: str
    """The engine's name, for the report's audit."""
    groups: Groups
    """The bootcamps and providers of the data: the groups results are given for."""
    notices: tuple[Diagnostic, ...]
    """Warnings found while loading (unknown columns, absent files)."""

    def results(self, plan: p.Plan, dates: Sequence[dt.date]) -> dict[dt.date, list[Result]]:
        """Every KPI for every group at each date (each date once), in report order."""
        ...

    def entries(self, plan: p.Plan, as_of: dt.date, kind: str) -> list[Entry]:
        """The findings (``kind="finding"``: on the data as written) or the actions (as of
        the date, the KPIs' follow-ups included), in the rules' order and each rule's records
        in data order (on a database's own tables, which have no order: by key)."""
        ...

    def entries_soon(self, plan: p.Plan, as_of: dt.date
                     ) -> Callable[[], tuple[list[Entry], list[Entry]]]:
        """The findings and the actions as of ``as_of`` (:meth:`entries`), given by the
        function returned: worked out when it is called, or meanwhile, beside what the caller
        does next (the DuckDB engine, on a connection of its own, while the results are
        worked out); :meth:`release` waits for what is still running."""
        ...

    def verdicts(self, plan: p.Plan, as_of: dt.date, kpi: str, group: str = "all"
                 ) -> list[Verdict]:
        """Each record of ``kpi``'s population in ``group`` (``all``, a bootcamp or a provider
        id) with its verdict and why; for a KPI measured per provider, each provider. Empty
        for a group the data does not have."""
        ...

    def release(self) -> None:
        """Give back what loading took in a database of the caller's own (the temporary
        views made on a connection passed in, the transaction their statements began), once
        nothing more is asked of it."""
        ...


class Engine(Protocol):
    """An engine, ready to load a data set."""

    name: str

    def load(self, data: DataSource) -> Loaded:
        """Read and check ``data``; a :class:`~kpidsl.errors.DataError` with every problem if
        it breaks the contract, and nothing evaluated on half of it."""
        ...


class Unsupported(Exception):
    """A rule uses a construct that an engine cannot compute exactly; ``span`` is where (the
    innermost plan node that has one). The reference engine computes everything."""

    def __init__(self, what: str, span: Span | None = None) -> None:
        super().__init__(what)
        self.what, self.span = what, span


class Unrepresentable(Exception):
    """A value the contract allows but the engine's types do not hold (an integer of 19 or
    more digits in SQL); the reference engine holds every value exactly."""
