"""The public entry points: load rules, load data, evaluate."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from kpidsl.data.csvfiles import load_data
from kpidsl.data.records import BY_CLASS, Dataset
from kpidsl.engines import ENGINES
from kpidsl.engines.python import Entry, Result, describe, evaluate_kpis, evaluate_notices
from kpidsl.language.checker import RuleSet, check
from kpidsl.language.parser import parse
from kpidsl.language.source import DataError, Diagnostic, RuleError
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


def working_rules_path(cwd: StrPath | None = None) -> Path:
    """The rules every command uses when none are named: the ``rules/`` folder of the working
    folder when it holds ``.kpi`` files (the copy policy staff edit), else the shipped rules."""
    here = Path(cwd) / "rules" if cwd is not None else Path("rules")  # messages say rules/…
    if here.is_dir() and any(here.rglob("*.kpi")):
        return here
    return default_rules_path()


def rules_fingerprint(rules: RuleSet) -> str:
    """A short fingerprint of a rule set's text: the same files with the same text give the same
    fingerprint wherever they are. It hashes each file's path relative to the rule set's folder
    and its text (line endings normalised), in the order of those paths. The tests of a
    ``tests/`` folder are not part of it (they are not policy, and ``evaluate`` does not read
    them), so every command gives the same rules the same fingerprint."""
    digest = hashlib.sha256()
    for path, text in sorted((_relative(f.path, rules.origin), f.source.replace("\r\n", "\n"))
                             for f in rules.files if Path(f.path).parent.name != "tests"):
        digest.update(f"{path}\0{text}\0".encode())
    return digest.hexdigest()[:12]


def _shipped(rules: RuleSet) -> bool:
    """The rules came from the shipped folder (and not from a ``./rules`` that is that
    folder, as in a checkout of kpidsl itself)."""
    origin = Path(rules.origin or ".").resolve()
    return origin == default_rules_path().resolve() != (Path.cwd() / "rules").resolve()


def rules_label(rules: RuleSet) -> str:
    """Which rules were used, in words: a folder (relative to the working folder when inside
    it, so usually ``rules``) or ``the shipped rules, PATH``."""
    folder = _relative(rules.origin or ".", os.getcwd())
    return f"the shipped rules, {folder}" if _shipped(rules) else folder


def rules_json(rules: RuleSet) -> dict[str, object]:
    """``{"folder": …, "shipped": …, "fingerprint": …}``: which rules a JSON output was
    computed with."""
    return {"folder": _relative(rules.origin or ".", os.getcwd()), "shipped": _shipped(rules),
            "fingerprint": rules_fingerprint(rules)}


def _relative(path: str, folder: str | None) -> str:
    """``path`` relative to ``folder`` when inside it, else ``path`` as given (``/`` always)."""
    if folder is not None:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(folder))
        if rel == "." or not rel.startswith(".."):
            return Path(rel).as_posix()
    return Path(path).as_posix()


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
    """Parse and check rule files (default: the shipped rules; the command line's default is
    :func:`working_rules_path`).

    Every file is parsed and every problem of every file is collected before
    :class:`RuleError` is raised. Names are shared across the files given. ``tests=False``
    leaves out the files of ``tests/`` folders (the tests written beside the rules), which
    evaluating does not need. The rule set's ``origin`` is the folder they came from (the
    folders' common folder for several).
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
            raw = path.read_bytes()
        except FileNotFoundError:
            diagnostics.append(Diagnostic(message="no such rule file", file=str(path)))
            continue
        except OSError as e:
            diagnostics.append(Diagnostic(message=f"cannot read the rule file: {e.strerror}",
                                          file=str(path)))
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            diagnostics.append(_not_utf8(str(path), raw, e))
            continue
        try:
            parsed.append(parse(text, str(path)))
        except RuleError as e:
            diagnostics += e.diagnostics
    if diagnostics:
        raise RuleError(diagnostics)
    origin = os.path.commonpath([str(f.parent) for f in files])
    try:
        return attrs.evolve(check(parsed), origin=origin)
    except RuleError as e:
        raise _defined_elsewhere(e, files) from None
    except RecursionError:
        raise RuleError([_TOO_DEEP]) from None


_UNKNOWN = re.compile(r"unknown name `(\w+)`")


def _defined_elsewhere(e: RuleError, files: list[Path]) -> RuleError:
    """A draft checked on its own that uses a shared definition: say where the name is
    defined, in the rules the commands use (``./rules`` or the shipped rules)."""
    home = working_rules_path().resolve()
    if not any(_UNKNOWN.match(d.message) for d in e.diagnostics) or any(
            home == f.resolve().parent or home in f.resolve().parents for f in files):
        return e
    try:
        shared = load_rules(home)
    except RuleError:
        return e
    where = {name: d.span.file for (_, name), d in shared.definitions.items()}
    where.update({name: t.span.file for name, t in shared.tables.items()})
    where.update({name: x.span.file for name, x in shared.schedules.items()})
    out = []
    for d in e.diagnostics:
        m = _UNKNOWN.match(d.message)
        if m and m[1] in where:
            d = attrs.evolve(d, hint=f"`{m[1]}` is defined in {_relative(where[m[1]], os.getcwd())}"
                             "; check the folder, not the file (put the draft in that folder "
                             "and run `kpidsl check`)")
        out.append(d)
    return RuleError(out)


