"""Values in SQL text: literals, and numbers as exact (numerator, denominator) pairs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import TypeAlias

import attrs

from kpidsl.classes import fields_methods


def quote(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_date(d: dt.date | None) -> str:
    """``d`` as an SQL date literal (a typed ``NULL`` for ``None``)."""
    return "CAST(NULL AS DATE)" if d is None else f"DATE '{d.isoformat()}'"


@attrs.frozen
@fields_methods
class Num:
    """A number as numerator and denominator, each SQL text, the denominator an ``int`` when
    it is known now. The denominator is positive whenever the number is not missing."""

    n: str
    d: int | str

    @property
    def const(self) -> Fraction | None:
        """The number, when both parts are known now."""
        if isinstance(self.d, int):
            try:
                return Fraction(int(self.n), self.d) if self.d else None
            except ValueError:
                return None
        return None


Value: TypeAlias = str | Num
"""What an expression compiles to: SQL text, or a :class:`Num` for a number."""


def exactly(value: object) -> Fraction:
    """A number of the rules (an ``int``, money's ``Decimal`` or a percentage's
    ``Fraction``) as a ``Fraction``."""
    assert isinstance(value, int | Decimal | Fraction), value
    return Fraction(value)


def known(value: object) -> Num:
    """A number of the rules as a :class:`Num` known now."""
    f = exactly(value)
    return Num(str(f.numerator), f.denominator)
