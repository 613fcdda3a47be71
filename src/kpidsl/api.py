"""The public entry points: load rules, load data, evaluate."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from kpidsl.data.csvfiles import load_data
from kpidsl.data.records import BY_CLASS, Dataset
from kpidsl.engines import ENGINES
from kpidsl.engines.python import Entry, Result, describe, evaluate_kpis, evaluate_notices
from kpidsl.language.checker import RuleSet, check
from kpidsl.language.parser import parse
from kpidsl.language.source import DataError, Diagnostic, RuleError, read_rules
from kpidsl.outputs.report import Report
from kpidsl.plan.lower import lower

StrPath = str | os.PathLike[str]


def default_rules_path() -> Path:
    """The shipped rules: ``kpidsl/rules`` when installed, the repository's ``rules/`` when
    running from a checkout (an editable install)."""
    packaged = Path(str(resources.files("kpidsl"))) / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


#: The last resort when rules nest beyond what the parser's and checker's limits foresee.
_TOO_DEEP = Diagnostic(message="the rules nest too deeply to be checked or evaluated",
                       hint="split long conditions and chains of definitions into fewer levels")


def rule_files(paths: Iterable[StrPath] | None = None) -> list[Path]:
    """The ``.kpi`` files named by ``paths``, each once.

    A folder is a rule set: all its ``.kpi`` files, searched recursively. A single file comes
    with the other ``.kpi`` files of its folder, because rules share definitions across files
    (checking ``03_learner_dropout.kpi`` alone would not know ``milestone1_starter``); a file
    in a rule set's ``tests/`` folder comes with the whole rule set.
    """
    found: dict[Path, None] = {}
    for p in map(Path, paths if paths is not None else [default_rules_path()]):
        if p.is_dir():
            found.update(dict.fromkeys(sorted(p.rglob("*.kpi"))))
        else:
            found[p] = None
            rule_set = p.parent.parent  # tests beside the rules need the rules they test
            if p.parent.name == "tests" and any(rule_set.glob("*.kpi")):
                found.update(dict.fromkeys(sorted(rule_set.rglob("*.kpi"))))
            elif p.parent.is_dir():
                found.update(dict.fromkeys(sorted(p.parent.glob("*.kpi"))))
    return list(found)


def load_rules(paths: Iterable[StrPath] | StrPath | None = None, *, tests: bool = True
               ) -> RuleSet:
    """Parse and check rule files (default: the shipped rules).

    Every file is parsed and every problem of every file is collected before
    :class:`RuleError` is raised. Names are shared across the files given. ``tests=False``
    leaves out the files of ``tests/`` folders (the tests written beside the rules), which
    evaluating does not need.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    diagnostics: list[Diagnostic] = []
    parsed = []
    files = [f for f in rule_files(paths) if tests or f.parent.name != "tests"]
    if not files:
        raise RuleError([Diagnostic(message="no .kpi rule files found",
                                    file=", ".join(map(str, paths or [])) or None)])
    for path in files:
        try:
            parsed.append(parse(read_rules(path), str(path)))
        except RuleError as e:
            diagnostics += e.diagnostics
    if diagnostics:
        raise RuleError(diagnostics)
    try:
        return check(parsed)
    except RecursionError:
        raise RuleError([_TOO_DEEP]) from None


def _run(rules: RuleSet, data: Dataset | StrPath, dates: list[dt.date], engine: str | None,
         entries: bool) -> tuple[dict[dt.date, list[Result]], list[Entry], list[Entry],
                                 list[Diagnostic]]:
    """Results at each date (and, with ``entries``, the findings and the actions at the
    first date) from the engine chosen: DuckDB for a data folder, Python for records built
    in Python, unless ``engine`` says otherwise."""
    folder = not isinstance(data, Dataset)
    engine_given = engine is not None
    engine = engine or ("duckdb" if folder else "python")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: the engines are {', '.join(ENGINES)}")
    when = dates[0]
    if engine == "python":
        dataset = load_data(data) if folder else data  # type: ignore[arg-type]
        _check_data(dataset)
        try:
            results = {d: evaluate_kpis(rules, dataset, d)[0] for d in dates[1:]}
            first, follow_ups = evaluate_kpis(rules, dataset, when)
            results[when] = first
            findings = evaluate_notices(rules, dataset, when, "finding") if entries else []
            actions = [*evaluate_notices(rules, dataset, when, "action"), *follow_ups] \
                if entries else []
        except RecursionError:
            raise RuleError([_TOO_DEEP]) from None
        return results, findings, actions, list(dataset.notices)
    import duckdb

    from kpidsl.engines.duckdb import DuckDBEngine
    from kpidsl.engines.sql import Unsupported

    try:
        db = DuckDBEngine()
        if folder:
            db.load_folder(data)  # type: ignore[arg-type]
        else:
            _check_data(data)  # type: ignore[arg-type]
            db.load_dataset(data)  # type: ignore[arg-type]
        the_plan = lower(rules)
        results = db.results(the_plan, dates)
        findings = db.entries(the_plan, when, "finding") if entries else []
        actions = db.entries(the_plan, when, "action") if entries else []
    except (duckdb.DataError, Unsupported) as e:
        # A number the contract allows (limits.MAX_DIGITS) but SQL's types do not hold (an
        # integer of 19+ digits, an amount of 29+ before the point), or a rule the SQL engine
        # cannot translate: the reference engine answers instead, unless DuckDB was asked for.
        if engine_given:
            what = "a rule" if isinstance(e, Unsupported) else "a value of this data set"
            raise DataError([Diagnostic(message=f"the DuckDB engine cannot evaluate {what}: "
                                        f"{str(e).splitlines()[0][:200]}",
                                        hint="use --engine python")]) from None
        return _run(rules, data, dates, "python", entries)
    return results, findings, actions, list(db.notices)


