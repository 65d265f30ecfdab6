"""The extreme-input table shared by ``test_extreme_inputs.py`` and ``tests/benchmarks/bench_stability.py``.

Every case is a formula as a user writes it (``log(1 + exp(x))``), written once as ``build(ns, *inputs)`` so
that the same code builds a graphwright graph (``ns = gw``), a PyTensor graph (``ns = pytensor.tensor``) and
an mpmath reference (``ns = MP``, elementwise on object arrays at :data:`DPS` digits). The inputs are where
the naive evaluation fails: arguments of ``exp`` up to +-1000, values down to 1e-300 and up to 1e300.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np

import graphwright as gw

RTOL = 1e-6
SQRT2 = 1.4142135623730951  # the float sqrt(2), in the formula as a constant
DPS = 1500  # enough digits that 1 - erf(30) and 1 - sigmoid(1000) keep theirs


@dataclass(frozen=True)
class Case:
    """One naive formula ``build(ns, *inputs)`` and its extreme inputs (a float or a list per input)."""

    name: str
    build: Callable
    inputs: tuple

    def arrays(self) -> list[np.ndarray]:
        return [np.asarray(v, dtype="float64") for v in self.inputs]


def _c(name: str, build: Callable, *inputs) -> Case:
    return Case(name, build, inputs)


def _real(f: Callable) -> Callable:
    """``f`` with real semantics: a complex result (log of a negative) is NaN, and so is a result mpmath
    cannot give (see :func:`_exp`)."""

    def g(v):
        try:
            out = f(v)
        except (ValueError, ZeroDivisionError):
            return mpmath.mpf("nan")
        return mpmath.mpf("nan") if isinstance(out, mpmath.mpc) else out

    return g


def _exp(v):
    return mpmath.exp(v) if mpmath.isnan(v) or abs(v) < 1e100 else mpmath.mpf("nan")  # no reference there


def _periodic(f: Callable) -> Callable:
    return lambda v: f(v) if mpmath.isfinite(v) and abs(v) < 1e50 else mpmath.mpf("nan")


_SPECIAL = {
    "exp": _exp,
    "sigmoid": lambda v: 1 / (1 + _exp(-v)),
    "softplus": lambda v: mpmath.log1p(_exp(v)),
    "sqr": lambda v: v * v,
    "reciprocal": lambda v: 1 / v,
    "abs": abs,
    "neg": lambda v: -v,
    "sinh": lambda v: (_exp(v) - _exp(-v)) / 2,
    "cosh": lambda v: (_exp(v) + _exp(-v)) / 2,
    "cos": _periodic(mpmath.cos),
    "sin": _periodic(mpmath.sin),
    "tan": _periodic(mpmath.tan),
    "arctan": mpmath.atan,
    "arcsinh": mpmath.asinh,
}


class _Mp:
    """The functions the formulas use, evaluated elementwise with mpmath on object arrays."""

    def __getattr__(self, name: str):
        ufunc = np.frompyfunc(_real(_SPECIAL.get(name) or getattr(mpmath, name)), 1, 1)
        return lambda v: ufunc(np.asarray(v, dtype=object))

    @staticmethod
    def sum(v, axis=None, keepdims=False):
        return np.sum(np.asarray(v, dtype=object), axis=axis, keepdims=keepdims)

    @staticmethod
    def prod(v, axis=None, keepdims=False):
        return np.prod(np.asarray(v, dtype=object), axis=axis, keepdims=keepdims)

    def mean(self, v, axis=None, keepdims=False):
        v = np.asarray(v, dtype=object)
        count = v.size if axis is None else v.shape[axis]
        return self.sum(v, axis, keepdims) / count

    @staticmethod
    def dot(u, v):
        return np.dot(np.asarray(u, dtype=object), np.asarray(v, dtype=object))

    def softmax(self, v, axis=-1):
        e = self.exp(v)
        return e / self.sum(e, axis=axis, keepdims=True)


MP = _Mp()

# fmt: off
CASES: list[Case] = [
    _c("log(1 + x)", lambda m, x: m.log(1 + x), 1e-20),
    _c("exp(x) - 1", lambda m, x: m.exp(x) - 1, 1e-20),
    _c("exp(x) / (1 + exp(x))", lambda m, x: m.exp(x) / (1 + m.exp(x)), [1000.0, -1000.0, 0.5]),
    _c("1 / (1 + exp(-x))", lambda m, x: 1 / (1 + m.exp(-x)), [-700.0, 3.0]),
    _c("1 - sigmoid(x)", lambda m, x: 1 - m.sigmoid(x), [40.0, 1000.0, -3.0]),
    _c("log(sigmoid(x))", lambda m, x: m.log(m.sigmoid(x)), [-1000.0, 40.0]),
    _c("log(1 + exp(x))", lambda m, x: m.log(1 + m.exp(x)), [1000.0, -40.0]),
    _c("log1p(exp(x))", lambda m, x: m.log1p(m.exp(x)), [1000.0]),
    _c("log(1 - exp(x))", lambda m, x: m.log(1 - m.exp(x)), [-1e-20, -1000.0]),
    _c("log1p(-exp(x))", lambda m, x: m.log1p(-m.exp(x)), [-1e-20]),
    _c("log(exp(a) - exp(b))", lambda m, a, b: m.log(m.exp(a) - m.exp(b)), 1000.0, 999.0),
    _c("log(exp(a) + exp(b))", lambda m, a, b: m.log(m.exp(a) + m.exp(b)), 1000.0, 1000.0),
    _c("log(exp(a) + exp(b) + exp(c))", lambda m, a, b, c: m.log(m.exp(a) + m.exp(b) + m.exp(c)),
       -1000.0, -1001.0, -1002.0),
    _c("log(sum(exp(x)))", lambda m, x: m.log(m.sum(m.exp(x))), [1000.0, 1000.0, 999.0]),
    _c("log(mean(exp(x)))", lambda m, x: m.log(m.mean(m.exp(x))), [-1000.0, -1001.0]),
    _c("exp(x) / sum(exp(x))", lambda m, x: m.exp(x) / m.sum(m.exp(x)), [1000.0, 999.0, -1000.0]),
    _c("log(exp(x) / sum(exp(x)))", lambda m, x: m.log(m.exp(x) / m.sum(m.exp(x))), [1000.0, 0.0]),
    _c("1 - erf(x)", lambda m, x: 1 - m.erf(x), [10.0, 25.0]),
    _c("1 + erf(x)", lambda m, x: 1 + m.erf(x), [-10.0]),
    _c("log(erfc(x))", lambda m, x: m.log(m.erfc(x)), [30.0, 1000.0, -5.0, 0.1]),
    _c("log(1 - erf(x))", lambda m, x: m.log(1 - m.erf(x)), [30.0]),
    _c("1 - erfc(x)", lambda m, x: 1 - m.erfc(x), [1e-20]),
    _c("log(prod(x))", lambda m, x: m.log(m.prod(x)), [1e200, 1e200, 1e-100, 1e300]),
    _c("log(cosh(x))", lambda m, x: m.log(m.cosh(x)), [1000.0, -800.0]),
    _c("log(sinh(x))", lambda m, x: m.log(m.sinh(x)), [1000.0]),
    _c("(exp(x) - exp(-x)) / 2", lambda m, x: (m.exp(x) - m.exp(-x)) / 2, [1e-13, 710.0]),
    _c("(exp(x) + exp(-x)) / 2", lambda m, x: (m.exp(x) + m.exp(-x)) / 2, [710.0]),
    _c("(exp(2x) - 1) / (exp(2x) + 1)", lambda m, x: (m.exp(2 * x) - 1) / (m.exp(2 * x) + 1), [1000.0, 1e-20]),
    _c("(e^x - e^-x) / (e^x + e^-x)", lambda m, x: (m.exp(x) - m.exp(-x)) / (m.exp(x) + m.exp(-x)), [800.0]),
    _c("log(x + sqrt(x**2 + 1))", lambda m, x: m.log(x + m.sqrt(x**2 + 1)), [-1e10, 1e200, 1e-20]),
    _c("log(x + sqrt(x**2 - 1))", lambda m, x: m.log(x + m.sqrt(x**2 - 1)), [1e200]),
    _c("0.5 * log((1 + x) / (1 - x))", lambda m, x: 0.5 * m.log((1 + x) / (1 - x)), [1e-17]),
    _c("1 - cos(x)", lambda m, x: 1 - m.cos(x), [1e-10]),
    _c("sqrt(x**2 + y**2)", lambda m, x, y: m.sqrt(x**2 + y**2), [1e200, 1e-200], [1e200, 1e-200]),
    _c("sqrt(sum(x**2))", lambda m, x: m.sqrt(m.sum(x**2)), [1e200, 1e200, -1e200]),
    _c("sqrt(sum(x**2)) tiny", lambda m, x: m.sqrt(m.sum(x**2)), [1e-200, 3e-200]),
    _c("mean(x**2) - mean(x)**2", lambda m, x: m.mean(x**2) - m.mean(x)**2, [1e9 + 1, 1e9 + 2, 1e9 + 3]),
    _c("sqrt(1 + x) - 1", lambda m, x: m.sqrt(1 + x) - 1, [1e-20]),
    _c("sqrt(x + 1) - sqrt(x)", lambda m, x: m.sqrt(x + 1) - m.sqrt(x), [1e20]),
    _c("log(1 - sigmoid(x))", lambda m, x: m.log(1 - m.sigmoid(x)), [1000.0]),
    _c("sigmoid(x) * (1 - sigmoid(x))", lambda m, x: m.sigmoid(x) * (1 - m.sigmoid(x)), [40.0]),
    _c("log(1 + exp(x)) - x", lambda m, x: m.log(1 + m.exp(x)) - x, [40.0, 1000.0]),
    _c("exp(x) / (exp(x) + exp(y))", lambda m, x, y: m.exp(x) / (m.exp(x) + m.exp(y)), 1000.0, 999.0),
    _c("log(exp(x) - 1)", lambda m, x: m.log(m.exp(x) - 1), [1000.0, 1e-300]),
    _c("log(1 - x)", lambda m, x: m.log(1 - x), [1e-20]),
    _c("log(exp(-a) / exp(-b))", lambda m, a, b: m.log(m.exp(-a) / m.exp(-b)), 800.0, 801.0),
    _c("log(x**2 * y**2)", lambda m, x, y: m.log(x**2 * y**2), 1e200, 1e100),
    _c("log(x**2)", lambda m, x: m.log(x**2), [1e-200, -1e200]),
    _c("log(x**2 + y**2)", lambda m, x, y: m.log(x**2 + y**2), 1e200, 1e-200),
    _c("exp(x) * exp(y)", lambda m, x, y: m.exp(x) * m.exp(y), 800.0, -800.0),
    _c("sqrt(exp(x))", lambda m, x: m.sqrt(m.exp(x)), [1000.0]),
    _c("sqrt(x**2)", lambda m, x: m.sqrt(x**2), [1e200, -1e-200]),
    _c("log(sigmoid(x) / (1 - sigmoid(x)))", lambda m, x: m.log(m.sigmoid(x) / (1 - m.sigmoid(x))), [800.0]),
    _c("cos(x) - 1", lambda m, x: m.cos(x) - 1, [1e-10]),
    _c("log(0.5 * (1 + erf(x / sqrt(2))))", lambda m, x: m.log(0.5 * (1 + m.erf(x / SQRT2))), [-40.0, 3.0]),
    _c("log(erfc(x) / 2)", lambda m, x: m.log(m.erfc(x) / 2), [30.0]),
    _c("exp(x) / (1 + exp(x))**2", lambda m, x: m.exp(x) / (1 + m.exp(x)) ** 2, [400.0, -400.0]),
    _c("1 - tanh(x)", lambda m, x: 1 - m.tanh(x), [20.0]),
    _c("1 - tanh(x)**2", lambda m, x: 1 - m.tanh(x) ** 2, [20.0, 1e-8]),
]

# Held-out-like families (issue 14, item 6): several variants each, values and gradients.
# (a) a function meeting the leading terms of its own Taylor series near 0 (catastrophic cancellation);
# (b) one entry (or a slice) of a log-softmax or softmax written by hand, at inputs 1000 apart.
_TINY = [1e-20, 1e-9, -3e-6]
_APART = [1000.0, 0.0, -1000.0]
_APART_2D = [[1000.0, 0.0, -1000.0], [5.0, 1005.0, -995.0]]
TAYLOR_CASES: list[Case] = [
    _c("log1p(x) - x", lambda m, x: m.log1p(x) - x, _TINY + [0.03, 0.7]),
    _c("x - log1p(x)", lambda m, x: x - m.log1p(x), [1e-10, -1e-12, 2.0]),
    _c("log(1 + x) - x", lambda m, x: m.log(1 + x) - x, [1e-12, -2e-8]),
    _c("log1p(-x) + x", lambda m, x: m.log1p(-x) + x, [1e-12, 0.05]),
    _c("log1p(2 * x) - 2 * x", lambda m, x: m.log1p(2 * x) - 2 * x, [1e-12, -1e-3]),
    _c("exp(x) - 1 - x", lambda m, x: m.exp(x) - 1 - x, _TINY + [3.0]),
    _c("exp(x) - (1 + x)", lambda m, x: m.exp(x) - (1 + x), [1e-10, -0.2]),
    _c("expm1(x) - x", lambda m, x: m.expm1(x) - x, [1e-15, 0.2, -40.0]),
    _c("sin(x) - x", lambda m, x: m.sin(x) - x, [1e-9, -1e-6, 2.0]),
    _c("x - sin(x)", lambda m, x: x - m.sin(x), [3e-7]),
    _c("tan(x) - x", lambda m, x: m.tan(x) - x, [1e-8, 0.1]),
    _c("x - tanh(x)", lambda m, x: x - m.tanh(x), [1e-8, -0.05, 30.0]),
    _c("sinh(x) - x", lambda m, x: m.sinh(x) - x, [1e-7]),
    _c("arctan(x) - x", lambda m, x: m.arctan(x) - x, [1e-8, 0.01]),
    _c("arcsinh(x) - x", lambda m, x: m.arcsinh(x) - x, [2e-8]),
    _c("log1p(x) - x + x**2 / 2", lambda m, x: m.log1p(x) - x + x**2 / 2, [1e-7, -1e-4]),
    _c("exp(x) - 1 - x - x**2 / 2", lambda m, x: m.exp(x) - 1 - x - x**2 / 2, [1e-6]),
    _c("cos(x) - 1 + x**2 / 2", lambda m, x: m.cos(x) - 1 + x**2 / 2, [1e-5, 0.1]),
    _c("cosh(x) - 1", lambda m, x: m.cosh(x) - 1, [1e-10, 3.0]),
    _c("sin(x)**2 - x**2", lambda m, x: m.sin(x) ** 2 - x**2, [1e-6]),
    _c("expm1(x) / x - 1", lambda m, x: m.expm1(x) / x - 1, [1e-12, -1e-3]),
    _c("log1p(x) / x - 1", lambda m, x: m.log1p(x) / x - 1, [1e-12]),
    _c("x / expm1(x) - 1", lambda m, x: x / m.expm1(x) - 1, [1e-17, 0.3]),
    _c("1 - x / sin(x)", lambda m, x: 1 - x / m.sin(x), [1e-9]),
    _c("1 / cos(x) - 1", lambda m, x: 1 / m.cos(x) - 1, [1e-9, -0.4]),
    _c("log1p(exp(x)) - exp(x)", lambda m, x: m.log1p(m.exp(x)) - m.exp(x), [-50.0, -30.0]),
    _c("log1p(x * y) - x * y", lambda m, x, y: m.log1p(x * y) - x * y, [1e-6, 3e-8], [1e-7, -2e-9]),
    _c("sum(log1p(m) - m, axis=1)", lambda m, v: m.sum(m.log1p(v) - v, axis=1), [[1e-20, 2e-20], [-1e-12, 3e-9]]),
    _c("y + (log1p(x) - x)", lambda m, x, y: y + (m.log1p(x) - x), [1e-20], [1e-41]),
]
SOFTMAX_ENTRY_CASES: list[Case] = [
    _c("log(exp(x) / sum(exp(x)))[1]", lambda m, x: m.log(m.exp(x) / m.sum(m.exp(x)))[1], _APART),
    _c("log(exp(x) / sum(exp(x)))[0]", lambda m, x: m.log(m.exp(x) / m.sum(m.exp(x)))[0], _APART),
    _c("-log(exp(x) / sum(exp(x)))[2]", lambda m, x: -m.log(m.exp(x) / m.sum(m.exp(x)))[2], _APART),
    _c("log(exp(x) / sum(exp(x)))[1:]", lambda m, x: m.log(m.exp(x) / m.sum(m.exp(x)))[1:], _APART),
    _c("log(exp(x)[2] / sum(exp(x)))", lambda m, x: m.log(m.exp(x)[2] / m.sum(m.exp(x))), _APART),
    _c("(exp(x) / sum(exp(x)))[0]", lambda m, x: (m.exp(x) / m.sum(m.exp(x)))[0], _APART),
    _c("exp(x[0]) / sum(exp(x))", lambda m, x: m.exp(x[0]) / m.sum(m.exp(x)), _APART),
    _c("log(softmax(x))[1]", lambda m, x: m.log(m.softmax(x))[1], _APART),
    _c("log(softmax(x)[2])", lambda m, x: m.log(m.softmax(x)[2]), _APART),
    _c("log(1 / sum(exp(x - x[1])))", lambda m, x: m.log(1 / m.sum(m.exp(x - x[1]))), _APART),
    _c("log(exp(m) / sum(exp(m), 1, keepdims))[0, 1]",
       lambda m, v: m.log(m.exp(v) / m.sum(m.exp(v), axis=1, keepdims=True))[0, 1], _APART_2D),
    _c("log(exp(m) / sum(exp(m), 1, keepdims))[:, 2]",
       lambda m, v: m.log(m.exp(v) / m.sum(m.exp(v), axis=1, keepdims=True))[:, 2], _APART_2D),
    _c("log(exp(m) / sum(exp(m), 0, keepdims))[1]",
       lambda m, v: m.log(m.exp(v) / m.sum(m.exp(v), axis=0, keepdims=True))[1], _APART_2D),
    _c("log(exp(m) / sum(exp(m)))[1, 1]", lambda m, v: m.log(m.exp(v) / m.sum(m.exp(v)))[1, 1], _APART_2D),
]
FAMILY_CASES: list[Case] = TAYLOR_CASES + SOFTMAX_ENTRY_CASES
# fmt: on


def reference(case: Case) -> np.ndarray:
    """The case's value at its inputs, from mpmath at 60 digits, as float64."""
    with mpmath.workdps(DPS):
        args = [np.vectorize(mpmath.mpf, otypes=[object])(a) for a in case.arrays()]
        out = case.build(MP, *args)
        return np.vectorize(float, otypes=["float64"])(np.asarray(out, dtype=object))


