"""The command line: ``kpidsl check | evaluate | generate | test | explain | history |
diff | fmt``.

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
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kpidsl import __version__
from kpidsl.engines import ENGINES
from kpidsl.language import limits
from kpidsl.language.source import KpidslError, RuleError, open_output

OK, ERRORS, USAGE, INTERNAL = 0, 1, 2, 3


class _UsageError(Exception):
    """The command line asks for something impossible (exit 2)."""


def _date(text: str) -> dt.date:
    """A date written YYYY-MM-DD, and only so (``date.fromisoformat`` also takes 20250331)."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD")


def _existing(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise _UsageError(f"{path}: no such file or folder")
    return p


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kpidsl",
        description="Evaluate the Skills Bootcamps KPIs written as .kpi rule files.",
        epilog="Exit codes: 0 success, 1 rule or data errors, 2 usage errors, 3 internal error.",
    )
    p.add_argument("--version", action="version", version=f"kpidsl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("check", help="parse and check rule files",
                       description="Parse and check rule files; print every problem found.")
    c.add_argument("paths", nargs="*", metavar="PATH",
                   help="rule files or folders (default: the shipped rules)")

    e = sub.add_parser("evaluate", help="evaluate the KPIs on a data set",
                       description="Evaluate every KPI for every bootcamp, provider and the "
                       "programme.")
    e.add_argument("--data", required=True, metavar="DIR", help="folder of CSV files")
    e.add_argument("--rules", action="append", metavar="PATH",
                   help="rule file or folder (repeatable; default: the shipped rules)")
    e.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                   help="evaluate as things stood at the end of this day (default: today)")
    e.add_argument("--format", choices=("table", "json", "csv"), default="table")
    e.add_argument("--scope", choices=("bootcamp", "provider", "programme"), action="append",
                   help="table only: show just these scopes (repeatable; default: all)")
    e.add_argument("--engine", choices=ENGINES, default=None,
                   help="duckdb (the default: SQL on the embedded DuckDB, fast on big data) "
                   "or python (the reference engine)")
    e.add_argument("--explain", action="store_true",
                   help="json only: add \"explanations\", each KPI's records with their verdict "
                   "and why")

    t = sub.add_parser("test", help="run the tests written beside the rules",
                       description="Run the `test` blocks of rule files; print a pass/fail "
                       "line per test and what the tests cover of each KPI.")
    t.add_argument("paths", nargs="*", metavar="PATH",
                   help="rule files or folders (default: the shipped rules)")

    g = sub.add_parser("generate", help="write a synthetic data set",
                       description="Write a realistic, reproducible synthetic data set.")
    g.add_argument("--out", required=True, metavar="DIR", help="folder to write the CSV files to")
    g.add_argument("--learners", type=int, default=1000, metavar="N",
                   help=f"how many learners (1 to {limits.MAX_GENERATED:,}; default: 1000)")
    g.add_argument("--seed", type=int, default=0, metavar="S")

    x = sub.add_parser("explain", help="show why each record of a KPI counts or not",
                       description="List every record of a KPI's population in a group with "
                       "its verdict, the clause that decided it and the values it read.")
    x.add_argument("kpi", metavar="KPI", help="the KPI's id, e.g. learner_dropout")
    x.add_argument("--data", required=True, metavar="DIR", help="folder of CSV files")
    x.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: today")
    x.add_argument("--group", default="all", metavar="ID",
                   help="a bootcamp or provider id, or all (default); an id that is both is "
                   "written bootcamp:ID or provider:ID")
    x.add_argument("--rules", action="append", metavar="PATH",
                   help="rule file or folder (repeatable; default: the shipped rules)")
    x.add_argument("--format", choices=("table", "json"), default="table")

    h = sub.add_parser("history", help="each KPI's status at every month end",
                       description="Evaluate the KPIs at the last day of each month from "
                       "--from to --to and show how their statuses moved.")
    h.add_argument("--data", required=True, metavar="DIR", help="folder of CSV files")
    h.add_argument("--from", dest="start", required=True, type=_month, metavar="YYYY-MM",
                   help="the first month (evaluated at its last day)")
    h.add_argument("--to", dest="end", required=True, type=_month, metavar="YYYY-MM",
                   help="the last month, included (at most "
                   f"{limits.MAX_HISTORY_MONTHS} months from --from)")
    h.add_argument("--rules", action="append", metavar="PATH",
                   help="rule file or folder (repeatable; default: the shipped rules)")
    h.add_argument("--format", choices=("table", "json"), default="table")
    h.add_argument("--engine", choices=ENGINES, default=None,
                   help="duckdb (the default: SQL on the embedded DuckDB, fast on big data) "
                   "or python (the reference engine)")
    h.add_argument("--chart", metavar="FILE.svg", help="also draw the rates as an SVG chart")
    h.add_argument("--kpi", metavar="ID", help="only this KPI")
    h.add_argument("--group", metavar="ID",
                   help="a bootcamp or provider id (bootcamp:ID or provider:ID for an id "
                   "that is both), or all (table and chart default: all; JSON default: every "
                   "group)")

    d = sub.add_parser("diff", help="what a change of rules does to the results",
                       description="Evaluate two rule sets on the same data and list the "
                       "results whose status or counts change. Exits 0 whether or not "
                       "anything changes.")
    d.add_argument("old", metavar="OLD_RULES", help="rule file or folder before the change")
    d.add_argument("new", metavar="NEW_RULES", help="rule file or folder after the change")
    d.add_argument("--data", required=True, metavar="DIR", help="folder of CSV files")
    d.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: today")
    d.add_argument("--format", choices=("table", "json"), default="table")
    d.add_argument("--engine", choices=ENGINES, default=None,
                   help="duckdb (the default: SQL on the embedded DuckDB, fast on big data) "
                   "or python (the reference engine)")

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
                   help="rule file or folder (repeatable; default: the shipped rules)")

    f = sub.add_parser("fmt", help="rewrite rule files in the canonical layout",
                       description="Rewrite rule files in one canonical layout, keeping their "
                       "comments; the rules mean exactly what they meant before.")
    f.add_argument("paths", nargs="+", metavar="PATH",
                   help="rule files or folders (every .kpi file below a folder)")
    f.add_argument("--check", action="store_true",
                   help="write nothing; list the files that would change, with a short diff, "
                   "and exit 1 if there are any")
    return p


