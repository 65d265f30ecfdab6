"""No full garbage collection while a rewrite runs: keeps the rewrite linear in the graph size (issue 14).

A rewrite allocates hundreds of thousands of nodes, variables and tuples that survive the young generations, so
CPython's automatic *full* collections run several times during it, each traversing every object alive in the
process: the input graph, the trace, the hash-consing tables and everything the caller holds. On the gradient of
a 10k-node cost they took 1.6 s of an 8 s rewrite (27% of 20 s on a random 100k-node graph), charged to
whichever rule happened to allocate at the time. The young generations are still collected (most cyclic
garbage of a rewrite, such as nodes built and dropped by a declined rule, dies young), and the normal
thresholds come back when the rewrite ends; an explicit ``gc.collect()`` still collects everything.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["no_full_collections"]

# The oldest generation's threshold while a rewrite runs: high enough that it is never reached.
_NEVER = 1 << 30


@contextlib.contextmanager
def no_full_collections() -> Iterator[None]:
    """Suspend CPython's automatic full collections inside the block (young ones still run); nestable.

    Examples
    --------
    >>> import gc
    >>> before = gc.get_threshold()
    >>> with no_full_collections():
    ...     gc.get_threshold()[2] > before[2]
    True
    >>> gc.get_threshold() == before
    True
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], _NEVER))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
