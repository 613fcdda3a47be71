"""The limits on what rule files and data files may hold: stated once, read by every stage.

The parser, the checker, the formatter, the CSV loader, the evaluator and every output read
these numbers from here, so whatever one stage accepts, the others can handle: a number that
checks can be formatted, loaded, added up and printed. ``docs/security.rst``, the language
reference and the data contract state them for people.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

#: A number, percentage or amount written in a rule or a data cell has at most this many
#: digits (before and after the point together). Sums of a whole data set stay far below
#: what any output can print.
MAX_DIGITS = 40
#: A value worked out by a rule (a sum, a product, a ratio) whose size passes this many digits
#: is missing, as a date past year 9999 is: no policy needs it, and it would grow without bound.
MAX_VALUE_DIGITS = 200
#: One rule (a clause, a definition's body) nests at most this many levels in the parse tree.
MAX_DEPTH = 100
#: Counting through the definitions it uses, a rule nests at most this many levels: every later
#: stage (checking, evaluating, explaining) follows them.
MAX_NESTING = 200
#: Definitions use each other at most this many deep.
MAX_DEFINITION_DEPTH = 50
#: A rule file holds at most this many bytes.
MAX_RULE_FILE_BYTES = 10_000_000
#: A data file holds at most this many bytes (a million learners take about 150 MB).
MAX_DATA_FILE_BYTES = 2_000_000_000
#: A name in a rule, and a text cell of a data file, have at most this many characters.
MAX_NAME = 100
MAX_CELL = 1_000
#: An excerpt line is shortened around the caret to this many characters (a CSV header of
#: the contract fits whole).
MAX_EXCERPT = 300
#: ``kpidsl generate`` makes at most this many learners.
MAX_GENERATED = 10_000_000
#: ``kpidsl history`` evaluates at most this many months (fifty years) in one run.
MAX_HISTORY_MONTHS = 600


def digit_count(text: str) -> int:
    """How many digits a number's spelling has (``£1,500.00`` → 6)."""
    return sum(c.isdigit() for c in text)


def too_big(value: object) -> bool:
    """Whether a worked-out value passes :data:`MAX_VALUE_DIGITS` (cheap: no digits printed)."""
    bound = _BOUND
    if type(value) is int:
        return not -bound < value < bound
    if type(value) is Decimal:
        return value.is_finite() and value != 0 and (
            value.adjusted() >= MAX_VALUE_DIGITS or value.adjusted() < -MAX_VALUE_DIGITS)
    if type(value) is Fraction:
        return not (-bound < value.numerator < bound and value.denominator < bound)
    return False


_BOUND = 10**MAX_VALUE_DIGITS
_DATA_BOUND = 10**MAX_DIGITS


def out_of_bounds(values: list[int | Decimal]) -> bool:
    """Whether a number given in data (an int or an amount) has more than
    :data:`MAX_DIGITS` digits before the point (one C-speed sweep for a whole column)."""
    return bool(values) and not (min(values) > -_DATA_BOUND and max(values) < _DATA_BOUND)
