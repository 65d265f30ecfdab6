"""JAX versions of the elementwise table (``SCALAR_OPS``), and the Elemwise and Composite kernels built on them.

Every row computes the way its NumPy reference does: the inputs are first cast to the dtype NumPy's loop would
use (the output dtype for arithmetic, the promoted input dtype for comparisons), then the ``jax.numpy``
function runs, and the result is cast to the graph's output dtype. Special functions of float32 inputs are
computed in float64 and rounded, as SciPy's float32 loops do. A Composite is inlined: its inner graph is
evaluated on whole arrays, once, while ``jax.jit`` traces.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.numpy_ref.elemwise import check_runtime_broadcast, shapes_to_check
from graphwright.graph.basic import Apply
from graphwright.graph.destroy import plain_node
from graphwright.graph.inner import evaluate
from graphwright.tensor.composite import Composite
from graphwright.tensor.composite_reduce import CompositeReduce
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.scalar_ops import ScalarOp, rows_by_name

__all__ = ["JAX_ROWS", "row_function", "elemwise_kernel", "composite_kernel", "composite_reduce_kernel"]

_LN2 = math.log(2.0)


def _variadic(binary: Callable) -> Callable:
    def apply(*xs):
        out = binary(xs[0], xs[1])
        for x in xs[2:]:
            out = binary(out, x)
        return out

    return apply


def _is_int(x) -> bool:
    return jnp.issubdtype(x.dtype, jnp.integer) or x.dtype == jnp.bool_


def _int_div(x, y):
    if not _is_int(x):
        return jnp.floor_divide(x, y)
    safe = jnp.where(y == 0, jnp.ones_like(y), y)
    return jnp.where(y == 0, jnp.zeros_like(x), jnp.floor_divide(x, safe))  # NumPy: x // 0 == 0


def _mod(x, y):
    if not _is_int(x):
        return jnp.mod(x, y)
    safe = jnp.where(y == 0, jnp.ones_like(y), y)
    return jnp.where(y == 0, jnp.zeros_like(x), jnp.mod(x, safe))  # NumPy: x % 0 == 0


def _integral_identity(fn: Callable) -> Callable:
    """floor, ceil and round leave integers (and bools) unchanged, as NumPy does."""
    return lambda x: x if _is_int(x) else fn(x)


def _log1mexp(x):
    near = x > -_LN2
    return jnp.where(near, jnp.log(-jnp.expm1(x)), jnp.log1p(-jnp.exp(x)))


def _sigmoid(x):
    return jnp.where(x < -700, jnp.exp(x), jax.nn.sigmoid(x))  # keep the subnormal tail, like the reference


def _softplus(x):
    return jnp.logaddexp(jnp.zeros((), x.dtype), x)


def _digamma(x):
    return jnp.where(x == 0, -1 / x, jss.digamma(x))  # the poles at +-0 give -+inf, as in SciPy


def _gammaln(x):
    return jnp.where(jnp.isneginf(x), x, jss.gammaln(x))


def _float_to_int(x, out: np.dtype):
    """NumPy's float to integer conversion on x86 (C casts): int64 targets convert directly, narrower ones
    through int32 (then wrap); NaN and values out of range give the most negative value of that width."""
    wide = np.dtype("int64") if out == np.int64 else np.dtype("int32")
    bound = float(2 ** (8 * wide.itemsize - 1))
    valid = (x >= -bound) & (x < bound)
    as_int = jnp.where(valid, x, 0).astype(wide)
    return jnp.where(valid, as_int, np.iinfo(wide).min).astype(out)


def _cast(out: np.dtype) -> Callable:
    def cast(x):
        x = jnp.asarray(x)
        if out.kind in "iu" and jnp.issubdtype(x.dtype, jnp.floating):
            return _float_to_int(x, out)
        return x.astype(out)

    return cast


def _clip(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def _switch(cond, a, b):
    return jnp.where(cond, a, b)


# The rows whose JAX function is not found by the rule of ``rows_by_name`` (``jax.numpy`` or ``jax.scipy.special``
# under the row's name or its reference's), each with the reason.
_JAX_OVERRIDES: dict[str, Callable] = {
    "add": _variadic(jnp.add), "mul": _variadic(jnp.multiply),  # variadic: folded pairwise as the reference
    "int_div": _int_div, "mod": _mod,  # NumPy: integer x // 0 and x % 0 are 0
    "floor": _integral_identity(jnp.floor), "ceil": _integral_identity(jnp.ceil),  # integers unchanged
    "round": _integral_identity(jnp.round),
    "log1mexp": _log1mexp, "softplus": _softplus,  # no JAX function of that name
    "sigmoid": _sigmoid,  # keeps the subnormal tail below -700 (jax.nn.sigmoid flushes it)
    "digamma": _digamma, "gammaln": _gammaln,  # SciPy's values at the poles +-0 and at -inf
    "clip": _clip, "switch": _switch,  # NumPy's argument order and nan propagation
}
_NAMESPACES = (jnp, jss)


# every row's function: its override, else the one of its name (shared rule: scalar_ops.rows_by_name)
JAX_ROWS: dict[str, Callable] = rows_by_name(_NAMESPACES, _JAX_OVERRIDES)


def row_function(row: ScalarOp, in_dtypes: tuple[str, ...], out_dtype: str) -> Callable:
    """The function computing ``row`` on arrays of ``in_dtypes`` (JAX arrays, tracers or NumPy values) and
    returning an array of ``out_dtype``, with NumPy's casting.

    Examples
    --------
    >>> import numpy as np
    >>> from graphwright.tensor.scalar_ops import SCALAR_OPS
    >>> from graphwright.backends.jax_backend.bounds import x64_scope
    >>> f = row_function(SCALAR_OPS["int_div"], ("int64", "int64"), "int64")
    >>> with x64_scope():  # as the backend calls its kernels
    ...     np.asarray(f(np.array([7, -7, 3]), np.array([2, 2, 0]))).tolist()
    [3, -4, 0]
    """
    name = row.name
    out = np.dtype(out_dtype)
    if name.startswith("cast_"):
        return _cast(out)
    fn = JAX_ROWS.get(name)
    if fn is None:  # pragma: no cover - test_every_row_has_a_jax_version keeps the table complete
        raise KeyError(f"no JAX version of the elementwise row {name!r}")
    if name == "switch":
        return lambda c, a, b: fn(jnp.asarray(c).astype(bool), _convert(a, out), _convert(b, out))
    if row.dtype_rule == "bool" or (name == "abs" and np.dtype(in_dtypes[0]).kind == "c"):
        compute = np.result_type(*in_dtypes)  # (abs of a complex number is real: it reads the complex input)
    elif row.scipy_reference and out == np.float32:  # SciPy computes these in double; so do we, then round
        compute = np.dtype("float64")
    else:
        compute = out

    def call(*xs):
        result = fn(*(_convert(x, compute) for x in xs))
        return result if result.dtype == out else result.astype(out)

    call.__name__ = f"jax_{name}"
    return call


def _convert(x, dtype: np.dtype):
    """``x`` as an array of ``dtype``. Bools become numbers through a select: XLA rewrites ``y * convert(b)``
    into a select, which would turn ``inf * False`` into 0 where NumPy gives nan."""
    x = jnp.asarray(x)
    if x.dtype == jnp.bool_ and dtype != np.bool_:
        return jnp.where(x, jnp.ones((), dtype), jnp.zeros((), dtype))
    return x.astype(dtype) if x.dtype != dtype else x


def _check(node: Apply, label: str) -> Callable:
    """A trace-time check of the graph's broadcasting rule (shapes are static under jit): no run-time cost."""
    shapes = shapes_to_check(node)
    if shapes is None:
        return lambda xs: None
    return lambda xs: check_runtime_broadcast(label, xs, shapes)