def _not_utf8(path: str, raw: bytes, e: UnicodeDecodeError) -> Diagnostic:
    """Where a rule file stops being UTF-8, located like any other error."""
    before = raw[:e.start]
    line = before.count(b"\n") + 1
    column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
    return Diagnostic(message=f"byte 0x{raw[e.start]:02x} is not UTF-8 text", file=path,
                      line=line, column=column, source=raw.decode("utf-8", "replace"),
                      hint="save the file as UTF-8 (most editors offer it under "
                      "'Save as' or 'Encoding')")


Engine = str | Any
"""An engine's name (``"duckdb"``, ``"python"``, ``"spark"``), a DuckDB connection or a
``SparkSession``."""
Data = Dataset | StrPath | Mapping[str, Any] | None
"""A data folder, records built in Python, or (for a DuckDB connection or a SparkSession) the
tables it already has: ``None``, or a mapping of contract names to DataFrames."""


def _sql_engine(engine: Engine) -> Any:
    """The SQL engine object for ``engine``; ``None`` for the Python engine."""
    if engine == "python":
        return None
    if engine in ("duckdb", "spark") or not isinstance(engine, str):
        if engine == "duckdb" or type(engine).__module__.startswith("duckdb"):
            from kpidsl.engines.duckdb import DuckDBEngine

            return DuckDBEngine(None if engine == "duckdb" else engine)
        from kpidsl.engines.spark import SparkEngine

        return SparkEngine(None if engine == "spark" else engine)
    raise ValueError(f"unknown engine {engine!r}: the engines are {', '.join(ENGINES)}")


def _run(rules: RuleSet, data: Data, dates: list[dt.date], engine: Engine | None,
         entries: bool) -> tuple[dict[dt.date, list[Result]], list[Entry], list[Entry],
                                 list[Diagnostic]]:
    """Results at each date (and, with ``entries``, the findings and the actions at the
    first date) from the engine chosen: DuckDB for a data folder, Python for records built
    in Python, unless ``engine`` says otherwise."""
    folder = isinstance(data, str | os.PathLike)
    db = _sql_engine(engine or ("duckdb" if folder else "python"))
    when = dates[0]
    if db is None:
        if not (folder or isinstance(data, Dataset)):
            raise ValueError("the Python engine evaluates a data folder or a Dataset")
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
    if folder:
        db.load_folder(data)
    elif isinstance(data, Dataset):
        _check_data(data)
        db.load_dataset(data)
    else:
        db.use_tables(data)
    from kpidsl.engines.sql import Unsupported

    the_plan = lower(rules)
    try:
        results = db.results(the_plan, dates)
        findings = db.entries(the_plan, when, "finding") if entries else []
        actions = db.entries(the_plan, when, "action") if entries else []
    except Unsupported as e:
        sources = {f.path: f.source for f in rules.files}
        message = f"the {db.name} engine cannot compute this exactly: {e.what}"
        hint = "evaluate these rules with the Python engine (--engine python)"
        raise RuleError([Diagnostic.at(e.span, message, hint=hint, source=sources.get(
            e.span.file)) if e.span else Diagnostic(message=message, hint=hint)]) from None
    return results, findings, actions, list(db.notices)


def evaluate(rules: RuleSet, data: Data, as_of: dt.date | None = None,
             engine: Engine | None = None) -> Report:
    """Every KPI for every bootcamp, provider and the programme, as of a date (default: today).

    ``data`` is a data folder (read by the engine itself) or a :class:`Dataset`. ``engine``
    is ``"duckdb"`` (the default for a folder: SQL on the embedded DuckDB), ``"python"``
    (the default for a ``Dataset``: the reference engine) or ``"spark"`` (a local Spark), or
    a DuckDB connection or a ``SparkSession`` of your own; every engine gives the same
    results. With a connection or session, ``data`` may also be ``None`` (its tables named
    after the contract's files are read) or a mapping of those names to DataFrames.

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


def history(rules: RuleSet, data: Data, dates: Iterable[dt.date],
            engine: Engine | None = None) -> list[tuple[dt.date, list[Result]]]:
    """Every KPI for every group at each date, for trends.

    The data is read and checked once. The SQL engines evaluate every date in one pass over
    the data; the Python engine one date at a time. ``data`` and ``engine`` are as for
    :func:`evaluate`. Findings do not depend on the date
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
