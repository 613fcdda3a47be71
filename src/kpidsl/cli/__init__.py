"""The command line: ``kpidsl check | evaluate | verify | generate | template | ilr | load | test |
explain | history | diff | sql | fmt``, as thin as it can be: :mod:`~kpidsl.cli.arguments` reads
the arguments, :mod:`~kpidsl.cli.commands` asks the library and prints what it gets back
(through :mod:`~kpidsl.cli.terminal`); every decision is the library's.

Exit codes: 0 success; 1 the rule files or the data have errors (each is printed with its
location); 2 the command was used wrongly (an unknown option, a bad date, a missing path) or
a database will not do it (locked, a right the user lacks);
3 an internal error in kpidsl itself (a bug: please report it). No traceback reaches the user.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence

from kpidsl.collector import collector_paused

# The library's modules and classes, some 50,000 objects and no cycles, out of the
# collector's sight (it went through them 24 times while they were imported)
with collector_paused(keep=True):
    from kpidsl.cli.arguments import parser, unrecognised
    from kpidsl.cli.commands import COMMANDS
    from kpidsl.errors import KpidslError, UsageError

__all__ = ["main", "parser", "run"]

OK, ERRORS, USAGE, INTERNAL = 0, 1, 2, 3


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
    try:
        args, extra = parser().parse_known_args(argv)
        if extra:
            unrecognised(args.subparser, extra)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else USAGE
    command = COMMANDS[args.command]
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