@kernel("jax", Elemwise)
def elemwise_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    """The JAX kernel of an Elemwise node (an ``InPlace`` one computes the same values).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x", dtype="int8")
    >>> np.asarray(elemwise_kernel(gw.exp(x).owner)(np.array([0, 1], dtype="int8"))).dtype
    dtype('float32')
    """
    node = plain_node(node)
    row = node.op.scalar_op
    fn = row_function(row, tuple(v.type.dtype for v in node.inputs), node.outputs[0].type.dtype)
    check = _check(node, row.name)

    def elemwise(*xs):
        check(xs)
        return fn(*xs)

    return elemwise


def _inner_program(op: Composite) -> Callable:
    """A function evaluating the inner graph of ``op`` on arrays (inner values broadcast like NumPy's), built
    on its :meth:`~graphwright.graph.inner.InnerGraph.program`: each inner node's JAX function, once."""
    (graph,) = op.inner_graphs()
    functions: dict[Apply, Callable] = {}
    for step in graph.program.instructions:
        inner = step.node
        if isinstance(inner.op, Composite):
            functions[inner] = _inner_program(inner.op)
        else:
            functions[inner] = row_function(inner.op.scalar_op, tuple(v.type.dtype for v in inner.inputs),
                                            inner.outputs[0].type.dtype)

    def program(*xs):
        found = evaluate(graph, xs, lambda node, args: _as_outputs(node, functions[node](*args)))
        return tuple(found) if len(found) > 1 else found[0]

    return program


