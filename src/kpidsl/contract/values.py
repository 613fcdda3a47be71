"""Reading one value of a record's field, from a CSV cell or from a Python value, and
checking it (:func:`value_problem`).

The CSV loader (:mod:`kpidsl.data.csvfiles`), the record constructors and
:meth:`~kpidsl.data.dataset.Dataset.from_rows` all read values here, so a bad value gets the
same message wherever it comes from (``completion_date: '2024-13-01' is not a date``, with a
hint saying what to write).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kpidsl import limits
from kpidsl.contract.fields import ENUMS, FieldInfo
from kpidsl.errors import date_problem


class BadValue(Exception):
    """A cell that does not convert: what is wrong with it, and what to write instead."""

    def __init__(self, what: str, hint: str | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint


MISSING = "missing required value"
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DMY = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")
_MONEY = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INTEGER = re.compile(r"-?[0-9]+")
_DATE_HINT = "expected a date written YYYY-MM-DD, e.g. 2024-08-31"
_MONTH_HINT = "expected a month written YYYY-MM, e.g. 2024-08"
_MONEY_HINT = "expected a number of pounds, e.g. 1200.50"
_BOOLEANS = {"true": True, "false": False}
#: Parsed values are cached by their raw text only up to this many distinct texts.
_CACHE_LIMIT = 100_000


def _parse_date(text: str) -> dt.date:
    """An ISO ``YYYY-MM-DD`` date; other spellings get a hint with the ISO one."""
    m = _DATE.fullmatch(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise BadValue(f"{_short(text)} is not a date", date_problem(text)) from None
    m = _DMY.fullmatch(text)
    if m:
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        for day, month in ((a, b), (b, a)):  # day first (UK), then month first
            try:
                iso = dt.date(year, month, day).isoformat()
            except ValueError:
                continue
            raise BadValue(f"{_short(text)} is not a date",
                           f"dates are written YYYY-MM-DD: write {iso}")
    if len(text) > 10 and text[10] in " T" and _DATE.fullmatch(text[:10]):
        raise BadValue(f"{_short(text)} is not a date", f"write the date alone: {text[:10]}")
    raise BadValue(f"{_short(text)} is not a date", _DATE_HINT)


def read_date(text: str) -> dt.date:
    """A date written exactly ``YYYY-MM-DD``, read as the CSV loader reads a date cell (but not
    trimmed), or ``BadValue`` with the loader's hint. A database that keeps dates as text
    (SQLite) is held to it, not to ``date.fromisoformat``, which since Python 3.11 also
    takes ``20240308`` and ``2024-W10``: such text would compare as text, and count wrong."""
    return _parse_date(text)


def _parse_month(text: str) -> dt.date:
    """A ``YYYY-MM`` month, as the date of its first day."""
    m = _MONTH.fullmatch(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), 1)
        except ValueError:
            pass
    elif _DATE.fullmatch(text):
        raise BadValue(f"{_short(text)} is not a month", f"write the month alone: {text[:7]}")
    raise BadValue(f"{_short(text)} is not a month", _MONTH_HINT)


def _digits(text: str) -> None:
    """Refuse a number of more than ``limits.MAX_DIGITS`` digits (rules allow no more)."""
    n = limits.digit_count(text)
    if n > limits.MAX_DIGITS:
        raise BadValue(f"{_short(text)} has {n:,} digits; at most {limits.MAX_DIGITS} are "
                       "allowed", "no value of the data contract is that large; is the cell "
                       "correct?")


def _parse_money(text: str) -> Decimal:
    """A plain decimal number of pounds: no '£', no thousands separators, no exponent."""
    if _MONEY.fullmatch(text):
        _digits(text)
        return Decimal(text)
    cleaned = text.replace("£", "").replace(",", "").strip()
    if cleaned != text and _MONEY.fullmatch(cleaned):
        _digits(cleaned)
        raise BadValue(f"{_short(text)} is not a number of pounds",
                       f"write {cleaned}, without '£' or commas")
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        value = None
    if (value is not None and value.is_finite() and "e" in cleaned.lower()
            and -limits.MAX_DIGITS < value.adjusted() < limits.MAX_DIGITS):
        raise BadValue(f"{_short(text)} is not a number of pounds",
                       f"write the number in full: {value:f}")
    raise BadValue(f"{_short(text)} is not a number of pounds", _MONEY_HINT)


def _short(text: str, limit: int = 30) -> str:
    """``repr(text)``, cut short with an ellipsis when it is long (a cell can be huge)."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _parse_integer(text: str) -> int:
    """A whole number written in ASCII digits (``int()`` alone would take '1_000' and '٣')."""
    if _INTEGER.fullmatch(text):
        _digits(text)
        return int(text)
    if (_MONEY.fullmatch(text) and limits.digit_count(text) <= limits.MAX_DIGITS
            and Decimal(text) == Decimal(text).to_integral_value()):
        raise BadValue(f"{_short(text)} is not a whole number", f"write {Decimal(text):.0f}")
    raise BadValue(f"{_short(text)} is not a whole number", "expected a whole number, e.g. 3")


