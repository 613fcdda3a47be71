"""What kpidsl's attrs classes share, written once rather than generated for each class.

attrs writes and compiles the source of each class's methods when the class is made, at
import: for the hundred classes of the rules, the plan, the records and the results, a third
of kpidsl's start-up (the ``__repr__`` alone, the longest, 19 ms of it). A class that assigns
:func:`fields_repr` as its ``__repr__`` gets none generated (attrs leaves a method of the
class's own alone) and reads exactly as attrs would print it.
"""

from __future__ import annotations

import reprlib
from typing import Any

import attrs


@reprlib.recursive_repr()
def fields_repr(self: Any) -> str:
    """``Name(field=value, ...)``, the fields attrs would show (those without ``repr=False``,
    each by its own ``repr=`` function if it has one), as attrs's generated ``__repr__``
    writes it; an object found again inside itself is ``...``."""
    shown = ", ".join(f"{a.name}={a.repr(v) if callable(a.repr) else repr(v)}"
                      for a in attrs.fields(type(self)) if a.repr
                      for v in (getattr(self, a.name),))
    return f"{type(self).__qualname__.rsplit('>.', 1)[-1]}({shown})"
