"""The command line's arguments: every command and option, with the help text ``--help``
prints and the ``kpi:cli`` directive of the documentation lists."""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import re
from collections.abc import Callable
from typing import NoReturn

from kpidsl import limits
from kpidsl.engines import ENGINES
from kpidsl.errors import NotFoundError, date_problem, suggest
from kpidsl.language.vocabulary import Scope, Status, named
from kpidsl.version import __version__

_ENGINE_HELP = ", ".join(f"{name} ({e.help})" for name, e in ENGINES.items())


class _Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a misspelt command, choice or option."""

    def error(self, message: str) -> NoReturn:
        bad = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if bad:
            hint = suggest(bad[1], re.findall(r"'([^']*)'", bad[2]))
            message += f"; {hint}" if hint else ""
        super().error(message)


def unrecognised(parser: argparse.ArgumentParser, extra: list[str]) -> NoReturn:
    """Refuse arguments the command does not have, suggesting the closest option."""
    options = [o for a in parser._actions for o in a.option_strings]
    first = next((x for x in extra if x.startswith("-")), None)
    hint = suggest(first.split("=")[0], options) if first else None
    parser.error(f"unrecognized arguments: {' '.join(extra)}" + (f"; {hint}" if hint else ""))


def _date(text: str) -> dt.date:
    """A date written YYYY-MM-DD, and only so (``date.fromisoformat`` also takes 20250331)."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a date: "
                                             f"{date_problem(text)}") from None
    raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD")


def _spelled(kind: type[enum.StrEnum]) -> Callable[[str], str]:
    """A status or scope as the library reads it (:func:`named`: ``"not met"`` as the tables
    print it, or ``not_met``), its JSON spelling for argparse's ``choices``; a word that is
    none is left to those ``choices`` to refuse, with "did you mean"."""
    def read(text: str) -> str:
        try:
            return str(named(kind, text).value)
        except NotFoundError:
            return text

    return read


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


_DATA_HELP = ("a folder of CSV files, a datasheet workbook (.xlsx), ILR returns (an .xml "
              "file or a folder of them; repeat --data to give them with their datasheet), "
              "or a database to evaluate in: postgresql://user@host/db, sqlite:///file.db "
              "or duckdb:///file.duckdb (?schema=NAME, ?prefix=P: where its tables are)")
_DOCS_URL_HELP = ("html and xlsx: the documentation site; each KPI links to its page in the "
                  "rule reference there (default: no links)")
_OUT_HELP = "write the report to FILE (default: the terminal)"
_RULES_HELP = ("rule file or folder (repeatable; default: the working folder's rules: its "
               "rules/ folder, or the folder itself inside rules/, else the shipped rules)")


def parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
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
                   help="rule files or folders (default: the working folder's rules)")
    c.add_argument("--rules", action="append", metavar="PATH", help=_RULES_HELP)

    e = sub.add_parser("evaluate", help="evaluate the KPIs on a data set",
                       description="Evaluate every KPI for every bootcamp, provider and the "
                       "programme.")
    e.add_argument("--data", required=True, metavar="DATA", action="append",
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

    v = sub.add_parser("verify", help="check that an evidence bundle is reproduced on its data",
                       description="Evaluate the rules of an evidence bundle (written by "
                       "evaluate --record) again on the data (a folder, a workbook, ILR "
                       "returns or a database), at the recorded date, and "
                       "say whether every figure is reproduced, naming the first that is not. "
                       "Exits 1 if one is not, or if the data differ from the recorded data "
                       "(their fingerprints), even where the figures match. A bundle recorded "
                       "from a database's own tables has no fingerprint of its data: only its "
                       "figures are compared.")
    v.add_argument("bundle", metavar="BUNDLE", help="the folder written by evaluate --record")
    v.add_argument("--data", required=True, metavar="DATA", action="append", help=_DATA_HELP)
    v.add_argument("--figures-only", action="store_true",
                   help="compare the figures alone: data that differ from the recorded data "
                   "are named, but are not a failure (default: off, they are)")

    t = sub.add_parser("test", help="run the tests written beside the rules",
                       description="Run the `test` blocks of rule files; print a pass/fail "
                       "line per test and what the tests cover of each KPI.")
    t.add_argument("paths", nargs="*", metavar="PATH",
                   help="rule files or folders (default: the working folder's rules)")
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
    g.add_argument("--ilr", action="store_true",
                   help="write the data set as ILR returns (one per provider and year) and, "
                   "in DIR/datasheet, the datasheet of what they do not hold (default: CSV "
                   "files)")
    g.add_argument("--rules", action="append", metavar="PATH",
                   help="with --ilr: the rules whose ilr.kpi codes the events; "
                   + _RULES_HELP)

    w = sub.add_parser("template", help="write the datasheet workbook that providers fill in",
                       description="Write an Excel workbook with one sheet per file of the "
                       "data contract, a note on every column, drop-downs and formats, and a "
                       "first sheet explaining how to fill it in.")
    w.add_argument("--out", required=True, metavar="FILE.xlsx", help="the workbook to write")
    w.add_argument("--data", metavar="DATA", action="append",
                   help="fill it with this data set, a folder of CSV files or a workbook "
                   "(default: empty)")
    w.add_argument("--ilr", metavar="RETURNS", action="append",
                   help="write the datasheet that goes with these ILR returns (an .xml file "
                   "or a folder; repeatable): only what the ILR lacks or stands in for, "
                   "filled with what the returns give, so that handed back unchanged it "
                   "changes nothing (default: the datasheet of a whole data set)")
    w.add_argument("--rules", action="append", metavar="PATH",
                   help="with --ilr: " + _RULES_HELP)

    x = sub.add_parser("explain", help="show why each record of a KPI counts or not",
                       description="List every record of a KPI's population in a group with "
                       "its verdict, the clause that decided it and the values it read.")
    x.add_argument("kpi", metavar="KPI", help="the KPI's id, e.g. learner_dropout")
    x.add_argument("--data", required=True, metavar="DATA", action="append",
                   help=_DATA_HELP)
    x.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: today")
    x.add_argument("--group", default="all", metavar="ID",
                   help="a bootcamp or provider id, or all (default); an id that is both is "
                   "written bootcamp:ID or provider:ID")
    x.add_argument("--rules", action="append", metavar="PATH",
                   help=_RULES_HELP)
    x.add_argument("--format", choices=("table", "json"), default="table",
                   help="table (default) or json")
    x.add_argument("--verdict", metavar="V", action="append",
                   help="show only the records with this verdict: counted, \"not counted\" "
                   "(or not_counted), pending; a KPI judged per provider has a status as its "
                   "verdict, met, not_met, … (repeatable; default: every record)")
    x.add_argument("--engine", choices=ENGINES, default=None, help=_ENGINE_HELP)

    h = sub.add_parser("history", help="each KPI's status at every month end",
                       description="Evaluate the KPIs at the last day of each month from "
                       "--from to --to and show how their statuses moved.")
    h.add_argument("--data", required=True, metavar="DATA", action="append",
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
                   help="also draw the rates as SVG, a small chart per KPI (default: no chart)")
    h.add_argument("--kpi", metavar="ID", action="append",
                   help="only this KPI (repeatable; default: every KPI)")
    h.add_argument("--status", type=_spelled(Status),
                   choices=tuple(s.value for s in Status), action="append",
                   help="only results with this status at a month end (not_met, or \"not "
                   "met\" as the table prints it; repeatable; default: every status)")
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
    d.add_argument("--data", metavar="DATA", action="append",
                   help=f"{_DATA_HELP}, to evaluate both rule sets on (default: none; the "
                   "results are not compared)")
    d.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                   help="with --data: evaluate as things stood at the end of this day "
                   "(default: today)")
    d.add_argument("--format", choices=("table", "json"), default="table",
                   help="table (default) or json")
    d.add_argument("--engine", choices=ENGINES, default=None,
                   help=f"with --data: {_ENGINE_HELP}")

    ld = sub.add_parser("load", help="check a data set and write it into a database",
                        description="Check a data set as evaluate does, then write it into a "
                        "PostgreSQL or SQLite database as the contract's tables (with the "
                        "indexes the queries use), in one transaction; then kpidsl evaluate "
                        "--data URL evaluates in that database.")
    ld.add_argument("data", nargs="+", metavar="DATA",
                    help="a folder of CSV files, a workbook, or ILR returns with their "
                    "datasheet")
    ld.add_argument("--into", required=True, metavar="URL",
                    help="postgresql://user@host/db or sqlite:///file.db; ?schema=NAME or "
                    "?prefix=P say where the tables go (default: the database's own schema)")
    ld.add_argument("--replace", action="store_true",
                    help="replace the rows of tables the database has already (default: "
                    "refuse to touch them)")
    ld.add_argument("--rules", action="append", metavar="PATH",
                    help="for ILR returns: " + _RULES_HELP)

    i = sub.add_parser("ilr", help="write the contract's files that ILR returns yield",
                       description="Read ILR returns (funding model 37) and, when given, the "
                       "datasheet that goes with them, and write the data contract's CSV "
                       "files they yield, listing what was found on the way (learners "
                       "skipped, values the ILR lacks, differences between the sources). "
                       "Without the datasheet the files lack every value it supplies, so they "
                       "do not load as a data set on their own. No personal data is "
                       "written.")
    i.add_argument("returns", nargs="+", metavar="RETURNS",
                   help="ILR returns: .xml files or folders of them")
    i.add_argument("--data", metavar="DATASHEET", action="append",
                   help="the datasheet that goes with the returns: a folder of CSV files or "
                   "a workbook (.xlsx); given once (default: none)")
    i.add_argument("--out", required=True, metavar="DIR",
                   help="the folder to write the CSV files to")
    i.add_argument("--rules", action="append", metavar="PATH", help=_RULES_HELP)

    s = sub.add_parser("sql", help="print a KPI's rule as SQL, for your own warehouse",
                       description="Print the SQL query that computes a KPI's counts per group "
                       "(scope, group_id, denominator, numerator, pending) from tables named "
                       "after the data contract's files, in the SQL dialect of your choice.")
    s.add_argument("kpi", nargs="?", metavar="KPI", help="the KPI's id, e.g. learner_dropout")
    s.add_argument("--dialect", default="duckdb", metavar="D",
                   help="duckdb (default), postgres, sqlite or spark, the dialects kpidsl's "
                   "tests run the SQL on; or any other dialect sqlglot writes (tsql, "
                   "bigquery, snowflake, …), untested there, which the SQL says")
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
    p.add_argument("--status", type=_spelled(Status),
                   choices=tuple(s.value for s in Status), action="append",
                   help="only results with this status, written as JSON does (not_met) or "
                   "as the table prints it (\"not met\") (repeatable; default: every status)")
    p.add_argument("--group", metavar="ID", action="append",
                   help="only this bootcamp or provider (bootcamp:ID or provider:ID for an id "
                   "that is both), or all for the programme (repeatable; default: every group)")
    if scope:
        p.add_argument("--scope", type=_spelled(Scope),
                       choices=tuple(s.value for s in Scope), action="append",
                       help="only results of this scope (repeatable; default: every scope)")