def run_graphwright(case: Case, rewrites="fast_run") -> np.ndarray:
    """The case compiled with graphwright (all rewrite phases by default)."""
    arrays = case.arrays()
    vs = [gw.tensor(f"v{i}", shape=(None,) * a.ndim) for i, a in enumerate(arrays)]
    fn = gw.function(vs, case.build(gw, *vs), rewrites=rewrites)
    with np.errstate(all="ignore"):
        return np.asarray(fn(*arrays), dtype="float64")


def run_pytensor(case: Case) -> np.ndarray:
    """The case compiled with PyTensor's default mode."""
    import pytensor
    import pytensor.tensor as pt

    arrays = case.arrays()
    vs = [pt.tensor(f"v{i}", dtype="float64", shape=(None,) * a.ndim) for i, a in enumerate(arrays)]
    fn = pytensor.function(vs, case.build(pt, *vs))
    with np.errstate(all="ignore"):
        return np.asarray(fn(*arrays), dtype="float64")


def agrees(got: np.ndarray, ref: np.ndarray) -> bool:
    """Elementwise agreement to RTOL (infinities must match exactly)."""
    got, ref = np.broadcast_arrays(np.asarray(got, dtype="float64"), ref)
    return bool(np.all(np.isclose(got, ref, rtol=RTOL, atol=0.0) | (got == ref)))


