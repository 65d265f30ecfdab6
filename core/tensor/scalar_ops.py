"""The scalar op table: one row per elementwise operation, read by Elemwise and by every backend."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.special as sps

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
    commutative: bool = False
    associative: bool = False
    extra: dict = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScalarOp) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"ScalarOp({self.name})"

    @functools.cache  # noqa: B019 - rows live for the whole process
    def output_dtype(self, *dtypes: str) -> str:
        """The output dtype for these input dtypes, or raise TypeError naming the op and dtypes."""
        rule = self.dtype_rule
        has_int = any(np.dtype(d).kind in "biu" for d in dtypes)
        has_float = any(np.dtype(d).kind == "f" for d in dtypes)
        if (has_int and not self.int_ok) or (has_float and not self.float_ok):
            raise TypeError(f"{self.name} does not accept inputs of dtype {', '.join(dtypes)}")
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


_POS = ((0.0, np.inf),)
_ANY = ((-np.inf, np.inf),)
_ANY2 = _ANY * 2
_UNIT = ((-1.0, 1.0),)


def _rows() -> list[ScalarOp]:
    R = ScalarOp
    rows = [
        R("add", -1, _variadic(np.add), "numpy", np.add, _ANY2, "+", commutative=True, associative=True),
        R("sub", 2, np.subtract, "numpy", np.subtract, _ANY2, "-"),
        R("mul", -1, _variadic(np.multiply), "numpy", np.multiply, _ANY2, "*", commutative=True,
          associative=True),
        R("true_div", 2, np.true_divide, "numpy", np.true_divide, ((-np.inf, np.inf), (0.5, 4.0)), "/"),
        R("int_div", 2, np.floor_divide, "numpy", np.floor_divide, ((-np.inf, np.inf), (0.5, 4.0)), "//"),
        R("mod", 2, np.mod, "numpy", np.mod, ((-np.inf, np.inf), (0.5, 4.0)), "%"),
        R("pow", 2, np.power, "numpy", np.power, ((0.1, 3.0), (-2.0, 2.0)), "**"),
        R("neg", 1, np.negative, "numpy", np.negative, _ANY),
        R("abs", 1, np.abs, "numpy", np.abs, _ANY),
        R("sign", 1, np.sign, "numpy", np.sign, _ANY),
        R("exp", 1, np.exp, domain=((-20.0, 20.0),)),
        R("exp2", 1, np.exp2, domain=((-20.0, 20.0),)),
        R("expm1", 1, np.expm1, domain=((-20.0, 20.0),)),
        R("log", 1, np.log, domain=_POS),
        R("log2", 1, np.log2, domain=_POS),
        R("log10", 1, np.log10, domain=_POS),
        R("log1p", 1, np.log1p, domain=((-1.0, np.inf),)),
        R("log1mexp", 1, _log1mexp, domain=((-np.inf, 0.0),)),
        R("sqrt", 1, np.sqrt, domain=_POS),
        R("sqr", 1, np.square, "numpy", np.square, _ANY),
        R("reciprocal", 1, _reciprocal, domain=((0.5, 4.0),)),
        R("sin", 1, np.sin, domain=_ANY),
        R("cos", 1, np.cos, domain=_ANY),
        R("tan", 1, np.tan, domain=((-1.5, 1.5),)),
        R("arcsin", 1, np.arcsin, domain=_UNIT),
        R("arccos", 1, np.arccos, domain=_UNIT),
        R("arctan", 1, np.arctan, domain=_ANY),
        R("arctan2", 2, np.arctan2, domain=_ANY2),
        R("sinh", 1, np.sinh, domain=((-20.0, 20.0),)),
        R("cosh", 1, np.cosh, domain=((-20.0, 20.0),)),
        R("tanh", 1, np.tanh, domain=_ANY),
        R("arcsinh", 1, np.arcsinh, domain=_ANY),
        R("arccosh", 1, np.arccosh, domain=((1.0, np.inf),)),
        R("arctanh", 1, np.arctanh, domain=_UNIT),
        R("sigmoid", 1, _sigmoid, domain=_ANY),
        R("softplus", 1, _softplus, domain=_ANY),
        R("erf", 1, sps.erf, domain=_ANY),
        R("erfc", 1, sps.erfc, domain=_ANY),
        R("erfcx", 1, sps.erfcx, domain=_ANY),
        R("erfinv", 1, sps.erfinv, domain=_UNIT),
        R("gammaln", 1, sps.gammaln, domain=_POS),
        R("digamma", 1, sps.psi, domain=_POS),
        R("hypot", 2, np.hypot, domain=_ANY2, commutative=True),
        R("logaddexp", 2, np.logaddexp, domain=_ANY2, commutative=True),
        R("maximum", 2, np.maximum, "numpy", np.maximum, _ANY2, commutative=True, associative=True),
        R("minimum", 2, np.minimum, "numpy", np.minimum, _ANY2, commutative=True, associative=True),
        R("clip", 3, np.clip, "promote", None, ((-np.inf, np.inf), (-np.inf, -0.5), (0.5, np.inf))),
        R("floor", 1, np.floor, "numpy", np.floor, _ANY),
        R("ceil", 1, np.ceil, "numpy", np.ceil, _ANY),
        R("round", 1, _round_half_even, "numpy", None, _ANY),  # dtype as np.round: ints stay, bool -> float
        R("lt", 2, np.less, "bool", domain=_ANY2, infix="<"),
        R("le", 2, np.less_equal, "bool", domain=_ANY2, infix="<="),
        R("gt", 2, np.greater, "bool", domain=_ANY2, infix=">"),
        R("ge", 2, np.greater_equal, "bool", domain=_ANY2, infix=">="),
        R("eq", 2, np.equal, "bool", domain=_ANY2, infix="==", commutative=True),
        R("neq", 2, np.not_equal, "bool", domain=_ANY2, infix="!=", commutative=True),
        R("and", 2, np.bitwise_and, "numpy", np.bitwise_and, _ANY2, "&", float_ok=False, commutative=True,
          associative=True),
        R("or", 2, np.bitwise_or, "numpy", np.bitwise_or, _ANY2, "|", float_ok=False, commutative=True,
          associative=True),
        R("xor", 2, np.bitwise_xor, "numpy", np.bitwise_xor, _ANY2, "^", float_ok=False, commutative=True),
        R("not", 1, np.invert, "numpy", np.invert, _ANY, float_ok=False),
        R("isnan", 1, np.isnan, "bool", domain=_ANY),
        R("isinf", 1, np.isinf, "bool", domain=_ANY),
        R("switch", 3, np.where, "switch", None, ((0.0, 1.0), (-np.inf, np.inf), (-np.inf, np.inf))),
    ]
    rows += [ScalarOp(f"cast_{d}", 1, _cast(d), d, domain=_ANY) for d in DTYPES]
    return rows


SCALAR_OPS: dict[str, ScalarOp] = {row.name: row for row in _rows()}


def scalar_op(name: str) -> ScalarOp:
    """Look up a row of the table by name, with a clear error for an unknown name."""
    try:
        return SCALAR_OPS[name]
    except KeyError:
        raise KeyError(f"no elementwise op called {name!r}") from None