def _parse_boolean(text: str) -> bool:
    """``true`` or ``false`` in any case."""
    value = _BOOLEANS.get(text.lower())
    if value is None:
        raise BadValue(f"{_short(text)} is not true or false", "expected true or false")
    return value


def _enum_parser(allowed: tuple[str, ...]) -> Callable[[str], str]:
    """A parser for one member of ``allowed``, suggesting the nearest on a miss."""
    members = {v: v for v in allowed}

    def parse(text: str) -> str:
        value = members.get(text)
        if value is not None:
            return value
        normal = re.sub(r"[\s-]+", "_", text.lower())
        near = [normal] if normal in members else difflib.get_close_matches(normal, allowed, 1)
        hint = f"did you mean `{near[0]}`?" if near else "allowed values: " + ", ".join(allowed)
        raise BadValue(f"{_short(text)} is not one of the allowed values", hint)

    return parse


def _set_parser(allowed: tuple[str, ...]) -> Callable[[str], frozenset[str]]:
    """A parser for ``;``-separated members of ``allowed`` (blank parts are ignored)."""
    member = _enum_parser(allowed)

    def parse(text: str) -> frozenset[str]:
        return frozenset(member(p.strip()) for p in text.split(";") if p.strip())

    return parse


def _range_check(fi: FieldInfo, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap ``parse`` to enforce the field's ``minimum``/``maximum`` from the schema."""
    low, high = fi.minimum, fi.maximum
    if low is None and high is None:
        return parse
    if high is None:
        expected = f"expected at least {low}"
    elif low is None:
        expected = f"expected at most {high}"
    else:
        expected = f"expected a value from {low} to {high}"

    def checked(text: str) -> Any:
        value = parse(text)
        if low is not None and value < low:
            raise BadValue(f"{_short(text)} is less than {low}", expected)
        if high is not None and value > high:
            raise BadValue(f"{_short(text)} is more than {high}", expected)
        return value

    return checked


def _pattern_check(fi: FieldInfo, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap ``parse`` to require the whole text to match the field's ``pattern``."""
    if fi.pattern is None:
        return parse
    regex, words = re.compile(fi.pattern[0]), fi.pattern[1]

    def checked(text: str) -> Any:
        if not regex.fullmatch(text):
            raise BadValue(f"{_short(text)} is not {words}")
        return parse(text)

    return checked


class _Memo(dict[str, Any]):
    """Values already converted, by raw cell text; a miss converts (and remembers, up to a limit).

    A large file repeats the same dates, ids and enum values over and over, and a hit is one
    C-level dict lookup instead of a Python call.
    """

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[str], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, cell: str) -> Any:
        value = self.convert(cell)
        if len(self) < _CACHE_LIMIT:
            self[cell] = value
        return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "text": str,
    "date": _parse_date,
    "money": _parse_money,
    "integer": _parse_integer,
    "boolean": _parse_boolean,
}


def cell_converter(fi: FieldInfo) -> Callable[[str], Any]:
    """The function that turns a raw cell of this column into its value or raises ``BadValue``.

    It strips the cell, maps an empty cell to the field's default (or rejects it when the
    field is required), parses the text by the field's kind and applies the schema's checks.
    """
    parse: Callable[[str], Any]
    if fi.kind == "enum":
        parse = _enum_parser(ENUMS[fi.enum or ""])
    elif fi.kind == "set":
        parse = _set_parser(ENUMS[fi.enum or ""])
    else:
        parse = _parse_month if fi.month else _PARSERS[fi.kind]
    parse = _pattern_check(fi, _range_check(fi, parse))
    required, default = fi.required, fi.default

    def convert(cell: str) -> Any:
        text = cell.strip()
        if not text:
            if required:
                raise BadValue(MISSING)
            return default
        return parse(text)

    return convert


