"""Types of rule expressions, exact arithmetic, and the one registry of builtin functions.

The checker reads a builtin's ``result`` to type a call; the interpreter calls its ``impl``.
Both read the same entry, so what is checked is what runs. Operators and builtins share
``exact``, so no sum or product is ever rounded.
"""

from __future__ import annotations

import decimal
import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from kpidsl.classes import fields_methods, fields_repr
from kpidsl.limits import too_big

NUMERIC = ("integer", "number", "percent", "money")


@attrs.frozen
class Type:
    """The type of an expression.

    ``kind`` is one of boolean, integer, number, percent, money, date, duration, text, enum
    (``name`` is the enumeration), record (``name`` is the record type), set or list (``elem`` is
    the element type).
    """

    __repr__ = fields_repr  # attrs's own __eq__ and __hash__: quicker, for a hot cache key

    kind: str
    name: str | None = None
    elem: Type | None = None

    def __str__(self) -> str:
        if self.kind == "enum":
            return f"a value of {self.name}"
        if self.kind == "record":
            return f"a {self.name}"
        if self.kind == "list" and self.elem is not None:
            inner = f"{self.elem.name}s" if self.elem.kind == "record" else f"{self.elem.kind}s"
            return f"a list of {inner}"
        if self.kind == "set" and self.elem is not None:
            return f"a set of {self.elem.name or self.elem.kind} values"
        article = "an" if self.kind[0] in "aeiou" else "a"
        return {"boolean": "true or false", "text": "a text", "money": "an amount of money"}.get(
            self.kind, f"{article} {self.kind}"
        )


BOOLEAN = Type("boolean")

_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
#: Decimal arithmetic that refuses to round: an inexact result raises, and we use Fractions.
_EXACT = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.Overflow,
                                          decimal.InvalidOperation, decimal.DivisionByZero])
_DECIMAL_OPS = {"+": _EXACT.add, "-": _EXACT.subtract, "*": _EXACT.multiply,
                "/": _EXACT.divide}


@functools.lru_cache(maxsize=256)
def _as_decimal(f: Fraction) -> Decimal | None:
    """``f`` as an exact Decimal (``3/10`` → ``0.3``), or ``None`` if it has no finite one."""
    try:
        return _EXACT.divide(Decimal(f.numerator), Decimal(f.denominator))
    except decimal.Inexact:
        return None


def exact(symbol: str) -> Callable[[Any, Any], Any]:
    """An exact arithmetic operation on ints, Decimals (money) and Fractions (percentages).

    Money times a percentage stays a Decimal when the percentage is a finite decimal (a
    written ``30%`` always is), because comparing Decimals is fast; anything that would round
    is done with Fractions instead. Division by zero is missing, and so is a result of more
    than ``limits.MAX_VALUE_DIGITS`` digits (so values, and the time to work them out, stay
    bounded however the rules multiply).
    """
    op, dec = _ARITH[symbol], _DECIMAL_OPS[symbol]

    def compute(a: Any, b: Any) -> Any:
        if type(a) is Fraction and type(b) is Decimal:
            a = _as_decimal(a) or a
        elif type(b) is Fraction and type(a) is Decimal:
            b = _as_decimal(b) or b
        try:
            if type(a) is Decimal or type(b) is Decimal:
                if type(a) is Fraction or type(b) is Fraction:
                    return op(Fraction(a), Fraction(b))
                return dec(a, b)
            if symbol == "/" and isinstance(a, int) and isinstance(b, int):
                return Fraction(a, b)
            return op(a, b)
        except (decimal.Inexact, decimal.InvalidOperation):
            return op(Fraction(a), Fraction(b))
        except (ZeroDivisionError, decimal.DivisionByZero, OverflowError, ValueError):
            return None  # division by zero, or a date past year 9999: missing

    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        value = compute(a, b)
        return None if too_big(value) else value  # past limits.MAX_VALUE_DIGITS: missing

    return apply


INTEGER = Type("integer")


@attrs.frozen
@fields_methods
class Builtin:
    """A function rules may call. ``result`` types a call from its argument types, or returns a
    message saying what it wants; ``impl`` computes it (missing values are ``None``)."""

    name: str
    doc: str
    result: Callable[[Sequence[Type]], Type | str]
    impl: Callable[..., Any]
    filtered: Callable[[Iterable[Any], Callable[[Any], Any]], Any] | None = None
    """The same applied to ``records where condition`` without building the list first."""


_ADD = exact("+")


def _one_list(
    want: str, then: Callable[[Type], Type | str]
) -> Callable[[Sequence[Type]], Type | str]:
    def result(args: Sequence[Type]) -> Type | str:
        if len(args) != 1 or args[0].kind != "list" or args[0].elem is None:
            return f"takes one argument, {want}"
        return then(args[0].elem)

    return result


def _numeric_elem(elem: Type) -> Type | str:
    return elem if elem.kind in NUMERIC else "adds up numbers or amounts of money"


def _ordered_elem(elem: Type) -> Type | str:
    return elem if elem.kind in (*NUMERIC, "date") else "takes numbers, money or dates"


def _sum(values: Sequence[Any]) -> Any:
    total: Any = 0
    for v in values:
        if v:  # missing values (and zeros) leave the sum as it is
            total = _ADD(total, v)
    return total


def _extreme(pick: Callable[..., Any]) -> Callable[[Sequence[Any]], Any]:
    def impl(values: Sequence[Any]) -> Any:
        present = [v for v in values if v is not None]
        return pick(present) if present else None

    return impl


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin("count", "How many there are: `count(interviews where result = "
                "unsuccessful)`.", _one_list("a list", lambda e: INTEGER), len,
                lambda records, cond: len(list(filter(cond, records)))),
        Builtin("any", "Whether there is at least one record: `any(interviews where "
                "valid_interview)`.", _one_list("a list of records", lambda e: BOOLEAN), bool,
                lambda records, cond: any(map(cond, records))),
        Builtin("sum", "The total of some values, 0 when there are none: "
                "`sum(payments.amount_paid)`.", _one_list("a list of values", _numeric_elem), _sum),
        Builtin("earliest", "The earliest (smallest) of some values, missing when there are none.",
                _one_list("a list of values", _ordered_elem), _extreme(min)),
        Builtin("latest", "The latest (largest) of some values, missing when there are none.",
                _one_list("a list of values", _ordered_elem), _extreme(max)),
    )
}
