"""The commands: each reads its arguments, asks the library, and prints what it gets back.

Every decision (which rules, which results, what is valid) is the library's; a command only
turns options into arguments and results into output. Each returns its exit code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import sys
from collections.abc import Iterable
from typing import Any

from kpidsl import limits
from kpidsl.cli.terminal import (
    check_out,
    data_paths,
    emit,
    existing,
    plural,
    rules,
    rules_json,
    rules_line,
    select,
    working,
    write,
)
from kpidsl.collector import collector_paused
from kpidsl.errors import Diagnostic, RuleError, UsageError
from kpidsl.files import open_output

OK, ERRORS = 0, 1


@collector_paused(keep=True)
def check(args: argparse.Namespace) -> int:
    """The collector paused throughout, as for ``evaluate``."""
    from kpidsl.language.prose import prose_warnings

    rule_set = rules([*args.paths, *(args.rules or ())], tests=True, say=True)
    print(rules_line(rule_set))
    counts = [(len(rule_set.kpis), "KPI"), (len(rule_set.definitions), "definition"),
              (len(rule_set.tables), "table"), (len(rule_set.schedules), "schedule"),
              (len(rule_set.notices), "finding or action"), (len(rule_set.tests), "test")]
    summary = ", ".join(f"{n} {plural(word, n)}" for n, word in counts)
    warnings = prose_warnings(rule_set)
    for w in warnings:
        print(w.render() + "\n", file=sys.stderr)
    if warnings:
        summary += f"; {len(warnings)} {plural('warning', len(warnings))} about the prose"
    files = len(rule_set.files)
    print(f"{files} rule {plural('file', files)} OK: {summary}")
    return OK


@collector_paused(keep=True)
def evaluate(args: argparse.Namespace) -> int:
    """The collector paused throughout (as for ``history``): importing the library and reading
    the rules make some hundred thousand objects, none in a cycle, that its collections went
    through again and again (10 ms of the sample's evaluation; 32 ms at 100,000 learners,
    with the report's), and the engines pause it for their own work anyway."""
    from kpidsl.api import evaluate as evaluate_rules
    from kpidsl.outputs.csvout import to_csv
    from kpidsl.outputs.jsonout import json_pieces, verdict_json
    from kpidsl.outputs.text import render_table

    if args.explain and args.format != "json":
        raise UsageError("--explain needs --format json (for a table: kpidsl explain KPI)")
    check_out(args)
    rule_set = rules(args.rules)
    with working("evaluating"):
        whole = evaluate_rules(rule_set, data_paths(args.data), as_of=args.as_of,
                               engine=args.engine, explain=args.format == "xlsx" or args.explain)
        report = select(whole, args)
    if args.record:
        from kpidsl.tools.evidence import record_evidence

        record_evidence(whole, rule_set, None, args.record)  # every figure, whatever was shown
        print(f"kpidsl: wrote the evidence bundle {args.record}", file=sys.stderr)
    if args.format == "xlsx":
        from kpidsl.outputs.xlsx import write_report

        write(args.out, lambda path: write_report(path, report, rule_set,
                                                  docs_url=args.docs_url))
        return OK
    if args.format == "json":
        out = {**report.to_dict(written=True), "rules": rules_json(rule_set)}
        if args.explain:
            shown = {r.kpi for r in report.results}
            out["explanations"] = {e.result.kpi: [verdict_json(v) for v in e.verdicts]
                                   for e in whole.explanations if e.result.kpi in shown}
        text: str | Iterable[bytes] = [*json_pieces(out), b"\n"]  # written as it is made
    elif args.format == "csv":
        text = to_csv(report)
    elif args.format == "html":
        from kpidsl.outputs.html import report_html

        text = report_html(report, rule_set, docs_url=args.docs_url)
    else:
        text = rules_line(rule_set) + "\n" + render_table(report, rule_set) + "\n"
    emit(args.out, text)
    return OK


def verify(args: argparse.Namespace) -> int:
    """Exit 1 when a figure is not reproduced, the bundle was changed or the data differ from
    the recorded data (unless --figures-only), as for bad data."""
    from kpidsl.tools.evidence import render
    from kpidsl.tools.evidence import verify as verify_bundle

    bundle = existing(args.bundle)
    data = data_paths(args.data)
    with working("evaluating"):
        outcome = verify_bundle(bundle, data, figures_only=args.figures_only)
    print(render(outcome, args.bundle))
    return OK if outcome.reproduced else ERRORS


def test(args: argparse.Namespace) -> int:
    """Exit 1 when a test fails, as for a rule error: either way the rules need attention."""
    from kpidsl.tools.testing import render, run_tests

    rule_set = rules([*args.paths, *(args.rules or ())], tests=True, say=True)
    report = run_tests(rule_set)
    print(rules_line(rule_set))
    print(render(report))
    return OK if report.ok else ERRORS


def generate(args: argparse.Namespace) -> int:
    from kpidsl.data.csvfiles import write_data
    from kpidsl.data.generate import generate as generate_data
    from kpidsl.data.load import is_workbook

    if args.learners < 1:
        raise UsageError(f"--learners must be at least 1, not {args.learners}")
    if args.learners > limits.MAX_GENERATED:
        raise UsageError(f"--learners must be at most {limits.MAX_GENERATED:,}, not "
                         f"{args.learners:,}")
    if args.ilr:
        from kpidsl.api import write_ilr

        if is_workbook(args.out) or (os.path.exists(args.out) and not os.path.isdir(args.out)):
            raise UsageError(f"--out {args.out}: ILR returns are written to a folder")
        if os.path.isdir(args.out) and any(n.lower().endswith(".xml")
                                           for n in os.listdir(args.out)):
            raise UsageError(f"--out {args.out} holds .xml files already: they would be read "
                             "with the new returns; give a new folder")
        rule_set = rules(args.rules)
        data = generate_data(args.learners, seed=args.seed)
        try:
            returns, sheet = write_ilr(data, args.out, rule_set)
        except OSError as e:
            raise UsageError(f"cannot write to {args.out}: {e.strerror or e}") from None
        print(f"wrote {len(data.learners)} learners in {len(returns)} ILR returns to "
              f"{args.out} and their datasheet to {sheet}")
        return OK
    if is_workbook(args.out):
        data = generate_data(args.learners, seed=args.seed)
        _write_workbook(args.out, data)
    else:
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise UsageError(f"--out {args.out} is a file; give a folder to write the data "
                             "set to, or a name ending in .xlsx for a workbook")
        try:
            os.makedirs(args.out, exist_ok=True)  # before generating: a bad path fails at once
            data = generate_data(args.learners, seed=args.seed)
            write_data(data, args.out)
        except OSError as e:
            raise UsageError(f"cannot write the data set to {args.out}: "
                             f"{e.strerror or e}") from None
    print(f"wrote {len(data.learners)} learners, {len(data.bootcamps)} bootcamps and "
          f"{len(data.providers)} providers to {args.out}")
    return OK


def _write_workbook(path: str, data: Any = None, columns: Any = None, **ilr: Any) -> None:
    """Write the datasheet workbook (filled with ``data`` when given), or a usage error."""
    from xlsxwriter.exceptions import (  # type: ignore[import-untyped]  # ships no types
        XlsxWriterException,
    )

    from kpidsl.data.datasheet import write_workbook

    if os.path.isdir(path):
        raise UsageError(f"--out {path} is a folder; give the workbook's file name")
    try:
        write_workbook(path, data, columns, **ilr)
    except (OSError, ValueError, XlsxWriterException) as e:
        cause = getattr(e, "strerror", None) or e.__cause__ or e
        raise UsageError(f"cannot write the workbook {path}: {cause}") from None


def template(args: argparse.Namespace) -> int:
    from kpidsl.api import load_data
    from kpidsl.data.load import is_workbook
    from kpidsl.data.sources import DATASHEET, MAY_BE_EMPTY, STAND_INS

    if not is_workbook(args.out):
        raise UsageError(f"--out {args.out}: the template is an Excel workbook; give a name "
                         "ending in .xlsx")
    if args.ilr and args.data:
        raise UsageError("give --ilr RETURNS or --data DATA, not both: the datasheet of ILR "
                         "returns is filled from the returns alone")
    if args.ilr:  # filled with what the returns give, so that it changes nothing as it is
        given = load_data(data_paths(args.ilr), rules(args.rules))
        _write_workbook(args.out, given, DATASHEET, optional=MAY_BE_EMPTY, filled=STAND_INS)
        print(f"wrote the datasheet that goes with the ILR returns to {args.out}, filled with "
              f"what they give of their {len(given.learners)} "
              f"{plural('learner', len(given.learners))} and {len(given.interviews)} "
              f"{plural('interview offer', len(given.interviews))}")
        return OK
    data = load_data(data_paths(args.data)) if args.data else None
    _write_workbook(args.out, data)
    filled = f", filled with {len(data.learners)} learners" if data is not None else ""
    print(f"wrote the datasheet template to {args.out}{filled}")
    return OK


def ilr(args: argparse.Namespace) -> int:
    """Write the records the returns (and datasheet) yield; the findings go to stderr."""
    from kpidsl.api import load_data
    from kpidsl.data.csvfiles import write_data

    if args.data and len(args.data) > 1:  # taken, the last would hide the others
        raise UsageError(f"--data was given {len(args.data)} times ({', '.join(args.data)}): "
                         "kpidsl ilr takes one datasheet, and the returns as its arguments",
                         "kpidsl ilr RETURNS... --data DATASHEET --out DIR")
    rule_set = rules(args.rules)
    paths = [*(existing(p) for p in args.returns), *(existing(p) for p in args.data or ())]
    with working("reading the ILR returns"):
        data = load_data(paths, rule_set)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} is a file; give a folder")
    try:
        write_data(data, args.out)
    except OSError as e:
        raise UsageError(f"cannot write to {args.out}: {e.strerror or e}") from None
    for d in data.notices:
        print(d.render(), file=sys.stderr)
    counts = [(len(data.providers), "provider"), (len(data.bootcamps), "bootcamp"),
              (len(data.learners), "learner")]
    found = len(data.notices)
    said = [f"{n} {plural(w, n)}" for n, w in counts]
    print(f"wrote {', '.join(said[:-1])} and {said[-1]} to {args.out}"
          + (f" ({found} {plural('finding', found)} above)" if found else ""))
    if not args.data:  # the required values only the datasheet holds are empty cells there
        print("without their datasheet (--data) the files lack every value it supplies, as "
              "the findings say, and do not load as a data set: evaluate the returns with "
              "their datasheet instead")
    return OK