def fast_cell_converter(fi: FieldInfo, convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """The same conversion for the hot loop: a memo lookup, or for plain required text just
    ``str.strip`` (the loop then treats an empty result as a failed row and redoes it slowly).
    """
    if fi.kind == "text" and fi.required and fi.pattern is None:
        return str.strip
    return _Memo(convert).__getitem__


# --------------------------------------------------------------------------- Python values


def fast_check(fi: FieldInfo) -> Callable[[Any], bool]:
    """A quick test that passes a value of the field's own type that breaks none of its
    checks, or ``None`` for an optional field (most values, from the loader or a careful
    caller); what it does not pass goes the slow way, which alone decides what is wrong."""
    check = _check_of_kind(fi)
    if fi.optional:
        return lambda v: v is None or check(v)
    return check


def _check_of_kind(fi: FieldInfo) -> Callable[[Any], bool]:
    kind, low, high = fi.kind, fi.minimum, fi.maximum
    if kind == "enum":
        allowed = frozenset(ENUMS[fi.enum or ""])
        return lambda v: type(v) is str and v in allowed
    if kind == "set":
        members = frozenset(ENUMS[fi.enum or ""])
        return lambda v: type(v) is frozenset and v <= members
    if kind == "text":
        if fi.pattern is not None:
            regex = re.compile(fi.pattern[0])
            return lambda v: type(v) is str and regex.fullmatch(v) is not None
        return lambda v: type(v) is str and v != ""
    if kind == "date":
        if fi.month:
            return lambda v: type(v) is dt.date and v.day == 1
        return lambda v: type(v) is dt.date
    if kind == "boolean":
        return lambda v: v is True or v is False
    cls: type[Any] = Decimal if kind == "money" else int

    def ok(v: Any) -> bool:
        return (type(v) is cls and (kind != "money" or v.is_finite())
                and (low is None or v >= low) and (high is None or v <= high))

    return ok


def _missing(value: Any) -> bool:
    """``None``, or the missing values of data frames (a float NaN, pandas' ``NaT``)."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return type(value).__name__ in ("NaTType", "NAType")


def _other(fi: FieldInfo, value: Any) -> Any:
    """A value of another Python type as the field's, when nothing is lost (an int, or a float
    of whole pence, as money, 1 and 0 as booleans, a whole float as an integer, a datetime at
    midnight as its day, a list of roles as a set, a number as an id); anything else is
    returned as it is, for :func:`value_problem` to say what is wrong."""
    kind = fi.kind
    number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == "money" and number:
        if isinstance(value, float) and not math.isfinite(value):
            raise BadValue(f"{value} is not a number of pounds", _MONEY_HINT)
        if not isinstance(value, float):
            return Decimal(value)
        pounds = Decimal(repr(value))  # the shortest decimal that is this float: 1500.5
        if (pence := pounds * 100) != pence.to_integral_value():  # 0.1 + 0.2: not meant
            raise BadValue(f"{value!r} is a float that is not a whole number of pence "
                           "(a float cannot hold pence exactly)",
                           f"pass money as a Decimal or as text, e.g. Decimal('{pounds:.2f}')")
        return pounds
    whole = (isinstance(value, float) and value.is_integer()) or \
        (isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value())
    if kind == "integer" and whole:
        return int(value)
    if kind == "boolean" and number and value in (0, 1):
        return value == 1
    if kind == "date" and isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time():
            return value.date()
        raise BadValue(f"{value!r} has a time of day", "give the date alone, e.g. "
                       f"{value.date().isoformat()}")
    if kind == "set" and isinstance(value, list | tuple | set | frozenset):
        return frozenset(value)
    if kind == "text" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def python_converter(fi: FieldInfo, problem: Callable[[FieldInfo, Any], str | None]
                     ) -> Callable[[Any], Any]:
    """The function that turns a Python value given for this field into its value, or raises
    ``BadValue``.

    A value of the field's type that passes its checks is returned as it is. Text is read as
    a CSV cell is (``"2024-01-08"`` is a date, ``"1200.50"`` money), with the loader's
    messages. ``None`` (or a data frame's NaN) is a missing value: the field's default when it
    has one, an error when it is required. Other types convert when nothing is lost (see
    :func:`_other`); ``problem`` (the schema's :func:`value_problem`)
    then says what is wrong with what is left.
    """
    ok, from_text = _check_of_kind(fi), cell_converter(fi)
    default = None if fi.optional else fi.default

    def convert(value: Any) -> Any:
        if ok(value):
            return value
        if _missing(value):
            if fi.required:
                raise BadValue(MISSING)
            return default
        if isinstance(value, str):
            return from_text(value)
        value = _other(fi, value)
        what = problem(fi, value)
        if what is not None:
            raise BadValue(what)
        return value

    return convert


#: The Python type of each kind of field, and how a message names it. Money is a ``Decimal``
#: only: an ``int`` or a ``float`` would mix with the rules' exact fractions differently.
_PYTHON_TYPES: dict[str, tuple[type[Any], str]] = {
    "text": (str, "a str"),
    "enum": (str, "a str"),
    "date": (dt.date, "a datetime.date"),
    "money": (Decimal, "a Decimal"),
    "integer": (int, "an int"),
    "boolean": (bool, "a bool"),
    "set": (frozenset, "a frozenset"),
}
#: Subclasses that are not values of the kind: ``True`` is not a count, a datetime not a day.
_NOT_OF_KIND: dict[str, type] = {"integer": bool, "date": dt.datetime}


def value_problem(info: FieldInfo, value: Any) -> str | None:
    """What is wrong with ``value`` as a value of the field ``info``, for a person; ``None``
    when nothing is.

    These are the loader's checks, on Python values: a value is given unless the field is
    optional (a required text may not be empty); it has the field's type: ``str`` (enum
    values too), ``datetime.date`` but not ``datetime.datetime``, ``Decimal`` (not ``int``
    or ``float``: money is exact), ``int`` but not ``bool``, ``bool``, a ``frozenset`` of enum
    values; it is one of the enum's values; and it is within the field's range, matches its
    pattern and, for a month, is the first day of one.
    """
    if value is None or (info.kind == "text" and info.required and isinstance(value, str)
                         and not value):
        if info.optional:
            return None
        return "missing required value" if info.required else \
            f"missing value; leave it out for the default {info.default!r}"
    cls, what = _PYTHON_TYPES[info.kind]
    if not isinstance(value, cls) or isinstance(value, _NOT_OF_KIND.get(info.kind, ())):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        return f"expected {what}, not {type(value).__name__} {shown}"
    if info.enum is not None:
        allowed = ENUMS[info.enum]
        bad = [v for v in ([value] if info.kind == "enum" else value) if v not in allowed]
        if bad:
            listed = ", ".join(sorted(map(repr, bad)))
            return f"{listed} {'is' if len(bad) == 1 else 'are'} not one of {', '.join(allowed)}"
    if info.kind == "money" and not value.is_finite():
        return f"{value} is not a number"
    if info.kind in ("money", "integer") and limits.out_of_bounds([value]):
        return f"a number of more than {limits.MAX_DIGITS} digits"  # too long to print
    if info.minimum is not None and value < info.minimum:
        return f"{value} is less than {info.minimum}"
    if info.maximum is not None and value > info.maximum:
        return f"{value} is more than {info.maximum}"
    if info.pattern is not None and not re.fullmatch(info.pattern[0], value):
        return f"{value!r} is not {info.pattern[1]}"
    if info.month and value.day != 1:
        return f"{value} is not the first day of a month"
    return None


def plainly_valid(info: FieldInfo, values: list[Any]) -> bool:
    """A quick sweep of a whole column that passes it when no value can have a problem.

    It uses scans that run in C (the set of types, the set of enum values, min and max), so
    that a million records cost a fraction of a second; a column it does not pass is checked
    value by value with :func:`value_problem`, which alone decides what is wrong.
    """
    types = set(map(type, values))
    if info.optional:
        types.discard(type(None))
    if not types <= {_PYTHON_TYPES[info.kind][0]}:  # None, bool, datetime, subclasses: slowly
        return False
    if info.kind == "text" and info.required and "" in values:
        return False
    if info.enum is not None:
        seen = set(values) if info.kind == "enum" else set().union(*values)
        seen.discard(None)
        if not seen <= set(ENUMS[info.enum]):
            return False
    if info.kind not in ("money", "integer") and info.minimum is None \
            and info.maximum is None and info.pattern is None and not info.month:
        return True
    present = [v for v in values if v is not None]
    if info.kind == "money" and not all(map(Decimal.is_finite, present)):
        return False
    if info.kind in ("money", "integer") and limits.out_of_bounds(present):
        return False
    if present and info.minimum is not None and min(present) < info.minimum:
        return False
    if present and info.maximum is not None and max(present) > info.maximum:
        return False
    if info.pattern is not None and not all(re.fullmatch(info.pattern[0], v)
                                            for v in set(present)):
        return False
    return not (info.month and any(d.day != 1 for d in present))
