"""The public entry points: every command of the command line as a typed Python function.

``load_rules`` and ``check`` read rule files, ``load_data`` reads a data folder, ``evaluate``,
``history``, ``explain`` and ``diff`` evaluate, ``test`` runs the tests beside the rules. A
date may be given as a :class:`datetime.date` or an ISO string (``"2025-03-31"``); a name that
does not exist raises :class:`~kpidsl.errors.NotFoundError` with the closest one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from kpidsl.contract.records import BY_CLASS, record_diagnostic
from kpidsl.data.dataset import Dataset
from kpidsl.data.load import is_workbook, load_data
from kpidsl.engines import ENGINES
from kpidsl.engines import python as python_engine
from kpidsl.engines.python import Entry, Result, Verdict, evaluate_kpis, evaluate_notices
from kpidsl.errors import DataError, Diagnostic, NotFoundError, RuleError, UsageError, suggest
from kpidsl.language import checker
from kpidsl.language.checker import RuleSet
from kpidsl.language.parser import parse
from kpidsl.language.source import read_rules
from kpidsl.language.vocabulary import Scope
from kpidsl.outputs.report import Diff, Report, compare
from kpidsl.plan.lower import lower

if TYPE_CHECKING:
    from kpidsl.tools.testing import TestReport

StrPath = str | os.PathLike[str]


def default_rules_path() -> Path:
    """The shipped rules: ``kpidsl/rules`` when installed, the repository's ``rules/`` when
    running from a checkout (an editable install)."""
    packaged = Path(str(resources.files("kpidsl"))) / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


def working_rules_path(cwd: StrPath | None = None) -> Path:
    """The rules every command uses when none are named, found from the working folder
    (``cwd``, default the current one) and never from how kpidsl was started:

    - its ``rules/`` folder when that holds ``.kpi`` files (the project folder);
    - else the folder itself when it holds ``.kpi`` files (a policy officer inside
      ``rules/``); inside a rule set's ``tests/`` folder, that rule set;
    - else the shipped rules (:func:`default_rules_path`).

    :func:`unread_rule_files` lists what this leaves out of the working folder.
    """
    here = Path(cwd) if cwd is not None else Path()
    if _holds_rules(here / "rules"):
        return here / "rules"  # relative, so that messages say rules/…
    if _holds_rules(here, recursive=False):
        up = here.resolve().parent
        return up if here.resolve().name == "tests" and _holds_rules(up, False) else here
    return default_rules_path()


def unread_rule_files(cwd: StrPath | None = None) -> list[Path]:
    """The working folder's own ``.kpi`` files when :func:`working_rules_path` uses its
    ``rules/`` folder instead (a draft beside ``rules/`` is not read)."""
    here = Path(cwd) if cwd is not None else Path()
    if not _holds_rules(here / "rules"):
        return []
    return sorted(here.glob("*.kpi"))


def _holds_rules(folder: Path, recursive: bool = True) -> bool:
    return folder.is_dir() and any(folder.rglob("*.kpi") if recursive else folder.glob("*.kpi"))


def _shipped(rules: RuleSet) -> bool:
    """The rules came from the shipped folder, and not because the working folder is in it or
    holds it (as in a checkout of kpidsl itself, whose ``rules/`` are the shipped ones)."""
    origin, here = Path(rules.origin or ".").resolve(), Path.cwd().resolve()
    return origin == default_rules_path().resolve() and not (
        origin == here or origin in here.parents or here in origin.parents)


def rules_label(rules: RuleSet) -> str:
    """Which rules were used, in words: a folder (relative to the working folder when inside
    it, so usually ``rules``), ``this folder, PATH`` or ``the shipped rules, PATH``."""
    folder = _relative(rules.origin or ".", os.getcwd())
    if folder == ".":
        return f"this folder, {Path(rules.origin or '.').resolve()}"
    return f"the shipped rules, {folder}" if _shipped(rules) else folder


def rules_json(rules: RuleSet) -> dict[str, object]:
    """``{"folder": …, "shipped": …, "fingerprint": …}``: which rules a JSON output was
    computed with."""
    return {"folder": _relative(rules.origin or ".", os.getcwd()), "shipped": _shipped(rules),
            "fingerprint": rules_fingerprint(rules)[:12]}


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
            parsed.append(parse(read_rules(path), str(path)))
        except RuleError as e:
            diagnostics += e.diagnostics
    if diagnostics:
        raise RuleError(diagnostics)
    origin = os.path.commonpath([str(f.parent) for f in files])
    try:
        return attrs.evolve(checker.check(parsed), origin=origin)
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


def check(paths: Iterable[StrPath] | StrPath | None = None) -> tuple[Diagnostic, ...]:
    """Every problem of the rule files (default: the shipped rules); empty when they check.

    The same as :func:`load_rules`, but the problems are returned rather than raised.
    """
    try:
        load_rules(paths)
    except RuleError as e:
        return e.diagnostics
    return ()


def test(rules: RuleSet | Iterable[StrPath] | StrPath | None = None) -> TestReport:
    """Run the tests written beside the rules (a rule set, or rule files to load; default: the
    shipped rules): each outcome, and what the tests cover of each KPI."""
    from kpidsl.tools.testing import run_tests  # which runs evaluate

    return run_tests(rules if isinstance(rules, RuleSet) else load_rules(rules))


def as_date(value: dt.date | str, what: str = "as_of") -> dt.date:
    """A date given as a :class:`datetime.date` or written ``YYYY-MM-DD``; anything else is a
    :class:`~kpidsl.errors.UsageError` that says what to write."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            if len(value) == 10 and value[4] == value[7] == "-":
                return dt.date.fromisoformat(value)
        except ValueError:
            pass
        raise UsageError(f"{what}: {value!r} is not a date", "write YYYY-MM-DD, e.g. 2025-03-31")
    raise UsageError(f"{what}: expected a datetime.date or a YYYY-MM-DD string, not "
                     f"{type(value).__name__} {value!r}")


