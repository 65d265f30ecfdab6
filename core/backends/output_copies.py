"""Which outputs a compiled function copies, so that every call returns arrays of its own.

A compiled function never hands out memory the caller can reach another way: an output that is an input, a
constant, or a view (of an input, a constant, or any other value, since what a view shares is known only at
run time), and an output listed again after its first place (``gw.function([x], [y, y])``), are copied. So
writing into one output never changes another output, an input or a constant, on every backend. PyTensor
makes the same decision (a deep copy of each output that may alias an input or another output, unless the
caller borrows it). Backends whose kernels always return new memory (JAX) copy every output anyway.
"""

from __future__ import annotations

from graphwright.graph.basic import Constant
from graphwright.graph.graph import Graph

__all__ = ["output_copies"]


def output_copies(graph: Graph) -> list[bool]:
    """For each of ``graph.outputs``, whether the compiled function copies it (see the module docstring);
    linear in the numbers of inputs and outputs.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> y = gw.exp(x)
    >>> output_copies(gw.Graph([x], [y, y, x, y[1:]]))
    [False, True, True, True]
    """
    inputs = {id(v) for v in graph.inputs}
    seen: set[int] = set()
    copies = []
    for out in graph.outputs:
        copies.append(id(out) in seen or id(out) in inputs or isinstance(out, Constant)
                      or out.owner is None or out.owner.op.returns_view)
        seen.add(id(out))
    return copies
