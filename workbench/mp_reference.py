"""High-precision reference values: one graph node's op evaluated with mpmath on object arrays of ``mpf``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np

from graphwright.graph.basic import Apply
from graphwright.graph.destroy import plain_op
from graphwright.graph.inner import evaluate
from graphwright.tensor.composite import Composite
from graphwright.tensor.composite_reduce import CompositeReduce
from graphwright.tensor.creation import ARange, Eye
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.nn import LogSoftmax, Softmax
from graphwright.tensor.reduce_special import LogSumExp

__all__ = ["NoReference", "MP_FUNCTIONS", "EXACT_FUNCTIONS", "to_mp", "to_float", "evaluate_node", "mp_elemwise",
           "exact_elemwise"]

_NAN = mpmath.mpf("nan")
_HUGE = 1e100  # exp of a larger magnitude: no reference (NaN), as mpmath would work on enormous exponents


class NoReference(Exception):
    """The op of a node has no high-precision evaluation (the message says which op and why).

    Examples
    --------
    >>> str(NoReference("cholesky has no high-precision evaluation"))
    'cholesky has no high-precision evaluation'
    """


def _exp(v):
    return mpmath.exp(v) if mpmath.isnan(v) or abs(v) < _HUGE else _NAN


def _periodic(f: Callable) -> Callable:
    return lambda v: f(v) if mpmath.isfinite(v) and abs(v) < 1e50 else _NAN


def _div(a, b):
    return a / b if b != 0 else _NAN  # x / 0 has no real value to compare with (the sign of 0 is lost)


def _logaddexp(a, b):
    hi, lo = (a, b) if a >= b else (b, a)
    if mpmath.isinf(hi) or mpmath.isnan(hi) or mpmath.isnan(lo):
        return hi if not mpmath.isnan(lo) else _NAN
    return hi + mpmath.log1p(_exp(lo - hi))


def _gammaln(v):
    return mpmath.loggamma(v) if v > 0 else mpmath.log(abs(mpmath.gamma(v)))


def _extreme(pick: Callable) -> Callable:
    return lambda a, b: _NAN if mpmath.isnan(a) or mpmath.isnan(b) else pick(a, b)


def _fold(binary: Callable) -> Callable:
    def apply(*xs):
        out = xs[0]
        for x in xs[1:]:
            out = binary(out, x)
        return out

    return apply


def _clip(x, lo, hi):
    return _NAN if mpmath.isnan(x) else min(max(x, lo), hi)


# scalar-table name -> function of mpf arguments (the NumPy semantics, exactly); names missing here have none
MP_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "add": _fold(lambda a, b: a + b), "sub": lambda a, b: a - b, "mul": _fold(lambda a, b: a * b),
    "true_div": _div, "int_div": lambda a, b: mpmath.floor(_div(a, b)),
    "mod": lambda a, b: a - b * mpmath.floor(_div(a, b)), "pow": lambda a, b: a ** b,
    "neg": lambda v: -v, "abs": abs, "sign": mpmath.sign, "sqr": lambda v: v * v, "reciprocal": lambda v: _div(1, v),
    "exp": _exp, "exp2": lambda v: _exp(v * mpmath.ln2), "expm1": lambda v: mpmath.expm1(v) if abs(v) < _HUGE
    else _NAN, "log": mpmath.log, "log2": lambda v: mpmath.log(v, 2), "log10": mpmath.log10,
    "log1p": mpmath.log1p, "log1mexp": lambda v: mpmath.log(-mpmath.expm1(v)) if abs(v) < _HUGE else _NAN,
    "sqrt": mpmath.sqrt, "sin": _periodic(mpmath.sin), "cos": _periodic(mpmath.cos), "tan": _periodic(mpmath.tan),
    "arcsin": mpmath.asin, "arccos": mpmath.acos, "arctan": mpmath.atan, "arctan2": mpmath.atan2,
    "sinh": lambda v: (_exp(v) - _exp(-v)) / 2, "cosh": lambda v: (_exp(v) + _exp(-v)) / 2, "tanh": mpmath.tanh,
    "arcsinh": mpmath.asinh, "arccosh": mpmath.acosh, "arctanh": mpmath.atanh,
    "sigmoid": lambda v: 1 / (1 + _exp(-v)), "softplus": lambda v: mpmath.log1p(_exp(v)),
    "erf": mpmath.erf, "erfc": mpmath.erfc, "erfcx": lambda v: _exp(v * v) * mpmath.erfc(v), "erfinv": mpmath.erfinv,
    "gammaln": _gammaln, "digamma": mpmath.digamma, "hypot": mpmath.hypot, "logaddexp": _logaddexp,
    "logit": lambda v: mpmath.log(v / (1 - v)),
    "xlogy": lambda a, b: a * mpmath.log(b) if a != 0 or mpmath.isnan(b) else mpmath.mpf(0),
    "maximum": _extreme(max), "minimum": _extreme(min), "clip": _clip,
    "floor": mpmath.floor, "ceil": mpmath.ceil, "round": mpmath.nint,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b, "neq": lambda a, b: a != b, "isnan": mpmath.isnan, "isinf": mpmath.isinf,
}


# the scalar ops that mpmath can compute without rounding (the result may need more digits than the precision)
EXACT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "add": _fold(lambda a, b: mpmath.fadd(a, b, exact=True)), "sub": lambda a, b: mpmath.fsub(a, b, exact=True),
    "mul": _fold(lambda a, b: mpmath.fmul(a, b, exact=True)), "neg": lambda v: mpmath.fneg(v, exact=True),
}


def _real(f: Callable) -> Callable:
    """``f`` on mpf arguments with real semantics: a complex result or a math error is NaN (no reference)."""

    def g(*args):
        try:
            out = f(*args)
        except (ValueError, ZeroDivisionError, OverflowError):
            return _NAN
        return _NAN if isinstance(out, mpmath.mpc) else out

    return g


def _object_array(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.dtype == object:
        return x
    out = np.empty(np.shape(x), dtype=object)
    out[...] = x
    return out


def to_mp(value: Any) -> np.ndarray:
    """An exact object array of ``mpf`` for a float array (every float converts exactly); other dtypes unchanged.

    Examples
    --------
    >>> to_mp(np.array([0.1]))[0] == mpmath.mpf(0.1)
    True
    """
    value = np.asarray(value)
    if value.dtype.kind != "f":
        return value
    with np.errstate(all="ignore"):
        return _object_array(np.frompyfunc(mpmath.mpf, 1, 1)(value))


def to_float(value: Any) -> np.ndarray:
    """``value`` (an object array of ``mpf`` or a plain array) as float64, rounded once; beyond range gives inf.

    Examples
    --------
    >>> float(to_float(to_mp(np.array(1.5)) * 2))
    3.0
    """
    value = np.asarray(value)
    if value.dtype == object:
        with np.errstate(all="ignore"):
            return np.asarray(np.frompyfunc(float, 1, 1)(value), dtype="float64").reshape(value.shape)
    return value.astype("float64")


def _as_mpf(v: Any) -> mpmath.mpf:
    if isinstance(v, mpmath.mpf):
        return v
    if isinstance(v, bool | int | np.integer | np.bool_):
        return mpmath.mpf(int(v))
    if isinstance(v, float | np.floating):
        return mpmath.mpf(v)
    raise NoReference(f"a value of type {type(v).__name__} where a high-precision number was expected")


def _to_dtype(result: Any, dtype: str, what: str) -> np.ndarray:
    """``result`` as the mp value of a variable of ``dtype``: object mpf for floats, an exact array otherwise.
    Float numbers that did not come from mpmath are refused (they would be a float value posing as exact)."""
    arr = np.asarray(result) if not isinstance(result, mpmath.mpf) else _object_array(result)
    if np.dtype(dtype).kind == "f":
        if arr.dtype != object or not all(isinstance(v, mpmath.mpf | int | bool) for v in arr.flat):
            raise NoReference(f"{what} computes its float result in float{arr.dtype.itemsize * 8}")
        return _object_array(np.frompyfunc(_as_mpf, 1, 1)(arr)) if arr.size else arr
    if arr.dtype == object:
        if not all(isinstance(v, bool | int | np.integer | np.bool_) for v in arr.flat):
            raise NoReference(f"{what} gave non-integer values for its {dtype} output")
        return arr.astype(dtype)
    return arr.astype(dtype, copy=False)


def mp_elemwise(name: str, inputs: Sequence[Any], out_dtype: str) -> np.ndarray:
    """Scalar-table op ``name`` applied elementwise (with broadcasting) to mp values, giving an mp value.

    Examples
    --------
    >>> with mpmath.workdps(30):
    ...     out = mp_elemwise("log1p", [to_mp(np.array([1e-20]))], "float64")
    >>> float(out[0])
    1e-20
    """
    if name.startswith("cast_"):
        arr = np.asarray(inputs[0])
        if arr.dtype != object:
            return to_mp(arr.astype(out_dtype)) if np.dtype(out_dtype).kind == "f" else arr.astype(out_dtype)
        if np.dtype(out_dtype).kind == "f":
            return arr  # the exact value; the float result's rounding is what the error measures
        trunc = np.frompyfunc(lambda v: _NAN if not mpmath.isfinite(v) else int(v), 1, 1)(arr)
        return _to_dtype(trunc, out_dtype, name)
    if name == "switch":
        cond = np.asarray(inputs[0]).astype(bool) if np.asarray(inputs[0]).dtype != object else \
            np.frompyfunc(bool, 1, 1)(inputs[0]).astype(bool)
        branches = [to_mp(b) if np.dtype(out_dtype).kind == "f" else b for b in inputs[1:]]
        return _to_dtype(np.where(cond, *branches), out_dtype, name)
    fn = MP_FUNCTIONS.get(name)
    if fn is None:
        raise NoReference(f"the elementwise op {name} has no mpmath form")
    args = [_object_array(np.frompyfunc(_as_mpf, 1, 1)(np.asarray(a))) if np.asarray(a).size else
            np.asarray(a, dtype=object) for a in inputs]
    out = np.frompyfunc(_real(fn), len(args), 1)(*args)
    return _to_dtype(_object_array(out), out_dtype, name)


def exact_elemwise(name: str, inputs: Sequence[Any]) -> np.ndarray:
    """Scalar op ``name`` (a key of :data:`EXACT_FUNCTIONS`) of exact mp values, computed without rounding.

    Examples
    --------
    >>> with mpmath.workdps(15):
    ...     rounded = mp_elemwise("add", [to_mp(np.array([1.0])), to_mp(np.array([1e-300]))], "float64")
    ...     exact = exact_elemwise("add", [to_mp(np.array([1.0])), to_mp(np.array([1e-300]))])
    >>> bool(rounded[0] == 1), bool(exact[0] == 1), float(exact[0] - 1)
    (True, False, 1e-300)
    """
    args = [_object_array(np.frompyfunc(_as_mpf, 1, 1)(np.asarray(a))) for a in inputs]
    return _object_array(np.frompyfunc(EXACT_FUNCTIONS[name], len(args), 1)(*args))


def _composite(op: Composite, inputs: Sequence[Any]) -> list[np.ndarray]:
    (graph,) = op.inner_graphs()
    found = evaluate(graph, inputs, evaluate_node, lambda c: to_mp(c.data))
    shape = np.broadcast_shapes(*(np.shape(x) for x in inputs)) if inputs else ()
    return [_object_array(np.broadcast_to(v, shape)) if np.asarray(v).dtype == object
            else np.broadcast_to(v, shape).copy() for v in found]


def _exp_array(x: np.ndarray) -> np.ndarray:
    return _object_array(np.frompyfunc(_real(_exp), 1, 1)(x))


def _log_array(x: np.ndarray) -> np.ndarray:
    return _object_array(np.frompyfunc(_real(mpmath.log), 1, 1)(x))


def _softmax_like(op: Softmax, x: np.ndarray) -> np.ndarray:
    """softmax / log-softmax of exact values: no shift is needed at high precision (``exp`` never overflows)."""
    x = _object_array(np.frompyfunc(_as_mpf, 1, 1)(np.asarray(x)))
    axis = op.axis
    total = np.sum(_exp_array(x), axis=axis, keepdims=True, dtype=object)
    if op.log:
        return _object_array(x - _log_array(_object_array(total)))
    return _object_array(_exp_array(x) / total)


def _special(op: Any, args: list) -> list[np.ndarray] | None:
    """The mp value of ops whose ``perform`` cannot run on object arrays, or None for the generic path."""
    if isinstance(op, Composite):
        return _composite(op, args)
    if isinstance(op, CompositeReduce):
        (inner,) = _composite(op.composite, args)
        return [op.reduce_op.perform(inner)]
    if isinstance(op, LogSumExp):
        x = _object_array(np.frompyfunc(_as_mpf, 1, 1)(np.asarray(args[0])))
        total = np.sum(_exp_array(x), axis=op.axis, keepdims=op.keepdims, dtype=object)
        return [_log_array(_object_array(total))]
    if isinstance(op, Softmax | LogSoftmax):
        return [_softmax_like(op, args[0])]
    return None


def evaluate_node(node: Apply, args: Sequence[Any]) -> list[np.ndarray]:
    """The mp values of ``node``'s outputs from the mp values ``args`` of its inputs (float variables: object
    arrays of ``mpf``; integer and boolean ones: ordinary exact arrays). Run it inside ``mpmath.workdps``.

    Raises NoReference when the op has no high-precision evaluation (never a float value posing as exact).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> node = gw.exp(x).owner
    >>> with mpmath.workdps(30):
    ...     (out,) = evaluate_node(node, [to_mp(np.array([800.0]))])
    >>> mpmath.nstr(out[0], 5)
    '2.7264e+347'
    """
    op = plain_op(node)
    label = op.short_name()
    out_dtypes = [v.type.dtype for v in node.outputs]
    if not any(np.asarray(a).dtype == object for a in args) and not any(np.dtype(d).kind == "f" for d in out_dtypes):
        results = op.perform(*args)  # integers and booleans only: the NumPy computation is exact
        return list(results) if len(node.outputs) > 1 else [np.asarray(results)]
    try:
        if isinstance(op, Elemwise):
            return [mp_elemwise(op.scalar_op.name, args, out_dtypes[0])]
        results = _special(op, list(args))
        if results is None:
            exact_ints = not any(np.asarray(a).dtype.kind in "fO" for a in args)
            results = op.perform(*args)
            results = list(results) if len(node.outputs) > 1 else [results]
            if exact_ints and isinstance(op, ARange | Eye):  # built from integers only: exact
                results = [to_mp(r) for r in results]
    except NoReference as exc:
        raise NoReference(f"{label}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - perform refuses object arrays: no reference, never a guess
        raise NoReference(f"{label} has no high-precision evaluation ({type(exc).__name__})") from None
    try:
        return [_to_dtype(r, d, label) for r, d in zip(results, out_dtypes, strict=True)]
    except NoReference as exc:
        raise NoReference(f"{label} has no high-precision evaluation ({exc})") from None