def _today_or(value: dt.date | str | None) -> dt.date:
    return dt.date.today() if value is None else as_date(value)


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
        if engine == "duckdb" or _is_duckdb(engine):
            from kpidsl.engines.duckdb import DuckDBEngine

            return DuckDBEngine(None if engine == "duckdb" else engine)
        from kpidsl.engines.spark import SparkEngine

        return SparkEngine(None if engine == "spark" else engine)
    raise NotFoundError(f"no engine called {engine!r}", suggest(str(engine), ENGINES)
                        or "the engines are " + ", ".join(ENGINES))


def engine_name(data: Data, engine: Engine | None = None) -> str:
    """The name of the engine that evaluates ``data`` (for the report's audit): ``engine``'s
    own, the engine of a DuckDB connection or a SparkSession, or by default DuckDB for a data
    folder and Python for records built in Python."""
    if engine is None:
        return "duckdb" if isinstance(data, str | os.PathLike) else "python"
    if isinstance(engine, str):
        return engine
    return "duckdb" if _is_duckdb(engine) else "spark"


def _is_duckdb(connection: Any) -> bool:
    """A DuckDB connection (its class lives in ``duckdb``, or ``_duckdb`` since DuckDB 1.4)."""
    return type(connection).__module__.lstrip("_").startswith("duckdb")


@attrs.frozen
class _Run:
    """What one evaluation gives: results at each date and, at the first date, what was asked
    for: findings and actions, and the verdicts of some KPIs in some groups."""

    results: dict[dt.date, list[Result]]
    findings: list[Entry]
    actions: list[Entry]
    notices: list[Diagnostic]
    verdicts: dict[tuple[str, str], list[Verdict]]
    provider_of: dict[str, str]
    """Each bootcamp's provider."""


