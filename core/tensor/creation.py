"""Array creation ops: alloc (zeros, ones, full, broadcast_to), arange and eye."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphwright.graph.basic import Apply, GraphError, Op, Variable
from graphwright.tensor.grad_util import is_differentiable, reduce_to, zeros_for
from graphwright.tensor.shape import as_shape_vector, shape_tuple, static_ints, static_value
from graphwright.tensor.type import TensorType, normalize_dtype, promote_dtypes
from graphwright.tensor.variable import TensorVariable, as_tensor, constant

__all__ = ["Alloc", "ARange", "Eye", "alloc", "broadcast_to", "zeros", "ones", "full", "zeros_like", "ones_like",
           "full_like", "arange", "eye"]


@dataclass(frozen=True)
class Alloc(Op):
    """A new array of the given shape filled by broadcasting a value (zeros, ones, full, broadcast_to)."""

    def make_node(self, value: Any, shape: Any) -> Apply:
        value = as_tensor(value)
        shape = as_shape_vector(shape)
        nd = shape.type.shape[0]
        if value.type.ndim > nd:
            raise GraphError(f"alloc: the value {value} has more dimensions ({value.type.ndim}) than the shape "
                             f"({nd})")

        def out_type():
            wanted = static_ints(shape, nd)
            vshape = (1,) * (nd - value.type.ndim) + value.type.shape
            for w, v in zip(wanted, vshape, strict=True):
                if w is not None and v is not None and v not in (1, w):
                    raise GraphError(f"alloc: cannot broadcast {value} of shape {value.type.shape} to {wanted}")
            static = tuple(w if w is not None else (v if v not in (1, None) else None)
                           for w, v in zip(wanted, vshape, strict=True))
            return [TensorType(value.type.dtype, static)]

        return Apply.create(self, [value, shape], out_type)

    def perform(self, value: np.ndarray, shape: np.ndarray) -> np.ndarray:
        out = np.empty(tuple(shape), dtype=np.asarray(value).dtype)
        out[...] = value
        return out

    def shape_inputs(self, node: Apply) -> tuple[int, ...]:
        return (1,)  # the shape vector

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        out = node.outputs[0]
        vec = node.inputs[1]
        return [tuple(s if s is not None else vec[i] for i, s in enumerate(out.type.shape))]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The value's batch lengths go in front of the (unbatched) shape."""
        if batch_ndims[1]:
            return super().vectorize(node, inputs, batch_ndims)
        from graphwright.tensor.shape import batched_shape, dimshuffle

        value, shape = inputs
        nb, core_nd = batch_ndims[0], node.inputs[0].type.ndim
        out_core = node.outputs[0].type.ndim
        order = list(range(nb)) + ["x"] * (out_core - core_nd) + list(range(nb, nb + core_nd))
        static = node.outputs[0].type.shape
        return [Alloc()(dimshuffle(value, order), batched_shape(value, nb, shape, static))]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """The gradient summed over the dimensions the value was broadcast along; none for the shape.

        Like Elemwise, only the value's leading and static length-1 dimensions count as broadcast.
        """
        value, g = node.inputs[0], output_grads[0]
        if g is None or not is_differentiable(value):
            return [None, None]
        return [reduce_to(g, value), None]

    def short_name(self) -> str:
        return "alloc"


def alloc(value: Any, shape: Any) -> TensorVariable:
    """An array of ``shape`` filled with ``value`` (broadcast)."""
    return Alloc()(value, shape)


def broadcast_to(x: Any, shape: Any) -> TensorVariable:
    """``np.broadcast_to`` (materialised)."""
    return alloc(x, shape)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> TensorVariable:
    """``np.full``."""
    value = as_tensor(fill_value) if isinstance(fill_value, Variable) else constant(fill_value, dtype)
    if dtype is not None and isinstance(fill_value, Variable):
        value = value.astype(dtype)
    return alloc(value, shape)


def zeros(shape: Any, dtype: Any = "float64") -> TensorVariable:
    """``np.zeros``."""
    return full(shape, 0, dtype)


def ones(shape: Any, dtype: Any = "float64") -> TensorVariable:
    """``np.ones``."""
    return full(shape, 1, dtype)


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> TensorVariable:
    """An array shaped like ``x`` filled with ``fill_value``."""
    x = as_tensor(x)
    return full(shape_tuple(x), fill_value, dtype or x.type.dtype)


def zeros_like(x: Any, dtype: Any = None) -> TensorVariable:
    """``np.zeros_like``."""
    return full_like(x, 0, dtype)


def ones_like(x: Any, dtype: Any = None) -> TensorVariable:
    """``np.ones_like``."""
    return full_like(x, 1, dtype)


def _scalar_input(value: Any, op_name: str, what: str) -> TensorVariable:
    v = as_tensor(value)
    if v.type.ndim != 0:
        raise GraphError(f"{op_name}: {what} must be 0-d, got {v} of type {v.type.short()}")
    return v


