"""The scalar op table: one row per elementwise operation, read by Elemwise and by every backend."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.special as sps

from graphwright.tensor.grad_forms import ew, grad_none, grad_same, grad_zero, no_derivative
from graphwright.tensor.type import DTYPES, promote_dtypes, supported_dtype

__all__ = ["ScalarOp", "SCALAR_OPS", "scalar_op"]

# Output dtype rules, applied to the input dtypes:
#   "numpy": the dtype NumPy's ufunc `dtype_ufunc` resolves to (arithmetic keeps integers integral);
#   "float": promote the inputs, then integers and bools become floats the way np.exp does
#            (int8/uint8/int16/bool -> float32, int32/int64 -> float64);
#   "bool":  comparisons and predicates;
#   "promote": np.result_type of all inputs (clip); "switch": of the two branches;
#   a dtype name: a fixed output dtype (casts).
_LN2 = math.log(2.0)
_COMPLEX_HINTS = {"cast_": ": it would drop the imaginary part; take gw.abs of it",
                  "lt": ": complex numbers have no order", "le": ": complex numbers have no order",
                  "gt": ": complex numbers have no order", "ge": ": complex numbers have no order"}


@dataclass(frozen=True, eq=False)
class ScalarOp:
    """One row of the elementwise table.

    Attributes
    ----------
    name : the op's name, also its public function name (``gw.exp``).
    nin : number of inputs; -1 means variadic (two or more: add, mul).
    numpy : the NumPy reference implementation (arrays in, array out).
    dtype_rule : "numpy", "float", "bool", "promote", "switch" or a fixed dtype name (see the comment above).
    dtype_ufunc : the ufunc whose type resolution the "numpy" rule uses (None: run the reference on a probe).
    domain : per input, the open interval of valid real arguments (used by tests and numeric checks).
    infix : operator symbol for the short text form (``x + y``), if any.
    int_ok / float_ok : whether integer/bool or float inputs are accepted.
    complex_ok : whether complex inputs are accepted (the rows with a complex NumPy loop that graphwright's
        backends all compute: arithmetic, exp, log, sqrt, abs (complex -> real), eq/neq, switch, casts to
        complex). Ordering comparisons, maximum/minimum and clip refuse complex, as do casts to real dtypes
        (they would drop the imaginary part).
    grad : the derivative, beside the row: ``grad(inputs, output, g)`` gives one gradient per input (graph
        expressions, before broadcasting is undone; None where no gradient flows). A row without one raises
        NotDifferentiableError when differentiated.

    Each backend finds the row's function by the row's name or its reference's (``reference_name``) and lists
    only the rows where it must differ, so this row is usually all a new op needs (docs/development.md,
    "Adding an elementwise op").
    """

    name: str
    nin: int
    numpy: Callable
    dtype_rule: str = "float"
    dtype_ufunc: Callable | None = None
    domain: tuple[tuple[float, float], ...] = ()
    infix: str | None = None
    int_ok: bool = True
    float_ok: bool = True
    complex_ok: bool = False
    commutative: bool = False
    associative: bool = False
    extra: dict = field(default_factory=dict)
    grad: Callable | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScalarOp) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"ScalarOp({self.name})"

    @property
    def reference_name(self) -> str:
        """The name of the NumPy/SciPy function the row follows, which the backends look up after the row's
        own name.

        Examples
        --------
        >>> SCALAR_OPS["true_div"].reference_name, SCALAR_OPS["digamma"].reference_name
        ('divide', 'psi')
        """
        return getattr(self.numpy, "__name__", self.name)

    @property
    def scipy_reference(self) -> bool:
        """Whether the reference is a SciPy ufunc, which computes in double precision also for float32
        inputs (the backends do too, then round).

        Examples
        --------
        >>> SCALAR_OPS["erf"].scipy_reference, SCALAR_OPS["exp"].scipy_reference
        (True, False)
        """
        return isinstance(self.numpy, np.ufunc) and not hasattr(np, self.numpy.__name__)

    @functools.cache  # noqa: B019 - rows live for the whole process
    def output_dtype(self, *dtypes: str) -> str:
        """The output dtype for these input dtypes, or raise TypeError naming the op and dtypes."""
        rule = self.dtype_rule
        has_int = any(np.dtype(d).kind in "biu" for d in dtypes)
        has_float = any(np.dtype(d).kind == "f" for d in dtypes)
        if (has_int and not self.int_ok) or (has_float and not self.float_ok):
            raise TypeError(f"{self.name} does not accept inputs of dtype {', '.join(dtypes)}")
        if not self.complex_ok and any(np.dtype(d).kind == "c" for d in dtypes):
            raise TypeError(f"{self.name} does not accept complex inputs (dtypes {', '.join(dtypes)})"
                            + _COMPLEX_HINTS.get(self.name[:5], ""))
        if rule == "bool":
            return "bool"
        if rule in DTYPES:
            return rule
        if rule == "switch":
            return promote_dtypes(*dtypes[1:])
        if rule == "promote":
            return promote_dtypes(*dtypes)
        promoted = np.result_type(*dtypes)
        if rule == "float":
            return supported_dtype(np.exp.resolve_dtypes((promoted, None))[-1].name)
        ufunc = self.dtype_ufunc
        if ufunc is None:  # not a ufunc: ask the NumPy reference itself, on one-element arrays
            with np.errstate(all="ignore"):
                return supported_dtype(np.asarray(self.numpy(*(np.ones(1, d) for d in dtypes))).dtype.name)
        resolved = np.dtype(dtypes[0])
        try:
            if len(dtypes) == 1:
                resolved = ufunc.resolve_dtypes((resolved, None))[-1]
            for d in dtypes[1:]:  # variadic ops (add, mul) fold pairwise, as their NumPy reference does
                resolved = ufunc.resolve_dtypes((resolved, np.dtype(d), None))[-1]
        except Exception as exc:  # NumPy has no loop for these dtypes
            raise TypeError(f"{self.name} is not defined for dtypes {', '.join(dtypes)} ({exc})") from None
        return supported_dtype(resolved.name)


def _variadic(binary: Callable) -> Callable:
    def apply(*xs):
        out = binary(xs[0], xs[1])
        for x in xs[2:]:
            out = binary(out, x)
        return out

    apply.__name__ = binary.__name__
    apply.binary = binary  # backends may call the binary ufunc directly (with ``out=``)
    return apply


def _log1mexp(x):
    """log(1 - exp(x)) for x <= 0, accurate on both sides of -log 2."""
    x = np.asarray(x)
    out = np.empty_like(x, dtype=np.result_type(x.dtype, np.float32))
    near = x > -_LN2
    with np.errstate(divide="ignore", invalid="ignore"):
        out[near] = np.log(-np.expm1(x[near]))
        out[~near] = np.log1p(-np.exp(x[~near]))
    return out


def _softplus(x):
    """log(1 + exp(x)) without overflow."""
    return np.logaddexp(np.zeros((), dtype=np.result_type(x, np.float32)), x)


def _sigmoid(x):
    """1 / (1 + exp(-x)), keeping the subnormal tail for very negative x (scipy's expit flushes it to 0)."""
    x = np.asarray(x)
    out = np.asarray(sps.expit(x))
    tail = x < -700
    if np.any(tail):
        out = np.array(out, copy=True)
        with np.errstate(under="ignore"):
            out[tail] = np.exp(x[tail])  # 1 + exp(x) == 1 there
    return out


def _reciprocal(x):
    return np.reciprocal(x) if x.dtype.kind == "f" else np.true_divide(1.0, x)


def _round_half_even(x):
    return np.round(x)


def _cast(dtype: str) -> Callable:
    def cast(x):
        return np.asarray(x).astype(dtype)

    cast.__name__ = f"cast_{dtype}"
    return cast


# ---- the derivative column: ``grad(inputs, output, g)`` per row, written in forms that stay finite where the
# function does (sigmoid uses ``sigmoid(-x)``, not ``1 - sigmoid(x)``; log1mexp uses ``expm1``). Zeros mean
# the derivative is zero almost everywhere (floor, sign ...), None that no gradient flows (predicates); the
# forms many rows share are in graphwright.tensor.grad_forms. The formulas longer than a line follow.
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _grad_mul(xs, out, g):
    grads = []
    for i in range(len(xs)):
        others = xs[:i] + xs[i + 1:]
        grads.append(g * (others[0] if len(others) == 1 else ew.mul(*others)))
    return grads


def _grad_pow(xs, out, g):
    x, y = xs  # written so that x = 0 gives 0, not 0 * inf (x ** 0 is constant; 0 ** y does not move with y)
    return [ew.switch(ew.eq(y, 0), 0, g * y * x ** (y - 1)), ew.switch(ew.eq(x, 0), 0, g * out * ew.log(x))]


def _grad_mod(xs, out, g):
    x, y = xs
    return [g, -g * ew.floor(x / y)]


def _grad_arctan2(xs, out, g):
    y, x = xs
    r2 = ew.sqr(x) + ew.sqr(y)
    return [g * x / r2, -g * y / r2]


def _grad_maximum(xs, out, g):
    x, y = xs
    take_x = x >= y  # ties send the whole gradient to the first input (never counted twice)
    return [ew.switch(take_x, g, 0), ew.switch(take_x, 0, g)]


def _grad_minimum(xs, out, g):
    x, y = xs
    take_x = x <= y
    return [ew.switch(take_x, g, 0), ew.switch(take_x, 0, g)]


def _grad_clip(xs, out, g):
    x, lo, hi = xs
    below, above = x < lo, x > hi
    return [ew.switch(ew.or_(below, above), 0, g), ew.switch(below, g, 0), ew.switch(above, g, 0)]


def _grad_switch(xs, out, g):
    cond, _, _ = xs
    return [None, ew.switch(cond, g, 0), ew.switch(cond, 0, g)]


def _grad_erfcx(xs, out, g):
    (x,) = xs
    return [g * (2 * x * out - _TWO_OVER_SQRT_PI)]


_POS = ((0.0, np.inf),)
_ANY = ((-np.inf, np.inf),)
_ANY2 = _ANY * 2
_UNIT = ((-1.0, 1.0),)


def _arithmetic_rows() -> list[ScalarOp]:
    """The arithmetic rows (infix operators, NumPy's integer semantics)."""
    R = ScalarOp
    return [
        R("add", -1, _variadic(np.add), "numpy", np.add, _ANY2, "+", complex_ok=True, commutative=True,
          associative=True, grad=grad_same),
        R("sub", 2, np.subtract, "numpy", np.subtract, _ANY2, "-", complex_ok=True, grad=lambda xs, out, g: [g, -g]),
        R("mul", -1, _variadic(np.multiply), "numpy", np.multiply, _ANY2, "*", complex_ok=True, commutative=True,
          associative=True, grad=_grad_mul),
        R("true_div", 2, np.true_divide, "numpy", np.true_divide, ((-np.inf, np.inf), (0.5, 4.0)), "/",
          complex_ok=True, grad=lambda xs, out, g: [g / xs[1], -g * out / xs[1]]),
        R("int_div", 2, np.floor_divide, "numpy", np.floor_divide, ((-np.inf, np.inf), (0.5, 4.0)), "//",
          grad=grad_zero),
        R("mod", 2, np.mod, "numpy", np.mod, ((-np.inf, np.inf), (0.5, 4.0)), "%", grad=_grad_mod),
        R("pow", 2, np.power, "numpy", np.power, ((0.1, 3.0), (-2.0, 2.0)), "**", grad=_grad_pow),
        R("neg", 1, np.negative, "numpy", np.negative, _ANY, complex_ok=True, grad=lambda xs, out, g: [-g]),
        R("abs", 1, np.abs, "numpy", np.abs, _ANY, complex_ok=True, grad=lambda xs, out, g: [g * ew.sign(xs[0])]),
        R("sign", 1, np.sign, "numpy", np.sign, _ANY, grad=grad_zero),
    ]


def _function_rows() -> list[ScalarOp]:
    """The float functions (dtype rule "float"), which every backend finds by name."""
    R = ScalarOp
    return [
        R("exp", 1, np.exp, domain=((-20.0, 20.0),), complex_ok=True, grad=lambda xs, out, g: [g * out]),
        R("exp2", 1, np.exp2, domain=((-20.0, 20.0),), grad=lambda xs, out, g: [g * out * _LN2]),
        R("expm1", 1, np.expm1, domain=((-20.0, 20.0),), grad=lambda xs, out, g: [g * (out + 1)]),
        R("log", 1, np.log, domain=_POS, complex_ok=True, grad=lambda xs, out, g: [g / xs[0]]),
        R("log2", 1, np.log2, domain=_POS, grad=lambda xs, out, g: [g / (xs[0] * _LN2)]),
        R("log10", 1, np.log10, domain=_POS, grad=lambda xs, out, g: [g / (xs[0] * _LN10)]),
        R("log1p", 1, np.log1p, domain=((-1.0, np.inf),), grad=lambda xs, out, g: [g / (1 + xs[0])]),
        R("log1mexp", 1, _log1mexp, domain=((-np.inf, 0.0),), grad=lambda xs, out, g: [-g / ew.expm1(-xs[0])]),
        R("sqrt", 1, np.sqrt, domain=_POS, complex_ok=True, grad=lambda xs, out, g: [g / (2 * out)]),
        R("sqr", 1, np.square, "numpy", np.square, _ANY, complex_ok=True, grad=lambda xs, out, g: [g * 2 * xs[0]]),
        R("reciprocal", 1, _reciprocal, domain=((0.5, 4.0),), grad=lambda xs, out, g: [-g * ew.sqr(out)]),
        R("sin", 1, np.sin, domain=_ANY, grad=lambda xs, out, g: [g * ew.cos(xs[0])]),
        R("cos", 1, np.cos, domain=_ANY, grad=lambda xs, out, g: [-g * ew.sin(xs[0])]),
        R("tan", 1, np.tan, domain=((-1.5, 1.5),), grad=lambda xs, out, g: [g * (1 + ew.sqr(out))]),
        R("arcsin", 1, np.arcsin, domain=_UNIT, grad=lambda xs, out, g: [g / ew.sqrt((1 - xs[0]) * (1 + xs[0]))]),
        R("arccos", 1, np.arccos, domain=_UNIT, grad=lambda xs, out, g: [-g / ew.sqrt((1 - xs[0]) * (1 + xs[0]))]),
        R("arctan", 1, np.arctan, domain=_ANY, grad=lambda xs, out, g: [g / (1 + ew.sqr(xs[0]))]),
        R("arctan2", 2, np.arctan2, domain=_ANY2, grad=_grad_arctan2),
        R("sinh", 1, np.sinh, domain=((-20.0, 20.0),), grad=lambda xs, out, g: [g * ew.cosh(xs[0])]),
        R("cosh", 1, np.cosh, domain=((-20.0, 20.0),), grad=lambda xs, out, g: [g * ew.sinh(xs[0])]),
        R("tanh", 1, np.tanh, domain=_ANY, grad=lambda xs, out, g: [g * (1 - ew.sqr(out))]),
        R("arcsinh", 1, np.arcsinh, domain=_ANY, grad=lambda xs, out, g: [g / ew.hypot(xs[0], 1)]),
        R("arccosh", 1, np.arccosh, domain=((1.0, np.inf),),
          grad=lambda xs, out, g: [g / (ew.sqrt(xs[0] - 1) * ew.sqrt(xs[0] + 1))]),
        R("arctanh", 1, np.arctanh, domain=_UNIT, grad=lambda xs, out, g: [g / (1 - ew.sqr(xs[0]))]),
        R("sigmoid", 1, _sigmoid, domain=_ANY, grad=lambda xs, out, g: [g * out * ew.sigmoid(-xs[0])]),
        R("softplus", 1, _softplus, domain=_ANY, grad=lambda xs, out, g: [g * ew.sigmoid(xs[0])]),
        R("erf", 1, sps.erf, domain=_ANY, grad=lambda xs, out, g: [g * _TWO_OVER_SQRT_PI * ew.exp(-ew.sqr(xs[0]))]),
        R("erfc", 1, sps.erfc, domain=_ANY, grad=lambda xs, out, g: [-g * _TWO_OVER_SQRT_PI * ew.exp(-ew.sqr(xs[0]))]),
        R("erfcx", 1, sps.erfcx, domain=_ANY, grad=_grad_erfcx),
        R("erfinv", 1, sps.erfinv, domain=_UNIT,
          grad=lambda xs, out, g: [g * (math.sqrt(math.pi) / 2) * ew.exp(ew.sqr(out))]),
        R("gammaln", 1, sps.gammaln, domain=_POS, grad=lambda xs, out, g: [g * ew.digamma(xs[0])]),
        R("digamma", 1, sps.psi, domain=_POS, grad=no_derivative("digamma")),
        R("logit", 1, sps.logit, domain=((0.0, 1.0),), grad=lambda xs, out, g: [g / (xs[0] * (1 - xs[0]))]),
        R("hypot", 2, np.hypot, domain=_ANY2, commutative=True,
          grad=lambda xs, out, g: [g * xs[0] / out, g * xs[1] / out]),
        R("xlogy", 2, sps.xlogy, domain=((-np.inf, np.inf), (0.0, np.inf)),
          grad=lambda xs, out, g: [g * ew.log(xs[1]), g * xs[0] / xs[1]]),
        R("logaddexp", 2, np.logaddexp, domain=_ANY2, commutative=True,
          grad=lambda xs, out, g: [g * ew.exp(xs[0] - out), g * ew.exp(xs[1] - out)]),
    ]


def _other_rows() -> list[ScalarOp]:
    """Selection, rounding, comparisons, bitwise ops, predicates, switch and the casts."""
    R = ScalarOp
    rows = [
        R("maximum", 2, np.maximum, "numpy", np.maximum, _ANY2, commutative=True, associative=True, grad=_grad_maximum),
        R("minimum", 2, np.minimum, "numpy", np.minimum, _ANY2, commutative=True, associative=True, grad=_grad_minimum),
        R("clip", 3, np.clip, "promote", None, ((-np.inf, np.inf), (-np.inf, -0.5), (0.5, np.inf)), grad=_grad_clip),
        R("floor", 1, np.floor, "numpy", np.floor, _ANY, grad=grad_zero),
        R("ceil", 1, np.ceil, "numpy", np.ceil, _ANY, grad=grad_zero),
        # round: the dtype as np.round gives it (integers stay, bool -> float)
        R("round", 1, _round_half_even, "numpy", None, _ANY, grad=grad_zero),
        R("lt", 2, np.less, "bool", domain=_ANY2, infix="<", grad=grad_none),
        R("le", 2, np.less_equal, "bool", domain=_ANY2, infix="<=", grad=grad_none),
        R("gt", 2, np.greater, "bool", domain=_ANY2, infix=">", grad=grad_none),
        R("ge", 2, np.greater_equal, "bool", domain=_ANY2, infix=">=", grad=grad_none),
        R("eq", 2, np.equal, "bool", domain=_ANY2, infix="==", complex_ok=True, commutative=True, grad=grad_none),
        R("neq", 2, np.not_equal, "bool", domain=_ANY2, infix="!=", complex_ok=True, commutative=True, grad=grad_none),
        R("and", 2, np.bitwise_and, "numpy", np.bitwise_and, _ANY2, "&", float_ok=False, commutative=True,
          associative=True, grad=grad_none),
        R("or", 2, np.bitwise_or, "numpy", np.bitwise_or, _ANY2, "|", float_ok=False, commutative=True,
          associative=True, grad=grad_none),
        R("xor", 2, np.bitwise_xor, "numpy", np.bitwise_xor, _ANY2, "^", float_ok=False, commutative=True,
          grad=grad_none),
        R("not", 1, np.invert, "numpy", np.invert, _ANY, float_ok=False, grad=grad_none),
        R("isnan", 1, np.isnan, "bool", domain=_ANY, grad=grad_none),
        R("isinf", 1, np.isinf, "bool", domain=_ANY, grad=grad_none),
        R("switch", 3, np.where, "switch", None, ((0.0, 1.0), (-np.inf, np.inf), (-np.inf, np.inf)),
          complex_ok=True, grad=_grad_switch),
    ]
    rows += [ScalarOp(f"cast_{d}", 1, _cast(d), d, domain=_ANY, complex_ok=d.startswith("complex"),
                      grad=grad_same)
             for d in DTYPES]
    return rows


SCALAR_OPS: dict[str, ScalarOp] = {row.name: row for row in (*_arithmetic_rows(), *_function_rows(), *_other_rows())}


def scalar_op(name: str) -> ScalarOp:
    """Look up a row of the table by name, with a clear error for an unknown name."""
    try:
        return SCALAR_OPS[name]
    except KeyError:
        raise KeyError(f"no elementwise op called {name!r}") from None


def rows_by_name(namespaces: tuple, overrides: dict[str, Callable]) -> dict[str, Callable]:
    """A backend's function for every row (casts aside): its entry in ``overrides``, else the first of
    ``namespaces`` that has the row's name or its reference's name; rows with neither are left out (the tests
    list them).

    Examples
    --------
    >>> rows_by_name((np,), {})["exp"] is np.exp
    True
    """
    def by_name(row: ScalarOp) -> Callable | None:
        for namespace in namespaces:
            for name in (row.name, row.reference_name):
                fn = getattr(namespace, name, None)
                if callable(fn):
                    return fn
        return None

    return {name: fn for name, row in SCALAR_OPS.items()
            if not name.startswith("cast_") and (fn := overrides.get(name) or by_name(row)) is not None}
