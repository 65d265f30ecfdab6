"""Shape ops: shape_of, make_vector, dimshuffle (transpose, expand_dims, squeeze), reshape and flatten."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, Constant, GraphError, Op, Variable
from graphwright.tensor.grad_util import is_differentiable
from graphwright.tensor.type import TensorType
from graphwright.tensor.variable import TensorVariable, as_tensor, constant

__all__ = ["Shape", "MakeVector", "DimShuffle", "Reshape", "shape_of", "shape_tuple",
           "make_vector", "dimshuffle", "transpose", "expand_dims", "squeeze", "reshape", "flatten",
           "static_value", "static_ints", "as_shape_vector", "normalize_axis"]


def normalize_axis(axis: int, ndim: int, op_name: str) -> int:
    """Map a possibly negative axis into ``range(ndim)``, or raise naming the op."""
    if not isinstance(axis, int | np.integer) or not -ndim <= axis < max(ndim, 1) or (ndim == 0):
        raise GraphError(f"{op_name}: axis {axis} is out of range for an input with {ndim} dimension(s)")
    return int(axis) % ndim


def static_value(var: Variable) -> np.ndarray | None:
    """The value of ``var`` when it is known without running the graph (constants, static shapes), else None."""
    if isinstance(var, Constant):
        return var.data
    node = var.owner
    if node is None:
        return None
    hook = getattr(node.op, "static_value", None)
    return hook(node) if hook is not None else None


def static_ints(vec: Variable, length: int) -> tuple[int | None, ...]:
    """Entries of an int vector that are known statically (None elsewhere)."""
    value = static_value(vec)
    if value is not None:
        return tuple(int(v) for v in np.asarray(value).reshape(-1))
    node = vec.owner
    if node is not None and isinstance(node.op, MakeVector):
        out = []
        for s in node.inputs:
            v = static_value(s)
            out.append(None if v is None else int(v))
        return tuple(out)
    return (None,) * length


@dataclass(frozen=True)
class Shape(Op):
    """The runtime shape of a tensor as an int64 vector."""

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        return Apply.create(self, [x], lambda: [TensorType("int64", (x.type.ndim,))])

    def perform(self, x: np.ndarray) -> np.ndarray:
        return np.array(np.shape(x), dtype=np.int64)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [(node.inputs[0].type.ndim,)]

    def static_value(self, node: Apply) -> np.ndarray | None:
        shape = node.inputs[0].type.shape
        return None if None in shape else np.array(shape, dtype=np.int64)

    def pullback(self, node: Apply, output_grads: list) -> list:
        """A shape is an integer: no gradient."""
        return [None]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The core part of the batched shape (the result is not batched)."""
        return [shape_of(inputs[0])[batch_ndims[0]:]]

    def short_name(self) -> str:
        return "shape"


