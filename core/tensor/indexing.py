"""Indexing: ``x[...]`` with NumPy semantics (Subtensor) and functional updates of a region (IncSubtensor).

The static part of an index (which entries are ints, slices, ``None``, index arrays or masks) is the op's
``spec`` (see :mod:`graphwright.tensor.index_spec`); the symbolic parts (0-d ints, slice bounds, index
arrays, masks) are extra inputs after ``x``. Python ints become interned constants, so indexing twice with
the same index gives the same node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, GraphError, Op, Variable
from graphwright.tensor import elemwise as _ew
from graphwright.tensor import index_shape as _index_shape
from graphwright.tensor import index_spec as _spec
from graphwright.tensor import shape as _shape
from graphwright.tensor.index_spec import IndexingError
from graphwright.tensor.type import TensorType
from graphwright.tensor.variable import TensorVariable, as_tensor, constant, is_python_scalar

__all__ = ["Subtensor", "IncSubtensor", "IndexingError", "getitem", "set_subtensor", "inc_subtensor"]


def _wrap(text: str) -> str:
    """Parenthesise a printed operand that would bind less tightly than ``[...]`` (``-x``)."""
    return f"({text})" if text[:1] in ("-", "~") else text


@dataclass(frozen=True)
class Subtensor(Op):
    """``x[index]`` for the static index description ``spec``; inputs are ``x`` then the index parts.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x", shape=(5,))
    >>> x[1:3].owner.op
    Subtensor(spec=(('slice', True, True, False),))
    """

    returns_view: ClassVar[bool] = True

    spec: tuple

    def make_node(self, x: Any, *parts: Any) -> Apply:
        x = as_tensor(x)
        parts = [as_tensor(p) for p in parts]
        node = Apply.lookup(self, [x, *parts])
        if node is not None:
            return node
        _spec.check_parts(self.spec, x, parts, "getitem")
        return Apply.create(self, [x, *parts], lambda: [
            TensorType(x.type.dtype, _spec.static_out_shape(self.spec, x, parts, "getitem"))])

    def perform(self, x: np.ndarray, *parts: np.ndarray) -> np.ndarray:
        return np.asarray(x[_spec.build_index(self.spec, parts)])

    def shape_inputs(self, node: Apply) -> tuple[int, ...]:
        return _spec.shape_parts(self.spec, 1)  # slice bounds and boolean masks

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        out, parts = node.outputs[0], list(node.inputs[1:])
        return [_index_shape.symbolic_out_shape(self.spec, out, input_shapes[0], parts, input_shapes[1:])]

    def static_value(self, node: Apply) -> np.ndarray | None:
        x, *parts = node.inputs
        values = [_shape.static_value(p) for p in parts]
        if any(v is None for v in values):
            return None
        value = _shape.static_value(x)
        if value is not None:
            return np.asarray(self.perform(value, *values), dtype=node.outputs[0].type.dtype)
        # shape_of(m)[i] and make_vector(...)[i] are known when that one entry is, even if others are not
        if x.owner is None or self.spec != (("int",),):
            return None
        i = int(values[0])
        if isinstance(x.owner.op, _shape.Shape):
            length = x.owner.inputs[0].type.shape[i]
            return None if length is None else np.array(length, dtype=np.int64)
        if isinstance(x.owner.op, _shape.MakeVector):
            entry = _shape.static_value(x.owner.inputs[i])
            return None if entry is None else np.asarray(entry, dtype=node.outputs[0].type.dtype)
        return None

    def pullback(self, node: Apply, output_grads: list) -> list:
        """The gradient scattered into zeros of ``x``'s shape (repeated indices accumulate)."""
        from graphwright.tensor.indexing_grad import subtensor_pullback

        return subtensor_pullback(node, output_grads[0])

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """Full slices for the batch in front of the index (batched integer indices and a leading batched
        mask are handled too, see :mod:`graphwright.tensor.indexing_vectorize`); otherwise Blockwise."""
        from graphwright.tensor.indexing_vectorize import vectorize_subtensor

        out = vectorize_subtensor(node, inputs, batch_ndims)
        return out if out is not None else super().vectorize(node, inputs, batch_ndims)

    def short_name(self) -> str:
        return f"subtensor{{{_spec.placeholder_text(self.spec)}}}"

    def str_form(self, args: Sequence[str]) -> str:
        return f"{_wrap(args[0])}[{_spec.index_text(self.spec, list(args[1:]))}]"


