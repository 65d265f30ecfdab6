"""Subtensor and IncSubtensor on torch, with NumPy's indexing semantics.

Torch indexes like NumPy except in three ways this module bridges: it has no negative slice steps (such a
slice becomes the same elements with a positive step, flipped), it applies integers before index arrays
(with index arrays present, an integer becomes a one-element index array, so that separated advanced indices
move to the front as in NumPy) and it takes only int64/int32 index arrays. ``inc`` with index arrays
accumulates repeated positions (``index_put_(..., accumulate=True)``, like ``np.add.at``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.torch_backend.convert import as_tensor
from graphwright.graph.basic import Apply, Constant
from graphwright.graph.destroy import InPlace, plain_node
from graphwright.tensor.index_spec import FULL, has_advanced, plan
from graphwright.tensor.indexing import IncSubtensor, Subtensor

__all__ = ["index_builder"]

_INDEX_DTYPES = (torch.int64, torch.int32)


def _region_positions(spec: tuple) -> dict[int, int]:
    """For each slice of ``spec``: the dimension of ``x`` it indexes -> its dimension in the result (the
    advanced indices broadcast to one block whose rank is their largest)."""
    out, _ = plan(spec)
    adv_rank = max((e[1] if e[0] == "array" else 1 if e[0] == "bool" else 0 for e in spec), default=0)
    positions, pos = {}, 0
    for entry in out:
        if entry[0] == "slice":
            positions[entry[1]] = pos
        pos += adv_rank if entry[0] == "adv" else 1
    return positions


def index_builder(spec: tuple, parts: list, device: torch.device) -> Callable:
    """A function ``(x_shape, part values) -> (torch index, dimensions to flip)`` for ``spec``; ``parts``
    are the symbolic parts (constant ones are read once, here).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> node = x[::-2].owner
    >>> build = index_builder(node.op.spec, node.inputs[1:], torch.device("cpu"))
    >>> build((5,), [torch.tensor(-2)])
    ((slice(0, 5, 2),), [0])
    """
    advanced = has_advanced(spec)
    positions = _region_positions(spec)
    static = [_static_part(p, device) for p in parts]
    steps = []  # per spec entry: (kind, x_dim, number of parts)
    x_dim = 0
    for e in spec:
        n = sum(e[1:]) if e[0] == "slice" else int(e[0] in ("int", "array", "bool"))
        steps.append((e, x_dim, n))
        x_dim += {"int": 1, "slice": 1, "array": 1, "bool": e[-1]}.get(e[0], 0)

    def build(shape, values):
        index, flips, k = [], [], 0
        for e, dim, n in steps:
            got = [static[k + j] if static[k + j] is not None else values[k + j] for j in range(n)]
            k += n
            kind = e[0]
            if kind == "int":
                i = got[0]
                if not advanced:
                    index.append(int(i))
                elif isinstance(i, torch.Tensor):  # stays on the device (no sync)
                    index.append(i.reshape(1).to(torch.int64))
                else:
                    index.append(torch.tensor([i], device=device))
            elif kind == "slice":
                it = iter(got)
                start, stop, step = (int(next(it)) if has else None for has in e[1:])
                if step is not None and step < 0:
                    first, last, step = slice(start, stop, step).indices(shape[dim])
                    length = len(range(first, last, step))
                    if length == 0:
                        index.append(slice(0, 0))
                        continue
                    index.append(slice(first + (length - 1) * step, first + 1, -step))
                    flips.append(positions[dim])
                else:
                    index.append(slice(start, stop, step))
            elif kind == "newaxis":
                index.append(None)
            elif kind == "ellipsis":
                index.append(Ellipsis)
            else:
                part = got[0]
                index.append(part if kind == "bool" or part.dtype in _INDEX_DTYPES else part.to(torch.int64))
        return tuple(index), flips

    return build


def _static_part(var, device: torch.device):
    """A constant part, read once: a Python int for 0-d integers, a tensor for index arrays and masks."""
    if not isinstance(var, Constant):
        return None
    if var.type.ndim == 0 and var.type.dtype != "bool":
        return int(var.data)
    return as_tensor(var.data, device)


@kernel("torch", Subtensor)
def _subtensor(node: Apply, ctx: KernelContext) -> Callable:
    device = ctx.device
    build = index_builder(node.op.spec, list(node.inputs[1:]), device)

    def subtensor(x, *parts):
        index, flips = build(x.shape, parts)
        out = x[index]
        return out.flip(flips) if flips else out

    return subtensor


def _leading_arrays(spec: tuple) -> int | None:
    """How many integer arrays and ints lead the index when only full slices follow them (``index_put_``
    takes those directly); None otherwise."""
    kinds = [e[0] for e in spec]
    n = next((k for k, kind in enumerate(kinds) if kind not in ("array", "int")), len(kinds))
    return n if all(e == FULL for e in spec[n:]) else None


@kernel("torch", IncSubtensor, in_place=True)
def _inc_subtensor(node: Apply, ctx: KernelContext) -> Callable:
    """``x`` (a copy, or ``x`` itself for an ``InPlace`` node) with the region set or incremented by ``y``."""
    device = ctx.device
    in_place = isinstance(node.op, InPlace)
    plain = plain_node(node)
    spec, mode, y_var = plain.op.spec, plain.op.mode, plain.inputs[1]
    build = index_builder(spec, list(plain.inputs[2:]), device)
    accumulate = mode == "inc" and any(e[0] == "array" for e in spec)
    lead = _leading_arrays(spec) if accumulate else None
    unknown = [d for d, s in enumerate(y_var.type.shape) if s is None]
    name = plain.op.short_name()

    def write(x, y, *parts):
        out = x if in_place else x.clone()
        index, flips = build(out.shape, parts)
        if unknown:
            _check_region(name, tuple(out[index].shape), y, unknown, y_var.type.shape)
        if accumulate:
            if lead is not None:
                out.index_put_(index[:lead], y, accumulate=True)
            else:
                _scatter_add(out, index, flips, y)
        else:
            if flips:
                y = y.expand(out[index].shape).flip(flips)
            if mode == "set":
                out[index] = y
            else:
                out[index] += y
        return out

    write.writes_in_place = in_place
    return write


def _scatter_add(out: torch.Tensor, index: tuple, flips: list[int], y: torch.Tensor) -> None:
    """``np.add.at(out, index, y)`` for any index: the flat positions of the region, then one accumulating
    ``index_put_`` at their coordinates."""
    positions = torch.arange(out.numel(), device=out.device).reshape(out.shape)[index]
    if flips:
        positions = positions.flip(flips)
    coords = torch.unravel_index(positions.reshape(-1), tuple(out.shape))
    out.index_put_(coords, y.expand(positions.shape).reshape(-1), accumulate=True)


def _check_region(name: str, region: tuple, y: torch.Tensor, unknown: list[int], static: tuple) -> None:
    """``y`` broadcasts into the region only along its static length-1 (or missing) dimensions."""
    offset = len(region) - y.ndim
    for d in unknown:
        if y.shape[d] == 1 and 0 <= d + offset < len(region) and region[d + offset] != 1:
            raise ValueError(f"{name}: y of shape {tuple(y.shape)} would be broadcast along its dimension {d} "
                             f"into a region of shape {region}, but its static shape {static} does not declare "
                             "that dimension of length 1")
