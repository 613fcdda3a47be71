"""What the command line shows: the rules line, output to the terminal or a file, progress
on a slow run. Nothing here decides anything; it prints what the library gives."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kpidsl.errors import RuleError, UsageError

#: Work that takes longer than this (seconds) shows its progress on stderr, at a terminal.
PROGRESS_AFTER = 2.0


@contextlib.contextmanager
def working(what: str) -> Iterator[None]:
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


def existing(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{path}: no such file or folder")
    return p


def data_paths(paths: Sequence[str]) -> str | Path | list[Path]:
    """The ``--data`` given: a database's URL (``postgresql://…``), or paths, each existing:
    one path, or several (ILR returns with their datasheet)."""
    if len(paths) == 1 and re.match(r"[a-z][a-z0-9+]*://", paths[0], re.I):
        return paths[0]
    found = [existing(p) for p in paths]
    return found[0] if len(found) == 1 else found


def select(report: Any, args: argparse.Namespace) -> Any:
    """The results the filters of the command line ask for (every format honours them), as
    :meth:`~kpidsl.Report.select` checks and keeps them."""
    return report.select(kpis=args.kpi, scopes=getattr(args, "scope", None), groups=args.group,
                         statuses=args.status)


def plural(word: str, n: int) -> str:
    """``word`` for ``n`` things (``finding or action`` → ``findings and actions``)."""
    if n == 1:
        return word
    return "findings and actions" if word == "finding or action" else word + "s"


def rules(paths: Sequence[str] | None, tests: bool = False, say: bool = False) -> Any:
    """The rule set the command works on: ``paths`` (each must exist), else the working
    folder's (:func:`kpidsl.api.working_rules_path`); the tests written beside the rules only
    for the commands that run or check them. ``say``: the ``Rules:`` line names the files
    even when they do not check (for ``check`` and ``test``, whose output is about them)."""
    # from where kpidsl.api has them: ``check`` and ``test`` need no engine
    from kpidsl.language.rulesets import (
        load_rules,
        rules_label,
        unread_rule_files,
        working_rules_path,
    )

    chosen = [existing(p) for p in paths] if paths else [working_rules_path()]
    try:
        if paths:
            return load_rules(chosen, tests=tests)
    except RuleError:
        if say:
            print(f"Rules: {', '.join(map(rules_label, chosen))} (with errors)")
        raise
    unread = unread_rule_files()
    if unread:
        names = ", ".join(p.name for p in unread[:3]) + (", …" if len(unread) > 3 else "")
        print(f"note: using rules/; this folder's own {names} "
              f"{'is' if len(unread) == 1 else 'are'} not read (move "
              f"{'it' if len(unread) == 1 else 'them'} into rules/, or type --rules . to use "
              "this folder's files instead)", file=sys.stderr)
    try:
        return load_rules(chosen, tests=tests)
    except RuleError:
        if say:
            print(f"Rules: {rules_label(chosen[0])} (with errors)")
        raise


def rules_line(rules: Any, which: str = "Rules") -> str:
    """The line every table output starts with: which rules it was computed with."""
    from kpidsl.language.rulesets import rules_fingerprint, rules_label

    return f"{which}: {rules_label(rules)} (fingerprint {rules_fingerprint(rules)[:12]})"


def rules_json(rules: Any) -> Any:
    """Which rules a JSON output was computed with."""
    from kpidsl.language.rulesets import rules_json

    return rules_json(rules)


def check_out(args: argparse.Namespace) -> None:
    """A workbook needs a file to go to; ``--docs-url`` only makes sense with links."""
    if args.format == "xlsx" and not args.out:
        raise UsageError("--format xlsx writes a workbook: give its name with --out")
    if args.out and os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} is a folder; give a file name")
    if args.docs_url and args.format not in ("html", "xlsx"):
        raise UsageError("--docs-url is for --format html or xlsx")


def write(path: str, writer: Any) -> None:
    """Run ``writer(path)`` and say so; a file that cannot be written is a usage error."""
    try:
        writer(path)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    print(f"wrote {path}")


def emit(out: str | None, text: str | Iterable[bytes]) -> None:
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
        def write_file(path: str) -> None:
            with open(path, "wb") as f:
                f.writelines(pieces)

        write(out, write_file)
