"""Joining and splitting: concatenate, stack and split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, GraphError, Op
from graphwright.tensor.grad_util import is_differentiable, zeros_for
from graphwright.tensor.shape import (
    as_shape_vector,
    dimshuffle,
    expand_dims,
    make_vector,
    normalize_axis,
    shape_of,
    shape_tuple,
    static_ints,
)
from graphwright.tensor.type import TensorType, promote_dtypes
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["Join", "Split", "concatenate", "stack", "split", "batch_lengths", "broadcast_to_batch"]


def batch_lengths(inputs: Sequence[Any], batch_ndims: Sequence[int]) -> tuple:
    """The batch shape of a vectorized node (batch dimensions right-aligned across inputs): per dimension a
    static length, else an int64 scalar from an input that does not broadcast there (1 if all have static 1).

    Examples
    --------
    >>> import graphwright as gw
    >>> batch_lengths([gw.tensor("a", shape=(3, 1, 2)), gw.matrix("b")], [2, 1])
    (3, shape(b)[0])
    """
    top = max(batch_ndims, default=0)
    out: list = []
    for d in range(top):
        static, symbolic = None, None
        for v, nb in zip(inputs, batch_ndims, strict=True):
            k = d - (top - nb)
            if not nb or k < 0 or v.type.shape[k] == 1:
                continue
            if v.type.shape[k] is not None:
                static = v.type.shape[k]
                break
            if symbolic is None:
                symbolic = shape_of(v)[k]
        out.append(static if static is not None else (symbolic if symbolic is not None else 1))
    return tuple(out)


def broadcast_to_batch(v: TensorVariable, nb: int, batch: tuple) -> TensorVariable:
    """``v`` (``nb`` leading batch dimensions, 0: unbatched) with exactly the batch dimensions ``batch``, made
    explicit with ``alloc`` where ``v`` would broadcast (missing or static length-1 batch dimensions)."""
    top = len(batch)
    padded = (1,) * (top - nb) + v.type.shape[:nb]
    if all(p != 1 or (isinstance(b, int | np.integer) and b == 1) for p, b in zip(padded, batch, strict=True)):
        return dimshuffle(v, ["x"] * (top - nb) + list(range(v.type.ndim)))
    from graphwright.tensor.creation import alloc

    return alloc(v, (*batch, *shape_tuple(v)[nb:]))  # alloc puts the missing leading dimensions in front


@dataclass(frozen=True)
class Join(Op):
    """Concatenate tensors of equal rank along a static axis."""

    axis: int

    def make_node(self, *tensors: Any) -> Apply:
        xs = [as_tensor(t) for t in tensors]
        if not xs:
            raise GraphError("concatenate needs at least one tensor")
        nd = xs[0].type.ndim
        if any(x.type.ndim != nd for x in xs):
            raise GraphError("concatenate: all inputs must have the same number of dimensions, got "
                             + ", ".join(f"{x} ({x.type.short()})" for x in xs))
        dtype = promote_dtypes(*(x.type.dtype for x in xs))
        xs = [x.astype(dtype) for x in xs]
        axis = self.axis

        def out_type():
            shape = []
            for d in range(nd):
                lengths = [x.type.shape[d] for x in xs]
                if d == axis:
                    shape.append(None if None in lengths else sum(lengths))
                    continue
                known = {s for s in lengths if s is not None}
                if len(known) > 1:
                    raise GraphError("concatenate: shapes " + ", ".join(str(x.type.shape) for x in xs)
                                     + f" differ in dimension {d} (only axis {axis} may differ)")
                shape.append(known.pop() if known else None)
            return [TensorType(dtype, tuple(shape))]

        return Apply.create(self, xs, out_type)

    def perform(self, *xs: np.ndarray) -> np.ndarray:
        return np.concatenate(xs, axis=self.axis)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        first = list(input_shapes[0])
        total = input_shapes[0][self.axis]
        for shp in input_shapes[1:]:
            total = total + shp[self.axis]
        first[self.axis] = total
        return [tuple(first)]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """The gradient split into each input's length along the axis (symbolic where not static)."""
        g, xs = output_grads[0], node.inputs
        if g is None or not is_differentiable(xs[0]):  # inputs share one dtype
            return [None] * len(xs)
        if len(xs) == 1:
            return [g]
        sizes = [x.type.shape[self.axis] if x.type.shape[self.axis] is not None else shape_of(x)[self.axis]
                 for x in xs]
        return split(g, sizes, self.axis)

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """Join along the shifted axis; every input is first given the full batch (Join does not broadcast)."""
        batch = batch_lengths(inputs, batch_ndims)
        xs = [broadcast_to_batch(v, nb, batch) for v, nb in zip(inputs, batch_ndims, strict=True)]
        return [Join(self.axis + len(batch))(*xs)]

    def short_name(self) -> str:
        return f"concatenate{{axis={self.axis}}}"