@dataclass(frozen=True)
class ARange(Op):
    """``np.arange(start, stop, step)`` with 0-d inputs; the length is static when all three are constants."""

    dtype: str

    def make_node(self, start: Any, stop: Any, step: Any) -> Apply:
        ins = [_scalar_input(v, "arange", w) for v, w in ((start, "start"), (stop, "stop"), (step, "step"))]

        def out_type():
            values = [static_value(v) for v in ins]
            length = None
            if all(v is not None for v in values):
                if values[2] == 0:
                    raise GraphError("arange: step must not be zero")
                length = len(np.arange(values[0], values[1], values[2]))
            return [TensorType(self.dtype, (length,))]

        return Apply.create(self, ins, out_type)

    def perform(self, start, stop, step) -> np.ndarray:
        return np.arange(start, stop, step, dtype=self.dtype)

    def shape_inputs(self, node: Apply) -> tuple[int, ...]:
        return (0, 1, 2)  # start, stop, step

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        from graphwright.tensor.elemwise import cast, ceil, maximum

        start, stop, step = node.inputs
        length = node.outputs[0].type.shape[0]
        if length is None:
            length = cast(maximum(ceil((stop - start) / step), 0), "int64")
        return [(length,)]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """out[i] = start + i * step: d/dstart = sum(g), d/dstep = sum(i * g); stop only sets the length
        (piecewise constant: zero). Integer bounds get none."""
        from graphwright.tensor.reduce import sum as sum_

        start, stop, step = node.inputs
        g = output_grads[0]
        if g is None or not is_differentiable(node.outputs[0]):
            return [None, None, None]
        index = ARange(self.dtype)(0, shape_tuple(node.outputs[0])[0], 1)
        grads = [sum_(g), zeros_for(stop), sum_(g * index)]
        return [gr if is_differentiable(v) else None for gr, v in zip(grads, node.inputs, strict=True)]

    def short_name(self) -> str:
        return "arange"


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> TensorVariable:
    """``np.arange``; the dtype follows NumPy unless given.

    Examples
    --------
    >>> import graphwright as gw
    >>> gw.arange(5).type
    TensorType(int64, (5,))
    """
    if stop is None:
        start, stop = 0, start
    ins = [as_tensor(v) for v in (start, stop, step)]
    dtype = normalize_dtype(dtype) if dtype is not None else promote_dtypes(*(v.type.dtype for v in ins))
    return ARange(dtype)(*ins)


@dataclass(frozen=True)
class Eye(Op):
    """``np.eye(n, m, k)`` with 0-d integer inputs."""

    dtype: str

    def make_node(self, n: Any, m: Any, k: Any) -> Apply:
        ins = [_scalar_input(v, "eye", w) for v, w in ((n, "n"), (m, "m"), (k, "k"))]
        for v in ins:
            if v.type.dtype not in ("int8", "int16", "int32", "int64", "uint8"):
                raise GraphError(f"eye: n, m and k must be integers, got {v} of type {v.type.short()}")

        def out_type():
            n_s, m_s = (static_value(v) for v in ins[:2])
            return [TensorType(self.dtype, (None if n_s is None else int(n_s), None if m_s is None else int(m_s)))]

        return Apply.create(self, ins, out_type)

    def perform(self, n, m, k) -> np.ndarray:
        return np.eye(int(n), int(m), int(k), dtype=self.dtype)

    def shape_inputs(self, node: Apply) -> tuple[int, ...]:
        return (0, 1, 2)  # n, m, k

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        n, m, _ = node.inputs
        shape = node.outputs[0].type.shape
        return [(shape[0] if shape[0] is not None else n, shape[1] if shape[1] is not None else m)]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """n, m and k are integers: no gradient."""
        return [None, None, None]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """A batched diagonal offset ``k`` compares column minus row with it; a batched ``n`` or ``m`` would
        change the output shape across the batch: Blockwise."""
        if batch_ndims[0] or batch_ndims[1]:
            return super().vectorize(node, inputs, batch_ndims)
        from graphwright.tensor import elemwise as _ew
        from graphwright.tensor.shape import dimshuffle

        n, m, k = inputs
        nb = batch_ndims[2]
        rows, cols = arange(0, n, 1, "int64"), arange(0, m, 1, "int64")
        offset = dimshuffle(cols, ["x", 0]) - dimshuffle(rows, [0, "x"])
        return [_ew.cast(_ew.eq(offset, dimshuffle(k, [*range(nb), "x", "x"])), self.dtype)]

    def short_name(self) -> str:
        return "eye"


def eye(n: Any, m: Any = None, k: Any = 0, dtype: Any = "float64") -> TensorVariable:
    """``np.eye``: ones on the k-th diagonal of an n x m matrix."""
    return Eye(normalize_dtype(dtype))(n, n if m is None else m, k)
