"""Checked rule sets remembered by their files' content, so that a command reading the same
rules again neither parses nor checks them, nor imports the parser.

At the size a combined authority has, starting up is most of a command's time, and parsing
and checking the rules (with importing Lark) was a third of it. The key is a hash of
kpidsl's version and of every file's path and text, so an edited, added, moved or removed
file, or another kpidsl, is a new key: what is read back is what checking those texts gives.
Only rule sets that check are kept; a rule set with errors is parsed again, and its errors
are reported as ever.

The remembered rule sets live in the user's cache folder (``$KPIDSL_CACHE_DIR``, else
``$XDG_CACHE_HOME/kpidsl``, else ``~/.cache/kpidsl``), a folder only its owner may write to;
one that anyone else may write to is not read. ``KPIDSL_CACHE_DIR=off`` turns remembering
off. A file that cannot be read back (cut short, from an older layout) is parsed again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from kpidsl.language.checker import RuleSet
from kpidsl.version import __version__

#: Rule sets kept at most; the oldest are removed past it.
KEPT = 64


def folder() -> Path | None:
    """Where rule sets are remembered, or ``None`` when remembering is off."""
    given = os.environ.get("KPIDSL_CACHE_DIR")
    if given is not None:
        return None if given.lower() in ("", "0", "off", "no") else Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "kpidsl")


def key(texts: Sequence[tuple[str, str]], tests: bool) -> str:
    """The key of the rule set made of ``texts`` (each file's path and text)."""
    h = hashlib.sha256(f"kpidsl {__version__} rules tests={tests}\0".encode())
    for path, text in texts:
        h.update(f"{len(path)}:{path}\0{len(text)}:".encode())
        h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _private(where: Path) -> bool:
    """The folder is the user's own and only they may write to it."""
    try:
        st = where.stat()
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return mine and stat.S_ISDIR(st.st_mode) and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def recall(name: str) -> RuleSet | None:
    """The rule set remembered under ``name``, if there is one that reads back whole."""
    where = folder()
    if where is None or not _private(where):
        return None
    try:
        with open(where / f"{name}.pickle", "rb") as f:
            found, resolved, types = pickle.load(f)
    except Exception:  # absent, cut short or of another layout: parse again
        return None
    if not isinstance(found, RuleSet):
        return None
    return attrs.evolve(found, resolved={id(n): r for n, r in resolved},
                        types={id(n): t for n, t in types})


def _nodes(rule_set: RuleSet) -> dict[int, Any]:
    """Every object the rule set holds, by ``id``: the checker's findings are kept by the
    ``id`` of the node they are about, which a node read back has anew."""
    seen: dict[int, Any] = {}
    stack: list[Any] = [rule_set]
    while stack:
        x = stack.pop()
        if id(x) in seen or isinstance(x, str | int | float | bool | type(None)):
            continue
        seen[id(x)] = x
        if attrs.has(type(x)):
            stack.extend(getattr(x, a.name) for a in attrs.fields(type(x))
                         if a.name not in ("resolved", "types"))
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, tuple | list | set | frozenset):
            stack.extend(x)
    return seen


def keep(name: str, rule_set: RuleSet) -> None:
    """Remember ``rule_set`` under ``name``; a cache that cannot be written is no error."""
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(where):
            return
        part = where / f"{name}.{os.getpid()}.part"
        nodes = _nodes(rule_set)
        bare = attrs.evolve(rule_set, resolved={}, types={})
        with open(part, "wb") as f:  # the nodes travel with what the checker found of them
            pickle.dump((bare, [(nodes[i], r) for i, r in rule_set.resolved.items() if i in nodes],
                         [(nodes[i], t) for i, t in rule_set.types.items() if i in nodes]),
                        f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(part, where / f"{name}.pickle")
        kept = sorted(where.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-KEPT]:
            old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, RecursionError):
        return
