"""Choosing an engine, loading the data on it once, and evaluating: the one way anything runs a
plan (the API, the rule tests, the evidence bundles, every output).

The default is DuckDB for a data folder or a datasheet workbook (read into records first) and
the Python engine for records built in Python. The fallback policy lives here too: a value
that the data contract allows but SQL's types cannot hold is evaluated by the reference engine
instead, unless an engine was asked for; a construct an engine cannot compute exactly is a
located rule error that says which engine can.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from kpidsl.classes import fields_methods
from kpidsl.contract.records import BY_NAME, RECORD_TYPES
from kpidsl.data.dataset import Dataset
from kpidsl.data.load import is_returns, is_workbook, load_data
from kpidsl.engines import ENGINES, DataSource, Engine, Loaded, Unrepresentable, Unsupported
from kpidsl.errors import (
    TOO_DEEP,
    DataError,
    Diagnostic,
    NotFoundError,
    RuleError,
    UsageError,
    suggest,
)
from kpidsl.plan import nodes as p
from kpidsl.plan.results import Entry, Groups, Result, Verdict

if TYPE_CHECKING:
    from kpidsl.data.ilr import Choices

EngineChoice = str | Any
"""An engine's name (``"duckdb"``, ``"python"``, ``"spark"``), a DuckDB connection or a
``SparkSession``."""


def engine(choice: EngineChoice) -> Engine:
    """The engine ``choice`` names, or the one that runs on a connection or session given."""
    name = engine_name(None, choice)
    module = importlib.import_module(ENGINES[name].module)
    if isinstance(choice, str):
        return module.ENGINE()  # type: ignore[no-any-return]
    return module.ENGINE(choice)  # type: ignore[no-any-return]


#: A data set smaller than this (a data folder's files, in bytes; records, at 100 bytes each)
#: is evaluated by the Python engine unless another is asked for: it starts in a third of
#: the time DuckDB takes to start, and at this size it is as quick (about 12,000 learners).
SMALL = 2_000_000


def engine_name(data: DataSource, choice: EngineChoice | None = None) -> str:
    """The name of the engine that evaluates ``data``: ``choice``'s own, that of the
    registered engine that runs on the connection or session given, or by default DuckDB for
    a data folder of :data:`SMALL` or more and Python for a smaller one or records built in
    Python."""
    if choice is None:
        return "duckdb" if isinstance(data, str | os.PathLike) and _size(data) >= SMALL \
            else "python"
    if isinstance(choice, str):
        if choice not in ENGINES:
            raise NotFoundError(f"no engine called {choice!r}", suggest(choice, ENGINES)
                                or "the engines are " + ", ".join(ENGINES))
        return choice
    for name, registered in ENGINES.items():
        if registered.accepts(choice):
            return name
    raise UsageError(f"no engine runs on a {type(choice).__module__}.{type(choice).__name__}",
                     "give an engine's name (" + ", ".join(ENGINES) + "), a DuckDB connection "
                     "or a SparkSession")


def _size(data: DataSource) -> int:
    """About how many bytes ``data`` takes as CSV files."""
    if isinstance(data, Dataset):
        return 100 * sum(len(data.of(t)) for t in BY_NAME)
    if isinstance(data, str | os.PathLike):
        try:
            with os.scandir(os.fspath(data)) as files:
                return sum(f.stat().st_size for f in files if f.is_file())
        except OSError:  # not a folder: the engine's loader says what it is
            return SMALL
    return SMALL


@attrs.frozen
@fields_methods
class Run:
    """What one evaluation gives: the results at each date and, at the first date, what was
    asked for: the findings and actions, and the verdicts of some KPIs in some groups."""

    engine: str
    results: dict[dt.date, list[Result]]
    findings: list[Entry]
    actions: list[Entry]
    notices: tuple[Diagnostic, ...]
    """Warnings found while loading."""
    verdicts: dict[tuple[str, str], list[Verdict]]
    """By (KPI, group) as asked."""
    groups: Groups
    data: Dataset | None
    """The records evaluated, when they were read in Python (a workbook, a ``Dataset``)."""


def read_sources(plan: p.Plan, data: DataSource) -> DataSource:
    """``data`` as an engine loads it: ILR returns (a file, a folder, or several paths with
    a datasheet among them) are read into one :class:`Dataset` here, with the choices the
    rules make for them (``ilr.kpi``); anything else is given back as it is."""
    if isinstance(data, str | os.PathLike):
        if not is_returns(data):
            return data
        data = [data]
    if not isinstance(data, list | tuple) or not all(isinstance(d, str | os.PathLike)
                                                     for d in data):
        return data
    if len(data) == 1 and not is_returns(data[0]):
        return data[0]
    from kpidsl.data.sources import load_sources  # here: ILR's reader is imported for it alone

    return load_sources(data, ilr_choices(plan) if any(is_returns(d) for d in data) else None)


def in_book(entries: list[Entry], book: str) -> list[Entry]:
    """Entries about records read from the datasheet workbook ``book``, located as its data
    errors are (``book.xlsx:learners!36:36``, :func:`~kpidsl.data.datasheet.place`) rather
    than at the CSV file (``learners.csv``) that every engine names: a provider has no such
    file."""
    from kpidsl.data.datasheet import place, sheet_name  # here: it imports threads, logging

    sheets = {t.file: sheet_name(t) for t in RECORD_TYPES}
    return [attrs.evolve(e, file=book, place=place(sheets[e.file], e.line))
            if e.file in sheets and e.line is not None else e for e in entries]


def ilr_choices(plan: p.Plan) -> Choices:
    """What the rules' ``ilr.kpi`` says about reading ILR returns (a located rule error when
    a table is missing or wrong)."""
    from kpidsl.data.ilr import Choices

    return Choices.from_tables(plan.tables, plan.sources)


def from_database(url: str, choice: EngineChoice | None
                  ) -> tuple[DataSource, EngineChoice, Any]:
    """What evaluates the database at ``url``: the database itself, its tables where the URL
    says (by default); or, with another engine chosen, its records read into Python, checked
    as any data set is. Also the connection opened, for the caller to close (``None`` when
    it is closed already)."""
    from kpidsl.engines.connection import connect, target
    from kpidsl.engines.database import read_dataset

    where = target(url)
    if where.dialect == "duckdb":
        import duckdb

        path = where.driver
        if not os.path.isfile(path):
            raise UsageError(f"{where.shown}: no such database file {path!r}",
                             "write duckdb:///relative/path.duckdb or duckdb:////absolute/…")
        con, dialect, tables = duckdb.connect(path, read_only=True), "duckdb", None
    else:
        con, dialect, mapped = connect(url)
        tables = dict(mapped.names)
    if choice is None or choice == dialect:
        return tables, con, con
    try:
        return read_dataset(con, dialect, tables), choice, None
    finally:
        con.close()


def run(plan: p.Plan, data: DataSource, dates: Sequence[dt.date],
        choice: EngineChoice | None = None, *, entries: bool = False,
        explain: Sequence[tuple[str, str]] = ()) -> Run:
    """Results at each date, and with ``entries`` the findings and actions at the first date,
    and the verdicts of each (KPI, group) of ``explain`` there, all from one load of the data
    on the engine chosen (see the module's text)."""
    data = read_sources(plan, data)
    if isinstance(data, str) and re.match(r"[a-z][a-z0-9+]*://", data, re.I):
        data, choice, opened = from_database(data, choice)
        try:
            return run(plan, data, dates, choice, entries=entries, explain=explain)
        finally:
            if opened is not None:
                opened.close()
    if isinstance(data, str | os.PathLike) and is_workbook(data):
        data = load_data(data)  # a workbook is read into records, whichever engine runs
        choice = choice or ("duckdb" if _size(data) >= SMALL else "python")
    elif isinstance(data, Dataset) and data.origins:  # read from ILR returns: as a folder
        choice = choice or ("duckdb" if _size(data) >= SMALL else "python")
    name = engine_name(data, choice)
    when = dates[0]
    try:
        loaded: Loaded = engine(choice if choice is not None else name).load(data)
        try:
            found = loaded.entries_soon(plan, when) if entries else None
            results = loaded.results(plan, dates)
            findings, actions = found() if found is not None else ([], [])
            verdicts = {(k, g): loaded.verdicts(plan, when, k, g) for k, g in explain}
        finally:
            loaded.release()
    except Unsupported as e:
        message = f"the {name} engine cannot compute this exactly: {e.what}"
        hint = "evaluate these rules with the Python engine (--engine python)"
        raise RuleError([Diagnostic.at(e.span, message, hint=hint, source=plan.sources.get(
            e.span.file)) if e.span else Diagnostic(message=message, hint=hint)]) from None
    except Unrepresentable as e:
        if choice is None and name != "python":  # the reference engine holds every value
            return run(plan, data, dates, "python", entries=entries, explain=explain)
        raise DataError([Diagnostic(message=f"the {name} engine cannot hold a value of this "
                                    f"data set: {e}", hint="evaluate it with the Python "
                                    "engine (--engine python)")]) from None
    except RecursionError:
        raise RuleError([TOO_DEEP]) from None
    if isinstance(data, Dataset) and data.book is not None:
        findings, actions = in_book(findings, data.book), in_book(actions, data.book)
    return Run(engine=name, results=results, findings=findings, actions=actions,
               notices=tuple(loaded.notices), verdicts=verdicts, groups=loaded.groups,
               data=data if isinstance(data, Dataset) else None)