def _plural(word: str, n: int) -> str:
    if n == 1:
        return word
    return "findings and actions" if word == "finding or action" else word + "s"


def _rules(paths: list[str] | None, tests: bool = False) -> Any:
    """The rule set the command works on: ``paths`` (each must exist), or the shipped rules;
    the tests written beside the rules only for the commands that run or check them."""
    from kpidsl.api import load_rules

    return load_rules([_existing(p) for p in paths] if paths else None, tests=tests)


def _check(args: argparse.Namespace) -> int:
    rules = _rules(args.paths, tests=True)
    counts = [(len(rules.kpis), "KPI"), (len(rules.definitions), "definition"),
              (len(rules.tables), "table"), (len(rules.schedules), "schedule"),
              (len(rules.notices), "finding or action"), (len(rules.tests), "test")]
    summary = ", ".join(f"{n} {_plural(word, n)}" for n, word in counts)
    print(f"{len(rules.files)} rule files OK: {summary}")
    return OK


def _evaluate(args: argparse.Namespace) -> int:
    from kpidsl.data.csvfiles import load_data

    if args.explain and args.format != "json":
        raise _UsageError("--explain needs --format json (for a table: kpidsl explain KPI)")
    rules = _rules(args.rules)
    from kpidsl.api import evaluate
    from kpidsl.outputs.report import json_text, render_table, to_csv

    report = evaluate(rules, _existing(args.data), as_of=args.as_of, engine=args.engine)
    if args.format == "json":
        out = report.to_json()
        if args.explain:
            out["explanations"] = _explanations(rules, load_data(args.data), report.as_of)
        print(json_text(out))
    elif args.format == "csv":
        sys.stdout.write(to_csv(report))
    else:
        print(render_table(report, scopes=args.scope or ("bootcamp", "provider", "programme")))
    return OK


def _test(args: argparse.Namespace) -> int:
    """Exit 1 when a test fails, as for a rule error: either way the rules need attention."""
    from kpidsl.tools.testing import render, run_tests

    report = run_tests(_rules(args.paths, tests=True))
    print(render(report))
    return OK if report.ok else ERRORS


