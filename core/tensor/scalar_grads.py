"""The derivative column of the scalar table: for each elementwise row, its pullback as graph expressions.

Each entry maps ``(inputs, output, g)`` (whole tensors: the node's inputs, its output and the output's
gradient) to one gradient per input, before broadcasting is undone. ``None`` means no gradient flows
(predicates, integer ops); zeros mean the derivative is zero almost everywhere (floor, sign ...).
Derivatives are written in forms that stay finite where the function does (sigmoid uses ``sigmoid(-x)``, not
``1 - sigmoid(x)``; ``log1mexp`` uses ``expm1``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from graphwright.graph.basic import Apply, Variable
from graphwright.tensor import elemwise as ew
from graphwright.tensor.creation import zeros_like
from graphwright.tensor.grad_util import NotDifferentiableError, is_differentiable, reduce_to

__all__ = ["DERIVATIVES", "elementwise_grads"]

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _zero(xs, out, g):
    return [zeros_like(g) for _ in xs]


def _none(xs, out, g):
    return [None for _ in xs]


def _mul(xs, out, g):
    grads = []
    for i in range(len(xs)):
        others = xs[:i] + xs[i + 1:]
        grads.append(g * (others[0] if len(others) == 1 else ew.mul(*others)))
    return grads


def _pow(xs, out, g):
    x, y = xs  # written so that x = 0 gives 0, not 0 * inf (x ** 0 is constant; 0 ** y does not move with y)
    return [ew.switch(ew.eq(y, 0), 0, g * y * x ** (y - 1)), ew.switch(ew.eq(x, 0), 0, g * out * ew.log(x))]


def _mod(xs, out, g):
    x, y = xs
    return [g, -g * ew.floor(x / y)]


def _arctan2(xs, out, g):
    y, x = xs
    r2 = ew.sqr(x) + ew.sqr(y)
    return [g * x / r2, -g * y / r2]


def _maximum(xs, out, g):
    x, y = xs
    take_x = x >= y  # ties send the whole gradient to the first input (never counted twice)
    return [ew.switch(take_x, g, 0), ew.switch(take_x, 0, g)]


def _minimum(xs, out, g):
    x, y = xs
    take_x = x <= y
    return [ew.switch(take_x, g, 0), ew.switch(take_x, 0, g)]


def _clip(xs, out, g):
    x, lo, hi = xs
    below, above = x < lo, x > hi
    return [ew.switch(ew.or_(below, above), 0, g), ew.switch(below, g, 0), ew.switch(above, g, 0)]


def _switch(xs, out, g):
    cond, _, _ = xs
    return [None, ew.switch(cond, g, 0), ew.switch(cond, 0, g)]


def _erfcx(xs, out, g):
    (x,) = xs
    return [g * (2 * x * out - _TWO_OVER_SQRT_PI)]


def _no_derivative(name: str) -> Callable:
    def fail(xs, out, g):
        raise NotDifferentiableError(f"{name} has no derivative in graphwright yet (its input {xs[0]})")

    return fail


DERIVATIVES: dict[str, Callable] = {
    "add": lambda xs, out, g: [g for _ in xs],
    "sub": lambda xs, out, g: [g, -g],
    "mul": _mul,
    "true_div": lambda xs, out, g: [g / xs[1], -g * out / xs[1]],
    "int_div": _zero,
    "mod": _mod,
    "pow": _pow,
    "neg": lambda xs, out, g: [-g],
    "abs": lambda xs, out, g: [g * ew.sign(xs[0])],
    "sign": _zero,
    "exp": lambda xs, out, g: [g * out],
    "exp2": lambda xs, out, g: [g * out * _LN2],
    "expm1": lambda xs, out, g: [g * (out + 1)],
    "log": lambda xs, out, g: [g / xs[0]],
    "log2": lambda xs, out, g: [g / (xs[0] * _LN2)],
    "log10": lambda xs, out, g: [g / (xs[0] * _LN10)],
    "log1p": lambda xs, out, g: [g / (1 + xs[0])],
    "log1mexp": lambda xs, out, g: [-g / ew.expm1(-xs[0])],
    "sqrt": lambda xs, out, g: [g / (2 * out)],
    "sqr": lambda xs, out, g: [g * 2 * xs[0]],
    "reciprocal": lambda xs, out, g: [-g * ew.sqr(out)],
    "sin": lambda xs, out, g: [g * ew.cos(xs[0])],
    "cos": lambda xs, out, g: [-g * ew.sin(xs[0])],
    "tan": lambda xs, out, g: [g * (1 + ew.sqr(out))],
    "arcsin": lambda xs, out, g: [g / ew.sqrt((1 - xs[0]) * (1 + xs[0]))],
    "arccos": lambda xs, out, g: [-g / ew.sqrt((1 - xs[0]) * (1 + xs[0]))],
    "arctan": lambda xs, out, g: [g / (1 + ew.sqr(xs[0]))],
    "arctan2": _arctan2,
    "sinh": lambda xs, out, g: [g * ew.cosh(xs[0])],
    "cosh": lambda xs, out, g: [g * ew.sinh(xs[0])],
    "tanh": lambda xs, out, g: [g * (1 - ew.sqr(out))],
    "arcsinh": lambda xs, out, g: [g / ew.hypot(xs[0], 1)],  # no overflow of x**2 at x = 1e200
    "arccosh": lambda xs, out, g: [g / (ew.sqrt(xs[0] - 1) * ew.sqrt(xs[0] + 1))],
    "arctanh": lambda xs, out, g: [g / (1 - ew.sqr(xs[0]))],
    "sigmoid": lambda xs, out, g: [g * out * ew.sigmoid(-xs[0])],
    "softplus": lambda xs, out, g: [g * ew.sigmoid(xs[0])],
    "erf": lambda xs, out, g: [g * _TWO_OVER_SQRT_PI * ew.exp(-ew.sqr(xs[0]))],
    "erfc": lambda xs, out, g: [-g * _TWO_OVER_SQRT_PI * ew.exp(-ew.sqr(xs[0]))],
    "erfcx": _erfcx,
    "erfinv": lambda xs, out, g: [g * (math.sqrt(math.pi) / 2) * ew.exp(ew.sqr(out))],
    "gammaln": lambda xs, out, g: [g * ew.digamma(xs[0])],
    "digamma": _no_derivative("digamma"),
    "hypot": lambda xs, out, g: [g * xs[0] / out, g * xs[1] / out],
    "logaddexp": lambda xs, out, g: [g * ew.exp(xs[0] - out), g * ew.exp(xs[1] - out)],
    "maximum": _maximum,
    "minimum": _minimum,
    "clip": _clip,
    "floor": _zero,
    "ceil": _zero,
    "round": _zero,
    "switch": _switch,
    **{name: _none for name in ("lt", "le", "gt", "ge", "eq", "neq", "and", "or", "xor", "not", "isnan",
                                "isinf")},
}


def elementwise_grads(node: Apply, g: Variable | None) -> list[Variable | None]:
    """The pullback of an Elemwise node from its row of :data:`DERIVATIVES` (casts pass the gradient through).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> elementwise_grads(gw.exp(x).owner, gw.vector("g"))
    [g * exp(x)]
    """
    if g is None:
        return [None for _ in node.inputs]
    name = node.op.scalar_op.name
    if name.startswith("cast_"):
        raw = [g]
    else:
        try:
            rule = DERIVATIVES[name]
        except KeyError:
            raise NotDifferentiableError(f"{name} has no entry in the derivative table") from None
        raw = rule(list(node.inputs), node.outputs[0], g)
    return [reduce_to(r, x) if r is not None and is_differentiable(x) else None
            for r, x in zip(raw, node.inputs, strict=True)]
