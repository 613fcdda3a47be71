"""The command line: ``kpidsl check | evaluate | verify | generate | template | test |
explain | history | diff | sql | fmt``.

``kpidsl fmt`` rewrites rule files in the canonical layout of :mod:`kpidsl.language.formatter`; with
``--check`` it writes nothing and exits 1 when a file would change (CI runs it on the rules).

Exit codes: 0 success; 1 the rule files or the data have errors (each is printed with its
location); 2 the command was used wrongly (an unknown option, a bad date, a missing path);
3 an internal error in kpidsl itself (a bug: please report it). No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import difflib
import itertools
import json
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from kpidsl import limits
from kpidsl.engines import ENGINES
from kpidsl.errors import KpidslError, RuleError, UsageError, date_problem, suggest
from kpidsl.files import open_output
from kpidsl.language.vocabulary import Scope, Status
from kpidsl.version import __version__

if TYPE_CHECKING:
    from kpidsl.outputs.report import Report

OK, ERRORS, USAGE, INTERNAL = 0, 1, 2, 3

#: The command line asks for something impossible (exit 2).
_UsageError = UsageError
#: Work that takes longer than this (seconds) shows its progress on stderr, at a terminal.
PROGRESS_AFTER = 2.0
_VERDICTS = ("counted", "not_counted", "pending")
_ENGINE_HELP = ("duckdb (the default for a data folder: SQL on the embedded DuckDB, fast on "
                "big data), python (the reference engine) or spark (a local Spark; needs "
                "kpidsl[spark] and Java)")


class _Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a misspelt command, choice or option."""

    def error(self, message: str) -> NoReturn:
        bad = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if bad:
            hint = suggest(bad[1], re.findall(r"'([^']*)'", bad[2]))
            message += f"; {hint}" if hint else ""
        super().error(message)


def _unrecognised(parser: argparse.ArgumentParser, extra: list[str]) -> NoReturn:
    """Refuse arguments the command does not have, suggesting the closest option."""
    options = [o for a in parser._actions for o in a.option_strings]
    first = next((x for x in extra if x.startswith("-")), None)
    hint = suggest(first.split("=")[0], options) if first else None
    parser.error(f"unrecognized arguments: {' '.join(extra)}" + (f"; {hint}" if hint else ""))


@contextlib.contextmanager
def _working(what: str) -> Iterator[None]:
    """``kpidsl: <what>…`` on stderr if the work takes more than ``PROGRESS_AFTER`` seconds,
    only when stderr is a terminal (the line is cleared when the work is done)."""
    if not sys.stderr.isatty():
        yield
        return
    shown = threading.Event()

    def show() -> None:
        shown.set()
        print(f"\rkpidsl: {what}…", end="", file=sys.stderr, flush=True)

    timer = threading.Timer(PROGRESS_AFTER, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if shown.is_set():
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)


