"""The public entry points: every command of the command line as a typed Python function.

``load_rules`` and ``check`` read rule files, ``load_data`` reads a data folder, ``evaluate``,
``history``, ``explain`` and ``diff`` evaluate, ``test`` runs the tests beside the rules. A
date may be given as a :class:`datetime.date` or an ISO string (``"2025-03-31"``); a name that
does not exist raises :class:`~kpidsl.errors.NotFoundError` with the closest one.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeGuard

import attrs

from kpidsl import limits
from kpidsl.classes import fields_methods
from kpidsl.data.csvfiles import data_fingerprint, fingerprint_soon
from kpidsl.data.dataset import Dataset
from kpidsl.data.load import is_returns
from kpidsl.engines import Unsupported
from kpidsl.engines.run import EngineChoice, Run, ilr_choices, read_sources, run
from kpidsl.errors import Diagnostic, NotFoundError, RuleError, UsageError, suggest
from kpidsl.language.checker import RuleSet
from kpidsl.language.rulesets import (
    check,
    default_rules_path,
    load_rules,
    rule_files,
    rules_fingerprint,
    working_rules_path,
)
from kpidsl.language.vocabulary import Scope, Status, VerdictKind, listed, named
from kpidsl.language.words import human, percent
from kpidsl.outputs import report as reports
from kpidsl.outputs.jsonout import audit_json
from kpidsl.outputs.report import History, find_group
from kpidsl.plan.lower import lower, source_text
from kpidsl.plan.results import Entry, Explanation, Result, Verdict

if TYPE_CHECKING:  # imported where used: a diff is not what most commands make
    from kpidsl.outputs.diff import Diff

__all__ = [
    "Data",
    "Explanation",
    "Report",
    "as_date",
    "check",
    "default_rules_path",
    "diff",
    "evaluate",
    "explain",
    "explanations",
    "find_group",
    "format_rate",
    "history",
    "history_report",
    "kpi_sql",
    "load_data",
    "load_rules",
    "month_ends",
    "rule_files",
    "rules_fingerprint",
    "sql_schema",
    "working_rules_path",
]

StrPath = str | os.PathLike[str]


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


def as_month(value: dt.date | str, what: str) -> dt.date:
    """A day of the month meant: a date, ``YYYY-MM-DD``, or the month alone, ``YYYY-MM``
    (its first day), as ``kpidsl history --from/--to`` take it; anything else is a
    :class:`~kpidsl.errors.UsageError` that says what to write."""
    if isinstance(value, str) and len(value) == 7 and value[4] == "-":
        try:
            return dt.date.fromisoformat(value + "-01")
        except ValueError:
            pass
        raise UsageError(f"{what}: {value!r} is not a month",
                         "write YYYY-MM (2024-08) or a date YYYY-MM-DD (2024-08-31)")
    return as_date(value, what)


def _today_or(value: dt.date | str | None) -> dt.date:
    return dt.date.today() if value is None else as_date(value)


Data = Dataset | StrPath | Sequence[StrPath] | Mapping[str, Any] | None
"""A data folder, a datasheet workbook, ILR returns (an ``.xml`` file or a folder of them,
alone or in a list with their datasheet), records built in Python, a database's URL
(``postgresql://…``, ``sqlite:///…``, ``duckdb:///…``), or (for a connection of one's own:
DuckDB's, ``sqlite3``'s, psycopg's, or a SparkSession) the tables it already has: ``None``,
or a mapping of contract names to its tables' names (DataFrames for Spark)."""


@attrs.frozen(kw_only=True)
@fields_methods
class Report(reports.Report):
    """The outcome of one evaluation (what :func:`evaluate` gives), which writes itself in
    each format the command line writes: JSON (:meth:`to_json`), CSV, an HTML page and a
    workbook (the formats themselves are below the API, in :mod:`kpidsl.outputs`, and cannot
    know it)."""

    def to_csv(self) -> str:
        """One CSV row per result, as ``evaluate --format csv`` writes them
        (:func:`kpidsl.outputs.csvout.to_csv`)."""
        from kpidsl.outputs.csvout import to_csv

        return to_csv(self)

    def to_html(self, rules: RuleSet | None = None, *, docs_url: str | None = None) -> str:
        """The report page, as ``evaluate --format html`` writes it
        (:func:`~kpidsl.outputs.html.report_html`): with ``rules``, each KPI has its title;
        with ``docs_url``, it links to its page in the rule reference there."""
        from kpidsl.outputs.html import report_html

        return report_html(self, rules, docs_url=docs_url)

    def write_xlsx(self, path: StrPath, rules: RuleSet, *, docs_url: str | None = None
                   ) -> None:
        """Write the report workbook, as ``evaluate --format xlsx`` does
        (:func:`~kpidsl.outputs.xlsx.write_report`). Its sheet for each KPI lists the
        records with their verdicts, so the report must be made with them:
        ``evaluate(…, explain=True)``; otherwise a :class:`~kpidsl.errors.UsageError`."""
        from kpidsl.outputs.xlsx import write_report

        if self.results and not self.explanations:
            raise UsageError("the report workbook lists each KPI's records with their "
                             "verdicts, which this report was not made with",
                             "evaluate with explain=True")
        write_report(path, self, rules, docs_url=docs_url)


def format_rate(rate: Fraction | None, places: int = 1) -> str:
    """A rate (:attr:`Result.rate <kpidsl.plan.results.Result.rate>`) as the reports show
    it: a percentage rounded half to even to at most ``places`` decimal places (``Fraction(1,
    5)`` → ``20%``, ``Fraction(1, 3)`` → ``33.3%``), or ``–`` when there is none (an empty
    population)."""
    return percent(rate, places)


def load_data(data: StrPath | Sequence[StrPath], rules: RuleSet | None = None) -> Dataset:
    """Read a data set: a data folder (KPI-SPEC §1), a datasheet workbook (``.xlsx``), or ILR
    returns (an ``.xml`` file or a folder of them) with, in a list beside them, at most one
    data folder or workbook, their datasheet.

    Reading returns needs ``rules``: their ``ilr_*`` tables say what the returns' codes mean
    (``ilr.kpi``). Every problem is collected before anything is returned, and one
    :class:`~kpidsl.errors.DataError` carries them all; what the returns lack, and what differs
    between the returns and the datasheet, is in the data set's ``notices``.
    """
    from kpidsl.data.sources import load_sources

    paths = [data] if isinstance(data, str | os.PathLike) else list(data)
    if rules is None:
        if any(map(is_returns, paths)):
            raise UsageError("reading ILR returns needs the rules: pass rules=load_rules()",
                             "the rules' ilr.kpi says what each EVI code means and when "
                             "Milestone 1 is reached")
        return load_sources(paths, None)
    return read_sources(lower(rules), paths) if any(map(is_returns, paths)) \
        else load_sources(paths, None)


def load_into(data: Dataset | StrPath | Sequence[StrPath], url: str, *, replace: bool = False,
              rules: RuleSet | None = None) -> tuple[dict[str, int], tuple[Diagnostic, ...]]:
    """Check a data set and write it into a database of yours (``kpidsl load``): a data
    folder, a workbook, ILR returns with their datasheet (``rules`` then say what the returns
    mean) or records, into ``postgresql://…`` (with COPY and ``ANALYZE``) or
    ``sqlite:///…``, where ``?schema=NAME`` (PostgreSQL; the schema must exist) or
    ``?prefix=P`` say where the tables go. The contract's tables are made
    with the indexes its queries use; tables there already are refused unless ``replace``,
    which replaces their rows. One transaction: all of it or none. Then ``evaluate(rules,
    url)`` evaluates in that database. Returns how many rows each table got, and the
    loader's warnings (a :class:`~kpidsl.errors.DataError` lists the data's errors, each at
    its file and line, and nothing is written)."""
    from kpidsl.engines.loading import load_into as write

    one = data if isinstance(data, str | os.PathLike) else None
    if one is not None and not is_returns(one):
        return write(one, url, replace=replace)  # a folder: the quick way when it can
    return write(data if isinstance(data, Dataset) else load_data(data, rules), url,
                 replace=replace)


def write_ilr(data: Dataset, folder: StrPath, rules: RuleSet) -> tuple[list[str], str]:
    """Write ``data`` as ILR returns in ``folder`` (one per provider and ILR year, the events
    coded as the rules' ``ilr.kpi`` says) and, in ``folder/datasheet``, the datasheet of what
    they do not hold, so that ``load_data([folder, folder + "/datasheet"], rules)`` gives
    ``data`` back. Returns the returns' paths and the datasheet's. Raises
    :class:`~kpidsl.errors.DataError` for a record the ILR cannot hold (a learner id that is
    not a ``LearnRefNumber``), before anything is written."""
    from kpidsl.data.ilr.write import write_ilr as write

    return write(data, folder, ilr_choices(lower(rules)))


def evaluate(rules: RuleSet, data: Data, as_of: dt.date | str | None = None,
             engine: EngineChoice | None = None, *, explain: bool = False) -> Report:
    """Every KPI for every bootcamp, provider and the programme, as of a date (default: today).

    ``data`` is a data folder (read by the engine itself), a datasheet workbook (``.xlsx``,
    read into records first), a :class:`Dataset`, or a database's URL
    (``postgresql://user@host/db``, ``sqlite:///file.db``, ``duckdb:///file.duckdb``, with
    ``?schema=NAME`` or ``?prefix=P`` where its tables are elsewhere), evaluated inside that
    database. ``engine`` is ``"duckdb"`` (the default for a folder or a workbook of 2 MB or
    more: SQL on the embedded DuckDB), ``"python"`` (the default for smaller ones, which it
    starts on quicker, and for a ``Dataset``: the reference engine), ``"spark"`` (a local
    Spark), ``"postgres"`` or ``"sqlite"``, or a connection of your own: a DuckDB or
    ``sqlite3`` connection, a psycopg connection (``psycopg.connect(…)``) or a
    ``SparkSession``; every engine gives the same results. With a connection or session,
    ``data`` may also be ``None`` (its tables named after the contract's files are read) or
    a mapping of those names to the names of its tables (a ``SparkSession``: to
    DataFrames). A connection of your own is given back as it came (its temporary views
    dropped, a transaction kpidsl's statements began ended).
    ``explain`` adds each KPI's :class:`Explanation` for the programme, from the same engine
    and the same reading of the data (``report.explanations``).

    Raises :class:`~kpidsl.errors.DataError`, naming each record, if ``data`` breaks
    the contract (a data set built in Python is held to the same rules as one read from CSV).
    """
    when = _today_or(as_of)
    _fingerprint_soon(data)
    plan = lower(rules)
    asked = [(k.name, "all") for k in plan.kpis] if explain else []
    done = run(plan, data, [when], engine, entries=True, explain=asked)
    return report_of(rules, done, when, data)


def report_of(rules: RuleSet, done: Run, when: dt.date, data: Data = None) -> Report:
    """The report of ``done`` (a run with entries) at ``when``: its results, findings (the
    loader's notices and each KPI with no target in force among them), actions and the
    programme's explanations it was asked for. :func:`evaluate` and the rule tests
    (``kpidsl test``) both make their reports here, so that they agree on every finding."""
    results = done.results[when]
    untargeted = dict.fromkeys(r.kpi for r in results if r.target is None)
    findings = [*_loader_notices(done.notices), *done.findings,
                *(Entry(kind="finding", name=kpi, record=f"kpi {kpi}",
                        message=f"no target is in force on {when}: a dated table the target "
                        "reads has no version then, so every status is no_data")
                  for kpi in untargeted)]
    by_kpi = {(r.kpi, r.scope): r for r in results if r.group == "all"}
    explained = tuple(Explanation(as_of=when, result=by_kpi[kpi, Scope.PROGRAMME],
                                  verdicts=tuple(verdicts))
                      for (kpi, _), verdicts in done.verdicts.items())
    return Report(as_of=when, results=tuple(results), findings=tuple(findings),
                  actions=tuple(done.actions), rules_fingerprint=rules_fingerprint(rules),
                  engine=done.engine, explanations=explained, names=done.groups.names,
                  data=done.data if done.data is not None
                  else data if _files(data) else None)


def month_ends(first: dt.date | str, last: dt.date | str) -> list[dt.date]:
    """The last day of each month from ``first``'s month to ``last``'s, both included (each a
    date, ``YYYY-MM-DD`` or ``YYYY-MM``)."""
    first, last = as_month(first, "first"), as_month(last, "last")
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append(dt.date(year, month, 1) - dt.timedelta(days=1))
    return out


def history(rules: RuleSet, data: Data, dates: Iterable[dt.date | str] | dt.date | str,
            engine: EngineChoice | None = None) -> list[tuple[dt.date, list[Result]]]:
    """Every KPI for every group at each date (or at one date), for trends
    (:func:`month_ends` gives the last day of each month of a period).

    The data is read and checked once. The SQL engines evaluate every date in one pass over
    the data; the Python engine one date at a time. ``data`` and ``engine`` are as for
    :func:`evaluate`. Findings do not depend on the date
    and actions are about one date, so neither is repeated here: use :func:`evaluate`.
    """
    given = [dates] if isinstance(dates, dt.date | str) else dates  # not a string's letters
    days = [as_date(d, "dates") for d in given]
    if not days:
        return []
    results = run(lower(rules), data, days, engine).results
    return [(d, results[d]) for d in days]


def explain(rules: RuleSet, data: Data, kpi: str, group: str = "all",
            as_of: dt.date | str | None = None, engine: EngineChoice | None = None, *,
            verdicts: Iterable[str] | None = None) -> Explanation:
    """Each record of ``kpi``'s population in ``group`` with its verdict (counted, not counted,
    pending), the clause that decided it and the values that clause read.

    ``group`` is ``all``, a bootcamp or a provider id; an id that is both is written
    ``bootcamp:ID`` or ``provider:ID``. ``verdicts`` keeps only the records with one of these
    verdicts (written as reports print them, ``not counted``, or ``not_counted``; for a KPI
    judged per provider, its providers' statuses: met, not met or no data). An unknown KPI,
    group or verdict raises :class:`~kpidsl.errors.NotFoundError` naming the closest.
    ``data`` and ``engine`` are as for :func:`evaluate`: every engine gives the same
    explanation. ``audit`` says what produced it.
    """
    kinds = _verdict_kinds(rules, kpi, verdicts)
    why = explanations(rules, data, [kpi], group, as_of, engine)[0]
    if kinds is None:
        return why
    return attrs.evolve(why, verdicts=tuple(v for v in why.verdicts if v.verdict in kinds))


def _verdict_kinds(rules: RuleSet, kpi: str, asked: Iterable[str] | None) -> set[str] | None:
    """The verdicts asked for, each as the engines give it, whether written as reports print
    it (``not counted``, ``not met``) or with underscores; a verdict the KPI cannot have is a
    :class:`NotFoundError`. A provider of a KPI measured per provider has nothing pending: it
    is never on track or at risk."""
    if asked is None:
        return None
    per_provider = rules.kpi(kpi).per is not None
    kinds = (Status.MET, Status.NOT_MET, Status.NO_DATA) if per_provider else tuple(VerdictKind)
    by_word = {human(k): k.value for k in kinds}
    words = list(by_word)
    out = set()
    for v in listed(asked):
        word = human(v)
        if word not in by_word:
            what = "a provider" if per_provider else "a record"
            raise NotFoundError(f"verdict {v!r} does not apply to {kpi}: {what} of it is "
                                f"{', '.join(words[:-1])} or {words[-1]}", suggest(word, words))
        out.add(by_word[word])
    return out


def explanations(rules: RuleSet, data: Data, kpis: Iterable[str], group: str = "all",
                 as_of: dt.date | str | None = None, engine: EngineChoice | None = None
                 ) -> list[Explanation]:
    """:func:`explain` for each of ``kpis``, the data read once."""
    when = _today_or(as_of)
    ks = [rules.kpi(k) for k in listed(kpis)]
    prefix, _, rest = group.partition(":")
    raw = rest if prefix in ("bootcamp", "provider") else group  # the id the engine matches
    done = run(lower(rules), data, [when], engine, explain=[(k.name, raw) for k in ks])
    results = done.results[when]
    audit = _audit(rules, done, data, when)
    out = []
    for k in ks:
        scope, gid = find_group(results, group, per_provider=k.per is not None)
        result = next(r for r in results if (r.kpi, r.scope, r.group) == (k.name, scope, gid))
        verdicts = done.verdicts[(k.name, raw)]
        if scope == Scope.BOOTCAMP:
            verdicts = [v for v in verdicts if v.bootcamp == gid]
        elif scope == Scope.PROVIDER and k.per is None:  # an id that is also a bootcamp's
            verdicts = [v for v in verdicts
                        if done.groups.provider_of.get(v.bootcamp or "") == gid]
        if done.data is not None and done.data.origins:
            verdicts = [_sourced(v, done.data.origins) for v in verdicts]
        out.append(Explanation(as_of=when, result=result, verdicts=tuple(verdicts),
                               name=done.groups.names.get((scope, gid)),
                               audit=audit))
    return out


def _sourced(verdict: Verdict, origins: Mapping[tuple[str, str], Any]) -> Verdict:
    """``verdict`` with where each value it shows was read in the ILR returns."""
    origin = origins.get((verdict.record_type, verdict.record_id or ""))
    if origin is None:
        return verdict
    names = dict.fromkeys(name for r in verdict.reasons for name, _ in r.values)
    return attrs.evolve(verdict, sources=tuple(
        (name, where) for name in names if (where := origin.of(name)) is not None))


def _audit(rules: RuleSet, done: Run, data: Data, as_of: dt.date | None) -> dict[str, str]:
    """What produced a run's figures: the engine that really ran, and the fingerprints of
    the rules and of the data (of the records, when they were read in Python)."""
    evaluated = done.data if done.data is not None else data
    return audit_json(rules=rules_fingerprint(rules), as_of=as_of, engine=done.engine,
                      data=data_fingerprint(evaluated)
                      if isinstance(evaluated, Dataset) or _files(evaluated) else "")


def _fingerprint_soon(data: Data) -> None:
    """The audit's hashes of a data folder's files worked out beside the evaluation
    (:func:`~kpidsl.data.csvfiles.fingerprint_soon`)."""
    if _files(data) and os.path.isdir(data):
        fingerprint_soon(data)


def _files(data: object) -> TypeGuard[StrPath]:
    """``data`` is a path to files (not a database's URL, whose tables are not
    fingerprinted)."""
    return isinstance(data, str | os.PathLike) and "://" not in os.fspath(data)


def history_report(rules: RuleSet, data: Data, first: dt.date | str, last: dt.date | str, *,
                   kpis: Iterable[str] | None = None, group: str | None = None,
                   statuses: Iterable[str] | None = None, engine: EngineChoice | None = None
                   ) -> History:
    """:func:`history` at every month end from ``first``'s month to ``last``'s (at most
    :data:`~kpidsl.limits.MAX_HISTORY_MONTHS` months), keeping only the results of ``kpis``,
    of one ``group`` (as for :func:`explain`) and with one of ``statuses`` (``None``: all),
    with what produced it (``kpidsl history``). ``first`` and ``last`` are dates,
    ``YYYY-MM-DD`` or, as the command takes them, ``YYYY-MM``."""
    start, end = as_month(first, "first"), as_month(last, "last")
    if start > end:
        raise UsageError(f"the first month, {start:%Y-%m}, is after the last, {end:%Y-%m}")
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months > limits.MAX_HISTORY_MONTHS:
        raise UsageError(f"{start:%Y-%m} to {end:%Y-%m} spans {months:,} months; at most "
                         f"{limits.MAX_HISTORY_MONTHS:,} are shown at once")
    ks = [rules.kpi(k).name for k in listed(kpis or ())]
    wanted = {named(Status, s) for s in listed(statuses or ())}
    days = month_ends(start, end)
    _fingerprint_soon(data)
    done = run(lower(rules), data, days, engine)
    scope, gid = None, "all"
    if group is not None:
        per_provider = bool(ks) and all(rules.kpi(k).per is not None for k in ks)
        scope, gid = find_group(done.results[days[0]], group, per_provider)
    picked = [(d, tuple(r for r in done.results[d] if (not ks or r.kpi in ks)
                        and (scope is None or (r.scope, r.group) == (scope, gid))
                        and (not wanted or r.status in wanted))
               if ks or scope is not None or wanted else tuple(done.results[d]))
              for d in days]
    return History(months=tuple(picked), group=gid, audit=_audit(rules, done, data, None),
                   names=done.groups.names)


def diff(old: RuleSet, new: RuleSet, data: Data, as_of: dt.date | str | None = None,
         engine: EngineChoice | None = None) -> Diff:
    """What a change of rules does to the results on the same data: the results whose status
    or counts change, the KPIs added (with their results) and removed.

    What changed in the rules themselves, their texts and their tests is
    :func:`kpidsl.language.changes.compare_all`."""
    when = _today_or(as_of)
    from kpidsl.outputs.diff import compare

    return compare(evaluate(old, data, when, engine), evaluate(new, data, when, engine))


def _loader_notices(notices: Iterable[Diagnostic]) -> list[Entry]:
    """The loader's warnings as findings, located where the loader located them (a
    workbook's by sheet and cell), about the record they name, or the data."""
    return [Entry(kind="finding", name="loader", message=d.message,
                  record=f"{d.record_type} {d.record_id}" if d.record_type and d.record_id
                  else "data", file=d.file, line=d.line, place=d.place) for d in notices]


def kpi_sql(rules: RuleSet, kpi: str, as_of: dt.date | str, dialect: str = "duckdb",
            records: bool = False) -> str:
    """The SQL query that computes ``kpi`` as of a date from the contract's tables.

    It returns one row per group (``scope``, ``group_id``, ``denominator``, ``numerator``,
    ``pending``), or with ``records`` one row per record of the population with its
    ``verdict``. ``dialect`` is any dialect sqlglot writes (``duckdb``, ``spark``,
    ``postgres``, ``sqlite``, ``tsql``, ``bigquery``, …); kpidsl's tests run the queries on
    DuckDB, PostgreSQL, SQLite and Spark (:data:`~kpidsl.engines.sql.render.TESTED`), and the
    query in any other dialect says it is untested there. :func:`sql_schema` gives the tables
    (in SQLite, money is kept in pence, and the query reads it so).

    Raises :class:`~kpidsl.errors.NotFoundError` for an unknown KPI or dialect,
    :class:`~kpidsl.errors.UsageError` for ``records`` on a KPI measured per provider or a
    query sqlglot cannot write in the dialect (never a query that means something else), and
    :class:`~kpidsl.errors.RuleError` for a rule the SQL generator cannot translate.
    """
    from kpidsl.engines.sql import QueryBuilder, render
    from kpidsl.engines.sql.ddl import MONEY_SCALE
    from kpidsl.engines.sql.render import TESTED, Untranslatable
    from kpidsl.plan.nodes import KpiPlan

    _dialect(dialect)
    as_of = as_date(as_of)
    k_ast = rules.kpi(kpi)
    plan = lower(rules)
    k = plan.kpi(k_ast.name)
    try:
        qb = QueryBuilder(plan, [as_of], lines=False, money_scale=MONEY_SCALE.get(dialect, 1))
        if records:
            if not isinstance(k, KpiPlan):
                raise UsageError(f"{kpi} is measured per provider: it has no records to list")
            sql = f"{qb.with_}\n{qb.verdicts(k)}"
        else:
            sql = qb.counts(k)
    except Unsupported as e:  # a rule the SQL generator cannot translate: say so, not a bug
        raise RuleError([Diagnostic(message=f"kpi {kpi} cannot be written in SQL: {e}",
                                    file=str(k_ast.span.file), line=k_ast.span.line,
                                    column=k_ast.span.column)]) from None
    head = [f"-- {kpi} as of {as_of}: {'one row per record' if records else 'counts per group'}",
            "-- generated by kpidsl from the rule files; the tables are the data contract's"
            f" (kpidsl sql --schema --dialect {dialect})"]
    if dialect not in TESTED:
        head.append(f"-- UNTESTED in {dialect}: kpidsl runs its SQL on {', '.join(TESTED)} in "
                    "its tests; this translation by sqlglot has not been run")
    for clause in ("population", "counted", "pending", "actual", "planned", "target"):
        part = getattr(k_ast, clause, None)
        expr = getattr(part, "expr", None)
        if expr is not None:  # the rule's own words, which the query computes
            label = f"{clause} when" if clause in ("counted", "pending") else clause
            direction = getattr(part, "direction", None)
            direction = f"{direction} " if direction else ""
            head.append(f"-- {label}: {direction}"
                        f"{source_text(rules, expr.span)}")
    try:
        return "\n".join(head) + f"\n{render(sql, dialect)};"
    except Untranslatable as e:
        raise UsageError(str(e), f"kpidsl runs its SQL on {', '.join(TESTED)}") from None


def sql_schema(dialect: str = "duckdb") -> str:
    """The ``CREATE TABLE`` statements of the data contract's tables in ``dialect``, which
    says, as :func:`kpi_sql` does, when kpidsl's tests do not run it there."""
    from kpidsl.engines.sql import schema
    from kpidsl.engines.sql.render import TESTED

    text = schema(_dialect(dialect))
    if dialect not in TESTED:
        text = (f"-- UNTESTED in {dialect}: kpidsl makes these tables in {', '.join(TESTED)} "
                "in its tests; this translation by sqlglot has not been run\n" + text)
    return text


def _dialect(name: str) -> str:
    """A dialect sqlglot writes, or a :class:`NotFoundError` naming the closest."""
    from sqlglot.dialects.dialect import Dialect

    names = sorted(n for n in Dialect.classes if n)
    if name not in names:
        raise NotFoundError(f"unknown dialect {name!r}", suggest(name.lower(), names)
                            or "the dialects are " + ", ".join(names))
    return name
