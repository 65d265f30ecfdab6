"""Elemwise: one Op that applies a row of the scalar table with NumPy broadcasting, and its public functions."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, Op, Variable
from graphwright.tensor.scalar_ops import SCALAR_OPS, ScalarOp
from graphwright.tensor.type import TensorType, broadcast_shapes, normalize_dtype
from graphwright.tensor.variable import TensorVariable, as_tensor, constant, is_python_scalar

__all__ = ["Elemwise", "elemwise", "cast", "where", "switch", "clip", "invert", "and_", "or_", "xor", "not_"]


@dataclass(frozen=True)
class Elemwise(Op):
    """Apply ``scalar_op`` elementwise; only static length-1 dimensions broadcast."""

    scalar_op: ScalarOp
    types_follow_input_types: ClassVar[bool] = True

    def make_node(self, *inputs: Any) -> Apply:
        so = self.scalar_op
        if so.nin == -1:
            if len(inputs) < 2:
                raise TypeError(f"{so.name} needs at least two inputs, got {len(inputs)}")
        elif len(inputs) != so.nin:
            raise TypeError(f"{so.name} takes {so.nin} input(s), got {len(inputs)}")
        xs = _as_operands(inputs, so.name)
        return Apply.create(self, xs, lambda: [self._output_type(xs)])

    def _output_type(self, xs: list[TensorVariable]) -> TensorType:
        so = self.scalar_op
        dtypes = tuple(x.type.dtype for x in xs)
        try:
            dtype = so.output_dtype(*dtypes)
        except TypeError as exc:
            raise TypeError(f"{exc} (inputs {', '.join(_describe(x) for x in xs)})") from None
        shape = broadcast_shapes([x.type.shape for x in xs], so.name)
        return TensorType(dtype, shape)

    def perform(self, *inputs: np.ndarray) -> np.ndarray:
        so = self.scalar_op
        out_dtype = so.output_dtype(*(np.asarray(x).dtype.name for x in inputs))
        if so.dtype_rule == "float":  # compute in the output precision (NumPy would use float16 for int8)
            inputs = tuple(np.asarray(x, dtype=out_dtype) for x in inputs)
        out = np.asarray(so.numpy(*inputs))
        return out if out.dtype == out_dtype else out.astype(out_dtype)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [elemwise_output_shape(node, input_shapes)]

    def pullback(self, node: Apply, output_grads: list) -> list:
        from graphwright.tensor.scalar_grads import elementwise_grads  # the derivative column of the table

        return elementwise_grads(node, output_grads[0])

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        return list(self.make_node(*align_batched(node, inputs, batch_ndims)).outputs)

    def inplace_options(self, node: Apply) -> list[tuple[int, int]]:
        return same_buffer_inputs(node)

    def inplace_option_groups(self, node: Apply) -> list[tuple[list[int], list[int]]]:
        """:meth:`inplace_options` grouped (see :func:`same_buffer_groups`), for the in-place phase."""
        return same_buffer_groups(node)

    def short_name(self) -> str:
        return self.scalar_op.name

    def str_form(self, args: list[str]) -> str:
        so = self.scalar_op
        if so.infix is not None:
            return "(" + f" {so.infix} ".join(args) + ")"
        if so.name == "neg":
            return f"-{args[0]}"
        return super().str_form(args)


def align_batched(node: Apply, inputs: list, batch_ndims: list) -> list:
    """Inputs of a broadcasting node, batched: the batch dimensions go in front of every batched input (padded
    to the same number) and length-1 dimensions fill its core up to the output's rank; unbatched inputs stay
    as they are (they broadcast from the right)."""
    from graphwright.tensor.shape import dimshuffle

    top, out_core = max(batch_ndims), node.outputs[0].type.ndim
    aligned = []
    for v, nb, old in zip(inputs, batch_ndims, node.inputs, strict=True):
        if nb:
            core = old.type.ndim
            order = ["x"] * (top - nb) + list(range(nb)) + ["x"] * (out_core - core) + list(range(nb, nb + core))
            v = dimshuffle(v, order)
        aligned.append(v)
    return aligned


def same_buffer_inputs(node: Apply) -> list[tuple[int, int]]:
    """``(output, input)`` pairs of a broadcasting node where the input always has the output's dtype and shape:
    same rank, and no static length 1 where the output's length is not static 1 (only those broadcast)."""
    pairs = [(o, i) for outputs, inputs in same_buffer_groups(node) for o in outputs for i in inputs]
    return sorted(pairs)


