"""Python's cyclic garbage collector, paused for bulk work (the bottom layer: the loaders,
the engines and the outputs all use it)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused(keep: bool = False) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while loading or evaluating.

    A load or an evaluation allocates millions of objects and no reference cycles, yet every
    few thousand allocations the collector rescans the ever-growing heap: a third of the
    time of a million-learner load, for nothing. Reference counting still frees everything.

    ``keep``: for a whole command, whose process ends with it: what is still there when it
    is done (the modules imported, the rules read) is put out of the collector's sight
    (``gc.freeze``) rather than gone through, twice, by its first collections once resumed.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if keep:
                gc.freeze()
            gc.enable()
