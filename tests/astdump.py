"""A stable, indented rendering of AST nodes for the parser's golden files.

Each node is written as its ``repr`` (spans and source text are left out, as in the nodes' own
``repr``); a node or tuple that does not fit on one line is broken into one field per line.
"""

from __future__ import annotations

from typing import Any

import attrs

WIDTH = 88
STEP = "    "


def dump(value: Any, indent: str = "") -> str:
    """``value`` as text, continuing lines indented by ``indent``."""
    flat = repr(value)
    if len(indent) + len(flat) <= WIDTH:
        return flat
    inner = indent + STEP
    if attrs.has(type(value)):
        parts = [
            f"{inner}{a.name}={dump(getattr(value, a.name), inner)},"
            for a in attrs.fields(type(value))
            if a.repr
        ]
        return type(value).__name__ + "(\n" + "\n".join(parts) + f"\n{indent})"
    if isinstance(value, tuple) and value:
        parts = [f"{inner}{dump(v, inner)}," for v in value]
        return "(\n" + "\n".join(parts) + f"\n{indent})"
    return flat