def _date(text: str) -> dt.date:
    """A date written YYYY-MM-DD, and only so (``date.fromisoformat`` also takes 20250331)."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a date: "
                                             f"{date_problem(text)}") from None
    raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD")


def _existing(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise _UsageError(f"{path}: no such file or folder")
    return p


_DATA_HELP = "a folder of CSV files, or a datasheet workbook (.xlsx)"
_DOCS_URL_HELP = ("html and xlsx: the documentation site; each KPI links to its page in the "
                  "rule reference there (default: no links)")
_OUT_HELP = "write the report to FILE (default: the terminal)"
_RULES_HELP = ("rule file or folder (repeatable; default: ./rules when the working folder has "
               "one, else the shipped rules)")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="kpidsl",
        description="Evaluate the Skills Bootcamps KPIs written as .kpi rule files.",
        epilog="Exit codes: 0 success, 1 rule or data errors, 2 usage errors, 3 internal error.",
    )
    p.add_argument("--version", action="version", version=f"kpidsl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           parser_class=_Parser)

    c = sub.add_parser("check", help="parse and check rule files",
                       description="Parse and check rule files; print every problem found.")
    c.add_argument("paths", nargs="*", metavar="PATH",
                   help="rule files or folders (default: ./rules, else the shipped rules)")
    c.add_argument("--rules", action="append", metavar="PATH", help=_RULES_HELP)

    e = sub.add_parser("evaluate", help="evaluate the KPIs on a data set",
                       description="Evaluate every KPI for every bootcamp, provider and the "
                       "programme.")
    e.add_argument("--data", required=True, metavar="DATA",
                   help=_DATA_HELP)
    e.add_argument("--rules", action="append", metavar="PATH",
                   help=_RULES_HELP)
    e.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                   help="evaluate as things stood at the end of this day (default: today)")
    e.add_argument("--format", choices=("table", "json", "csv", "html", "xlsx"),
                   default="table", help="table (default, fits 80 columns), json (KPI-SPEC "
                   "§4), csv (one row per result), html (a report page to send) or xlsx (a "
                   "report workbook; needs --out)")
    e.add_argument("--out", metavar="FILE", help=_OUT_HELP)
    e.add_argument("--docs-url", metavar="URL", help=_DOCS_URL_HELP)
    _filters(e, scope=True)
    e.add_argument("--engine", choices=ENGINES, default=None, help=_ENGINE_HELP)
    e.add_argument("--explain", action="store_true",
                   help="json only: add \"explanations\", each KPI's records with their verdict "
                   "and why (default: off)")
    e.add_argument("--record", metavar="DIR",
                   help="also write an evidence bundle to this new folder: the rules as "
                   "evaluated, the whole report and the fingerprints of the data (default: "
                   "none; check it later with kpidsl verify)")

    v = sub.add_parser("verify", help="check that an evidence bundle's figures are reproduced",
                       description="Evaluate the rules of an evidence bundle (written by "
                       "evaluate --record) again on a data folder, at the recorded date, and "
                       "say whether every figure is reproduced, naming the first that is not. "
                       "Exits 1 if one is not.")
    v.add_argument("bundle", metavar="BUNDLE", help="the folder written by evaluate --record")
    v.add_argument("--data", required=True, metavar="DIR", help="folder of CSV files")

    t = sub.add_parser("test", help="run the tests written beside the rules",
                       description="Run the `test` blocks of rule files; print a pass/fail "
                       "line per test and what the tests cover of each KPI.")
    t.add_argument("paths", nargs="*", metavar="PATH",
                   help="rule files or folders (default: ./rules, else the shipped rules)")
    t.add_argument("--rules", action="append", metavar="PATH", help=_RULES_HELP)

    g = sub.add_parser("generate", help="write a synthetic data set",
                       description="Write a realistic, reproducible synthetic data set.")
    g.add_argument("--out", required=True, metavar="DIR",
                   help="folder to write the CSV files to, or a workbook (.xlsx) to write")
    g.add_argument("--learners", type=int, default=1000, metavar="N",
                   help=f"how many learners, at least 1 and at most {limits.MAX_GENERATED:,} "
                   "(default: 1000)")
    g.add_argument("--seed", type=int, default=0, metavar="S",
                   help="the same seed writes the same data (default: 0)")

    w = sub.add_parser("template", help="write the datasheet workbook that providers fill in",
                       description="Write an Excel workbook with one sheet per file of the "
                       "data contract, a note on every column, drop-downs and formats, and a "
                       "first sheet explaining how to fill it in.")
    w.add_argument("--out", required=True, metavar="FILE.xlsx", help="the workbook to write")
    w.add_argument("--data", metavar="DATA",
                   help="fill it with this data set, a folder of CSV files or a workbook "
                   "(default: empty)")

    x = sub.add_parser("explain", help="show why each record of a KPI counts or not",
                       description="List every record of a KPI's population in a group with "
                       "its verdict, the clause that decided it and the values it read.")
    x.add_argument("kpi", metavar="KPI", help="the KPI's id, e.g. learner_dropout")
    x.add_argument("--data", required=True, metavar="DATA",
                   help=_DATA_HELP)
    x.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: today")
    x.add_argument("--group", default="all", metavar="ID",
                   help="a bootcamp or provider id, or all (default); an id that is both is "
                   "written bootcamp:ID or provider:ID")
    x.add_argument("--rules", action="append", metavar="PATH",
                   help=_RULES_HELP)
    x.add_argument("--format", choices=("table", "json"), default="table",
                   help="table (default) or json")
    x.add_argument("--verdict", choices=(*_VERDICTS, *(s.value for s in Status)), action="append",
                   help="show only the records with this verdict (repeatable; a KPI judged per "
                   "provider has a status as its verdict; default: every record)")
    x.add_argument("--engine", choices=ENGINES, default=None, help=_ENGINE_HELP)

    h = sub.add_parser("history", help="each KPI's status at every month end",
                       description="Evaluate the KPIs at the last day of each month from "
                       "--from to --to and show how their statuses moved.")
    h.add_argument("--data", required=True, metavar="DATA",
                   help=_DATA_HELP)
    h.add_argument("--from", dest="start", required=True, type=_month, metavar="YYYY-MM",
                   help="the first month (evaluated at its last day)")
    h.add_argument("--to", dest="end", required=True, type=_month, metavar="YYYY-MM",
                   help="the last month, included (at most "
                   f"{limits.MAX_HISTORY_MONTHS} months from --from)")
    h.add_argument("--rules", action="append", metavar="PATH",
                   help=_RULES_HELP)
    h.add_argument("--format", choices=("table", "json", "html", "xlsx"), default="table",
                   help="table (default), json, html (a report page with the trend chart) or "
                   "xlsx (a workbook; needs --out)")
    h.add_argument("--out", metavar="FILE", help=_OUT_HELP)
    h.add_argument("--docs-url", metavar="URL", help=_DOCS_URL_HELP)
    h.add_argument("--engine", choices=ENGINES, default=None, help=_ENGINE_HELP)
    h.add_argument("--chart", metavar="FILE.svg",
                   help="also draw the rates as an SVG chart (default: no chart)")
    h.add_argument("--kpi", metavar="ID", action="append",
                   help="only this KPI (repeatable; default: every KPI)")
    h.add_argument("--status", choices=tuple(s.value for s in Status), action="append",
                   help="only results with this status at a month end (repeatable; default: "
                   "every status)")
    h.add_argument("--group", metavar="ID",
                   help="a bootcamp or provider id (bootcamp:ID or provider:ID for an id "
                   "that is both), or all (table and chart default: all; JSON default: every "
                   "group)")

    d = sub.add_parser("diff", help="what changed in the rules, their texts and tests, and in "
                       "the results",
                       description="List what changed between two rule sets, in three parts: "
                       "the changes of meaning, which can change results (targets, parameter "
                       "table values, schedules, definitions, clauses, findings and actions, "
                       "KPIs added or removed); the changes of the texts for readers, which "
                       "change no result (a KPI's guidance table entries, policy and "
                       "decisions, and descriptions); and the changes of the tests beside the "
                       "rules. Layout and comments are no change. With --data, also evaluate "
                       "both rule sets on that data and list the results whose status or "
                       "counts change, and each added KPI's results. Exits 0 whether or not "
                       "anything changes.")
    d.add_argument("old", metavar="OLD_RULES", help="rule file or folder before the change")
    d.add_argument("new", metavar="NEW_RULES", help="rule file or folder after the change")
    d.add_argument("--data", metavar="DATA",
                   help=f"{_DATA_HELP}, to evaluate both rule sets on (default: none; the "
                   "results are not compared)")
    d.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                   help="with --data: evaluate as things stood at the end of this day "
                   "(default: today)")
    d.add_argument("--format", choices=("table", "json"), default="table",
                   help="table (default) or json")
    d.add_argument("--engine", choices=ENGINES, default=None,
                   help=f"with --data: {_ENGINE_HELP}")

    s = sub.add_parser("sql", help="print a KPI's rule as SQL, for your own warehouse",
                       description="Print the SQL query that computes a KPI's counts per group "
                       "(scope, group_id, denominator, numerator, pending) from tables named "
                       "after the data contract's files, in the SQL dialect of your choice.")
    s.add_argument("kpi", nargs="?", metavar="KPI", help="the KPI's id, e.g. learner_dropout")
    s.add_argument("--dialect", default="duckdb", metavar="D",
                   help="duckdb (default), spark, postgres, tsql, bigquery, snowflake, … "
                   "(any dialect sqlglot writes)")
    s.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: today")
    s.add_argument("--records", action="store_true",
                   help="print the per-record verdicts query instead of the counts")
    s.add_argument("--schema", action="store_true",
                   help="print the CREATE TABLE statements of the contract's tables instead")
    s.add_argument("--rules", action="append", metavar="PATH",
                   help=_RULES_HELP)

    f = sub.add_parser("fmt", help="rewrite rule files in the canonical layout",
                       description="Rewrite rule files in one canonical layout, keeping their "
                       "comments; the rules mean exactly what they meant before.")
    f.add_argument("paths", nargs="*", metavar="PATH",
                   help="rule files or folders (every .kpi file below a folder; default: the "
                   "rules of the working folder, as for check)")
    f.add_argument("--check", action="store_true",
                   help="write nothing; list the files that would change, with a short diff, "
                   "and exit 1 if there are any")
    for command in sub.choices.values():
        command.set_defaults(subparser=command)
    return p


def _filters(p: argparse.ArgumentParser, scope: bool) -> None:
    """``--kpi``, ``--status``, ``--group`` (and ``--scope``): which results to show."""
    p.add_argument("--kpi", metavar="ID", action="append",
                   help="only this KPI (repeatable; default: every KPI)")
    p.add_argument("--status", choices=tuple(s.value for s in Status), action="append",
                   help="only results with this status (repeatable; default: every status)")
    p.add_argument("--group", metavar="ID", action="append",
                   help="only this bootcamp or provider (bootcamp:ID or provider:ID for an id "
                   "that is both), or all for the programme (repeatable; default: every group)")
    if scope:
        p.add_argument("--scope", choices=tuple(s.value for s in Scope), action="append",
                       help="only results of this scope (repeatable; default: every scope)")


def _select(report: Report, args: argparse.Namespace) -> Report:
    """The results the filters of the command line ask for (every format honours them)."""
    from kpidsl.api import find_group

    groups = None
    if args.group:
        groups = []
        for g in args.group:
            scope, gid = find_group(report, g)
            groups.append(f"{scope}:{gid}")
    return report.select(kpis=args.kpi, scopes=getattr(args, "scope", None), groups=groups,
                         statuses=args.status)


def _plural(word: str, n: int) -> str:
    if n == 1:
        return word
    return "findings and actions" if word == "finding or action" else word + "s"


def _rules(paths: Sequence[str] | None, tests: bool = False) -> Any:
    """The rule set the command works on: ``paths`` (each must exist), else the working
    folder's (:func:`kpidsl.api.working_rules_path`); the tests written beside the rules only
    for the commands that run or check them."""
    from kpidsl.api import load_rules, working_rules_path
    from kpidsl.language.rulesets import unread_rule_files

    if paths:
        return load_rules([_existing(p) for p in paths], tests=tests)
    unread = unread_rule_files()
    if unread:
        names = ", ".join(p.name for p in unread[:3]) + (", …" if len(unread) > 3 else "")
        print(f"note: using rules/; this folder's own {names} "
              f"{'is' if len(unread) == 1 else 'are'} not read (move "
              f"{'it' if len(unread) == 1 else 'them'} into rules/, or type --rules . to use "
              "this folder's files instead)", file=sys.stderr)
    return load_rules(working_rules_path(), tests=tests)


def _rules_line(rules: Any, which: str = "Rules") -> str:
    """The line every table output starts with: which rules it was computed with."""
    from kpidsl.api import rules_fingerprint
    from kpidsl.language.rulesets import rules_label

    return f"{which}: {rules_label(rules)} (fingerprint {rules_fingerprint(rules)[:12]})"


def _rules_json(rules: Any) -> Any:
    from kpidsl.language.rulesets import rules_json

    return rules_json(rules)


def _check(args: argparse.Namespace) -> int:
    from kpidsl.language.prose import prose_warnings

    rules = _rules([*args.paths, *(args.rules or ())], tests=True)
    print(_rules_line(rules))
    counts = [(len(rules.kpis), "KPI"), (len(rules.definitions), "definition"),
              (len(rules.tables), "table"), (len(rules.schedules), "schedule"),
              (len(rules.notices), "finding or action"), (len(rules.tests), "test")]
    summary = ", ".join(f"{n} {_plural(word, n)}" for n, word in counts)
    warnings = prose_warnings(rules)
    for w in warnings:
        print(w.render() + "\n", file=sys.stderr)
    if warnings:
        summary += f"; {len(warnings)} {_plural('warning', len(warnings))} about the prose"
    print(f"{len(rules.files)} rule files OK: {summary}")
    return OK


def _evaluate(args: argparse.Namespace) -> int:
    from kpidsl.api import load_data

    if args.explain and args.format != "json":
        raise _UsageError("--explain needs --format json (for a table: kpidsl explain KPI)")
    _check_out(args)
    rules = _rules(args.rules)
    from kpidsl.api import evaluate
    from kpidsl.outputs.report import json_text, render_table, to_csv

    folder = _existing(args.data)
    with _working("evaluating"):
        whole = evaluate(rules, folder, as_of=args.as_of, engine=args.engine,
                         explain=args.format == "xlsx" or args.explain)
        report = _select(whole, args)
    if args.record:
        from kpidsl.tools.evidence import record_evidence

        # The evidence holds every figure; a workbook's files are fingerprinted as records.
        record_evidence(whole, rules, load_data(folder) if _is_workbook(str(folder)) else folder,
                        args.record)
        print(f"kpidsl: wrote the evidence bundle {args.record}", file=sys.stderr)
    if args.format == "xlsx":
        from kpidsl.outputs.xlsx import write_report

        _write(args.out, lambda path: write_report(path, report, rules,
                                                   docs_url=args.docs_url))
        return OK
    if args.format == "json":
        out = {**report.to_dict(written=True), "rules": _rules_json(rules)}
        if args.explain:
            from kpidsl.outputs.report import verdict_json

            shown = {r.kpi for r in report.results}
            out["explanations"] = {e.result.kpi: [verdict_json(v) for v in e.verdicts]
                                   for e in whole.explanations if e.result.kpi in shown}
        text = json_text(out) + "\n"
    elif args.format == "csv":
        text = to_csv(report)
    elif args.format == "html":
        from kpidsl.outputs.html import report_html

        text = report_html(report, rules, docs_url=args.docs_url)
    else:
        text = _rules_line(rules) + "\n" + render_table(report) + "\n"
    _emit(args.out, text)
    return OK


def _check_out(args: argparse.Namespace) -> None:
    """A workbook needs a file to go to; ``--docs-url`` only makes sense with links."""
    if args.format == "xlsx" and not args.out:
        raise _UsageError("--format xlsx writes a workbook: give its name with --out")
    if args.out and os.path.isdir(args.out):
        raise _UsageError(f"--out {args.out} is a folder; give a file name")
    if args.docs_url and args.format not in ("html", "xlsx"):
        raise _UsageError("--docs-url is for --format html or xlsx")


def _write(path: str, write: Any) -> None:
    """Run ``write(path)`` and say so; a file that cannot be written is a usage error."""
    try:
        write(path)
    except OSError as e:
        raise _UsageError(f"cannot write {path}: {e.strerror or e}") from None
    print(f"wrote {path}")


def _emit(out: str | None, text: str | Iterable[bytes]) -> None:
    """Print ``text`` (or its pieces of UTF-8, in turn), or write it to the file ``out``."""
    pieces = [text.encode("utf-8")] if isinstance(text, str) else text
    if out is None:
        sys.stdout.flush()
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:  # a text stream without bytes beneath (in a test, a StringIO)
            sys.stdout.writelines(piece.decode("utf-8") for piece in pieces)
        else:
            stream.writelines(pieces)
            stream.flush()
    else:
        def write(path: str) -> None:
            with open(path, "wb") as f:
                f.writelines(pieces)

        _write(out, write)


def _verify(args: argparse.Namespace) -> int:
    """Exit 1 when a figure is not reproduced (or the bundle was changed), as for bad data."""
    from kpidsl.api import load_data
    from kpidsl.tools.evidence import render, verify

    bundle = _existing(args.bundle)
    data = _existing(args.data)
    with _working("evaluating"):
        outcome = verify(bundle, load_data(data) if _is_workbook(str(data)) else data)
    print(render(outcome, args.bundle))
    return OK if outcome.reproduced else ERRORS


def _test(args: argparse.Namespace) -> int:
    """Exit 1 when a test fails, as for a rule error: either way the rules need attention."""
    from kpidsl.tools.testing import render, run_tests

    rules = _rules([*args.paths, *(args.rules or ())], tests=True)
    report = run_tests(rules)
    print(_rules_line(rules))
    print(render(report))
    return OK if report.ok else ERRORS


def _generate(args: argparse.Namespace) -> int:
    from kpidsl.data.csvfiles import write_data
    from kpidsl.data.generate import generate

    if args.learners < 1:
        raise _UsageError(f"--learners must be at least 1, not {args.learners}")
    if args.learners > limits.MAX_GENERATED:
        raise _UsageError(f"--learners must be at most {limits.MAX_GENERATED:,}, not "
                          f"{args.learners:,}")
    if _is_workbook(args.out):
        data = generate(args.learners, seed=args.seed)
        _write_workbook(args.out, data)
    else:
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise _UsageError(f"--out {args.out} is a file; give a folder to write the data "
                              "set to, or a name ending in .xlsx for a workbook")
        try:
            os.makedirs(args.out, exist_ok=True)  # before generating: a bad path fails at once
            data = generate(args.learners, seed=args.seed)
            write_data(data, args.out)
        except OSError as e:
            raise _UsageError(f"cannot write the data set to {args.out}: "
                              f"{e.strerror or e}") from None
    print(f"wrote {len(data.learners)} learners, {len(data.bootcamps)} bootcamps and "
          f"{len(data.providers)} providers to {args.out}")
    return OK


def _is_workbook(path: str) -> bool:
    return path.lower().endswith(".xlsx")


def _write_workbook(path: str, data: Any = None) -> None:
    """Write the datasheet workbook (filled with ``data`` when given), or a usage error."""
    from xlsxwriter.exceptions import XlsxWriterException

    from kpidsl.data.datasheet import write_workbook

    if os.path.isdir(path):
        raise _UsageError(f"--out {path} is a folder; give the workbook's file name")
    try:
        write_workbook(path, data)
    except (OSError, ValueError, XlsxWriterException) as e:
        cause = getattr(e, "strerror", None) or e.__cause__ or e
        raise _UsageError(f"cannot write the workbook {path}: {cause}") from None


def _template(args: argparse.Namespace) -> int:
    if not _is_workbook(args.out):
        raise _UsageError(f"--out {args.out}: the template is an Excel workbook; give a name "
                          "ending in .xlsx")
    from kpidsl.api import load_data

    data = load_data(_existing(args.data)) if args.data else None
    _write_workbook(args.out, data)
    filled = f", filled with {len(data.learners)} learners" if data is not None else ""
    print(f"wrote the datasheet template to {args.out}{filled}")
    return OK


def _month(text: str) -> dt.date:
    """A month written YYYY-MM, as its first day; its last day must be a date too (so not
    9999-12, whose end is computed from the first day of the month after)."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):
            year, month = int(text[:4]), int(text[5:])
            first = dt.date(year, month, 1)
            if (year, month) == (9999, 12):
                raise argparse.ArgumentTypeError(f"{text!r} is past the last month kpidsl can "
                                                 "evaluate, 9999-11")
            return first
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a month; write YYYY-MM, e.g. 2024-08 "
                                     "(up to 9999-11)")


