"""Vectorization: replace inputs by batched ones (extra leading dimensions) and propagate the batch.

``vectorize_graph(outputs, replace={x: batched_x})`` walks the graph once; every node that sees a batched
input calls its op's ``vectorize`` rule, which returns outputs with the batch dimensions in front. Ops
without a specific rule fall back to :class:`~graphwright.tensor.blockwise.Blockwise` (the core op applied
to each batch slice). Outputs that do not depend on a replaced variable are returned unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphwright.graph.basic import Apply, GraphError, Variable
from graphwright.graph.graph import toposort
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["vectorize_graph", "pad_batch", "vectorize", "batch_ndim_of"]


def _label(v: Variable) -> str:
    return f"{v} ({v.type.short()})"


def pad_batch(inputs: Sequence[Variable], batch_ndims: Sequence[int]) -> list[Variable]:
    """Give every batched input the same number of batch dimensions (missing ones become static length 1);
    unbatched inputs are left alone (their missing batch dimensions broadcast).

    Examples
    --------
    >>> import graphwright as gw
    >>> a, b = gw.tensor3("a"), gw.matrix("b")
    >>> [v.type.shape for v in pad_batch([a, b], [2, 1])]
    [(None, None, None), (1, None, None)]
    """
    top = max(batch_ndims, default=0)
    out = []
    for v, nb in zip(inputs, batch_ndims, strict=True):
        if 0 < nb < top:
            from graphwright.tensor.shape import dimshuffle

            v = dimshuffle(v, ["x"] * (top - nb) + list(range(v.type.ndim)))
        out.append(v)
    return out


def _check_batch_sizes(node: Apply, inputs: list[Variable], nbs: list[int]) -> None:
    """Static batch lengths of the batched inputs must agree (right-aligned within the batch part)."""
    top = max(nbs)
    for d in range(top):
        first: tuple[int, Variable] | None = None
        for v, nb in zip(inputs, nbs, strict=True):
            k = d - (top - nb)
            size = v.type.shape[k] if nb and k >= 0 else None
            if size is None or size == 1:
                continue
            if first is None:
                first = (size, v)
            elif first[0] != size:
                raise ValueError(f"vectorize_graph: batch sizes {first[0]} and {size} do not match at "
                                 f"{node.op.short_name()} (batch dimension {d} of {_label(first[1])} and "
                                 f"{_label(v)})")


def batch_ndim_of(old: Variable, new: Variable) -> int:
    """How many batch dimensions ``new`` has in front of ``old``'s dimensions (0 for a non-tensor type, such
    as a random generator: it is never batched)."""
    return new.type.ndim - old.type.ndim if old.type.is_tensor else 0


def vectorize_graph(outputs: Variable | Sequence[Variable], replace: Mapping[Variable, Any], *,
                    _strict_core: bool = True) -> Any:
    """Rebuild ``outputs`` with each key of ``replace`` swapped for a batched version of it.

    Parameters
    ----------
    outputs : a variable or a list of variables.
    replace : ``{variable: batched}`` where ``batched`` has the variable's dtype and core shape, with any
        number of extra leading batch dimensions.

    Returns the batched outputs (a variable or a list, like ``outputs``).

    Examples
    --------
    >>> import graphwright as gw
    >>> A, x = gw.matrix("A"), gw.vector("x")
    >>> xs = gw.matrix("xs")                      # a batch of vectors
    >>> vectorize_graph(gw.exp(A @ x), {x: xs}).type
    TensorType(float64, (None, None))
    """
    single = isinstance(outputs, Variable)
    outs = [outputs] if single else list(outputs)
    batched: dict[Variable, Variable] = {}
    for old, new in replace.items():
        new = new if isinstance(new, Variable) else as_tensor(new)
        _check_replacement(old, new, _strict_core)
        batched[old] = new
    for node in toposort(outs, stop_at=list(replace)):
        if not any(v in batched for v in node.inputs):
            continue
        inputs = [batched.get(v, v) for v in node.inputs]
        nbs = [batch_ndim_of(v, batched[v]) if v in batched else 0 for v in node.inputs]
        if not any(nbs):
            new_outs = node.op.make_node(*inputs).outputs
        else:
            _check_batch_sizes(node, inputs, nbs)
            new_outs = node.op.vectorize(node, inputs, nbs)
        for old, new in zip(node.outputs, new_outs, strict=True):
            if (new.type != old.type if not old.type.is_tensor
                    else new.type.dtype != old.type.dtype or batch_ndim_of(old, new) < 0):
                raise GraphError(f"{node.op.short_name()}.vectorize returned {_label(new)} for {_label(old)}")
            batched[old] = new
    result = [batched.get(o, o) for o in outs]
    return result[0] if single else result


def _check_replacement(old: Variable, new: TensorVariable, strict: bool) -> None:
    if not isinstance(old, Variable):
        raise TypeError(f"vectorize_graph: replace keys must be variables, got {type(old).__name__}")
    if not (old.type.is_tensor and new.type.is_tensor):
        if new.type != old.type:  # a generator (any non-tensor) has no batch dimensions: only a swap
            odd = old if not old.type.is_tensor else new
            raise TypeError(f"vectorize_graph: {_label(odd)} is not a tensor, so it is never batched; "
                            f"{_label(old)} can only be replaced by a variable of the same type, got {_label(new)}")
        return
    nb = batch_ndim_of(old, new)
    if nb < 0:
        raise ValueError(f"vectorize_graph: the replacement {_label(new)} has fewer dimensions than {_label(old)}")
    if new.type.dtype != old.type.dtype:
        raise TypeError(f"vectorize_graph: the replacement {_label(new)} has another dtype than {_label(old)}")
    for d, (a, b) in enumerate(zip(old.type.shape, new.type.shape[nb:], strict=True)):
        if a is not None and b != a and (strict or b is not None):
            raise ValueError(f"vectorize_graph: the replacement {_label(new)} does not have the core shape of "
                             f"{_label(old)} (dimension {d})")


def vectorize(func: Callable, signature: str) -> Callable:
    """Like ``np.vectorize(func, signature=...)``: a function of batched inputs built from ``func`` on core ones.

    ``signature`` is a gufunc signature (``"(m,n),(n)->(m)"``); each argument gets that many core dimensions
    and any number of leading batch dimensions, which broadcast.

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> matvec = gw.vectorize(lambda A, x: A @ x, signature="(m,n),(n)->(m)")
    >>> As, xs = gw.tensor3("As"), gw.matrix("xs")
    >>> out = matvec(As, xs)
    >>> out.type.ndim
    2
    >>> gw.function([As, xs], out)(np.ones((4, 2, 3)), np.ones((4, 3))).shape
    (4, 2)
    """
    ins, outs = _parse_signature(signature)

    def batched(*args):
        if len(args) != len(ins):
            raise TypeError(f"vectorize({signature!r}) takes {len(ins)} argument(s), got {len(args)}")
        xs = [as_tensor(a) for a in args]
        from graphwright.tensor.variable import tensor

        cores = []
        for k, (x, dims) in enumerate(zip(xs, ins, strict=True)):
            if x.type.ndim < len(dims):
                raise ValueError(f"vectorize({signature!r}): argument {k} ({_label(x)}) has fewer than "
                                 f"{len(dims)} core dimension(s)")
            cores.append(tensor(f"core{k}", dtype=x.type.dtype, shape=x.type.shape[x.type.ndim - len(dims):]))
        result = func(*cores)
        results = list(result) if isinstance(result, list | tuple) else [result]
        if len(results) != len(outs):
            raise ValueError(f"vectorize({signature!r}): the function returned {len(results)} output(s), the "
                             f"signature has {len(outs)}")
        for r, dims in zip(results, outs, strict=True):
            if r.type.ndim != len(dims):
                raise ValueError(f"vectorize({signature!r}): an output has {r.type.ndim} dimension(s), the "
                                 f"signature says {len(dims)}")
        out = vectorize_graph(results, dict(zip(cores, xs, strict=True)), _strict_core=False)
        out = [_with_batch(o, xs, ins, len(dims)) for o, dims in zip(out, outs, strict=True)]
        return out if isinstance(result, list | tuple) else out[0]

    return batched


def _with_batch(out: Variable, xs: list, ins: list, core_nd: int) -> Variable:
    """An output that does not depend on the batch (``ones_like``, a shape) broadcast to the batch, as
    ``np.vectorize`` returns it."""
    from graphwright.tensor.creation import broadcast_to
    from graphwright.tensor.join import batch_lengths
    from graphwright.tensor.shape import shape_tuple

    n_batch = [x.type.ndim - len(dims) for x, dims in zip(xs, ins, strict=True)]
    if out.type.ndim - core_nd >= max(n_batch):
        return out
    return broadcast_to(out, (*batch_lengths(xs, n_batch), *shape_tuple(out)[out.type.ndim - core_nd:]))


_SIG_GROUP = r"\((?:\w+(?:,\w+)*)?\)"  # "(m,n)", "()": a tuple of dimension names
_SIG_SIDE = re.compile(rf"(?:{_SIG_GROUP}(?:,{_SIG_GROUP})*)?")


def _parse_signature(signature: str) -> tuple[list[list[str]], list[list[str]]]:
    """``"(m,n),(n)->(m)"`` -> ``([["m", "n"], ["n"]], [["m"]])``; raises ValueError naming a malformed one."""
    sides = signature.replace(" ", "").split("->") if isinstance(signature, str) else None
    if sides is None or len(sides) != 2 or not all(_SIG_SIDE.fullmatch(side) for side in sides):
        raise ValueError(f"vectorize: {signature!r} is not a gufunc signature like '(m,n),(n)->(m)' (each side "
                         "a comma-separated list of parenthesised dimension names, the sides joined by '->')")
    return tuple([[d for d in group.split(",") if d] for group in re.findall(r"\(([^()]*)\)", side)]
                 for side in sides)