def explain(args: argparse.Namespace) -> int:
    from kpidsl.api import explain as explain_kpi
    from kpidsl.outputs.jsonout import result_json, verdict_json
    from kpidsl.outputs.text import audit_lines, render_explain

    rule_set = rules(args.rules)
    per_provider = rule_set.kpi(args.kpi).per is not None  # an unknown KPI: refused before
    data = data_paths(args.data)                             # the data is read
    with working("explaining"):
        why = explain_kpi(rule_set, data, args.kpi, args.group, as_of=args.as_of,
                          engine=args.engine, verdicts=args.verdict)
    if args.format == "json":
        print(json.dumps({"as_of": why.as_of.isoformat(), "audit": why.audit,
                          "result": result_json(why.result),
                          "records": [verdict_json(v) for v in why.verdicts],
                          "rules": rules_json(rule_set)}, indent=2))
    else:
        print(rules_line(rule_set))
        print("\n".join([render_explain(why.verdicts, why.result, why.as_of, per_provider,
                                        args.verdict or (), why.name),
                          "", *audit_lines(why.audit)]))
    return OK


@collector_paused(keep=True)
def history(args: argparse.Namespace) -> int:
    """The collector paused throughout, not only while the results are made: the first
    collections after it resumes would go through every result the history holds (a tenth of
    a second each, twice, at 100,000 learners), and they find no cycles to free."""
    from kpidsl.api import history_report
    from kpidsl.outputs.jsonout import history_json, json_pieces
    from kpidsl.outputs.text import audit_lines, render_history

    check_out(args)
    if args.chart and not args.chart.lower().endswith(".svg"):
        raise UsageError(f"--chart {args.chart}: the chart is an SVG drawing; give a name "
                         "ending in .svg")
    rule_set = rules(args.rules)
    data = data_paths(args.data)
    with working(f"evaluating {args.start:%Y-%m} to {args.end:%Y-%m}"):
        found = history_report(rule_set, data, args.start, args.end, kpis=args.kpi,
                               group=args.group, statuses=args.status, engine=args.engine)
    months, group, audit, names = found.months, found.group, found.audit, found.names
    if args.chart:
        # here: the chart's XML escaping (xml.sax.saxutils) imports urllib.request, http,
        # email and ssl, 15-30 ms that a history without a chart has no use for
        from kpidsl.outputs.svg import history_svg

        try:
            with open_output(args.chart) as chart:
                chart.write(history_svg(months, group, rule_set, names).encode("utf-8"))
        except OSError as e:
            raise UsageError(f"cannot write the chart to {args.chart}: "
                             f"{e.strerror or e}") from None
        print(f"wrote the chart to {args.chart}", file=sys.stderr)  # stdout may be the report
    if args.format == "xlsx":
        from kpidsl.outputs.xlsx import write_history

        write(args.out, lambda path: write_history(path, months, rule_set, group,
                                                   docs_url=args.docs_url, audit=audit,
                                                   names=names))
    elif args.format == "html":
        from kpidsl.outputs.html import history_html

        emit(args.out, history_html(months, rule_set, group, docs_url=args.docs_url,
                                    audit=audit, names=names))
    elif args.format == "json":
        emit(args.out, itertools.chain(json_pieces({"audit": audit, **history_json(months),
                                                    "rules": rules_json(rule_set)},
                                                   expand=("months",)), [b"\n"]))
    else:
        emit(args.out, "\n".join([rules_line(rule_set),
                                  render_history(months, group, names=names), "",
                                  *audit_lines(audit)]) + "\n")
    return OK