def _as_outputs(node: Apply, result: object) -> tuple:
    return tuple(result) if len(node.outputs) > 1 else (result,)


@kernel("jax", Composite)
def composite_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    """The JAX kernel of a Composite node: the inner graph inlined, outputs at the broadcast shape.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x, y = gw.vector("x"), gw.scalar("y")
    >>> node = composite_of([x * 2 + y, y + 1], [x, y])(x, y)[0].owner
    >>> from graphwright.backends.jax_backend.bounds import x64_scope
    >>> with x64_scope():  # as the backend calls its kernels
    ...     [np.asarray(v).tolist() for v in composite_kernel(node)(np.array([1.0, 2.0]), np.array(3.0))]
    [[5.0, 7.0], [4.0, 4.0]]
    """
    node = plain_node(node)
    op: Composite = node.op
    program = _inner_program(op)
    check = _check(node, "composite")
    dtypes = [np.dtype(v.type.dtype) for v in node.outputs]

    def composite(*xs):
        check(xs)
        shape = np.broadcast_shapes(*(np.shape(x) for x in xs))
        result = program(*xs)
        results = result if len(dtypes) > 1 else (result,)
        outs = tuple(jnp.broadcast_to(jnp.asarray(r, d), shape) for r, d in zip(results, dtypes, strict=True))
        return outs if len(outs) > 1 else outs[0]

    return composite



@kernel("jax", CompositeReduce)
def composite_reduce_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    """The JAX kernel of a CompositeReduce node: the composite's kernel, then the reduction's (XLA fuses the
    two into one loop).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> from graphwright.tensor.composite_reduce import composite_reduce
    >>> x = gw.matrix("x")
    >>> node = composite_reduce(composite_of([gw.exp(x) * 2], [x]), "sum", (1,), [x]).owner
    >>> from graphwright.backends.jax_backend.bounds import x64_scope
    >>> with x64_scope():  # as the backend calls its kernels
    ...     np.asarray(composite_reduce_kernel(node)(np.zeros((2, 3)))).tolist()
    [6.0, 6.0]
    """
    from graphwright.backends.jax_backend.kernels import reduce_kernel

    node = plain_node(node)
    comp, red = node.op.unfused(node)
    run, reduce = composite_kernel(comp), reduce_kernel(red)

    def composite_reduce(*xs):
        return reduce(run(*xs))

    return composite_reduce
