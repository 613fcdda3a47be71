"""The command line: ``kpidsl check | evaluate | generate``.

Exit codes: 0 success; 1 the rule files or the data have errors (each is printed with its
location); 2 the command was used wrongly (an unknown option, a bad date, a missing path);
3 an internal error in kpidsl itself (a bug: please report it). No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from kpidsl import __version__
from kpidsl.api import default_rules_path, evaluate, load_rules, rule_files
from kpidsl.report import render_table, to_csv
from kpidsl.source import KpidslError

OK, ERRORS, USAGE, INTERNAL = 0, 1, 2, 3


class _UsageError(Exception):
    """The command line asks for something impossible (exit 2)."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


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
                   help="rule files or folders (default: the shipped rules, "
                   f"{default_rules_path()})")

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

    g = sub.add_parser("generate", help="write a synthetic data set",
                       description="Write a realistic, reproducible synthetic data set.")
    g.add_argument("--out", required=True, metavar="DIR", help="folder to write the CSV files to")
    g.add_argument("--learners", type=int, default=1000, metavar="N")
    g.add_argument("--seed", type=int, default=0, metavar="S")
    return p


def _check(args: argparse.Namespace) -> int:
    paths = [_existing(p) for p in args.paths] or None
    files = rule_files(paths)
    rules = load_rules(paths)
    defs = len(rules.definitions)
    print(f"{len(files)} rule files OK: {len(rules.kpis)} KPIs, {defs} definitions, "
          f"{len(rules.tables)} tables, {len(rules.notices)} findings and actions")
    return OK


def _evaluate(args: argparse.Namespace) -> int:
    from kpidsl.data import load_data

    rules = load_rules([_existing(p) for p in args.rules] if args.rules else None)
    data = load_data(_existing(args.data))
    report = evaluate(rules, data, as_of=args.as_of)
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    elif args.format == "csv":
        sys.stdout.write(to_csv(report))
    else:
        print(render_table(report, scopes=args.scope or ("bootcamp", "provider", "programme")))
    return OK


def _generate(args: argparse.Namespace) -> int:
    from kpidsl.data import write_data
    from kpidsl.generate import generate

    if args.learners < 0:
        raise _UsageError("--learners must be 0 or more")
    data = generate(args.learners, seed=args.seed)
    write_data(data, args.out)
    print(f"wrote {len(data.learners)} learners, {len(data.bootcamps)} bootcamps and "
          f"{len(data.providers)} providers to {args.out}")
    return OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else USAGE
    command = {"check": _check, "evaluate": _evaluate, "generate": _generate}[args.command]
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
