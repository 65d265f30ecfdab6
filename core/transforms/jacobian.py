"""Jacobians, Hessians and the vector products, from ``grad`` and ``vectorize_graph`` (no loops, no scan).

The Jacobian of ``y`` is the pullback of ``y`` applied to every basis cotangent at once: the vector-Jacobian
product graph is built for one symbolic cotangent ``v`` and vectorized over the rows of an identity matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphwright.graph.basic import Variable
from graphwright.graph.graph import replace
from graphwright.tensor.variable import TensorVariable, as_tensor, tensor
from graphwright.transforms.grad import grad
from graphwright.transforms.vectorize import vectorize_graph

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hessian_vector_product"]


def _as_list(wrt: Variable | Sequence[Variable]) -> tuple[list[Variable], bool]:
    return ([wrt], True) if isinstance(wrt, Variable) else (list(wrt), False)


def vjp(y: Any, wrt: Variable | Sequence[Variable], v: Any, **grad_options: Any) -> Any:
    """The vector-Jacobian product ``v^T (dy/dwrt)``: the gradient of ``sum(y * v)``.

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> x, v = gw.vector("x"), gw.vector("v")
    >>> gw.function([x, v], gw.vjp(gw.exp(x), x, v))(np.zeros(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    y = as_tensor(y)
    v = as_tensor(v)
    if v.type.ndim != y.type.ndim:
        raise ValueError(f"vjp: the cotangent {v} ({v.type.short()}) must have the shape of {y} ({y.type.short()})")
    grad_options.setdefault("disconnected", "ignore")
    return grad(None, wrt, known_grads={y: v}, **grad_options)


def jvp(y: Any, wrt: Variable | Sequence[Variable], tangents: Any, **grad_options: Any) -> TensorVariable:
    """The Jacobian-vector product (forward mode) ``(dy/dwrt) t``, by transposing the linear map ``vjp``.

    ``tangents`` has one tangent per ``wrt`` (same shapes). The result has the shape of ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> x, t = gw.vector("x"), gw.vector("t")
    >>> gw.function([x, t], gw.jvp(gw.sin(x), x, t))(np.zeros(2), np.array([3.0, 4.0]))
    array([3., 4.])
    """
    y = as_tensor(y)
    targets, single = _as_list(wrt)
    ts = [as_tensor(t) for t in ([tangents] if single else tangents)]
    u = tensor("u", dtype=y.type.dtype, shape=y.type.shape)  # a dummy cotangent: vjp is linear in it
    pulled = vjp(y, targets, u, **grad_options)
    from graphwright.tensor.reduce import sum as sum_

    inner = sum_(pulled[0] * ts[0]) if len(ts) == 1 else sum(sum_(p * t) for p, t in zip(pulled, ts, strict=True))
    out = grad(inner, u, disconnected="ignore", stabilize=False)
    from graphwright.tensor.creation import zeros_like

    return replace(out, {u: zeros_like(y)})  # the result does not depend on u; drop it as an input


def jacobian(y: Any, wrt: Variable | Sequence[Variable], **grad_options: Any) -> Any:
    """The Jacobian ``dy/dwrt`` with shape ``y.shape + wrt.shape``, built without a loop: the pullback of one
    symbolic cotangent, vectorized over the rows of an identity.

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> J = gw.jacobian(x ** 2, x)
    >>> gw.function([x], J)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    from graphwright.tensor import creation, shape

    y = as_tensor(y)
    targets, single = _as_list(wrt)
    v = tensor("v", dtype=y.type.dtype, shape=y.type.shape)
    pulled = vjp(y, targets, v, **grad_options)
    y_shape = shape.shape_tuple(y)
    size = shape.core_size(y, range(y.type.ndim))
    eye = creation.eye(size, dtype=y.type.dtype)
    basis = shape.reshape(eye, (size, *y_shape)) if y.type.ndim != 1 else eye
    rows = vectorize_graph(pulled, {v: basis})
    results = []
    for r, x in zip(rows, targets, strict=True):
        if r.type.ndim == x.type.ndim:  # does not depend on v: the same gradient (zeros) for every row
            r = creation.alloc(r, (size, *shape.shape_tuple(x)))
        results.append(shape.reshape(r, (*y_shape, *shape.shape_tuple(x))) if y.type.ndim != 1 else r)
    return results[0] if single else results


def hessian(cost: Any, wrt: Variable | Sequence[Variable], **grad_options: Any) -> Any:
    """The Hessian of a scalar ``cost``: the Jacobian of its gradient (one matrix per ``wrt``).

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> H = gw.hessian(gw.sum(x ** 3), x)
    >>> gw.function([x], H)(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    targets, single = _as_list(wrt)
    out = [jacobian(grad(cost, x, **grad_options), x) for x in targets]
    return out[0] if single else out


def hessian_vector_product(cost: Any, wrt: Variable, v: Any, **grad_options: Any) -> TensorVariable:
    """``H v`` without forming ``H``: the gradient of ``sum(grad(cost) * v)``.

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> x, v = gw.vector("x"), gw.vector("v")
    >>> hv = gw.hessian_vector_product(gw.sum(x ** 3), x, v)
    >>> gw.function([x, v], hv)(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    from graphwright.tensor.reduce import sum as sum_

    g = grad(cost, wrt, **grad_options)
    return grad(sum_(g * as_tensor(v)), wrt, **{**grad_options, "disconnected": "ignore"})
