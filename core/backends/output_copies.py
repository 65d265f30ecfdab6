"""Which outputs a compiled function copies, so that every call returns arrays of its own.

A compiled function never hands out memory the caller can reach another way: an output that is an input, a
constant, or a view (of an input, a constant, or any other value, since what a view shares is known only at
run time), and an output listed again after its first place (``gw.function([x], [y, y])``), are copied. So
writing into one output never changes another output, an input or a constant, on every backend. PyTensor
makes the same decision (a deep copy of each output that may alias an input or another output, unless the
caller borrows it). Backends whose kernels always return new memory (JAX) copy every output anyway.

How a value is copied is its type's business (``Type.copy_value``): an array becomes a new array, a random
generator a generator in the same state (never a NumPy array of one object).
"""

from __future__ import annotations

from graphwright.graph.basic import Constant, Variable
from graphwright.graph.graph import Graph

__all__ = ["output_copies", "output_source"]


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


def output_source(out: Variable, expr: str, copy: bool, position: int, namespace: dict) -> str:
    """The expression a generated function returns for output ``position`` (held in ``expr``): a copy when
    ``copy`` (a new array for a tensor, ``Type.copy_value`` for another type, added to ``namespace``), and a
    0-d array rather than a NumPy scalar for a 0-d tensor.

    Examples
    --------
    >>> import graphwright as gw
    >>> output_source(gw.vector("x"), "v0_0", True, 0, {}), output_source(gw.scalar("s"), "v1_0", False, 1, {})
    ('_np.array(v0_0)', '_np.asarray(v1_0)')
    >>> ns = {}
    >>> output_source(gw.rng_var("rng"), "i0", True, 0, ns), sorted(ns)
    ('_copy_out0(i0)', ['_copy_out0'])
    """
    if not out.type.is_tensor:
        if not copy:
            return expr
        namespace[f"_copy_out{position}"] = out.type.copy_value
        return f"_copy_out{position}({expr})"
    if copy:
        return f"_np.array({expr})"
    return f"_np.asarray({expr})" if out.type.ndim == 0 else expr