def _generate(args: argparse.Namespace) -> int:
    from kpidsl.data.csvfiles import write_data
    from kpidsl.data.generate import generate

    if not 1 <= args.learners <= limits.MAX_GENERATED:
        raise _UsageError(f"--learners must be from 1 to {limits.MAX_GENERATED:,}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise _UsageError(f"--out {args.out} is a file; give a folder to write the data set to")
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


def _month(text: str) -> dt.date:
    """A month written YYYY-MM, as its first day; its last day must be a date too (so not
    9999-12, whose end is computed from the first day of the month after)."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):
            year, month = int(text[:4]), int(text[5:])
            dt.date(year + month // 12, month % 12 + 1, 1)  # the month after exists
            return dt.date(year, month, 1)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a month; write YYYY-MM, e.g. 2024-08 "
                                     "(up to 9999-11)")


def _known_kpi(rules: Any, name: str) -> Any:
    """The KPI called ``name``, or a usage error that suggests the closest name."""
    names = [k.name for k in rules.kpis]
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]}?" if close else "the KPIs are " + ", ".join(names)
        raise _UsageError(f"no KPI called {name!r}; {hint}")
    return rules.kpi(name)


def _ids(data: Any) -> dict[str, set[str]]:
    """The bootcamp and provider ids of a data set."""
    return {"bootcamp": {b.bootcamp_id for b in data.bootcamps},
            "provider": {p.provider_id for p in data.providers}}


def _known_group(ids: dict[str, set[str]], group: str, per_provider: bool = False
                 ) -> tuple[str, str]:
    """The scope and id of ``--group``: ``all``, a bootcamp or provider id, or, for an id
    that is both, ``bootcamp:ID`` or ``provider:ID``. Otherwise a usage error listing the
    valid groups (a per-provider KPI has no bootcamp results)."""
    if group == "all":
        return "programme", "all"
    both = ids["bootcamp"] & ids["provider"]
    scopes = [s for s in ids if group in ids[s]]
    prefix, _, rest = group.partition(":")
    if group in both:
        raise _UsageError(f"{group} is both a bootcamp and a provider: write bootcamp:{group} "
                          f"or provider:{group}")
    if not scopes and prefix in ids and rest in ids[prefix]:
        scopes, group = [prefix], rest
    valid = ["all", *(f"{s}:{g}" if g in both else g for s in ids
                      if not (per_provider and s == "bootcamp") for g in sorted(ids[s]))]
    shown = ", ".join(valid[:30]) + (f", … ({len(valid)} in all)" if len(valid) > 30 else "")
    if not scopes:
        raise _UsageError(f"no group {group!r}; the groups are {shown}")
    if per_provider and scopes == ["bootcamp"]:
        raise _UsageError(f"{group!r} is a bootcamp, and this KPI is judged per provider; "
                          f"its groups are {shown}")
    return scopes[0], group


def _explanations(rules: Any, data: Any, as_of: dt.date) -> dict[str, Any]:
    """For ``evaluate --explain``: every KPI's records in the programme, with why."""
    from kpidsl.engines.python import explain
    from kpidsl.outputs.report import verdict_json

    return {k.name: [verdict_json(v) for v in explain(rules, data, as_of, k.name)]
            for k in rules.kpis}


def _explain(args: argparse.Namespace) -> int:
    """The data is checked by ``load_data``, so only the KPIs are evaluated (no findings or
    actions). ``interpreter.explain`` takes a group id without its scope, so for an id that is
    both a bootcamp and a provider its records are narrowed to the scope asked for here."""
    from kpidsl.data.csvfiles import load_data
    from kpidsl.engines.python import evaluate_kpis, explain
    from kpidsl.outputs.report import render_explain, result_json, verdict_json

    rules = _rules(args.rules)
    kpi = _known_kpi(rules, args.kpi)
    data = load_data(_existing(args.data))
    scope, group = _known_group(_ids(data), args.group, per_provider=kpi.per is not None)
    when = args.as_of or dt.date.today()
    result = next(r for r in evaluate_kpis(rules, data, when)[0]
                  if (r.kpi, r.scope, r.group) == (kpi.name, scope, group))
    verdicts = explain(rules, data, when, kpi.name, group)
    provider_of = {b.bootcamp_id: b.provider_id for b in data.bootcamps}
    if scope == "bootcamp":
        verdicts = [v for v in verdicts if v.bootcamp == group]
    elif scope == "provider" and kpi.per is None:
        verdicts = [v for v in verdicts if provider_of.get(v.bootcamp) == group]
    if args.format == "json":
        print(json.dumps({"as_of": when.isoformat(), "result": result_json(result),
                          "records": [verdict_json(v) for v in verdicts]}, indent=2))
    else:
        print(render_explain(verdicts, result, when))
    return OK


def _history(args: argparse.Namespace) -> int:
    from kpidsl.api import history, month_ends
    from kpidsl.outputs.report import history_json, history_svg, render_history

    if args.start > args.end:
        raise _UsageError(f"--from {args.start:%Y-%m} is after --to {args.end:%Y-%m}")
    months = (args.end.year - args.start.year) * 12 + args.end.month - args.start.month + 1
    if months > limits.MAX_HISTORY_MONTHS:
        raise _UsageError(f"--from {args.start:%Y-%m} --to {args.end:%Y-%m} spans {months:,} "
                          f"months; at most {limits.MAX_HISTORY_MONTHS:,} are shown at once")
    rules = _rules(args.rules)
    kpi = _known_kpi(rules, args.kpi) if args.kpi else None
    folder = _existing(args.data)
    months_run = history(rules, folder, month_ends(args.start, args.end), engine=args.engine)
    ids: dict[str, set[str]] = {"bootcamp": set(), "provider": set()}
    for r in months_run[0][1] if months_run else ():
        ids.get(r.scope, set()).add(r.group)
    scope, group = (_known_group(ids, args.group, kpi is not None and kpi.per is not None)
                    if args.group else (None, "all"))
    months = [(d, [r for r in results if (kpi is None or r.kpi == kpi.name)
                   and (scope is None or (r.scope, r.group) == (scope, group))])
              for d, results in months_run]
    if args.chart:
        try:
            with open_output(args.chart) as chart:
                chart.write(history_svg(months, group).encode("utf-8"))
        except OSError as e:
            raise _UsageError(f"cannot write the chart to {args.chart}: "
                              f"{e.strerror or e}") from None
    if args.format == "json":
        print(json.dumps(history_json(months), indent=2))
    else:
        print(render_history(months, group))
    return OK


def _diff(args: argparse.Namespace) -> int:
    """Exit 0 whether or not results change: a change is what the command reports, not a
    failure. Errors in either rule set, or in the data, exit 1."""
    from kpidsl.outputs.report import compare, diff_json, render_diff

    rule_sets, problems = [], []
    for path in (args.old, args.new):
        try:
            rule_sets.append(_rules([path]))
        except RuleError as e:
            problems += e.diagnostics
    if problems:
        raise RuleError(problems)
    from kpidsl.api import evaluate

    folder = _existing(args.data)
    when = args.as_of or dt.date.today()
    diff = compare(*(evaluate(rules, folder, as_of=when, engine=args.engine)
                     for rules in rule_sets))
    if args.format == "json":
        print(json.dumps(diff_json(diff), indent=2))
    else:
        print(render_diff(diff))
    return OK


#: ``fmt --check`` shows at most this many lines of each file's diff, each at most
#: ``_DIFF_WIDTH`` characters.
_DIFF_LINES, _DIFF_WIDTH = 40, 200


def _shorten(line: str) -> str:
    return line if len(line) <= _DIFF_WIDTH else line[:_DIFF_WIDTH - 1] + "…"


def _fmt(args: argparse.Namespace) -> int:
    """Formats each file on its own (no checking against its folder: layout is per file). A
    file that does not parse is left as it is and reported, after the others are done."""
    from kpidsl.language.formatter import format_source
    from kpidsl.language.source import Diagnostic, decode_rules, printable, read_rule_bytes

    files: list[Path] = []
    for p in map(_existing, args.paths):
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
    kpi = _known_kpi(rules, args.kpi)
    from kpidsl.engines.sql import Unsupported
    from kpidsl.language.source import Diagnostic

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
        args = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else USAGE
    command = {"check": _check, "evaluate": _evaluate, "generate": _generate,
               "test": _test, "explain": _explain, "history": _history,
               "diff": _diff, "fmt": _fmt, "sql": _sql}[args.command]
    try:
        return command(args)
    except _UsageError as e:
        print(f"kpidsl {args.command}: error: {e}", file=sys.stderr)
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