def getitem(x: Any, index: Any) -> TensorVariable:
    """``x[index]`` with NumPy semantics; this is what ``TensorVariable.__getitem__`` calls.

    ``index`` may hold ints and 0-d integer variables, slices (bounds: ints, None or 0-d integer
    variables), ``None``, ``Ellipsis``, integer index arrays (lists, NumPy arrays or integer variables of any
    rank, broadcast together; as in NumPy, the indexed dimensions move to the front when advanced indices are
    separated by a slice, ``None`` or ``...``) and boolean masks (NumPy arrays or bool variables). Static
    lengths are kept where they are known; a mask gives an unknown length unless it is a constant.

    Raises :class:`IndexingError` (a ``GraphError`` and an ``IndexError``) for too many indices, constant
    indices out of range of a static length, and masks whose static shape does not match.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> m = gw.matrix("m", shape=(5, None))
    >>> m[1:3].type, m[::-1, 0].type
    (TensorType(float64, (2, None)), TensorType(float64, (5,)))
    >>> m[[0, 2], 1:]
    m[[0, 2], 1:]
    >>> m[[0, 2], 1:].eval({m: np.arange(10.0).reshape(5, 2)})
    array([[1.],
           [5.]])
    """
    x = as_tensor(x)
    spec, parts = _spec.normalize_index(x, index)
    return Subtensor(spec)(x, *parts)


@dataclass(frozen=True)
class IncSubtensor(Op):
    """``x`` with ``x[index]`` replaced by (``mode="set"``) or incremented by (``mode="inc"``) ``y``.

    Inputs are ``x``, ``y`` and the index parts of ``spec``. ``perform`` works on a copy of ``x``. With index
    arrays, ``"inc"`` accumulates repeated positions (``np.add.at``) and ``"set"`` keeps the last write.
    """

    spec: tuple
    mode: str = "set"

    def __post_init__(self) -> None:
        if self.mode not in ("set", "inc"):
            raise ValueError(f"IncSubtensor mode must be 'set' or 'inc', got {self.mode!r}")

    @property
    def _name(self) -> str:
        return f"{self.mode}_subtensor"

    def make_node(self, x: Any, y: Any, *parts: Any) -> Apply:
        x = as_tensor(x)
        y = _as_update(y, x, self._name)
        parts = [as_tensor(p) for p in parts]
        node = Apply.lookup(self, [x, y, *parts])
        if node is not None:
            return node
        _spec.check_parts(self.spec, x, parts, self._name)
        region = _spec.static_out_shape(self.spec, x, parts, self._name)
        _check_broadcast(y, region, self._name)
        return Apply.create(self, [x, y, *parts], lambda: [x.type])

    def perform(self, x: np.ndarray, y: np.ndarray, *parts: np.ndarray) -> np.ndarray:
        return self.write_into(np.array(x, copy=True), y, parts)

    def write_into(self, out: np.ndarray, y: np.ndarray, parts: Sequence[np.ndarray]) -> np.ndarray:
        """Set or increment ``out[index]`` by ``y`` in place and return ``out`` (``perform`` on a copy of x)."""
        index = _spec.build_index(self.spec, parts)
        if self.mode == "set":
            out[index] = y
        elif _spec.has_advanced(self.spec):
            np.add.at(out, index, y)
        else:
            out[index] += y
        return out

    def inplace_options(self, node: Apply) -> list[tuple[int, int]]:
        return [(0, 0)]

    def shape_inputs(self, node: Apply) -> tuple[int, ...]:
        return _spec.shape_parts(self.spec, 2)  # slice bounds and boolean masks

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [input_shapes[0]]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """``x``: the gradient (region zeroed for set); ``y``: the region of the gradient, summed to its shape."""
        from graphwright.tensor.indexing_grad import inc_subtensor_pullback

        return inc_subtensor_pullback(node, output_grads[0])

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """Batched ``x`` and/or ``y`` with unbatched index parts: full slices for the batch in front of the index
        (see :mod:`graphwright.tensor.indexing_vectorize`); batched index parts: Blockwise."""
        from graphwright.tensor.indexing_vectorize import vectorize_inc_subtensor

        out = vectorize_inc_subtensor(node, inputs, batch_ndims)
        return out if out is not None else super().vectorize(node, inputs, batch_ndims)

    def short_name(self) -> str:
        return f"{self._name}{{{_spec.placeholder_text(self.spec)}}}"

    def str_form(self, args: Sequence[str]) -> str:
        from graphwright.printing import unwrap_parens

        region = f"{_wrap(args[0])}[{_spec.index_text(self.spec, list(args[2:]))}]"
        return f"{self._name}({region}, {unwrap_parens(args[1])})"


