"""kpidsl's attrs classes share one ``__repr__`` (:func:`kpidsl.classes.fields_repr`) rather
than each compiling its own at import, and it reads exactly as attrs's own."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import attrs
import pytest

import kpidsl
from kpidsl.classes import fields_repr


def _pair(**options: Any) -> tuple[type, type]:
    """The same class twice: with attrs's generated ``__repr__`` and with ``fields_repr``."""

    @attrs.frozen(**options)
    class Generated:
        number: int
        hidden: str = attrs.field(default="h", repr=False)
        shown: str = attrs.field(default="s", repr=lambda v: f"<{v}>")
        _private: int = attrs.field(default=0, alias="private")
        inner: Any = None

    @attrs.frozen(**options)
    class Shared:
        __repr__ = fields_repr

        number: int
        hidden: str = attrs.field(default="h", repr=False)
        shown: str = attrs.field(default="s", repr=lambda v: f"<{v}>")
        _private: int = attrs.field(default=0, alias="private")
        inner: Any = None

    Shared.__qualname__ = Generated.__qualname__
    return Generated, Shared


@pytest.mark.parametrize("options", [{}, {"kw_only": True}, {"slots": False}])
def test_the_shared_repr_reads_as_attrs_writes_it(options: dict[str, Any]) -> None:
    generated, shared = _pair(**options)
    for kwargs in ({"number": 1}, {"number": 2, "hidden": "x", "shown": "y", "private": 3},
                   {"number": 4, "inner": ("a", 5, None)}):
        assert repr(shared(**kwargs)) == repr(generated(**kwargs))
    nested = {"number": 6, "inner": generated(number=7)}, {"number": 6, "inner": shared(number=7)}
    assert repr(shared(**nested[1])) == repr(generated(**nested[0]))


def test_an_object_inside_itself_is_dots_as_attrs_writes_it() -> None:
    generated, shared = _pair()
    a, b = generated(number=1, inner=[]), shared(number=1, inner=[])
    a.inner.append(a)
    b.inner.append(b)
    assert repr(b) == repr(a) == "Generated(number=1, shown=<s>, _private=0, inner=[...])"


def _classes() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(kpidsl.__path__, "kpidsl."):
        if info.name == "kpidsl.__main__":
            continue
        module = importlib.import_module(info.name)
        found += [c for _, c in inspect.getmembers(module, inspect.isclass)
                  if c.__module__ == info.name and attrs.has(c)]
    return found


def test_every_attrs_class_of_kpidsl_shares_the_repr() -> None:
    classes = _classes()
    assert len(classes) > 100
    assert [c.__qualname__ for c in classes if c.__repr__ is not fields_repr] == []