def _explain(args: argparse.Namespace) -> int:
    from kpidsl.api import explain, load_data
    from kpidsl.outputs.report import audit_lines, render_explain, result_json, verdict_json

    rules = _rules(args.rules)
    per_provider = rules.kpi(args.kpi).per is not None  # an unknown KPI: refused before
    data = _existing(args.data)                         # the data is read
    kinds = tuple(s.value for s in Status) if per_provider else _VERDICTS
    wrong = [v for v in args.verdict or () if v not in kinds]
    if wrong:
        raise _UsageError(f"--verdict {wrong[0]} does not apply to {args.kpi}: "
                          f"{'a provider' if per_provider else 'a record'} of it is "
                          f"{', '.join(kinds[:-1])} or {kinds[-1]}")
    with _working("explaining"):
        why = explain(rules, data, args.kpi, args.group, as_of=args.as_of, engine=args.engine)
    verdicts = why.verdicts
    if args.verdict:
        wanted = {v.replace("_", " ") for v in args.verdict}
        verdicts = tuple(v for v in verdicts if v.verdict.replace("_", " ") in wanted)
    if _is_workbook(str(data)):  # fingerprinted as records; explained as a folder would be
        audit = _audit(rules, load_data(data), why.as_of, args.engine or "duckdb")
    else:
        audit = _audit(rules, data, why.as_of, args.engine)
    if args.format == "json":
        print(json.dumps({"as_of": why.as_of.isoformat(), "audit": audit,
                          "result": result_json(why.result),
                          "records": [verdict_json(v) for v in verdicts],
                          "rules": _rules_json(rules)}, indent=2))
    else:
        print(_rules_line(rules))
        print("\n".join([render_explain(verdicts, why.result, why.as_of, per_provider,
                                        args.verdict or ()), "", *audit_lines(audit)]))
    return OK