def _as_update(y: Any, x: TensorVariable, op_name: str) -> TensorVariable:
    """``y`` as a tensor of ``x``'s dtype: variables and arrays must cast safely, Python numbers by kind."""
    target = np.dtype(x.type.dtype)
    if not isinstance(y, Variable) and (is_python_scalar(y) or isinstance(y, list | tuple)):
        raw = np.asarray(y)
        if raw.dtype.kind in "biuf" and (np.can_cast(raw.dtype, target, "same_kind") or target.kind == "f"):
            try:
                return constant(np.asarray(y, dtype=target))
            except OverflowError:
                raise TypeError(f"{op_name}: the value {y!r} does not fit the dtype {x.type.dtype} of {x}") from None
    y = as_tensor(y)
    if y.type.dtype != x.type.dtype:
        if not np.can_cast(y.type.dtype, target, "safe"):
            raise TypeError(f"{op_name}: the value {y} of dtype {y.type.dtype} cannot be cast safely to the "
                            f"dtype {x.type.dtype} of {x}; cast it explicitly with .astype('{x.type.dtype}')")
        y = _ew.cast(y, x.type.dtype)
    return y


def _check_broadcast(y: TensorVariable, region: tuple, op_name: str) -> None:
    ok = y.type.ndim <= len(region) and all(
        s is None or r is None or s in (1, r)
        for s, r in zip(y.type.shape[::-1], region[::-1], strict=False))
    if not ok:
        raise GraphError(f"{op_name}: the value {y} of static shape {y.type.shape} cannot be broadcast to "
                         f"the indexed region of static shape {region}")


def _indexed(x_sub: Any, op_name: str) -> Apply:
    node = getattr(x_sub, "owner", None)
    if node is None or not isinstance(node.op, Subtensor):
        raise GraphError(f"{op_name}: the first argument must be an indexing expression such as x[1:3], "
                         f"got {x_sub}")
    return node


def set_subtensor(x_sub: TensorVariable, y: Any) -> TensorVariable:
    """A new variable equal to ``x`` with the region ``x[idx]`` set to ``y``, given ``x_sub = x[idx]``.

    ``y`` must broadcast to the region's shape and cast safely to ``x``'s dtype. ``x`` itself is never
    modified. With repeated positions in index arrays the last write wins.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> z = gw.set_subtensor(x[1:3], 0.0)
    >>> z
    set_subtensor(x[1:3], 0)
    >>> z.eval({x: np.ones(4)})
    array([1., 0., 0., 1.])
    """
    node = _indexed(x_sub, "set_subtensor")
    x, *parts = node.inputs
    return IncSubtensor(node.op.spec, "set")(x, y, *parts)


def inc_subtensor(x_sub: TensorVariable, y: Any) -> TensorVariable:
    """A new variable equal to ``x`` with ``y`` added to the region ``x[idx]``, given ``x_sub = x[idx]``.

    Repeated positions in index arrays accumulate, like ``np.add.at``. ``x`` itself is never modified.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.inc_subtensor(x[[0, 0, 2]], 1.0).eval({x: np.zeros(3)})
    array([2., 0., 1.])
    """
    node = _indexed(x_sub, "inc_subtensor")
    x, *parts = node.inputs
    return IncSubtensor(node.op.spec, "inc")(x, y, *parts)