def same_buffer_groups(node: Apply) -> list[tuple[list[int], list[int]]]:
    """:func:`same_buffer_inputs` as ``(outputs, inputs)`` groups, one per distinct output type: every input of
    a group fits every output of it. Linear in outputs + inputs per group, where the pairs are their product
    (a fused gradient composite has thousands of each)."""
    groups: dict = {}  # output type -> (its outputs, the inputs that fit it)
    for o, out in enumerate(node.outputs):
        group = groups.get(out.type)
        if group is None:
            group = groups[out.type] = ([], [
                i for i, x in enumerate(node.inputs)
                if x.type.dtype == out.type.dtype and x.type.ndim == out.type.ndim
                and all(s != 1 or t == 1 for s, t in zip(x.type.shape, out.type.shape, strict=True))])
        group[0].append(o)
    return [group for group in groups.values() if group[1]]


def elemwise_output_shape(node: Apply, input_shapes: list[tuple]) -> tuple:
    """The symbolic output shape of a broadcasting node: static lengths, else a non-broadcasting input's."""
    out_shape = []
    for dim, static in enumerate(node.outputs[0].type.shape):
        if static is not None:
            out_shape.append(static)
            continue
        for x, shp in zip(node.inputs, input_shapes, strict=True):
            offset = node.outputs[0].type.ndim - x.type.ndim
            if dim >= offset and x.type.shape[dim - offset] != 1:
                out_shape.append(shp[dim - offset])
                break
        else:  # pragma: no cover - every None dimension has a non-broadcasting input
            out_shape.append(1)
    return tuple(out_shape)


def _describe(x: TensorVariable) -> str:
    return f"{x} of type {x.type.short()}"


def _as_operands(inputs: tuple, op_name: str) -> list[TensorVariable]:
    """Convert inputs; Python scalars are 'weak' (NumPy 2 rules): they take the dtype of the other operands."""
    tensors = [as_tensor(x) if not is_python_scalar(x) else None for x in inputs]
    if all(t is not None for t in tensors):
        return tensors
    strong = tuple(t.type.dtype for t in tensors if t is not None)
    result = []
    for x, t in zip(inputs, tensors, strict=True):
        result.append(t if t is not None else _weak_constant(x, strong, op_name))
    return result


_WEAK_DTYPES: dict[tuple, str] = {}
# (dtype, Python type, value) -> constant; weak, so a constant no graph holds any longer is freed
_WEAK_CONSTANTS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _weak_constant(x: Any, strong: tuple[str, ...], op_name: str) -> TensorVariable:
    """The constant for Python scalar ``x`` next to operands of dtypes ``strong`` (NEP 50 'weak' scalars)."""
    kind = x.__class__
    dkey = (strong, kind)
    dtype = _WEAK_DTYPES.get(dkey)
    if dtype is None:
        dtype = np.result_type(*strong, kind(0)).name if strong else np.asarray(x).dtype.name
        _WEAK_DTYPES[dkey] = dtype
    # -0.0 == 0.0 as dict keys, so signed zeros (and NaN, never equal) bypass the cache
    cacheable = not (x == 0 and kind is float) and x == x
    ckey = (dtype, kind, x)
    const = _WEAK_CONSTANTS.get(ckey) if cacheable else None
    if const is None:
        try:
            const = constant(np.asarray(x, dtype=dtype))
        except OverflowError:
            raise OverflowError(f"{op_name}: the Python value {x!r} does not fit the dtype {dtype} of the "
                                "other operand(s)") from None
        if cacheable:
            _WEAK_CONSTANTS[ckey] = const
    return const


