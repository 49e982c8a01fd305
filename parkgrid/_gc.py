"""Python's cyclic garbage collector, tuned for a process that allocates a lot briefly.

A flagship run allocates millions of small objects (pandas, matplotlib's artists), and
numba allocates as many compiling a kernel family, so with Python's default threshold
(700 allocations) the collector ran about 630 times in a run and about 950 times in
a family's compile, seven of them over every object of the imported modules (numba's,
pandas', matplotlib's): 0.28-0.37 s of a run's main-process CPU and 0.67-0.82 s of
each background compile's (``gc.callbacks``, 7 Dec 2026, issue 17).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["RUN_GC_THRESHOLD", "few_collections"]

#: allocations between two collections of the youngest generation inside
#: :func:`few_collections` (Python's default is 700)
RUN_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Collect garbage rarely inside the block; restore the collector after it.

    The youngest generation is collected every :data:`RUN_GC_THRESHOLD`
    allocations. The caller calls ``gc.freeze()`` once it has imported what it
    needs: the modules' objects, which live as long as the process, are then left
    out of every later collection (and a worker forked later shares their memory
    pages untouched). Garbage is still freed by reference counting at once; only
    reference cycles wait longer. On leaving, the thresholds are restored and the
    objects frozen inside the block return to the collector (a caller's own frozen
    objects stay frozen).
    """
    old = gc.get_threshold()
    ours = gc.get_freeze_count() == 0
    gc.set_threshold(RUN_GC_THRESHOLD, old[1], old[2])
    try:
        yield
    finally:
        if ours:
            gc.unfreeze()
        gc.set_threshold(*old)