def concatenate(tensors: Sequence[Any], axis: int = 0) -> TensorVariable:
    """``np.concatenate``; a single tensor is returned as it is."""
    xs = [as_tensor(t) for t in tensors]
    if not xs:
        raise GraphError("concatenate needs at least one tensor")
    axis = normalize_axis(axis, xs[0].type.ndim, "concatenate")
    return Join(axis)(*xs)


def stack(tensors: Sequence[Any], axis: int = 0) -> TensorVariable:
    """``np.stack``: join along a new axis."""
    xs = [as_tensor(t) for t in tensors]
    if not xs:
        raise GraphError("stack needs at least one tensor")
    if all(x.type.ndim == 0 for x in xs) and axis == 0:
        return make_vector(xs, promote_dtypes(*(x.type.dtype for x in xs)))
    axis = normalize_axis(axis, xs[0].type.ndim + 1, "stack")
    return concatenate([expand_dims(x, axis) for x in xs], axis)


@dataclass(frozen=True)
class Split(Op):
    """Split ``x`` along ``axis`` into ``n_splits`` pieces whose lengths are an int vector input."""

    returns_view: ClassVar[bool] = True

    axis: int
    n_splits: int

    def make_node(self, x: Any, sizes: Any) -> Apply:
        x = as_tensor(x)
        sizes = as_shape_vector(sizes)
        if sizes.type.shape != (self.n_splits,):
            raise GraphError(f"split: expected {self.n_splits} sizes, got a vector of type {sizes.type.short()}")
        axis = normalize_axis(self.axis, x.type.ndim, "split")

        def out_types():
            static = static_ints(sizes, self.n_splits)
            total = x.type.shape[axis]
            if None not in static and total is not None and sum(static) != total:
                raise GraphError(f"split: sizes {static} do not add up to length {total} of axis {axis} of {x}")
            return [TensorType(x.type.dtype, x.type.shape[:axis] + (n,) + x.type.shape[axis + 1:])
                    for n in static]

        return Apply.create(self, [x, sizes], out_types)

    def perform(self, x: np.ndarray, sizes: np.ndarray) -> tuple:
        if int(np.sum(sizes)) != x.shape[self.axis]:
            raise ValueError(f"split: sizes {np.asarray(sizes).tolist()} do not add up to {x.shape[self.axis]}, "
                             f"the length of axis {self.axis} of an input of shape {x.shape}")
        parts = tuple(np.split(x, np.cumsum(sizes)[:-1], axis=self.axis))
        return parts if len(parts) > 1 else parts[0]  # one output: an array, like every single-output op

    def shape_inputs(self, node: Apply) -> tuple[int, ...]:
        return (1,)  # the split sizes

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        shp = input_shapes[0]
        sizes = node.inputs[1]
        return [shp[: self.axis] + (sizes[i],) + shp[self.axis + 1:] for i in range(self.n_splits)]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """The output gradients joined along the axis (zeros for outputs without one); none for the sizes."""
        x = node.inputs[0]
        if not is_differentiable(x):
            return [None, None]
        parts = [zeros_for(o) if g is None else g for o, g in zip(node.outputs, output_grads, strict=True)]
        return [Join(self.axis)(*parts) if len(parts) > 1 else parts[0], None]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """Split along the shifted axis; batched sizes fall back to Blockwise (the pieces could differ)."""
        if batch_ndims[1]:
            return super().vectorize(node, inputs, batch_ndims)
        return list(Split(self.axis + batch_ndims[0], self.n_splits).make_node(*inputs).outputs)

    def short_name(self) -> str:
        return f"split{{axis={self.axis}}}"


def split(x: Any, sizes: Any, axis: int = 0) -> list[TensorVariable]:
    """Split into pieces of the given lengths (a sequence, or an int vector variable of static length).

    Examples
    --------
    >>> import graphwright as gw
    >>> a, b = gw.split(gw.vector("v", shape=(5,)), [2, 3])
    >>> a.type, b.type
    (TensorType(float64, (2,)), TensorType(float64, (3,)))
    """
    x = as_tensor(x)
    vec = as_shape_vector(sizes)
    n = vec.type.shape[0]
    if n is None:
        raise GraphError("split: the number of pieces must be known statically")
    axis = normalize_axis(axis, x.type.ndim, "split")
    outs = Split(axis, n)(x, vec)
    return [outs] if n == 1 else list(outs)