def diff(args: argparse.Namespace) -> int:
    """Exit 0 whether or not anything changes: a change is what the command reports, not a
    failure. Errors in either rule set (or their tests), or in the data, exit 1."""
    from kpidsl.api import diff as diff_results
    from kpidsl.language.changes import compare_all
    from kpidsl.outputs.diff import diff_json, render_diff

    if args.data is None and (args.as_of or args.engine):
        raise UsageError(f"{'--as-of' if args.as_of else '--engine'} is for comparing "
                         "results: give --data DATA too")
    rule_sets = []
    problems: list[Diagnostic] = []
    for path in (args.old, args.new):
        try:
            rule_sets.append(rules([path], tests=True))
        except RuleError as e:
            problems += e.diagnostics
    if problems:
        raise RuleError(problems)
    old, new = rule_sets
    changes = compare_all(old, new)
    moved = None
    if args.data is not None:
        data = data_paths(args.data)
        with working("evaluating both rule sets"):
            moved = diff_results(old, new, data, as_of=args.as_of, engine=args.engine)
    if args.format == "json":
        print(json.dumps({**diff_json(changes, moved), "rules": {
            "old": rules_json(old), "new": rules_json(new)}}, indent=2))
    else:
        print(rules_line(old, "Old rules"))
        print(rules_line(new, "New rules"))
        print(render_diff(changes, moved))
    return OK