def _audit(rules: Any, data: Any, as_of: dt.date | None, engine: str | None
           ) -> dict[str, str]:
    """What produced the output of ``explain`` and ``history`` (``evaluate``'s report says
    it itself)."""
    from kpidsl.api import rules_fingerprint
    from kpidsl.data.csvfiles import data_fingerprint
    from kpidsl.engines.run import engine_name
    from kpidsl.outputs.report import audit_json

    return audit_json(rules=rules_fingerprint(rules), data=data_fingerprint(data), as_of=as_of,
                      engine=engine_name(data, engine))


def _history(args: argparse.Namespace) -> int:
    from kpidsl.api import find_group, history, load_data, month_ends
    from kpidsl.outputs.report import (
        audit_lines,
        history_json,
        history_svg,
        json_pieces,
        render_history,
    )

    if args.start > args.end:
        raise _UsageError(f"--from {args.start:%Y-%m} is after --to {args.end:%Y-%m}")
    months = (args.end.year - args.start.year) * 12 + args.end.month - args.start.month + 1
    if months > limits.MAX_HISTORY_MONTHS:
        raise _UsageError(f"--from {args.start:%Y-%m} --to {args.end:%Y-%m} spans {months:,} "
                          f"months; at most {limits.MAX_HISTORY_MONTHS:,} are shown at once")
    _check_out(args)
    if args.chart and not args.chart.lower().endswith(".svg"):
        raise _UsageError(f"--chart {args.chart}: the chart is an SVG drawing; give a name "
                          "ending in .svg")
    rules = _rules(args.rules)
    kpis = [rules.kpi(k) for k in args.kpi or ()]
    folder = _existing(args.data)
    with _working(f"evaluating {args.start:%Y-%m} to {args.end:%Y-%m}"):
        months_run = history(rules, folder, month_ends(args.start, args.end),
                             engine=args.engine)
    per_provider = bool(kpis) and all(k.per is not None for k in kpis)
    scope, group = (find_group(months_run[0][1], args.group, per_provider) if args.group
                    else (None, "all"))
    months = months_run if not kpis and scope is None and not args.status else \
        [(d, [r for r in results if (not kpis or r.kpi in args.kpi)
              and (scope is None or (r.scope, r.group) == (scope, group))
              and (not args.status or r.status in args.status)])
         for d, results in months_run]
    if args.chart:
        try:
            with open_output(args.chart) as chart:
                chart.write(history_svg(months, group).encode("utf-8"))
        except OSError as e:
            raise _UsageError(f"cannot write the chart to {args.chart}: "
                              f"{e.strerror or e}") from None
        print(f"wrote the chart to {args.chart}", file=sys.stderr)  # stdout may be the report
    if _is_workbook(str(folder)):  # fingerprinted as records; evaluated as a folder would be
        audit = _audit(rules, load_data(folder), None, args.engine or "duckdb")
    else:
        audit = _audit(rules, folder, None, args.engine)
    if args.format == "xlsx":
        from kpidsl.outputs.xlsx import write_history

        _write(args.out, lambda path: write_history(path, months, rules, group,
                                                    docs_url=args.docs_url, audit=audit))
    elif args.format == "html":
        from kpidsl.outputs.html import history_html

        _emit(args.out, history_html(months, rules, group, docs_url=args.docs_url,
                                     audit=audit))
    elif args.format == "json":
        _emit(args.out, itertools.chain(json_pieces({"audit": audit, **history_json(months),
                                                     "rules": _rules_json(rules)},
                                                    expand=("months",)), [b"\n"]))
    else:
        _emit(args.out, "\n".join([_rules_line(rules), render_history(months, group), "",
                                   *audit_lines(audit)]) + "\n")
    return OK


