"""What kpidsl's attrs classes share, written once rather than generated for each class.

attrs writes and compiles the source of each class's methods when the class is made, at
import: for the hundred classes of the rules, the plan, the records and the results, a third
of kpidsl's start-up. A frozen class decorated with :func:`fields_methods` below its attrs
decorator has :func:`fields_repr`, :func:`fields_eq` and :func:`fields_hash` as its own
``__repr__``, ``__eq__`` and ``__hash__`` by the time attrs sees it, so attrs generates none
of them (it leaves a method of the class's own alone), and they behave as attrs's would (a
mutable class assigns the first two itself: it must stay unhashable). Only ``__init__`` is
still generated. A class whose equality or hash is on a hot path
(:class:`~kpidsl.language.builtins.Type`, a key of the SQL engines' value cache, hashed a
million times in an ``explain`` at 100,000 learners) keeps attrs's quicker generated ones.
"""

from __future__ import annotations

import reprlib
from typing import Any, TypeVar

import attrs

_T = TypeVar("_T", bound=type)

_COMPARED: dict[type, tuple[str, ...]] = {}
_HASHED: dict[type, tuple[str, ...]] = {}


@reprlib.recursive_repr()
def fields_repr(self: Any) -> str:
    """``Name(field=value, ...)``, the fields attrs would show (those without ``repr=False``,
    each by its own ``repr=`` function if it has one), as attrs's generated ``__repr__``
    writes it; an object found again inside itself is ``...``."""
    shown = ", ".join(f"{a.name}={a.repr(v) if callable(a.repr) else repr(v)}"
                      for a in attrs.fields(type(self)) if a.repr
                      for v in (getattr(self, a.name),))
    return f"{type(self).__qualname__.rsplit('>.', 1)[-1]}({shown})"


def fields_eq(self: Any, other: object) -> bool:
    """Equal as attrs compares: an object of the very same class whose fields (but those with
    ``eq=False``) are equal, in their order."""
    cls: Any = self.__class__
    names = _COMPARED.get(cls)
    if names is None:
        names = _COMPARED[cls] = tuple(a.name for a in attrs.fields(cls) if a.eq)
    if other.__class__ is not cls:
        return NotImplemented  # type: ignore[no-any-return]  # Python asks the other side
    return all(getattr(self, n) == getattr(other, n) for n in names)


def fields_hash(self: Any) -> int:
    """The hash of the class and the fields attrs would hash (those compared, unless
    ``hash=`` says otherwise): equal objects hash alike, as with attrs's."""
    cls: Any = self.__class__
    names = _HASHED.get(cls)
    if names is None:
        names = _HASHED[cls] = tuple(
            a.name for a in attrs.fields(cls) if (a.eq if a.hash is None else a.hash))
    return hash((cls, *(getattr(self, n) for n in names)))


def fields_methods(cls: _T) -> _T:
    """``cls`` with the shared ``__repr__``, ``__eq__`` and ``__hash__`` of its own: written
    below a frozen class's ``@attrs.frozen``, so that attrs generates none of them."""
    cls.__repr__ = fields_repr  # type: ignore[assignment]
    cls.__eq__ = fields_eq  # type: ignore[assignment]
    cls.__hash__ = fields_hash  # type: ignore[assignment]
    return cls