def evaluate(rules: RuleSet, data: Dataset | StrPath, as_of: dt.date | None = None,
             engine: str | None = None) -> Report:
    """Every KPI for every bootcamp, provider and the programme, as of a date (default: today).

    ``data`` is a data folder (read by the engine itself) or a :class:`Dataset`. ``engine``
    is ``"duckdb"`` (the default for a folder: SQL on the embedded DuckDB) or ``"python"``
    (the default for a ``Dataset``: the reference engine); both give identical results.

    Raises :class:`~kpidsl.language.source.DataError`, naming each record, if ``data`` breaks
    the contract (a data set built in Python is held to the same rules as one read from CSV).
    """
    when = as_of or dt.date.today()
    results, findings, actions, notices = _run(rules, data, [when], engine, entries=True)
    untargeted = dict.fromkeys(r.kpi for r in results[when] if r.target is None)
    findings = [*_loader_notices(notices), *findings,
                *(Entry(kind="finding", name=kpi, record=f"kpi {kpi}",
                        message=f"no target is in force on {when}: a dated table the target "
                        "reads has no version then, so every status is no_data")
                  for kpi in untargeted)]
    return Report(as_of=when, results=tuple(results[when]), findings=tuple(findings),
                  actions=tuple(actions))


def _check_data(data: Dataset) -> None:
    """Raise a :class:`DataError` naming every record that breaks the contract."""
    problems = data.problems()
    if problems:
        raise DataError([Diagnostic(
            message=f"{describe(BY_CLASS[type(r)].name, r)}: {field}: {m}",
            file=BY_CLASS[type(r)].file if r.line else None, line=r.line,
        ) for r, field, m in problems])


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """The last day of each month from ``first``'s month to ``last``'s, both included."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append(dt.date(year, month, 1) - dt.timedelta(days=1))
    return out


def history(rules: RuleSet, data: Dataset | StrPath, dates: Iterable[dt.date],
            engine: str | None = None) -> list[tuple[dt.date, list[Result]]]:
    """Every KPI for every group at each date, for trends.

    The data is read and checked once. The DuckDB engine evaluates every date in one pass
    over the data; the Python engine one date at a time. Findings do not depend on the date
    and actions are about one date, so neither is repeated here: use :func:`evaluate`.
    """
    days = list(dates)
    if not days:
        return []
    results = _run(rules, data, days, engine, entries=False)[0]
    return [(d, results[d]) for d in days]


def _loader_notices(notices: Iterable[Diagnostic]) -> list[Entry]:
    return [Entry(kind="finding", name="loader", message=d.message, record=d.location,
                  file=d.file, line=d.line) for d in notices]


def kpi_sql(rules: RuleSet, kpi: str, as_of: dt.date, dialect: str = "duckdb",
            records: bool = False) -> str:
    """The SQL query that computes ``kpi`` as of a date from the contract's tables.

    It returns one row per group (``scope``, ``group_id``, ``denominator``, ``numerator``,
    ``pending``), or with ``records`` one row per record of the population with its
    ``verdict``. ``dialect`` is any dialect sqlglot writes (``duckdb``, ``spark``,
    ``postgres``, ``tsql``, ``bigquery``, …); :func:`kpidsl.engines.sql.schema` gives the
    tables. Raises ``KeyError`` for an unknown KPI, ``ValueError`` for ``records`` on a KPI
    measured per provider.
    """
    from kpidsl.engines.sql import QueryBuilder, render
    from kpidsl.plan.nodes import KpiPlan

    plan = lower(rules)
    k = plan.kpi(kpi)
    qb = QueryBuilder(plan, [as_of], lines=False)
    if records:
        if not isinstance(k, KpiPlan):
            raise ValueError(f"{kpi} is measured per provider: it has no records")
        sql = f"{qb.with_}\n{qb.verdicts(k)}"
    else:
        sql = qb.counts(k)
    head = f"-- {kpi} as of {as_of}: {'one row per record' if records else 'counts per group'}"
    return f"{head}\n-- generated by kpidsl from the rule files; the tables are the data " \
        f"contract's\n{render(sql, dialect)};"