def _diff(args: argparse.Namespace) -> int:
    """Exit 0 whether or not anything changes: a change is what the command reports, not a
    failure. Errors in either rule set (or their tests), or in the data, exit 1."""
    from kpidsl.api import diff as api_diff
    from kpidsl.language.changes import compare_all
    from kpidsl.outputs.report import diff_json, render_diff

    if args.data is None and (args.as_of or args.engine):
        raise _UsageError(f"{'--as-of' if args.as_of else '--engine'} is for comparing "
                          "results: give --data DATA too")
    rule_sets, problems = [], []
    for path in (args.old, args.new):
        try:
            rule_sets.append(_rules([path], tests=True))
        except RuleError as e:
            problems += e.diagnostics
    if problems:
        raise RuleError(problems)
    changes = compare_all(*rule_sets)
    diff = None
    if args.data is not None:
        folder = _existing(args.data)
        with _working("evaluating both rule sets"):
            diff = api_diff(*rule_sets, folder, as_of=args.as_of, engine=args.engine)
    if args.format == "json":
        print(json.dumps({**diff_json(changes, diff), "rules": {
            "old": _rules_json(rule_sets[0]), "new": _rules_json(rule_sets[1])}}, indent=2))
    else:
        print(_rules_line(rule_sets[0], "Old rules"))
        print(_rules_line(rule_sets[1], "New rules"))
        print(render_diff(changes, diff))
    return OK


