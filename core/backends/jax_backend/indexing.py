"""JAX kernels of Subtensor (``x[index]``) and IncSubtensor (``x.at[index].set/add``) with NumPy semantics.

Slice bounds and boolean masks decide the shape of the result, so they arrive as NumPy values (masks become
their ``nonzero`` index arrays); integer indices and index arrays may be traced, and are then checked by the
jitted function (:mod:`.bounds`): out of range, they raise as in NumPy instead of being clamped or dropped.
``set`` with repeated positions keeps the last write, as NumPy does (JAX leaves the order of repeated
scatters unspecified): when the positions may repeat, the region is cleared and only the last write of each
position is added.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np
from jax.core import Tracer

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.jax_backend.bounds import check_index, describe
from graphwright.backends.registry import UnsupportedOpError
from graphwright.graph.basic import Apply
from graphwright.tensor import index_spec
from graphwright.tensor.indexing import IncSubtensor, Subtensor

__all__ = ["jax_index", "subtensor_kernel", "inc_subtensor_kernel", "last_writes"]

_CONSUMED = {"int": 1, "slice": 1, "array": 1}


def _in_bounds(value, length: int, dim: int):
    """A concrete index, checked as NumPy does (JAX would clamp it)."""
    flat = np.asarray(value).reshape(-1)
    bad = flat[(flat >= length) | (flat < -length)]
    if bad.size:
        raise IndexError(f"index {int(bad[0])} is out of bounds for axis {dim} with size {length}")
    return value


def jax_index(spec: tuple, parts: tuple, shape: tuple, where: str = "indexing") -> tuple:
    """The index tuple for ``x[...]`` / ``x.at[...]`` from the parts' values (``shape``: x's shape). Integer
    indices are checked as NumPy checks them: concrete ones now, traced ones by the jitted function
    (:func:`.bounds.check_index`; ``where`` starts the error message).

    Examples
    --------
    >>> import numpy as np
    >>> jax_index((("slice", True, False, False), ("bool", 1)), (np.int64(1), np.array([True, False])), (3, 2))
    (slice(1, None, None), array([0]))
    """
    index: list = []
    it = iter(parts)
    dim = 0
    for e in spec:
        kind = e[0]
        if kind == "int":
            p = next(it)
            index.append(check_index(p, shape[dim], dim, where) if isinstance(p, Tracer)
                         else int(_in_bounds(p, shape[dim], dim)))
        elif kind == "slice":
            index.append(slice(*(int(next(it)) if has else None for has in e[1:])))
        elif kind == "newaxis":
            index.append(None)
        elif kind == "ellipsis":
            index.append(Ellipsis)
        elif kind == "array":
            p = next(it)
            index.append(check_index(p, shape[dim], dim, where) if isinstance(p, Tracer)
                         else _in_bounds(p, shape[dim], dim))
        else:
            mask = np.asarray(next(it))
            covered = tuple(shape[dim: dim + e[1]])
            if mask.shape != covered:
                raise IndexError(f"boolean index of shape {mask.shape} does not match the indexed dimensions "
                                 f"{covered}")
            index.extend(np.nonzero(mask))
        dim += e[1] if kind == "bool" else _CONSUMED.get(kind, 0)
    return tuple(index)


def _refuse_0d_masks(node: Apply) -> None:
    if ("bool", 0) in node.op.spec:
        from graphwright.backends.jax_backend import NAME

        raise UnsupportedOpError(NAME, node, "a 0-d boolean index is not supported")


@kernel("jax", Subtensor)
def subtensor_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    """The JAX kernel of a Subtensor node.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x, i = gw.vector("x"), gw.scalar("i", dtype="int64")
    >>> node = x[i:].owner
    >>> np.asarray(subtensor_kernel(node)(np.arange(4.0), np.int64(1))).tolist()
    [1.0, 2.0, 3.0]
    """
    _refuse_0d_masks(node)
    spec = node.op.spec

    def subtensor(x, *parts):
        x = jnp.asarray(x)
        return x[jax_index(spec, parts, x.shape, describe(node, (x, *parts)))]

    return subtensor


def _sort_last(keys, xp):
    """For each entry of the 1-d ``keys``, whether no later entry has the same key."""
    order = xp.argsort(keys, stable=True)
    ordered = keys[order]
    last_sorted = xp.concatenate([ordered[:-1] != ordered[1:], xp.ones(1, bool)])
    if xp is np:
        last = np.empty(keys.shape, bool)
        last[order] = last_sorted
        return last
    return jnp.zeros(keys.shape, bool).at[order].set(last_sorted)


def last_writes(spec: tuple, parts: tuple, shape: tuple):
    """Per position of the broadcast advanced-index block, whether it is the last write of its element of x;
    None when no element is written twice (known while tracing) or nothing is written.

    Examples
    --------
    >>> import numpy as np
    >>> last_writes((("array", 1),), (np.array([0, 2, 0]),), (4,)).tolist()
    [False, True, True]
    >>> last_writes((("array", 1),), (np.array([0, 2, 1]),), (4,)) is None
    True
    """
    _, adv = index_spec.plan(spec)
    arrays, lengths = [], []
    for kind, part, dims in adv:
        if kind == "int":
            continue  # the same position for every write
        value = parts[part]
        found = np.nonzero(np.asarray(value)) if kind == "bool" else (value,)
        arrays += found
        lengths += [shape[d] for d in dims]
    if not arrays or 0 in lengths:
        return None
    traced = any(isinstance(a, Tracer) for a in arrays)
    xp = jnp if traced else np
    arrays = xp.broadcast_arrays(*(xp.asarray(a).astype(np.int64) for a in arrays))
    if arrays[0].size == 0:
        return None
    keys = xp.zeros(arrays[0].shape, np.int64)
    for a, n in zip(arrays, lengths, strict=True):
        keys = keys * n + xp.mod(a, n)  # negative indices count from the end
    keys = keys.reshape(-1)
    if not traced and np.unique(keys).size == keys.size:
        return None
    return _sort_last(keys, xp).reshape(arrays[0].shape)


def _adv_position(spec: tuple) -> int:
    out, _ = index_spec.plan(spec)
    return [e[0] for e in out].index("adv")


@kernel("jax", IncSubtensor)
def inc_subtensor_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    """The JAX kernel of an IncSubtensor node (``set`` keeps the last of repeated writes, ``inc`` adds all).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x, i, y = gw.vector("x"), gw.vector("i", dtype="int64"), gw.vector("y")
    >>> kernel = inc_subtensor_kernel(gw.set_subtensor(x[i], y).owner)
    >>> np.asarray(kernel(np.zeros(3), np.array([1.0, 2.0]), np.array([0, 0]))).tolist()
    [2.0, 0.0, 0.0]
    """
    _refuse_0d_masks(node)
    op = node.op
    spec, mode = op.spec, op.mode
    y_var = node.inputs[1]
    unknown = [d for d, s in enumerate(y_var.type.shape) if s is None]
    may_repeat = mode == "set" and any(e[0] == "array" for e in spec)

    def inc_subtensor(x, y, *parts):
        x = jnp.asarray(x)
        y = jnp.asarray(y, x.dtype)
        index = jax_index(spec, parts, x.shape, describe(node, (x, y, *parts)))
        region = x[index].shape if unknown or may_repeat else None
        for d in unknown:  # the graph's rule: y broadcasts only along its static length-1 dimensions
            offset = len(region) - y.ndim
            if y.shape[d] == 1 and 0 <= d + offset < len(region) and region[d + offset] != 1:
                raise ValueError(f"{op.short_name()}: y of shape {y.shape} would be broadcast along its dimension "
                                 f"{d} into a region of shape {region}, but its static shape {y_var.type.shape} "
                                 "does not declare that dimension of length 1")
        if mode == "inc":  # for bools, NumPy's += is a logical or
            return x.at[index].max(y) if x.dtype == jnp.bool_ else x.at[index].add(y)
        last = last_writes(spec, parts, x.shape) if may_repeat else None
        if last is None:
            return x.at[index].set(y)
        start = _adv_position(spec)
        keep = jnp.asarray(last).reshape((1,) * start + last.shape + (1,) * (len(region) - start - last.ndim))
        zero = jnp.zeros((), x.dtype)
        writes = jnp.where(keep, jnp.broadcast_to(y, region), zero)
        cleared = x.at[index].set(zero)
        return cleared.at[index].max(writes) if x.dtype == jnp.bool_ else cleared.at[index].add(writes)

    return inc_subtensor