def _run(rules: RuleSet, data: Data, dates: list[dt.date], engine: Engine | None,
         entries: bool, explain: Sequence[tuple[str, str]] = ()) -> _Run:
    """Results at each date (and, with ``entries``, the findings and the actions at the
    first date, and the verdicts of each KPI and group of ``explain``) from the engine
    chosen: DuckDB for a data folder, Python for records built in Python, unless ``engine``
    says otherwise."""
    folder = isinstance(data, str | os.PathLike)
    db = _sql_engine(engine or ("duckdb" if folder else "python"))
    when = dates[0]
    if db is None:
        if not (folder or isinstance(data, Dataset)):
            raise ValueError("the Python engine evaluates a data folder or a Dataset")
        dataset: Dataset = load_data(data) if folder else data  # type: ignore[arg-type,assignment]
        _check_data(dataset)
        try:
            results = {d: evaluate_kpis(rules, dataset, d)[0] for d in dates[1:]}
            first, follow_ups = evaluate_kpis(rules, dataset, when)
            results[when] = first
            findings = evaluate_notices(rules, dataset, when, "finding") if entries else []
            actions = [*evaluate_notices(rules, dataset, when, "action"), *follow_ups] \
                if entries else []
            verdicts = {(k, g): _explained(rules, dataset, when, k, g) for k, g in explain}
        except RecursionError:
            raise RuleError([_TOO_DEEP]) from None
        return _Run(results, findings, actions, list(dataset.notices), verdicts,
                    {b.bootcamp_id: b.provider_id for b in dataset.bootcamps})
    if folder and is_workbook(data):  # type: ignore[arg-type]
        data = load_data(data)  # type: ignore[arg-type]  # a workbook is read into records
    from kpidsl.engines.sql import Unsupported

    try:
        if isinstance(data, Dataset):
            _check_data(data)
            db.load_dataset(data)
        elif folder:
            db.load_folder(data)
        else:
            db.use_tables(data)
        the_plan = lower(rules)
        results = db.results(the_plan, dates)
        findings = db.entries(the_plan, when, "finding") if entries else []
        actions = db.entries(the_plan, when, "action") if entries else []
        verdicts = {(k, g): db.explain(rules, the_plan, when, k, g) for k, g in explain}
    except Unsupported as e:
        sources = {f.path: f.source for f in rules.files}
        message = f"the {db.name} engine cannot compute this exactly: {e.what}"
        hint = "evaluate these rules with the Python engine (--engine python)"
        raise RuleError([Diagnostic.at(e.span, message, hint=hint, source=sources.get(
            e.span.file)) if e.span else Diagnostic(message=message, hint=hint)]) from None
    except Exception as e:
        if not _unrepresentable(e):
            raise
        # A number the contract allows (limits.MAX_DIGITS) but SQL's types do not hold (an
        # integer of 19+ digits, an amount of 29+ before the point): the reference engine
        # holds every value exactly, so it answers, unless another engine was asked for.
        if engine is None and (folder or isinstance(data, Dataset)):
            return _run(rules, data, dates, "python", entries, explain)
        raise DataError([Diagnostic(message=f"the {db.name} engine cannot hold a value of "
                                    f"this data set: {str(e).splitlines()[0][:200]}",
                                    hint="evaluate it with the Python engine "
                                    "(--engine python)")]) from None
    return _Run(results, findings, actions, list(db.notices), verdicts, db.provider_of)


def _explained(rules: RuleSet, data: Dataset, as_of: dt.date, kpi: str, group: str
               ) -> list[Verdict]:
    """The Python engine's verdicts, none for a group it does not have (which the caller
    reports, naming the groups there are)."""
    try:
        return python_engine.explain(rules, data, as_of, kpi, group)
    except ValueError:
        return []


def _unrepresentable(e: Exception) -> bool:
    """Whether a SQL engine failed on a value too large for its types (DuckDB's conversion
    and out-of-range errors)."""
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is a dependency
        return False
    return isinstance(e, duckdb.ConversionException | duckdb.OutOfRangeException)


def evaluate(rules: RuleSet, data: Data, as_of: dt.date | str | None = None,
             engine: Engine | None = None) -> Report:
    """Every KPI for every bootcamp, provider and the programme, as of a date (default: today).

    ``data`` is a data folder (read by the engine itself), a datasheet workbook (``.xlsx``,
    read into records first) or a :class:`Dataset`. ``engine`` is ``"duckdb"`` (the default
    for a folder or a workbook: SQL on the embedded DuckDB), ``"python"``
    (the default for a ``Dataset``: the reference engine) or ``"spark"`` (a local Spark), or
    a DuckDB connection or a ``SparkSession`` of your own; every engine gives the same
    results. With a connection or session, ``data`` may also be ``None`` (its tables named
    after the contract's files are read) or a mapping of those names to DataFrames.

    Raises :class:`~kpidsl.errors.DataError`, naming each record, if ``data`` breaks
    the contract (a data set built in Python is held to the same rules as one read from CSV).
    """
    when = _today_or(as_of)
    if isinstance(data, str | os.PathLike) and is_workbook(data):
        # Read into records first, so the report's data fingerprint is of the records.
        data, engine = load_data(data), engine or "duckdb"
    run = _run(rules, data, [when], engine, entries=True)
    results, findings, actions, notices = run.results, run.findings, run.actions, run.notices
    untargeted = dict.fromkeys(r.kpi for r in results[when] if r.target is None)
    findings = [*_loader_notices(notices), *findings,
                *(Entry(kind="finding", name=kpi, record=f"kpi {kpi}",
                        message=f"no target is in force on {when}: a dated table the target "
                        "reads has no version then, so every status is no_data")
                  for kpi in untargeted)]
    return Report(as_of=when, results=tuple(results[when]), findings=tuple(findings),
                  actions=tuple(actions), rules_fingerprint=rules_fingerprint(rules),
                  engine=engine_name(data, engine),
                  data=data if isinstance(data, Dataset | str | os.PathLike) else None)