#: ``fmt --check`` shows at most this many lines of each file's diff, each at most
#: ``_DIFF_WIDTH`` characters.
_DIFF_LINES, _DIFF_WIDTH = 40, 200


def _shorten(line: str) -> str:
    return line if len(line) <= _DIFF_WIDTH else line[:_DIFF_WIDTH - 1] + "…"


def _fmt(args: argparse.Namespace) -> int:
    """Formats each file on its own (no checking against its folder: layout is per file). A
    file that does not parse is left as it is and reported, after the others are done."""
    from kpidsl.api import default_rules_path, working_rules_path
    from kpidsl.errors import Diagnostic, printable
    from kpidsl.language.formatter import format_source
    from kpidsl.language.source import decode_rules, read_rule_bytes

    paths = args.paths or [working_rules_path()]
    if not args.paths and paths[0] == default_rules_path():
        raise _UsageError("this folder holds no rule files: name the files or folders to lay "
                          "out (kpidsl fmt rules)")
    files: list[Path] = []
    for p in map(_existing, map(str, paths)):
        files += sorted(p.rglob("*.kpi")) if p.is_dir() else [p]
    changed, problems = 0, []
    for path in files:
        try:
            raw = read_rule_bytes(path)
            text = decode_rules(raw, str(path))
            new = format_source(text, str(path))
        except RuleError as e:
            problems += e.diagnostics
            continue
        if new.encode("utf-8") == raw:
            continue
        changed += 1
        if args.check:
            diff = list(difflib.unified_diff(text.splitlines(), new.splitlines(), str(path),
                                             f"{path} (formatted)", n=1, lineterm=""))
            more = len(diff) - _DIFF_LINES
            print(f"would reformat {path}")
            shown = [_shorten(printable(x)) for x in diff[:_DIFF_LINES]]
            print("\n".join(shown + [f"… {more} more lines"] * (more > 0)
                            or ["(only its line ends or byte-order mark change)"]))
        else:
            try:
                with open_output(path) as out:
                    out.write(new.encode("utf-8"))
            except OSError as e:
                changed -= 1
                problems.append(Diagnostic(message="cannot write the formatted rule file: "
                                           f"{e.strerror or e}", file=str(path)))
                continue
            print(f"reformatted {path}")
    done = "would be reformatted" if args.check else "reformatted"
    print(f"{changed} of {len(files)} rule files {done}")
    if problems:
        raise RuleError(problems)
    return ERRORS if args.check and changed else OK