_ELEMWISE_OPS: dict[str, Elemwise] = {name: Elemwise(row) for name, row in SCALAR_OPS.items()}


def elemwise(name: str, *inputs: Any) -> TensorVariable:
    """Apply the table row ``name`` elementwise.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> elemwise("log1p", x)
    log1p(x)
    """
    try:
        op = _ELEMWISE_OPS[name]
    except KeyError:
        raise KeyError(f"no elementwise op called {name!r}") from None
    return op(*inputs)


def _make_public(name: str, public: str) -> Any:
    op = _ELEMWISE_OPS[name]

    def fn(*inputs):
        return op(*inputs)

    row = op.scalar_op
    fn.__name__ = fn.__qualname__ = public
    arity = "two or more" if row.nin == -1 else str(row.nin)
    n = 2 if row.nin == -1 else row.nin
    args = ", ".join("xyz"[:n])
    from graphwright.tensor.variable import vector

    dtype = "float64" if row.float_ok else "bool"
    example = fn(*(vector(v, dtype) for v in "xyz"[:n]))  # built once at import, freed right after
    fn.__doc__ = (f"Elementwise ``{name}`` of {arity} input(s), with NumPy broadcasting and dtype promotion.\n\n"
                  f"The NumPy reference is ``{getattr(row.numpy, '__name__', name)}``.\n\n"
                  "Examples\n--------\n>>> import graphwright as gw\n"
                  f">>> x, y, z = (gw.vector(name, {dtype!r}) for name in 'xyz')\n>>> gw.{public}({args})\n{example}\n")
    return fn


# Public names: the table name, except where it is a Python keyword (and, or, not). Note that this module's
# globals `abs`, `pow` and `round` are the graph functions, not the builtins.
_PUBLIC = {name: name for name in SCALAR_OPS if not name.startswith("cast_")}
_PUBLIC.update({"and": "and_", "or": "or_", "not": "invert", "abs": "abs", "pow": "pow", "round": "round"})
for _name, _public in _PUBLIC.items():
    globals()[_public] = _make_public(_name, _public)
    if _public not in __all__:
        __all__.append(_public)
not_ = invert  # noqa: F821 - defined by the loop above


def cast(x: Any, dtype: Any) -> TensorVariable:
    """Convert ``x`` to ``dtype`` (NumPy ``astype`` semantics); a no-op when the dtype already matches.

    Examples
    --------
    >>> import graphwright as gw
    >>> gw.cast(gw.vector("x"), "int32").dtype
    'int32'
    """
    x = as_tensor(x)
    dtype = normalize_dtype(dtype)
    if x.type.dtype == dtype:
        return x
    return _ELEMWISE_OPS[f"cast_{dtype}"](x)


def switch(cond: Any, if_true: Any, if_false: Any) -> TensorVariable:
    """Elementwise ``if_true if cond else if_false`` (``np.where``).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.switch(x > 0, x, 0)
    switch(x > 0, x, 0)
    """
    return _ELEMWISE_OPS["switch"](cond, if_true, if_false)


where = switch


def clip(x: Any, lo: Any, hi: Any) -> TensorVariable:
    """Limit ``x`` to ``[lo, hi]`` elementwise (``np.clip``)."""
    return _ELEMWISE_OPS["clip"](x, lo, hi)


def is_elemwise(var: Variable, name: str | None = None) -> bool:
    """True when ``var`` is the output of an Elemwise node (of table row ``name``, if given)."""
    owner = var.owner
    return owner is not None and isinstance(owner.op, Elemwise) and (
        name is None or owner.op.scalar_op.name == name)

