"""The one way to walk a plan: ``visit`` dispatches on the node's class name (as Jinja's
``NodeVisitor`` does); a missing method is a bug in the engine, reported loudly."""

from __future__ import annotations

from typing import Any


class Visitor:
    """Subclasses define ``visit_<ClassName>(node)`` for every plan node they can run."""

    def visit(self, node: Any) -> Any:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise NotImplementedError(f"{type(self).__name__} cannot run {type(node).__name__}")
        return method(node)