def rule_texts(rules: RuleSet) -> dict[str, str]:
    """The text of each rule file that can change a figure, by its path relative to the
    folder that holds them all (``/``-separated), with line ends normalised to ``\n``; sorted
    by path. The tests written beside the rules (files in a ``tests`` folder) change no figure
    and are left out, so loading them or not gives the same fingerprint."""
    files = [f for f in rules.files if Path(f.path).parent.name != "tests"]
    paths = [os.path.abspath(f.path) for f in files]
    root = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
    texts = {Path(os.path.relpath(p, root)).as_posix():
             f.source.replace("\r\n", "\n").replace("\r", "\n")
             for p, f in zip(paths, files, strict=True)}
    return dict(sorted(texts.items()))


def rules_fingerprint(rules: RuleSet) -> str:
    """The sha256 (hex) of a rule set: over each file's relative path and text (line ends
    normalised), in order of path (:func:`rule_texts`: the tests beside the rules are left
    out). The same files give the same fingerprint wherever they
    are and whatever their line ends; any other change of any file changes it."""
    h = hashlib.sha256()
    for path, text in rule_texts(rules).items():
        data = text.encode("utf-8")
        h.update(f"{path}\n{len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()


def _check_data(data: Dataset) -> None:
    """Raise a :class:`DataError` naming every record that breaks the contract."""
    problems = data.problems()
    if problems:
        raise DataError([record_diagnostic(r, field, m, line=r.line,
                                           file=BY_CLASS[type(r)].file if r.line else None)
                         for r, field, m in problems])


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """The last day of each month from ``first``'s month to ``last``'s, both included."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append(dt.date(year, month, 1) - dt.timedelta(days=1))
    return out


def history(rules: RuleSet, data: Data, dates: Iterable[dt.date | str],
            engine: Engine | None = None) -> list[tuple[dt.date, list[Result]]]:
    """Every KPI for every group at each date, for trends (:func:`month_ends` gives the last
    day of each month of a period).

    The data is read and checked once. The SQL engines evaluate every date in one pass over
    the data; the Python engine one date at a time. ``data`` and ``engine`` are as for
    :func:`evaluate`. Findings do not depend on the date
    and actions are about one date, so neither is repeated here: use :func:`evaluate`.
    """
    days = [as_date(d, "dates") for d in dates]
    if not days:
        return []
    results = _run(rules, data, days, engine, entries=False).results
    return [(d, results[d]) for d in days]


@attrs.frozen(kw_only=True)
class Explanation:
    """Why each record of a KPI's population in one group counts, or does not."""

    as_of: dt.date
    result: Result
    """The KPI's result for the group, which the verdicts add up to."""
    verdicts: tuple[Verdict, ...]
    """One per record of the population in the group, in data order."""


def explain(rules: RuleSet, data: Data, kpi: str, group: str = "all",
            as_of: dt.date | str | None = None, engine: Engine | None = None) -> Explanation:
    """Each record of ``kpi``'s population in ``group`` with its verdict (counted, not counted,
    pending), the clause that decided it and the values that clause read.

    ``group`` is ``all``, a bootcamp or a provider id; an id that is both is written
    ``bootcamp:ID`` or ``provider:ID``. An unknown KPI or group raises
    :class:`~kpidsl.errors.NotFoundError` naming the closest. ``data`` and
    ``engine`` are as for :func:`evaluate`: every engine gives the same explanation.
    """
    return explanations(rules, data, [kpi], group, as_of, engine)[0]


def explanations(rules: RuleSet, data: Data, kpis: Iterable[str], group: str = "all",
                 as_of: dt.date | str | None = None, engine: Engine | None = None
                 ) -> list[Explanation]:
    """:func:`explain` for each of ``kpis``, the data read once (``evaluate --explain``)."""
    when = _today_or(as_of)
    ks = [rules.kpi(k) for k in kpis]
    prefix, _, rest = group.partition(":")
    raw = rest if prefix in ("bootcamp", "provider") else group  # the id the engine matches
    run = _run(rules, data, [when], engine, entries=False,
               explain=[(k.name, raw) for k in ks])
    results = run.results[when]
    out = []
    for k in ks:
        scope, gid = find_group(results, group, per_provider=k.per is not None)
        result = next(r for r in results if (r.kpi, r.scope, r.group) == (k.name, scope, gid))
        verdicts = run.verdicts[(k.name, raw)]
        if scope == Scope.BOOTCAMP:
            verdicts = [v for v in verdicts if v.bootcamp == gid]
        elif scope == Scope.PROVIDER and k.per is None:  # an id that is also a bootcamp's
            verdicts = [v for v in verdicts if run.provider_of.get(v.bootcamp or "") == gid]
        out.append(Explanation(as_of=when, result=result, verdicts=tuple(verdicts)))
    return out


def find_group(where: Dataset | Report | Iterable[Result], group: str,
               per_provider: bool = False) -> tuple[Scope, str]:
    """The scope and id of a group written ``all``, a bootcamp or provider id, or, for an id
    that is both, ``bootcamp:ID`` or ``provider:ID``, among the groups of a data set or of
    results. Otherwise a :class:`~kpidsl.errors.NotFoundError` listing the groups (a
    KPI judged per provider has no bootcamp groups)."""
    if group == "all":
        return Scope.PROGRAMME, "all"
    if isinstance(where, Dataset):
        ids = {Scope.BOOTCAMP: {b.bootcamp_id for b in where.bootcamps},
               Scope.PROVIDER: {p.provider_id for p in where.providers}}
    else:
        ids = {Scope.BOOTCAMP: set(), Scope.PROVIDER: set()}
        for r in where.results if isinstance(where, Report) else where:
            ids.get(r.scope, set()).add(r.group)
    both = ids[Scope.BOOTCAMP] & ids[Scope.PROVIDER]
    scopes = [s for s in ids if group in ids[s]]
    prefix, _, rest = group.partition(":")
    if group in both:
        raise UsageError(f"{group} is both a bootcamp and a provider: write bootcamp:{group} "
                         f"or provider:{group}")
    if not scopes and prefix in ids and rest in ids[Scope(prefix)]:
        scopes, group = [Scope(prefix)], rest
    valid = ["all", *(f"{s}:{g}" if g in both else g for s in ids
                      if not (per_provider and s == Scope.BOOTCAMP) for g in sorted(ids[s]))]
    shown = ", ".join(valid[:30]) + (f", … ({len(valid)} in all)" if len(valid) > 30 else "")
    if not scopes:
        raise NotFoundError(f"no group {group!r}", suggest(group, valid)
                            or f"the groups are {shown}")
    if per_provider and scopes == [Scope.BOOTCAMP]:
        raise NotFoundError(f"{group!r} is a bootcamp, and this KPI is judged per provider",
                            f"its groups are {shown}")
    return scopes[0], group


def diff(old: RuleSet, new: RuleSet, data: Data, as_of: dt.date | str | None = None,
         engine: Engine | None = None) -> Diff:
    """What a change of rules does to the results on the same data: the results whose status
    or counts change, the KPIs added (with their results) and removed.

    What changed in the rules themselves, their texts and their tests is
    :func:`kpidsl.language.changes.compare_all`."""
    when = _today_or(as_of)
    return compare(evaluate(old, data, when, engine), evaluate(new, data, when, engine))


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
            raise UsageError(f"{kpi} is measured per provider: it has no records to list")
        sql = f"{qb.with_}\n{qb.verdicts(k)}"
    else:
        sql = qb.counts(k)
    head = [f"-- {kpi} as of {as_of}: {'one row per record' if records else 'counts per group'}",
            "-- generated by kpidsl from the rule files; the tables are the data contract's"]
    k_ast = rules.kpi(kpi)
    for clause in ("population", "counted", "pending", "actual", "planned", "target"):
        part = getattr(k_ast, clause, None)
        expr = getattr(part, "expr", None)
        if expr is not None:  # the rule's own words, which the query computes
            label = f"{clause} when" if clause in ("counted", "pending") else clause
            direction = getattr(part, "direction", None)
            direction = f"{direction} " if direction else ""
            head.append(f"-- {label}: {direction}"
                        f"{python_engine.source_text(rules, expr.span)}")
    return "\n".join(head) + f"\n{render(sql, dialect)};"


test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