@dataclass(frozen=True)
class MakeVector(Op):
    """Stack 0-d tensors of one dtype into a vector."""

    dtype: str = "int64"

    def make_node(self, *scalars: Any) -> Apply:
        xs = [as_tensor(s, dtype=self.dtype if not isinstance(s, Variable) else None) for s in scalars]
        for x in xs:
            if x.type.ndim != 0:
                raise GraphError(f"make_vector: every input must be 0-d, got {x} of type {x.type.short()}")
        xs = [x if x.type.dtype == self.dtype else x.astype(self.dtype) for x in xs]
        return Apply.create(self, xs, lambda: [TensorType(self.dtype, (len(xs),))])

    def perform(self, *xs: np.ndarray) -> np.ndarray:
        return np.array(xs, dtype=self.dtype)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [(len(node.inputs),)]

    def static_value(self, node: Apply) -> np.ndarray | None:
        values = [static_value(x) for x in node.inputs]
        return None if any(v is None for v in values) else np.array(values, dtype=self.dtype)

    def pullback(self, node: Apply, output_grads: list) -> list:
        """Entry ``i`` of the gradient for input ``i`` (float vectors only)."""
        g = output_grads[0]
        if g is None or not self.dtype.startswith("float"):
            return [None] * len(node.inputs)
        return [g[i] for i in range(len(node.inputs))]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The entries stacked along a new last axis; unbatched entries are broadcast to the batch first."""
        from graphwright.tensor.join import Join, batch_lengths, broadcast_to_batch

        batch = batch_lengths(inputs, batch_ndims)
        cols = [dimshuffle(broadcast_to_batch(v, nb, batch), [*range(len(batch)), "x"])
                for v, nb in zip(inputs, batch_ndims, strict=True)]
        return [Join(len(batch))(*cols)]

    def short_name(self) -> str:
        return "make_vector"

    def str_form(self, args: Sequence[str]) -> str:
        return "[" + ", ".join(args) + "]"


def shape_of(x: Any) -> TensorVariable:
    """``x.shape`` as a symbolic int64 vector."""
    return Shape()(x)


def batched_shape(x: TensorVariable, n_batch: int, core: TensorVariable, static: tuple = ()) -> TensorVariable:
    """The int64 vector ``x.shape[:n_batch] + core``, entry by entry, so that static lengths (of the batch, and
    ``static``: the core shape's known entries) stay visible to shape inference."""
    n_core = core.type.shape[0]
    known = static_ints(core, n_core)
    entries = []
    for d in range(n_core):
        s = static[d] if d < len(static) and static[d] is not None else known[d]
        entries.append(s if s is not None else core[d])
    return as_shape_vector([*shape_tuple(x)[:n_batch], *entries])


def shape_tuple(x: TensorVariable) -> tuple:
    """The shape of ``x`` as a tuple: Python ints for static lengths, int64 scalar variables otherwise."""
    return tuple(s if s is not None else shape_of(x)[i] for i, s in enumerate(x.type.shape))


def make_vector(values: Sequence[Any], dtype: str = "int64") -> TensorVariable:
    """A vector from 0-d tensors or Python numbers."""
    return MakeVector(dtype)(*values)


def as_shape_vector(shape: Any) -> TensorVariable:
    """Normalise a shape (int, sequence of ints/0-d variables, or int vector variable) to an int64 vector."""
    if isinstance(shape, int | np.integer):
        shape = (int(shape),)
    if isinstance(shape, Variable):
        if shape.type.ndim == 0:
            shape = (shape,)
        else:
            if shape.type.ndim != 1 or shape.type.dtype not in ("int8", "int16", "int32", "int64", "uint8"):
                raise GraphError(f"a shape must be an integer vector, got {shape} of type {shape.type.short()}")
            return shape if shape.type.dtype == "int64" else shape.astype("int64")
    shape = tuple(shape)
    if all(isinstance(s, int | np.integer) for s in shape):
        return constant(np.array(shape, dtype=np.int64))
    return make_vector(shape)


@dataclass(frozen=True)
class DimShuffle(Op):
    """Reorder, insert (``'x'``) and drop (static length 1 only) dimensions: transpose, expand_dims, squeeze."""

    returns_view: ClassVar[bool] = True
    types_follow_input_types: ClassVar[bool] = True

    input_ndim: int
    new_order: tuple

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        if x.type.ndim != self.input_ndim:
            raise GraphError(f"dimshuffle{self.new_order}: expected a {self.input_ndim}-d input, got {x} of "
                             f"type {x.type.short()}")
        kept = [d for d in self.new_order if d != "x"]
        if len(set(kept)) != len(kept) or any(not 0 <= d < self.input_ndim for d in kept):
            raise GraphError(f"dimshuffle{self.new_order} is not a valid order for {self.input_ndim} dims")
        for d in range(self.input_ndim):
            if d not in kept and x.type.shape[d] != 1:
                raise GraphError(f"dimshuffle{self.new_order} drops dimension {d} of {x} (type "
                                 f"{x.type.short()}), which is not statically of length 1")
        shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply.create(self, [x], lambda: [TensorType(x.type.dtype, shape)])

    def perform(self, x: np.ndarray) -> np.ndarray:
        kept = [d for d in self.new_order if d != "x"]
        dropped = tuple(d for d in range(self.input_ndim) if d not in kept)
        y = np.asarray(x)
        if dropped:
            y = y.reshape([n for d, n in enumerate(y.shape) if d not in dropped])
        ranks = {d: i for i, d in enumerate(sorted(kept))}
        perm = [ranks[d] for d in kept]
        if perm != sorted(perm):
            y = np.transpose(y, perm)
        new_axes = tuple(i for i, d in enumerate(self.new_order) if d == "x")
        return np.expand_dims(y, new_axes) if new_axes else y

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        shp = input_shapes[0]
        return [tuple(1 if d == "x" else shp[d] for d in self.new_order)]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The batch axes stay in front; the order shifts past them."""
        nb = batch_ndims[0]
        order = list(range(nb)) + [d if d == "x" else d + nb for d in self.new_order]
        return [DimShuffle(self.input_ndim + nb, tuple(order))(inputs[0])]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """The inverse permutation; inserted axes are summed away and dropped ones put back."""
        from graphwright.tensor.reduce import sum as sum_

        x, g = node.inputs[0], output_grads[0]
        if g is None or not is_differentiable(x):
            return [None]
        inserted = tuple(i for i, d in enumerate(self.new_order) if d == "x" and g.type.shape[i] != 1)
        if inserted:  # a length-1 axis of the output that the gradient does not (statically) keep at 1
            g = sum_(g, axis=inserted, keepdims=True)
        where = {d: i for i, d in enumerate(self.new_order) if d != "x"}
        return [dimshuffle(g, [where.get(d, "x") for d in range(self.input_ndim)])]

    def short_name(self) -> str:
        return "dimshuffle{" + ",".join(str(d) for d in self.new_order) + "}"

    def str_form(self, args: Sequence[str]) -> str:
        if self.input_ndim == 2 and self.new_order == (1, 0):
            return f"{args[0]}.T"
        return f"{args[0]}.dimshuffle({', '.join(repr(d) for d in self.new_order)})"


def dimshuffle(x: Any, order: Sequence) -> TensorVariable:
    """Reorder dimensions, ``'x'`` inserting a length-1 axis (PyTensor's dimshuffle)."""
    x = as_tensor(x)
    order = tuple(d if d == "x" else int(d) for d in order)
    if order == tuple(range(x.type.ndim)):
        return x
    return DimShuffle(x.type.ndim, order)(x)


def transpose(x: Any, axes: Sequence[int] | None = None) -> TensorVariable:
    """Permute dimensions (reverse them when ``axes`` is None), like ``np.transpose``."""
    x = as_tensor(x)
    nd = x.type.ndim
    if axes is None:
        axes = tuple(reversed(range(nd)))
    axes = tuple(normalize_axis(a, nd, "transpose") for a in axes)
    if sorted(axes) != list(range(nd)):
        raise GraphError(f"transpose: axes {axes} are not a permutation of {nd} dimensions")
    return dimshuffle(x, axes)


def expand_dims(x: Any, axis: int | Sequence[int]) -> TensorVariable:
    """Insert length-1 dimensions at ``axis`` (``np.expand_dims``)."""
    x = as_tensor(x)
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out_nd = x.type.ndim + len(axes)
    axes = sorted(normalize_axis(a, out_nd, "expand_dims") for a in axes)
    rest = iter(range(x.type.ndim))
    return dimshuffle(x, ["x" if i in axes else next(rest) for i in range(out_nd)])


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> TensorVariable:
    """Drop length-1 dimensions; with ``axis=None`` the statically length-1 ones."""
    x = as_tensor(x)
    nd = x.type.ndim
    if axis is None:
        axes = [d for d in range(nd) if x.type.shape[d] == 1]
    else:
        axes = [normalize_axis(a, nd, "squeeze") for a in ((axis,) if isinstance(axis, int) else axis)]
    return dimshuffle(x, [d for d in range(nd) if d not in axes])


@dataclass(frozen=True)
class Reshape(Op):
    """Give ``x`` the shape held by an int64 vector input (one entry may be -1)."""

    returns_view: ClassVar[bool] = True

    ndim: int

    def make_node(self, x: Any, shape: Any) -> Apply:
        x = as_tensor(x)
        shape = as_shape_vector(shape)
        if shape.type.shape != (self.ndim,):
            raise GraphError(f"reshape: the shape vector has {shape.type.shape[0]} entries, expected {self.ndim}")
        return Apply.create(self, [x, shape], lambda: [TensorType(x.type.dtype, self._static(x, shape))])

    def _static(self, x: TensorVariable, shape: TensorVariable) -> tuple:
        wanted = list(static_ints(shape, self.ndim))
        if sum(1 for s in wanted if s == -1) > 1:
            raise GraphError(f"reshape: at most one -1 is allowed in the new shape {tuple(wanted)}")
        if -1 in wanted:
            known = [s for s in wanted if s != -1]
            if None not in x.type.shape and None not in known:
                size, rest = int(np.prod(x.type.shape)), int(np.prod(known))
                if rest == 0 or size % rest:
                    raise GraphError(f"reshape: cannot reshape {x} of shape {x.type.shape} into {tuple(wanted)}")
                wanted[wanted.index(-1)] = size // rest
            else:
                wanted[wanted.index(-1)] = None
        if None not in x.type.shape and None not in wanted and np.prod(x.type.shape) != np.prod(wanted):
            raise GraphError(f"reshape: cannot reshape {x} of shape {x.type.shape} into {tuple(wanted)}")
        return tuple(wanted)

    def perform(self, x: np.ndarray, shape: np.ndarray) -> np.ndarray:
        return np.reshape(x, shape)

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The batch lengths go in front of the (unbatched) target shape."""
        if batch_ndims[1]:
            return super().vectorize(node, inputs, batch_ndims)
        x, shape = inputs
        static = node.outputs[0].type.shape
        return [Reshape(self.ndim + batch_ndims[0])(x, batched_shape(x, batch_ndims[0], shape, static))]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """The gradient reshaped to the input's shape; none for the shape vector."""
        x, g = node.inputs[0], output_grads[0]
        if g is None or not is_differentiable(x):
            return [None, None]
        return [reshape(g, shape_tuple(x)), None]

    def shape_inputs(self, node: Apply) -> tuple[int, ...]:
        return (1,)  # the shape vector

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        out = node.outputs[0]
        return [tuple(s if s is not None else shape_of(out)[i] for i, s in enumerate(out.type.shape))]

    def short_name(self) -> str:
        return "reshape"


def reshape(x: Any, shape: Any, ndim: int | None = None) -> TensorVariable:
    """``np.reshape`` semantics; ``shape`` may mix ints and 0-d variables, with one -1.

    Examples
    --------
    >>> import graphwright as gw
    >>> gw.reshape(gw.matrix("m", shape=(2, 3)), (3, -1)).type
    TensorType(float64, (3, 2))
    """
    vec = as_shape_vector(shape)
    nd = vec.type.shape[0] if ndim is None else ndim
    if nd is None:
        raise GraphError("reshape: the length of the shape vector must be known; pass ndim=")
    return Reshape(nd)(x, vec)


def flatten(x: Any, ndim: int = 1) -> TensorVariable:
    """Keep the first ``ndim - 1`` dimensions and merge the rest."""
    x = as_tensor(x)
    if not 1 <= ndim <= max(x.type.ndim, 1):
        raise GraphError(f"flatten: ndim={ndim} is invalid for {x} with {x.type.ndim} dimension(s)")
    lead = shape_tuple(x)[: ndim - 1]
    return reshape(x, (*lead, -1))


def core_size(x: TensorVariable, dims: Sequence[int]) -> object:
    """The product of the lengths of ``dims`` of ``x``: a Python int when they are static, else a 0-d int64."""
    shape = shape_tuple(x)
    static = math.prod(s for d in dims if isinstance(s := shape[d], int))
    dynamic = [shape[d] for d in dims if not isinstance(shape[d], int)]
    out: object = static
    for s in dynamic:
        out = s if isinstance(out, int) and out == 1 else out * s
    return out


def reshape_core(x: TensorVariable, n_lead: int, core: Sequence) -> TensorVariable:
    """``x`` reshaped to its first ``n_lead`` lengths followed by ``core`` (ints or 0-d variables; no -1, so
    that empty batches reshape too)."""
    return reshape(x, (*shape_tuple(x)[:n_lead], *core), ndim=n_lead + len(core))


def flatten_core(x: TensorVariable, nb: int) -> TensorVariable:
    """``x`` with its first ``nb`` (batch) dimensions kept and the rest merged into one."""
    return reshape_core(x, nb, (core_size(x, range(nb, x.type.ndim)),))