# --- gradients of the same formulas ------------------------------------------------------------------------
def gradient_reference(case: Case) -> list[np.ndarray]:
    """d sum(f) / d input, element by element, by mpmath's numerical differentiation at :data:`DPS` digits
    (NaN where the derivative does not fit a float64)."""
    grads = []
    with mpmath.workdps(DPS):
        args = [np.vectorize(mpmath.mpf, otypes=[object])(np.atleast_1d(a)) for a in case.arrays()]
        for k, arg in enumerate(args):
            out = np.empty(arg.shape, dtype="float64")
            for i in np.ndindex(arg.shape):
                def cost(t, k=k, i=i):
                    moved = [a.copy() for a in args]
                    moved[k][i] = t
                    moved = [m if np.ndim(case.arrays()[j]) else m[0] for j, m in enumerate(moved)]
                    return mpmath.fsum(np.ravel(np.asarray(case.build(MP, *moved), dtype=object)))
                try:
                    value = float(mpmath.diff(cost, arg[i]))
                except (OverflowError, ValueError, ZeroDivisionError):
                    value = float("nan")
                out[i] = value
            grads.append(out.reshape(np.shape(case.arrays()[k])))
    return grads


def run_graphwright_grad(case: Case) -> list[np.ndarray]:
    """``gw.grad`` of ``sum(f)`` compiled with the full pipeline."""
    arrays = case.arrays()
    vs = [gw.tensor(f"v{i}", shape=(None,) * a.ndim) for i, a in enumerate(arrays)]
    grads = gw.grad(gw.sum(case.build(gw, *vs)), vs)
    with np.errstate(all="ignore"):
        return [np.asarray(g, dtype="float64") for g in gw.function(vs, grads)(*arrays)]


def run_pytensor_grad(case: Case) -> list[np.ndarray]:
    """``pytensor.grad`` of ``sum(f)`` compiled with PyTensor's default mode."""
    import pytensor
    import pytensor.tensor as pt

    arrays = case.arrays()
    vs = [pt.tensor(f"v{i}", dtype="float64", shape=(None,) * a.ndim) for i, a in enumerate(arrays)]
    grads = pytensor.grad(pt.sum(case.build(pt, *vs)), vs)
    with np.errstate(all="ignore"):
        return [np.asarray(g, dtype="float64") for g in pytensor.function(vs, grads)(*arrays)]


def gradients_agree(got: list[np.ndarray], ref: list[np.ndarray]) -> bool:
    """Agreement to RTOL where the reference is a finite float64 (where it is not, anything goes)."""
    for g, r in zip(got, ref, strict=True):
        g, r = np.broadcast_arrays(np.asarray(g, dtype="float64"), r)
        known = np.isfinite(r)
        if not np.all(np.isclose(g[known], r[known], rtol=RTOL, atol=0.0) | (g[known] == r[known])):
            return False
    return True