def _sql(args: argparse.Namespace) -> int:
    """The query behind a KPI (or the tables' schema), for analysts' own warehouses."""
    from sqlglot.dialects.dialect import Dialect

    from kpidsl.api import kpi_sql
    from kpidsl.engines.sql import schema

    names = sorted(n for n in Dialect.classes if n)
    if args.dialect not in names:
        near = difflib.get_close_matches(args.dialect.lower(), names, 1)
        raise _UsageError(f"unknown --dialect {args.dialect!r}" +
                          (f"; did you mean {near[0]}?" if near else
                           "; the dialects are " + ", ".join(names)))
    if args.schema:
        sys.stdout.write(schema(args.dialect))
        return OK
    if not args.kpi:
        raise _UsageError("name a KPI (e.g. kpidsl sql learner_dropout), or give --schema")
    rules = _rules(args.rules)
    kpi = rules.kpi(args.kpi)
    from kpidsl.engines.sql import Unsupported
    from kpidsl.errors import Diagnostic

    try:
        text = kpi_sql(rules, kpi.name, args.as_of or dt.date.today(), dialect=args.dialect,
                       records=args.records)
    except Unsupported as e:  # a rule the SQL generator cannot translate: say so, not a bug
        raise RuleError([Diagnostic(message=f"kpi {kpi.name} cannot be written in SQL: {e}",
                                    file=str(kpi.span.file), line=kpi.span.line,
                                    column=kpi.span.column)]) from None
    print(text)
    return OK


def _tolerant_streams() -> None:
    """Let output reach a terminal or file that cannot encode every character (a Windows
    console, ``PYTHONIOENCODING=cp1252``): such characters are written as ``\\u…`` escapes
    instead of stopping the command."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    _tolerant_streams()
    parser = _parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            _unrecognised(args.subparser, extra)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else USAGE
    command = {"check": _check, "evaluate": _evaluate, "generate": _generate,
               "template": _template, "test": _test, "explain": _explain, "history": _history,
               "diff": _diff, "fmt": _fmt, "sql": _sql, "verify": _verify}[args.command]
    try:
        return command(args)
    except UsageError as e:
        print(f"kpidsl {args.command}: error: {e.render()}", file=sys.stderr)
        return USAGE
    except KpidslError as e:
        print(e.render(), file=sys.stderr)
        return ERRORS
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return OK
    except Exception as e:  # the promise: no traceback reaches a user
        print(f"kpidsl: internal error: {type(e).__name__}: {e}\n"
              "This is a bug in kpidsl; please report it with the command you ran.",
              file=sys.stderr)
        return INTERNAL


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