#: ``fmt --check`` shows at most this many lines of each file's diff, each at most
#: ``_DIFF_WIDTH`` characters.
_DIFF_LINES, _DIFF_WIDTH = 40, 200


def fmt(args: argparse.Namespace) -> int:
    """Lays out each file on its own (layout is per file: no checking against its folder). A
    file that does not parse is left as it is and reported, after the others are done."""
    from kpidsl.api import default_rules_path, working_rules_path
    from kpidsl.errors import printable
    from kpidsl.language.formatter import reformat

    paths = args.paths or [working_rules_path()]
    if not args.paths and paths[0] == default_rules_path():
        raise UsageError("this folder holds no rule files: name the files or folders to lay "
                         "out (kpidsl fmt rules)")
    changed, read, problems = reformat([existing(str(p)) for p in paths],
                                       write=not args.check)
    for f in changed:
        if args.check:
            more = len(f.diff) - _DIFF_LINES
            print(f"would reformat {f.path}")
            shown = [_shorten(printable(x)) for x in f.diff[:_DIFF_LINES]]
            print("\n".join(shown + [f"… {more} more {plural('line', more)}"] * (more > 0)
                            or ["(only its line ends or byte-order mark change)"]))
        else:
            print(f"reformatted {f.path}")
    done = "would be reformatted" if args.check else "reformatted"
    print(f"{len(changed)} of {read} rule {plural('file', read)} {done}")
    if problems:
        raise RuleError(problems)
    return ERRORS if args.check and changed else OK


def _shorten(line: str) -> str:
    return line if len(line) <= _DIFF_WIDTH else line[:_DIFF_WIDTH - 1] + "…"


def sql(args: argparse.Namespace) -> int:
    """The query behind a KPI (or the tables' schema), for analysts' own warehouses."""
    from kpidsl.api import kpi_sql, sql_schema

    if args.schema:
        sys.stdout.write(sql_schema(args.dialect))
        return OK
    if not args.kpi:
        raise UsageError("name a KPI (e.g. kpidsl sql learner_dropout), or give --schema")
    rule_set = rules(args.rules)
    print(kpi_sql(rule_set, args.kpi, args.as_of or dt.date.today(), dialect=args.dialect,
                  records=args.records))
    return OK


def load(args: argparse.Namespace) -> int:
    """Write a checked data set into a database."""
    from kpidsl.api import load_into
    from kpidsl.data.load import is_returns
    from kpidsl.engines.connection import without_password

    paths = [existing(p) for p in args.data]
    rule_set = rules(args.rules) if any(map(is_returns, paths)) else None
    with working("loading"):
        rows, notices = load_into(paths[0] if len(paths) == 1 else paths, args.into,
                                  replace=args.replace, rules=rule_set)
    for d in notices:
        print(d.render(), file=sys.stderr)
    said = [f"{rows[t]} {t}" for t in ("providers", "bootcamps", "learners")]
    print(f"loaded {', '.join(said)} into {without_password(args.into)}")
    return OK


COMMANDS = {"check": check, "evaluate": evaluate, "generate": generate, "template": template,
            "test": test, "explain": explain, "history": history, "diff": diff, "fmt": fmt,
            "sql": sql, "verify": verify, "ilr": ilr, "load": load}
