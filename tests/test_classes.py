"""kpidsl's attrs classes share one ``__repr__``, ``__eq__`` and ``__hash__``
(:mod:`kpidsl.classes`) rather than each compiling its own at import, and they behave
exactly as attrs's own."""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path
from typing import Any

import attrs
import pytest

import kpidsl
from kpidsl.classes import fields_eq, fields_hash, fields_repr


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
        __eq__ = fields_eq
        __hash__ = fields_hash

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


@pytest.mark.parametrize("options", [{}, {"kw_only": True}, {"slots": False}])
def test_the_shared_equality_and_hash_are_attrs_s(options: dict[str, Any]) -> None:
    generated, shared = _pair(**options)
    values = [{"number": 1}, {"number": 1, "hidden": "x"}, {"number": 1, "shown": "x"},
              {"number": 2}, {"number": 1, "private": 3}, {"number": 1, "inner": (1, 2)},
              {"number": 1, "inner": [1]}]
    for a in values:
        for b in values:
            assert (shared(**a) == shared(**b)) == (generated(**a) == generated(**b))
            assert (shared(**a) != shared(**b)) == (generated(**a) != generated(**b))
    hashable = [v for v in values if not isinstance(v.get("inner"), list)]
    for a in hashable:
        for b in hashable:
            if shared(**a) == shared(**b):
                assert hash(shared(**a)) == hash(shared(**b))
    assert shared(number=1) != generated(number=1)  # another class, as with attrs
    assert shared(number=1).__eq__(generated(number=1)) is NotImplemented
    with pytest.raises(TypeError, match="unhashable"):
        hash(shared(number=1, inner=[1]))
    assert len({shared(number=1), shared(number=1), shared(number=2)}) == 2


def test_a_mutable_class_sharing_the_equality_is_unhashable_as_attrs_makes_it() -> None:
    @attrs.define
    class Mutable:
        __eq__ = fields_eq

        number: int

    assert Mutable(1) == Mutable(1) and Mutable(1) != Mutable(2)
    with pytest.raises(TypeError, match="unhashable"):
        hash(Mutable(1))


def _modules() -> list[str]:
    """kpidsl's modules, from its packages' source files. Not ``pkgutil.walk_packages``: it
    lists every folder in the package, and in an installed kpidsl the shipped rules are one
    (which no test outside tests/policy/ may read)."""
    root = Path(kpidsl.__file__).parent
    names = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if Path(folder, d, "__init__.py").is_file()]
        package = Path(folder).relative_to(root.parent).parts
        names += [".".join(package if f == "__init__.py" else (*package, f[:-3]))
                  for f in sorted(files) if f.endswith(".py") and f != "__main__.py"]
    return names


def _classes() -> list[type]:
    found = []
    for name in _modules():
        module = importlib.import_module(name)
        found += [c for _, c in inspect.getmembers(module, inspect.isclass)
                  if c.__module__ == name and attrs.has(c)]
    return found


def test_every_attrs_class_of_kpidsl_shares_the_methods() -> None:
    """All but ``Type``, whose equality and hash key the SQL engines' value cache."""
    classes = _classes()
    assert len(classes) > 100
    assert [c.__qualname__ for c in classes if c.__repr__ is not fields_repr] == []
    assert [c.__qualname__ for c in classes if c.__eq__ is not fields_eq] == ["Type"]
    hashable = [c for c in classes if c.__hash__ is not None]  # the frozen ones
    assert [c.__qualname__ for c in hashable if c.__hash__ is not fields_hash] == ["Type"]
