"""One table-driven test of every op of the library against NumPy/SciPy.

Each case builds a graphwright expression from symbolic inputs, runs it with ``gw.function`` and compares it
with an independent NumPy/SciPy reference: the values (tolerance by dtype), the output dtype (NumPy's, with
float16 widened to float32 as graphwright does), the static output shape (compatible with the runtime one)
and that the inputs were not modified.

The elementwise rows are generated from ``SCALAR_OPS``: every row needs an entry in ``ELEMWISE_REFS`` (a
reference written here, not the table's own function), and inputs are drawn inside the row's ``domain``.
``test_every_op_and_row_is_exercised`` checks that every Op subclass of ``graphwright.tensor.*`` and every
row of the table appears in the graph of at least one case.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import math
import operator
import pkgutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.special as sps

import graphwright as gw
from graphwright.graph import Op, toposort
from graphwright.tensor.blockwise import Blockwise
from graphwright.tensor.composite import composite_of
from graphwright.tensor.composite_reduce import composite_reduce
from graphwright.tensor.elemwise import Elemwise, elemwise
from graphwright.tensor.scalar_ops import SCALAR_OPS
from graphwright.tensor.type import DTYPES

INF = math.inf
# ``gw.tensor`` is the input constructor, which hides the subpackage: reach the modules through importlib.
TENSOR_PACKAGE = importlib.import_module("graphwright.tensor")
INDEXING_MODULE = importlib.import_module("graphwright.tensor.indexing")
SHAPE_MODULE = importlib.import_module("graphwright.tensor.shape")

# ---------------------------------------------------------------------------------------------------------
# Case description
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class In:
    """One input: runtime shape, dtype, open value interval, and the declared static shape.

    ``static="auto"`` declares the runtime shape in the "static" mode and only the length-1 dimensions in
    the "dynamic" mode (every other length None); an explicit tuple is used in both modes.
    ``special``: "discrete" draws floats on a half-integer grid (ties, .5 for rounding, zeros for sign),
    "nonfinite" puts nan, inf and -inf into float inputs.
    """

    shape: tuple = ()
    dtype: str = "float64"
    domain: tuple = (-INF, INF)
    static: tuple | str = "auto"
    special: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable  # symbolic inputs -> variable or list of variables
    ref: Callable | None  # NumPy arrays -> array or list of arrays (the expected values)
    inputs: tuple = ()
    family: str = "misc"
    requires: tuple = ()  # public names that must exist (gw.<name>; "getitem": tensor.indexing.getitem)
    dynamic_requires: tuple = ()  # extra requirements of the "dynamic" mode
    dtype_ref: Callable | None = None  # NumPy function whose result dtype is expected (default: ref)
    expect_dtype: str | None = None  # explicit expected dtype (documented graphwright choices)
    upcast: bool = False  # compute float expected values from float64 copies of the inputs
    modes: tuple = ("static", "dynamic")
    rtol: float | None = None
    atol: float | None = None
    xfail: str | None = None  # known core problem (strict: the test fails once it is fixed)
    scalar_op: str | None = None  # the SCALAR_OPS row this case exercises (elementwise cases)
    refuse: str | None = None  # graphwright refuses to build it (where NumPy computes), with this message


def C(id: str, build: Callable, ref: Callable | None, *inputs: In, **kw) -> Case:
    """A case; the "dynamic" mode is only run when it declares some length as unknown."""
    if not any(spec.static == "auto" and any(n != 1 for n in spec.shape) for spec in inputs):
        kw.setdefault("modes", ("static",))
    return Case(id, build, ref, tuple(inputs), **kw)


_UNSUPPORTED_WIDEN = {"float16": "float32"}  # graphwright has no float16 (see tensor/type.py)

TOLERANCES = {"float64": (1e-9, 1e-12), "float32": (2e-5, 2e-6), "complex128": (1e-9, 1e-12),
              "complex64": (2e-5, 2e-6)}


def _available(name: str) -> bool:
    if name == "getitem":
        return hasattr(INDEXING_MODULE, "getitem")
    return hasattr(gw, name)


# ---------------------------------------------------------------------------------------------------------
# Drawing inputs inside a domain
# ---------------------------------------------------------------------------------------------------------


def _window(domain: tuple) -> tuple[float, float]:
    """A finite interval inside the open domain: infinite ends are replaced by +-5 around the other end."""
    lo, hi = domain
    lo_w = lo if math.isfinite(lo) else (min(-5.0, hi - 5.0) if math.isfinite(hi) else -5.0)
    hi_w = hi if math.isfinite(hi) else (max(5.0, lo + 5.0) if math.isfinite(lo) else 5.0)
    return lo_w, hi_w


def valid_values(domain: tuple, dtype: str) -> list | None:
    """The integers (or bools) strictly inside ``domain`` that ``dtype`` can hold; None for floats."""
    kind = np.dtype(dtype).kind
    lo, hi = domain
    if kind == "b":
        return [v for v in (False, True) if lo < v < hi]
    if kind in "iu":
        lo_w, hi_w = _window(domain)
        info = np.iinfo(dtype)
        first = max(math.floor(lo_w) + 1, info.min)
        last = min(math.ceil(hi_w) - 1, info.max)
        return list(range(first, last + 1))
    return None


def draw(spec: In, rng: np.random.Generator) -> np.ndarray:
    dtype = np.dtype(spec.dtype)
    if dtype.kind in "biu":
        values = valid_values(spec.domain, spec.dtype)
        assert values, f"no {spec.dtype} value inside {spec.domain}"
        return np.asarray(rng.choice(np.array(values), size=spec.shape), dtype=dtype)
    lo, hi = _window(spec.domain)
    if dtype.kind == "c":  # the domain bounds the real part; the imaginary part is small
        margin = 0.02 * (hi - lo)
        real = rng.uniform(lo + margin, hi - margin, size=spec.shape)
        return np.asarray(real + 1j * rng.uniform(-1.0, 1.0, size=spec.shape), dtype=dtype)
    if spec.special == "discrete":
        grid = np.arange(math.ceil(2 * lo), math.floor(2 * hi) + 1) / 2.0
        grid = grid[(grid > spec.domain[0]) & (grid < spec.domain[1])]
        out = np.asarray(rng.choice(grid, size=spec.shape), dtype=dtype)
    else:
        margin = 0.02 * (hi - lo)
        out = np.asarray(rng.uniform(lo + margin, hi - margin, size=spec.shape), dtype=dtype)
    if spec.special == "nonfinite" and out.size >= 3:
        out = out.copy()
        out.reshape(-1)[:3] = [np.nan, np.inf, -np.inf]
    return out


def declared_shape(spec: In, mode: str) -> tuple:
    if spec.static != "auto":
        return spec.static
    if mode == "static":
        return spec.shape
    return tuple(1 if n == 1 else None for n in spec.shape)


# ---------------------------------------------------------------------------------------------------------
# Elementwise rows: independent references, shapes and dtypes
# ---------------------------------------------------------------------------------------------------------


def _fold(binary: Callable) -> Callable:
    return lambda *xs: functools.reduce(binary, xs)


def _round_half_even(x):
    f = np.floor(x)
    d = x - f
    odd = np.mod(f, 2) != 0
    return np.where(d > 0.5, f + 1, np.where(d < 0.5, f, np.where(odd, f + 1, f)))


def _pow(x, y):
    if x.dtype.kind == "f":  # the domain keeps x > 0
        return np.exp(y * np.log(x))
    return x**y


def _cast_ref(dtype: str) -> Callable:
    return lambda x: x.astype(dtype)


@dataclass(frozen=True)
class Ref:
    values: Callable
    dtype: Callable | None = None  # NumPy function giving the expected dtype (default: ``values``)
    special: str | None = None  # input drawing (see In.special)


# Reference per row of SCALAR_OPS. ``dtype`` names the NumPy function whose result dtype graphwright follows
# when the value formula would give another one (e.g. a float op on ints: np.exp's rule).
ELEMWISE_REFS: dict[str, Ref] = {
    "add": Ref(_fold(operator.add)),
    "sub": Ref(operator.sub),
    "mul": Ref(_fold(operator.mul)),
    "true_div": Ref(operator.truediv),
    "int_div": Ref(lambda x, y: np.floor(x / y) if x.dtype.kind == "f" else x // y, np.floor_divide),
    "mod": Ref(lambda x, y: x - np.floor(x / y) * y if x.dtype.kind == "f" else x % y, np.mod),
    "pow": Ref(_pow, np.power),
    "neg": Ref(operator.neg),
    "abs": Ref(np.absolute, special="discrete"),
    "sign": Ref(lambda x: (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype), np.sign, "discrete"),
    "exp": Ref(np.exp),
    "exp2": Ref(lambda x: np.exp(x * np.log(2.0)), np.exp2),
    "expm1": Ref(np.expm1),
    "log": Ref(np.log),
    "log2": Ref(lambda x: np.log(x) / np.log(2.0), np.log2),
    "log10": Ref(lambda x: np.log(x) / np.log(10.0), np.log10),
    "log1p": Ref(np.log1p),
    "log1mexp": Ref(lambda x: np.log(-np.expm1(x)), np.exp),
    "sqrt": Ref(np.sqrt),
    "sqr": Ref(lambda x: x * x, np.square),
    "reciprocal": Ref(lambda x: 1.0 / x, np.exp),
    "sin": Ref(np.sin),
    "cos": Ref(np.cos),
    "tan": Ref(lambda x: np.sin(x) / np.cos(x), np.tan),
    "arcsin": Ref(np.arcsin),
    "arccos": Ref(np.arccos),
    "arctan": Ref(np.arctan),
    "arctan2": Ref(np.arctan2),
    "sinh": Ref(lambda x: (np.exp(x) - np.exp(-x)) / 2, np.sinh),
    "cosh": Ref(lambda x: (np.exp(x) + np.exp(-x)) / 2, np.cosh),
    "tanh": Ref(np.tanh),
    "arcsinh": Ref(lambda x: np.log(x + np.sqrt(x * x + 1)), np.arcsinh),
    "arccosh": Ref(lambda x: np.log(x + np.sqrt(x * x - 1)), np.arccosh),
    "arctanh": Ref(lambda x: 0.5 * np.log((1 + x) / (1 - x)), np.arctanh),
    "sigmoid": Ref(lambda x: 1.0 / (1.0 + np.exp(-x)), np.exp),
    "softplus": Ref(lambda x: np.log1p(np.exp(x)), np.exp),  # moderate inputs only (|x| <= 5)
    # SciPy's ufuncs give float64 for int8/bool inputs; graphwright's "float" rule is np.exp's (float32).
    "erf": Ref(sps.erf, np.exp),
    "erfc": Ref(sps.erfc, np.exp),
    "erfcx": Ref(lambda x: np.exp(x * x) * sps.erfc(x), np.exp),
    "erfinv": Ref(sps.erfinv, np.exp),
    "gammaln": Ref(lambda x: np.log(sps.gamma(x)), np.exp),
    "digamma": Ref(sps.digamma, np.exp),
    "logit": Ref(lambda x: np.log(x) - np.log1p(-x), np.exp),
    "hypot": Ref(lambda x, y: np.sqrt(x * x + y * y), np.hypot),
    "xlogy": Ref(lambda x, y: x * np.log(y), np.hypot),
    "logaddexp": Ref(lambda x, y: np.log(np.exp(x) + np.exp(y)), np.logaddexp),
    "maximum": Ref(lambda x, y: np.where(x >= y, x, y), np.maximum, "discrete"),
    "minimum": Ref(lambda x, y: np.where(x <= y, x, y), np.minimum, "discrete"),
    "clip": Ref(lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi), np.clip),
    "floor": Ref(np.floor, special="discrete"),
    "ceil": Ref(lambda x: -np.floor(-x) if x.dtype.kind == "f" else x.copy(), np.ceil, "discrete"),
    "round": Ref(_round_half_even, np.round, "discrete"),
    "lt": Ref(operator.lt, special="discrete"),
    "le": Ref(operator.le, special="discrete"),
    "gt": Ref(operator.gt, special="discrete"),
    "ge": Ref(operator.ge, special="discrete"),
    "eq": Ref(operator.eq, special="discrete"),
    "neq": Ref(operator.ne, special="discrete"),
    "and": Ref(operator.and_),
    "or": Ref(operator.or_),
    "xor": Ref(operator.xor),
    "not": Ref(operator.invert),
    "isnan": Ref(lambda x: x != x, np.isnan, "nonfinite"),
    "isinf": Ref(lambda x: np.abs(x) == np.inf, np.isinf, "nonfinite"),
    "switch": Ref(np.where),
    **{f"cast_{d}": Ref(_cast_ref(d)) for d in DTYPES},
}
# The rows that accept complex inputs (NumPy has complex loops for more: graphwright refuses those by name,
# ordering comparisons above all, and casts to real dtypes, which would drop the imaginary part).
COMPLEX_ROWS = frozenset({"add", "sub", "mul", "true_div", "neg", "abs", "exp", "log", "sqrt", "sqr", "eq", "neq",
                          "switch", "cast_complex64", "cast_complex128"})

# Integer domains that differ from the float ones: NumPy refuses negative integer powers of integers.
INT_DOMAINS = {"pow": ((0.5, 3.0), (-0.5, 2.5))}
# Negative floats cast to uint8 are undefined behaviour in C (and NumPy warns): keep them non-negative.
FLOAT_DOMAINS = {f"cast_{d}": ((-0.5, 5.0),) for d in ("uint8", "uint16", "uint32", "uint64")}

# Known dtype disagreements with NumPy: (row, input kinds) -> reason. Reported, strict xfail.
KNOWN_ELEMWISE: dict[tuple[str, str], str] = {}


# Known core bugs: predicate on the case -> (reason, strict). Remove an entry once the bug is fixed (a
# strict entry then fails with XPASS). Non-strict where some drawn values happen to pass anyway.
KNOWN_CORE_BUGS: list[tuple[Callable[[Case], bool], str, bool]] = []


def _shape_combos(nin: int) -> dict[str, list[tuple[tuple, tuple]]]:
    """Named shape combinations: per input (runtime shape, declared static shape)."""
    n = 2 if nin == -1 else nin

    def same(shape):
        return [(shape, shape)] * n

    combos = {
        "0d": same(()),
        "4": same((4,)),
        "3x4": same((3, 4)),
        "3x4dyn": [((3, 4), (None, None))] * n,
        "2x3x4": same((2, 3, 4)),
        "empty": [((0, 4), (None, 4)), ((1, 4), (1, 4)), ((4,), (4,))][:n],
    }
    if n == 1:
        combos["3x1"] = [((3, 1), (3, 1))]
        combos["bcast_dyn"] = [((3, 1), (None, 1))]
    else:
        combos["bcast"] = [((3, 1), (3, 1)), ((1, 4), (1, 4)), ((4,), (4,))][:n]
        combos["bcast_dyn"] = [((3, 1), (None, 1)), ((1, 4), (1, None)), ((), ())][:n]
        combos["rank"] = [((), ()), ((2, 3, 4), (2, 3, None)), ((3, 1), (3, 1))][:n]
        combos["rank2"] = [((2, 3, 4), (None, None, 4)), ((4,), (4,)), ((1, 1, 4), (1, 1, 4))][:n]
    if nin == -1:
        combos["3in"] = [((3, 1), (3, 1)), ((1, 4), (1, 4)), ((), ())]
    return combos


# Shape combos on which every dtype combination runs (float64 runs on all of them); the wide unsigned and
# complex dtypes run on the broadcasting combos only (CI time).
_DTYPE_SHAPES = ("0d", "bcast", "3x1")
_WIDE_DTYPE_SHAPES = ("bcast", "3x1")
_WIDE_DTYPES = {"u16": "uint16", "u32": "uint32", "u64": "uint64", "c64": "complex64", "c128": "complex128"}


def _dtype_combos(n: int, shape_name: str = "0d") -> dict[str, list[str]]:
    names = {"f64": "float64", "f32": "float32", "i64": "int64", "i32": "int32", "i8": "int8", "u8": "uint8",
             "bool": "bool"}
    if shape_name in _WIDE_DTYPE_SHAPES:
        names.update(_WIDE_DTYPES)
    combos = {name: [d] * n for name, d in names.items()}
    if n >= 2:
        combos["f32+i8"] = (["float32", "int8"] * 2)[:n]
        combos["i64+f32"] = (["int64", "float32"] * 2)[:n]
        combos["i8+i64"] = (["int8", "int64"] * 2)[:n]
        if shape_name in _WIDE_DTYPE_SHAPES:  # NumPy 2: uint64 with int64 gives float64, complex64 with f64 c128
            combos["u64+i64"] = (["uint64", "int64"] * 2)[:n]
            combos["u32+i8"] = (["uint32", "int8"] * 2)[:n]
            combos["c64+f64"] = (["complex64", "float64"] * 2)[:n]
    return combos


def _public(name: str) -> Callable:
    """The public gw function of a row (casts through gw.cast), else the generic ``elemwise``."""
    if name.startswith("cast_"):
        return lambda x: gw.cast(x, name[5:])
    public = {"and": "and_", "or": "or_", "not": "invert"}.get(name, name)
    fn = getattr(gw, public, None)
    return fn if fn is not None else functools.partial(elemwise, name)


_OPERATORS = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "true_div": operator.truediv,
    "int_div": operator.floordiv, "mod": operator.mod, "pow": operator.pow, "neg": operator.neg,
    "abs": operator.abs, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
    "and": operator.and_, "or": operator.or_, "xor": operator.xor, "not": operator.invert,
}


def _elemwise_cases() -> list[Case]:
    cases = []
    for name, row in SCALAR_OPS.items():
        ref = ELEMWISE_REFS.get(name)
        for shape_name, shapes in _shape_combos(row.nin).items():
            dtype_combos = _dtype_combos(len(shapes), shape_name)
            base = "f64" if row.float_ok else "i64"  # bitwise rows: the shape grid runs on integers
            names = list(dtype_combos) if shape_name in _DTYPE_SHAPES else [base]
            for dname in names:
                dtypes = list(dtype_combos[dname])
                if name == "switch":
                    dtypes[0] = "bool"
                kinds = {np.dtype(d).kind for d in dtypes}
                domains = tuple(row.domain[min(i, len(row.domain) - 1)] for i in range(len(shapes)))
                if name in INT_DOMAINS and kinds <= set("biu"):
                    domains = INT_DOMAINS[name]
                if name in FLOAT_DOMAINS and "f" in kinds:
                    domains = FLOAT_DOMAINS[name]
                specs = tuple(In(rt, dt, dom, st, ref.special if ref else None)
                              for (rt, st), dt, dom in zip(shapes, dtypes, domains, strict=True))
                if any(valid_values(s.domain, s.dtype) == [] for s in specs):
                    continue  # no value of this dtype lies inside the domain (e.g. bool for log1mexp)
                xfail = None
                for (row_name, kind_set), reason in KNOWN_ELEMWISE.items():
                    if row_name == name and kinds & set(kind_set) and "f" not in kinds:
                        xfail = reason
                refused = "c" in kinds and name not in COMPLEX_ROWS
                common = dict(family="elemwise", dtype_ref=ref.dtype if ref else None, upcast=True,
                              modes=("static",), scalar_op=name, xfail=xfail,
                              refuse=f"{name} does not accept" if refused else None)
                cases.append(C(f"{name}-{shape_name}-{dname}", _public(name), ref and ref.values, *specs,
                               **common))
                if name in _OPERATORS and shape_name in ("bcast", "3x1"):
                    cases.append(C(f"{name}-operator-{shape_name}-{dname}", _OPERATORS[name],
                                   ref and ref.values, *specs, **common))
    return cases


# Python scalars are weak (NumPy 2 / NEP 50): they take the dtype of the array operand.
def _weak_scalar_cases() -> list[Case]:
    f32, i8 = In((3,), "float32"), In((3,), "int8")
    cases = [
        C("weak-f32-times-2.5", lambda x: x * 2.5, lambda x: x * 2.5, f32),
        C("weak-2-minus-f32", lambda x: 2 - x, lambda x: 2 - x, f32),
        C("weak-1-div-i8", lambda x: 1 / x, lambda x: 1 / x, In((3,), "int8", (0.5, 5))),
        C("weak-i8-plus-3", lambda x: x + 3, lambda x: x + 3, i8),
        C("weak-i8-plus-0.5", lambda x: x + 0.5, lambda x: x + 0.5, i8),
        C("weak-i8-pow-2", lambda x: x**2, lambda x: x**2, i8),
        C("weak-i8-plus-300-overflows", lambda x: x + 300, lambda x: x + 300, i8),
        C("weak-maximum-f32-0", lambda x: gw.maximum(x, 0), lambda x: np.maximum(x, 0), f32),
        C("weak-switch-scalars", lambda c: gw.switch(c, 1.5, -2), lambda c: np.where(c, 1.5, -2),
          In((3, 2), "bool")),
        C("array-left-operand", lambda x: np.arange(3.0) * x, lambda x: np.arange(3.0) * x, f32),
        C("bool-plus-bool", lambda a, b: a + b, lambda a, b: a + b, In((3,), "bool"), In((3,), "bool")),
        C("astype-method", lambda x: x.astype("int16"), lambda x: x.astype("int16"), In((2, 3))),
        C("weak-u64-plus-1", lambda x: x + 1, lambda x: x + 1, In((3,), "uint64")),
        C("weak-u64-minus-1-overflows", lambda x: x + (-1), lambda x: x + (-1), In((3,), "uint64")),
        C("weak-u16-times-2.5", lambda x: x * 2.5, lambda x: x * 2.5, In((3,), "uint16")),
        C("weak-f32-times-1j", lambda x: x * 1j, lambda x: x * 1j, f32),
        C("weak-c64-plus-2", lambda x: x + 2, lambda x: x + 2, In((3,), "complex64")),
        C("u64-plus-i64-is-f64", lambda a, b: a + b, lambda a, b: a + b, In((3,), "uint64"), In((3,), "int64")),
    ]
    return [dataclasses.replace(c, family="weak-scalars") for c in cases]


# ---------------------------------------------------------------------------------------------------------
# Shape and creation ops
# ---------------------------------------------------------------------------------------------------------

N_INT = In((), "int64", (1.5, 4.5))  # a symbolic length: 2, 3 or 4


def _shape_cases() -> list[Case]:
    x234, x34 = In((2, 3, 4)), In((3, 4))
    fam = {"family": "shape"}
    return [
        # dimshuffle / transpose / expand_dims / squeeze
        C("dimshuffle-drop-insert", lambda x: gw.dimshuffle(x, (2, "x", 0)),
          lambda x: np.expand_dims(x[:, 0, :].T, 1), In((2, 1, 3)), **fam),
        C("dimshuffle-method", lambda x: x.dimshuffle(1, "x", 0), lambda x: x.T[:, None, :], x34, **fam),
        C("dimshuffle-identity", lambda x: gw.dimshuffle(x, (0, 1)), lambda x: x, In((3, 4), "int8"), **fam),
        C("transpose-default", gw.transpose, np.transpose, x234, **fam),
        C("transpose-axes", lambda x: gw.transpose(x, (1, 0, 2)), lambda x: np.transpose(x, (1, 0, 2)),
          In((2, 3, 4), "bool"), **fam),
        C("transpose-negative-axes", lambda x: gw.transpose(x, (-1, 0, 1)),
          lambda x: np.transpose(x, (-1, 0, 1)), x234, **fam),
        C("transpose-method", lambda x: x.transpose(2, 0, 1), lambda x: x.transpose(2, 0, 1), x234, **fam),
        C("T-property", lambda x: x.T, lambda x: x.T, In((3, 4), "int64"), **fam),
        C("T-vector", lambda x: x.T, lambda x: x.T, In((4,)), **fam),
        C("transpose-0d", gw.transpose, np.transpose, In(()), **fam),
        C("expand_dims-0", lambda x: gw.expand_dims(x, 0), lambda x: np.expand_dims(x, 0), x34, **fam),
        C("expand_dims--1", lambda x: gw.expand_dims(x, -1), lambda x: np.expand_dims(x, -1), x34, **fam),
        C("expand_dims-multi", lambda x: gw.expand_dims(x, (0, 2)), lambda x: np.expand_dims(x, (0, 2)),
          In((3, 4), "float32"), **fam),
        C("expand_dims-0d", lambda x: gw.expand_dims(x, 0), lambda x: np.expand_dims(x, 0), In(()), **fam),
        C("squeeze-all", gw.squeeze, np.squeeze, In((3, 1, 4, 1)), **fam),
        C("squeeze-axis", lambda x: gw.squeeze(x, 1), lambda x: np.squeeze(x, 1), In((3, 1, 4, 1)), **fam),
        C("squeeze-neg-axis", lambda x: gw.squeeze(x, -1), lambda x: np.squeeze(x, -1), In((3, 1, 4, 1)),
          **fam),
        C("squeeze-to-0d", lambda x: x.squeeze(), lambda x: x.squeeze(), In((1, 1), "int8"), **fam),
        # reshape / flatten
        C("reshape-minus1", lambda x: gw.reshape(x, (4, -1)), lambda x: np.reshape(x, (4, -1)), x234, **fam),
        C("reshape-flat-minus1", lambda x: gw.reshape(x, (-1,)), lambda x: np.reshape(x, (-1,)), x234,
          **fam),
        C("reshape-explicit", lambda x: gw.reshape(x, (6, 4)), lambda x: np.reshape(x, (6, 4)), x234,
          **fam),
        C("reshape-up", lambda x: gw.reshape(x, (2, -1, 2)), lambda x: np.reshape(x, (2, -1, 2)),
          In((3, 4), "int8"), **fam),
        C("reshape-method-varargs", lambda x: x.reshape(2, 12), lambda x: x.reshape(2, 12), x234, **fam),
        C("reshape-to-0d", lambda x: gw.reshape(x, ()), lambda x: np.reshape(x, ()), In((1, 1)), **fam),
        C("reshape-from-0d", lambda x: gw.reshape(x, (1, 1)), lambda x: np.reshape(x, (1, 1)), In(()),
          **fam),
        C("reshape-symbolic-dim", lambda x, n: gw.reshape(x, (n, -1)),
          lambda x, n: np.reshape(x, (int(n), -1)), In((4, 6)), N_INT, **fam),
        C("reshape-shape-vector", lambda x, s: gw.reshape(x, s), lambda x, s: np.reshape(x, s),
          In((2, 6)), In((2,), "int64", (2.5, 4.5), static=(2,)), **fam),
        C("flatten-1", gw.flatten, lambda x: x.reshape(-1), x234, **fam),
        C("flatten-2", lambda x: gw.flatten(x, 2), lambda x: x.reshape(x.shape[0], -1), x234, **fam,
          dynamic_requires=("getitem",)),
        C("flatten-3", lambda x: gw.flatten(x, 3), lambda x: x, In((2, 3, 4), "int64"), **fam,
          dynamic_requires=("getitem",)),
        C("flatten-method", lambda x: x.flatten(), lambda x: x.flatten(), x34, **fam),
        C("flatten-0d", gw.flatten, lambda x: x.reshape(-1), In(()), **fam),
        # concatenate / stack / split
        C("concatenate-axis0", lambda a, b: gw.concatenate([a, b]), lambda a, b: np.concatenate([a, b]),
          In((2, 3)), In((4, 3)), **fam),
        C("concatenate-axis1", lambda a, b: gw.concatenate([a, b], axis=1),
          lambda a, b: np.concatenate([a, b], axis=1), In((3, 2)), In((3, 1)), **fam),
        C("concatenate-axis-1-three", lambda a, b, c: gw.concatenate([a, b, c], axis=-1),
          lambda a, b, c: np.concatenate([a, b, c], axis=-1), In((2, 3, 1)), In((2, 3, 2)), In((2, 3, 4)),
          **fam),
        C("concatenate-mixed-dtypes", lambda a, b: gw.concatenate([a, b]),
          lambda a, b: np.concatenate([a, b]), In((2,), "int8"), In((3,), "float32"), **fam),
        C("concatenate-bool-int", lambda a, b: gw.concatenate([a, b]), lambda a, b: np.concatenate([a, b]),
          In((2, 2), "bool"), In((1, 2), "int64"), **fam),
        C("concatenate-empty", lambda a, b: gw.concatenate([a, b]), lambda a, b: np.concatenate([a, b]),
          In((0, 3)), In((2, 3)), **fam),
        C("reshape-empty", lambda x: gw.reshape(x, (-1, 2)), lambda x: np.reshape(x, (-1, 2)), In((0, 4)),
          **fam),
        C("transpose-empty", gw.transpose, np.transpose, In((0, 3)), **fam),
        C("concatenate-single", lambda a: gw.concatenate([a]), lambda a: np.concatenate([a]), x34, **fam),
        C("stack-axis0", lambda a, b: gw.stack([a, b]), lambda a, b: np.stack([a, b]), In((3,)), In((3,)),
          **fam),
        C("stack-axis-1", lambda a, b: gw.stack([a, b], axis=-1), lambda a, b: np.stack([a, b], axis=-1),
          x34, x34, **fam),
        C("stack-axis1-mixed", lambda a, b: gw.stack([a, b], axis=1), lambda a, b: np.stack([a, b], axis=1),
          In((2, 3), "int8"), In((2, 3), "float64"), **fam),
        C("stack-scalars", lambda a, b, c: gw.stack([a, b, c]), lambda a, b, c: np.stack([a, b, c]),
          In(()), In(()), In(()), **fam),
        C("stack-scalars-mixed", lambda a, b: gw.stack([a, b]), lambda a, b: np.stack([a, b]),
          In((), "int8"), In((), "float32"), **fam),
        C("make_vector", lambda a, b: SHAPE_MODULE.make_vector([a, b, 7]), lambda a, b: np.array([a, b, 7], "int64"),
          In((), "int64"), In((), "int8"), **fam),
        C("split-axis0", lambda x: gw.split(x, [2, 3]), lambda x: np.split(x, [2]), In((5, 4)), **fam),
        C("split-axis1-three", lambda x: gw.split(x, [1, 1, 2], axis=1), lambda x: np.split(x, [1, 2], 1),
          In((3, 4), "int8"), **fam),
        C("split-axis-1", lambda x: gw.split(x, [3, 1], axis=-1), lambda x: np.split(x, [3], -1), x234,
          **fam),
        C("split-one-piece", lambda x: gw.split(x, [5]), lambda x: [x], In((5,)), **fam),
        C("split-symbolic-sizes", lambda x, s: gw.split(x, s), lambda x, s: np.split(x, np.cumsum(s)[:-1]),
          In((4, 3)), In((2,), "int64", (1.5, 2.5), static=(2,)), **fam),
        C("shape_of", gw.shape_of, lambda x: np.array(x.shape, "int64"), x234, **fam),
        C("shape-property", lambda x: x.shape, lambda x: np.array(x.shape, "int64"), In((3, 1), "bool"),
          **fam),
        C("shape_of-0d", gw.shape_of, lambda x: np.array(x.shape, "int64"), In(()), **fam),
    ]


def _creation_cases() -> list[Case]:
    fam = {"family": "creation"}
    like = {"family": "creation", "dynamic_requires": ("getitem",)}
    x34i8, x34f32 = In((3, 4), "int8"), In((3, 4), "float32")
    return [
        C("broadcast_to", lambda x: gw.broadcast_to(x, (2, 3, 4)), lambda x: np.broadcast_to(x, (2, 3, 4)),
          In((3, 1)), **fam),
        C("broadcast_to-0d", lambda x: gw.broadcast_to(x, (3,)), lambda x: np.broadcast_to(x, (3,)),
          In((), "int8"), **fam),
        C("broadcast_to-symbolic", lambda x, n: gw.broadcast_to(x, (n, 4)),
          lambda x, n: np.broadcast_to(x, (int(n), 4)), In((1, 4)), N_INT, **fam),
        C("alloc", lambda v: gw.alloc(v, (2, 3)), lambda v: np.full((2, 3), v), In((), "float32"), **fam),
        C("alloc-symbolic", lambda v, n: gw.alloc(v, (n, 3)), lambda v, n: np.full((int(n), 3), v),
          In(()), N_INT, **fam),
        C("zeros", lambda: gw.zeros((2, 3)), lambda: np.zeros((2, 3)), **fam),
        C("zeros-int8", lambda: gw.zeros((2, 3), "int8"), lambda: np.zeros((2, 3), "int8"), **fam),
        C("zeros-0d", lambda: gw.zeros(()), lambda: np.zeros(()), **fam),
        C("zeros-symbolic", lambda n: gw.zeros(n), lambda n: np.zeros(int(n)), N_INT, **fam),
        C("ones-bool", lambda: gw.ones((4,), "bool"), lambda: np.ones((4,), "bool"), **fam),
        C("ones-symbolic", lambda n: gw.ones((n, n)), lambda n: np.ones((int(n), int(n))), N_INT, **fam),
        C("full", lambda: gw.full((2, 2), 1.5), lambda: np.full((2, 2), 1.5), **fam),
        C("full-int64", lambda: gw.full((3,), 7, "int64"), lambda: np.full((3,), 7, "int64"), **fam),
        C("full-symbolic-value", lambda v: gw.full((2, 3), v), lambda v: np.full((2, 3), v),
          In((), "float32"), **fam),
        C("zeros_like-int8", gw.zeros_like, np.zeros_like, x34i8, **like),
        C("ones_like-dtype", lambda x: gw.ones_like(x, dtype="float32"),
          lambda x: np.ones_like(x, dtype="float32"), x34i8, **like),
        C("full_like-f32", lambda x: gw.full_like(x, 2.5), lambda x: np.full_like(x, 2.5), x34f32, **like),
        C("full_like-int8", lambda x: gw.full_like(x, 3), lambda x: np.full_like(x, 3), x34i8, **like),
        C("zeros_like-0d", gw.zeros_like, np.zeros_like, In(()), **fam),
        C("arange-stop", lambda: gw.arange(5), lambda: np.arange(5), **fam),
        C("arange-start-stop-step", lambda: gw.arange(1, 7, 2), lambda: np.arange(1, 7, 2), **fam),
        C("arange-float", lambda: gw.arange(0.0, 1.0, 0.25), lambda: np.arange(0.0, 1.0, 0.25), **fam),
        C("arange-negative-step", lambda: gw.arange(5, 0, -1.5), lambda: np.arange(5, 0, -1.5), **fam),
        C("arange-empty", lambda: gw.arange(3, 1), lambda: np.arange(3, 1), **fam),
        C("arange-dtype", lambda: gw.arange(5, dtype="float32"), lambda: np.arange(5, dtype="float32"),
          **fam),
        C("arange-symbolic", gw.arange, np.arange, In((), "int64", (-0.5, 6.5)), **fam),
        C("arange-symbolic-float", gw.arange, np.arange, In((), "float64", (-2.0, 0.0)),
          In((), "float64", (3.0, 5.0)), In((), "float64", (0.3, 1.5)), **fam),
        C("arange-symbolic-int8", gw.arange, np.arange, In((), "int8", (0.5, 6.5)), **fam),
        C("eye", lambda: gw.eye(3), lambda: np.eye(3), **fam),
        C("eye-rect-k", lambda: gw.eye(3, 4, 1), lambda: np.eye(3, 4, 1), **fam),
        C("eye-rect-negative-k", lambda: gw.eye(4, 3, -1), lambda: np.eye(4, 3, -1), **fam),
        C("eye-int8", lambda: gw.eye(3, dtype="int8"), lambda: np.eye(3, dtype="int8"), **fam),
        C("eye-symbolic", lambda n, m, k: gw.eye(n, m, k), lambda n, m, k: np.eye(int(n), int(m), int(k)),
          N_INT, N_INT, In((), "int64", (-2.5, 2.5)), **fam),
    ]


# ---------------------------------------------------------------------------------------------------------
# Reductions, products, indexing, nn
# ---------------------------------------------------------------------------------------------------------

_REDUCTIONS = {  # name -> (NumPy/SciPy reference, input dtypes); each runs over several axis/keepdims
    "sum": (np.sum, ("float64", "float32", "int64", "int8", "bool", "uint16", "uint64", "complex64")),
    "prod": (np.prod, ("float64", "float32", "int64", "int8", "uint32", "complex128")),
    "max": (np.max, ("float64", "float32", "int64", "int8", "bool", "uint64")),
    "min": (np.min, ("float64", "float32", "int64", "uint8", "uint32")),
    "mean": (np.mean, ("float64", "float32", "int64", "int8", "uint16", "complex64")),
    "var": (np.var, ("float64", "float32", "int64", "complex128")),
    "std": (np.std, ("float64", "float32", "int8")),
    "all": (np.all, ("float64", "int64", "bool")),
    "any": (np.any, ("float64", "int8", "bool")),
    "logsumexp": (sps.logsumexp, ("float64", "float32")),
}
_PROD_DOMAIN = {"f": (0.5, 1.5), "i": (0.5, 2.5), "u": (0.5, 2.5), "c": (0.5, 1.5)}


def _reduction_cases() -> list[Case]:
    cases = []
    for name, (ref, dtypes) in _REDUCTIONS.items():
        for dtype in dtypes:
            kind = np.dtype(dtype).kind
            domain = _PROD_DOMAIN[kind] if name == "prod" and kind != "b" else (-INF, INF)
            if name in ("all", "any") and kind != "b":
                domain = (-1.5, 1.5)  # zeros are likely: the result is not constant
            x = In((2, 3, 4), dtype, domain, special="discrete" if name in ("all", "any") else None)
            axes = [None, 0, -1, (0, 2), (2, 1, 0)] if dtype == "float64" else [None, 1, (0, 2)]
            for axis in axes:
                for keepdims in (False, True):
                    cases.append(C(
                        f"{name}-{dtype}-axis{axis}-keep{keepdims}".replace(" ", ""),
                        lambda x, _n=name, _a=axis, _k=keepdims: getattr(gw, _n)(x, axis=_a, keepdims=_k),
                        lambda x, _r=ref, _a=axis, _k=keepdims: _r(x, axis=_a, keepdims=_k),
                        x, family="reduce", requires=(name,)))
            cases.append(C(f"{name}-{dtype}-0d", lambda x, _n=name: getattr(gw, _n)(x),
                           lambda x, _r=ref: _r(x), In((), dtype, domain), family="reduce", requires=(name,)))
        cases.append(C(f"{name}-static-1-axis", lambda x, _n=name: getattr(gw, _n)(x, axis=1),
                       lambda x, _r=ref: _r(x, axis=1), In((3, 1), "float64", (0.5, 1.5)), family="reduce",
                       requires=(name,)))
    red = {"family": "reduce"}
    x234 = In((2, 3, 4))
    cases += [
        C("sum-axis-empty-tuple", lambda x: gw.sum(x, axis=()), lambda x: np.sum(x, axis=()), x234,
          requires=("sum",), **red),
        C("sum-dtype-arg", lambda x: gw.sum(x, axis=0, dtype="float32"),
          lambda x: np.sum(x, axis=0, dtype="float32"), In((3, 4), "int8"), requires=("sum",), **red),
        # small unsigned sums give uint64, as in NumPy
        C("sum-uint8", lambda x: gw.sum(x), lambda x: np.sum(x), In((3, 4), "uint8"), requires=("sum",), **red),
        # complex numbers have no order: graphwright refuses what NumPy orders lexicographically
        C("max-complex-refused", lambda x: gw.max(x, axis=0), None, In((3, 4), "complex64"), requires=("max",),
          refuse="max does not accept complex", **red),
        C("argmin-complex-refused", lambda x: gw.argmin(x), None, In((3,), "complex128"), requires=("argmin",),
          refuse="argmin does not accept complex", **red),
        C("sum-method", lambda x: x.sum(axis=1), lambda x: x.sum(axis=1), x234, requires=("sum",), **red),
        C("prod-method", lambda x: x.prod(), lambda x: x.prod(), In((2, 3), "float64", (0.5, 1.5)),
          requires=("prod",), **red),
        C("mean-method", lambda x: x.mean(axis=(0, 1), keepdims=True),
          lambda x: x.mean((0, 1), keepdims=True), x234, requires=("mean",), **red),
        C("max-method", lambda x: x.max(axis=-1), lambda x: x.max(axis=-1), x234, requires=("max",), **red),
        C("min-method", lambda x: x.min(), lambda x: x.min(), In((2, 3), "int8"), requires=("min",), **red),
        C("max-nan", lambda x: gw.max(x, axis=1), lambda x: np.max(x, axis=1),
          In((2, 5), special="nonfinite"), requires=("max",), **red),
        C("all-method", lambda x: x.all(axis=0), lambda x: x.all(axis=0), In((3, 4), "bool"),
          requires=("all",), **red),
        C("any-method", lambda x: x.any(), lambda x: x.any(), In((3, 4), "bool"), requires=("any",), **red),
        C("var-ddof1", lambda x: gw.var(x, axis=0, ddof=1), lambda x: np.var(x, axis=0, ddof=1), x234,
          requires=("var",), **red),
        C("var-method-ddof1", lambda x: x.var(ddof=1), lambda x: x.var(ddof=1), In((3, 4), "float32"),
          requires=("var",), **red),
        C("std-ddof1", lambda x: gw.std(x, axis=(1, 2), ddof=1, keepdims=True),
          lambda x: np.std(x, axis=(1, 2), ddof=1, keepdims=True), x234, requires=("std",), **red),
        C("std-method", lambda x: x.std(axis=-1), lambda x: x.std(axis=-1), x234, requires=("std",), **red),
        C("logsumexp-large", lambda x: gw.logsumexp(x, axis=-1), lambda x: sps.logsumexp(x, axis=-1),
          In((3, 4), "float64", (-800.0, 800.0)), requires=("logsumexp",), **red),
        C("logsumexp-inf", lambda x: gw.logsumexp(x, axis=0), lambda x: sps.logsumexp(x, axis=0),
          In((4, 2), special="nonfinite"), requires=("logsumexp",), **red),
        C("logsumexp-int", lambda x: gw.logsumexp(x, axis=0), lambda x: sps.logsumexp(x, axis=0),
          In((3, 2), "int64"), requires=("logsumexp",), **red),
        # empty inputs
        C("sum-empty", lambda x: gw.sum(x, axis=0), lambda x: np.sum(x, axis=0), In((0, 4)),
          requires=("sum",), **red),
        C("prod-empty-all", gw.prod, np.prod, In((0, 4), "int8"), requires=("prod",), **red),
        C("max-empty-rows", lambda x: gw.max(x, axis=1), lambda x: np.max(x, axis=1), In((0, 4)),
          requires=("max",), **red),
        C("any-empty", gw.any, np.any, In((0, 4), "bool"), requires=("any",), **red),
        C("all-empty", gw.all, np.all, In((3, 0)), requires=("all",), **red),
        C("argmin-empty-rows", lambda x: gw.argmin(x, axis=1), lambda x: np.argmin(x, axis=1), In((0, 4)),
          requires=("argmin",), **red),
        C("logsumexp-empty", lambda x: gw.logsumexp(x, axis=0), lambda x: sps.logsumexp(x, axis=0),
          In((0, 3)), requires=("logsumexp",), **red),
        C("cumsum-empty", lambda x: gw.cumsum(x, axis=0), lambda x: np.cumsum(x, axis=0), In((0, 4)),
          requires=("cumsum",), **red),
    ]
    # argmax / argmin (ties with small integers: the first occurrence wins)
    for name, ref in (("argmax", np.argmax), ("argmin", np.argmin)):
        for dtype in ("float64", "float32", "int8", "bool"):
            for axis in (None, 0, -1):
                for keepdims in (False, True):
                    cases.append(C(
                        f"{name}-{dtype}-axis{axis}-keep{keepdims}",
                        lambda x, _n=name, _a=axis, _k=keepdims: getattr(gw, _n)(x, axis=_a, keepdims=_k),
                        lambda x, _r=ref, _a=axis, _k=keepdims: _r(x, axis=_a, keepdims=_k),
                        In((2, 3, 4), dtype, (-2.5, 2.5)), requires=(name,), **red))
        cases.append(C(f"{name}-method", lambda x, _n=name: getattr(x, _n)(axis=1),
                       lambda x, _r=ref: _r(x, axis=1), In((3, 4)), requires=(name,), **red))
        cases.append(C(f"{name}-0d", lambda x, _n=name: getattr(gw, _n)(x), lambda x, _r=ref: _r(x), In(()),
                       requires=(name,), **red))
    # cumsum / cumprod
    for name, ref in (("cumsum", np.cumsum), ("cumprod", np.cumprod)):
        for dtype in ("float64", "float32", "int64", "int8", "bool", "uint32", "complex64"):
            dom = _PROD_DOMAIN.get(np.dtype(dtype).kind, (-INF, INF)) if name == "cumprod" else (-INF, INF)
            for axis in (None, 0, -1, 1):
                cases.append(C(f"{name}-{dtype}-axis{axis}",
                               lambda x, _n=name, _a=axis: getattr(gw, _n)(x, axis=_a),
                               lambda x, _r=ref, _a=axis: _r(x, axis=_a), In((2, 3, 4), dtype, dom),
                               requires=(name,), **red))
        cases.append(C(f"{name}-method", lambda x, _n=name: getattr(x, _n)(axis=0),
                       lambda x, _r=ref: _r(x, axis=0), In((3, 4), "float64", (0.5, 1.5)), requires=(name,),
                       **red))
        cases.append(C(f"{name}-0d", lambda x, _n=name: getattr(gw, _n)(x), lambda x, _r=ref: _r(x), In(()),
                       requires=(name,), **red))
    return cases


def _linalg_cases() -> list[Case]:
    cases = []
    la = {"family": "linalg"}
    dot_shapes = {"vv": ((4,), (4,)), "mv": ((3, 4), (4,)), "vm": ((4,), (4, 5)), "mm": ((3, 4), (4, 5)),
                  "3d-v": ((2, 3, 4), (4,)), "0d-m": ((), (3, 4))}
    dtypes = {"f64": ("float64", "float64"), "f32": ("float32", "float32"), "i64": ("int64", "int64"),
              "i8": ("int8", "int8"), "f32+f64": ("float32", "float64"), "i64+f32": ("int64", "float32")}
    for sname, (sa, sb) in dot_shapes.items():
        for dname, (da, db) in dtypes.items():
            if sname not in ("mm", "mv") and dname not in ("f64", "f32"):
                continue
            cases.append(C(f"dot-{sname}-{dname}", gw.dot, np.dot, In(sa, da), In(sb, db), requires=("dot",),
                           **la))
    cases.append(C("dot-method", lambda a, b: a.dot(b), lambda a, b: a.dot(b), In((3, 4)), In((4,)),
                   requires=("dot",), **la))
    mm_shapes = {"mm": ((3, 4), (4, 5)), "batch": ((2, 3, 4), (2, 4, 5)), "batch-bcast": ((2, 3, 4), (4, 5)),
                 "v-batch": ((4,), (2, 4, 5)), "batch-v": ((2, 3, 4), (4,)), "vv": ((4,), (4,)),
                 "static1-batch": ((2, 1, 3, 4), (5, 4, 2)), "mv": ((3, 4), (4,))}
    for sname, (sa, sb) in mm_shapes.items():
        for dname in ("f64", "f32", "i64") if sname in ("mm", "batch-bcast") else ("f64",):
            da, db = dtypes[dname]
            cases.append(C(f"matmul-{sname}-{dname}", gw.matmul, np.matmul, In(sa, da), In(sb, db),
                           requires=("matmul",), **la))
    cases.append(C("matmul-operator", operator.matmul, operator.matmul, In((3, 4)), In((4, 2)),
                   requires=("matmul",), **la))
    cases.append(C("matmul-operator-f32+f64", operator.matmul, operator.matmul, In((2, 3, 4), "float32"),
                   In((4, 2)), requires=("matmul",), **la))
    td = {"axes1": ((3, 4), (4, 5), 1), "axes2": ((2, 3, 4), (3, 4, 5), 2),
          "axes-lists": ((3, 4, 5), (4, 3, 2), ([1, 0], [0, 1])), "axes0": ((2, 3), (4,), 0),
          "axes-neg": ((3, 4), (5, 4), ([-1], [-1]))}
    for tname, (sa, sb, axes) in td.items():
        cases.append(C(f"tensordot-{tname}", lambda a, b, _ax=axes: gw.tensordot(a, b, axes=_ax),
                       lambda a, b, _ax=axes: np.tensordot(a, b, axes=_ax), In(sa), In(sb),
                       requires=("tensordot",), **la))
    cases.append(C("tensordot-default-f32", gw.tensordot, np.tensordot, In((2, 3, 4), "float32"),
                   In((3, 4), "float32"), requires=("tensordot",), **la))
    cases.append(C("outer", gw.outer, np.outer, In((3,)), In((4,)), requires=("outer",), **la))
    cases.append(C("dot-empty-contraction", gw.dot, np.dot, In((3, 0)), In((0, 2)), requires=("dot",), **la))
    cases.append(C("matmul-empty-batch", gw.matmul, np.matmul, In((0, 3, 4)), In((4, 2)), requires=("matmul",),
                   **la))
    cases.append(C("outer-flattens", gw.outer, np.outer, In((2, 3)), In((2,)), requires=("outer",), **la))
    cases.append(C("outer-int8", gw.outer, np.outer, In((3,), "int8"), In((2,), "int8"), requires=("outer",),
                   **la))
    return cases


IDX3 = In((3,), "int64", (-4.5, 3.5))  # valid indices (negative ones included) for a length-4 axis


def _add_at(x, idx, y):
    out = x.copy()
    np.add.at(out, idx, y)
    return out


def _set(x, index, y):
    out = x.copy()
    out[index] = y
    return out


def _indexing_cases() -> list[Case]:
    gi = {"family": "indexing", "requires": ("getitem",)}
    x = In((4, 5, 3))
    basic = {
        "int": (lambda v: v[1]), "neg-int": (lambda v: v[-1]), "slice": (lambda v: v[1:3]),
        "step": (lambda v: v[::2]), "reverse": (lambda v: v[::-1]), "multi": (lambda v: v[1:-1, ::2]),
        "int-slice-int": (lambda v: v[1, :, 2]), "newaxis": (lambda v: v[None]),
        "ellipsis": (lambda v: v[..., 0]), "newaxis-mid": (lambda v: v[:, None, 1:]),
        "slice-clip": (lambda v: v[2:100]), "slice-neg-start": (lambda v: v[-10:]),
        "empty-slice": (lambda v: v[3:1]), "all-ints": (lambda v: v[0, 1, 2]),
        "neg-step-bounds": (lambda v: v[3:0:-2, -1]),
    }
    cases = [C(f"getitem-{k}", f, f, x, **gi) for k, f in basic.items()]
    cases += [
        C("getitem-empty-input", lambda v: v[:, 1:], lambda v: v[:, 1:], In((0, 3)), **gi),
        C("getitem-empty-index", lambda v, i: v[i], lambda v, i: v[i], In((4, 2)), In((0,), "int64"), **gi),
        C("getitem-int8-slice", lambda v: v[1:, 0], lambda v: v[1:, 0], In((4, 5), "int8"), **gi),
        C("getitem-0d-ellipsis", lambda v: v[...], lambda v: v[...], In(()), **gi),
        C("getitem-symbolic-int", lambda v, i: v[i], lambda v, i: v[i], x, In((), "int64", (-4.5, 3.5)),
          **gi),
        C("getitem-symbolic-slice", lambda v, i, j: v[i:j, 1], lambda v, i, j: v[i:j, 1], x,
          In((), "int64", (-0.5, 2.5)), In((), "int64", (1.5, 4.5)), **gi),
        C("getitem-symbolic-step", lambda v, s: v[::s], lambda v, s: v[::s], In((5,)),
          In((), "int64", (0.5, 3.5)), **gi),
        # advanced
        C("getitem-list", lambda v: v[[0, 2, 1]], lambda v: v[[0, 2, 1]], x, **gi),
        C("getitem-ndarray", lambda v: v[np.array([0, -1])], lambda v: v[np.array([0, -1])], x, **gi),
        C("getitem-array-var", lambda v, i: v[i], lambda v, i: v[i], x, IDX3, **gi),
        C("getitem-array-int8", lambda v, i: v[i], lambda v, i: v[i], x, In((3,), "int8", (-4.5, 3.5)), **gi),
        C("getitem-array-slice", lambda v, i: v[i, 1:], lambda v, i: v[i, 1:], x, IDX3, **gi),
        C("getitem-slice-array", lambda v, i: v[:, i], lambda v, i: v[:, i], In((3, 4)), IDX3, **gi),
        C("getitem-two-arrays-bcast", lambda v, i, j: v[i, j], lambda v, i, j: v[i, j], x,
          In((2, 1), "int64", (-0.5, 3.5)), In((3,), "int64", (-0.5, 4.5)), **gi),
        C("getitem-arrays-split-by-slice", lambda v, i, j: v[i, :, j], lambda v, i, j: v[i, :, j], x,
          IDX3, In((3,), "int64", (-0.5, 2.5)), **gi),
        C("getitem-2d-index", lambda v, i: v[i], lambda v, i: v[i], In((4, 2)),
          In((2, 3), "int64", (-0.5, 3.5)), **gi),
        C("getitem-int-and-array", lambda v, i: v[1, i], lambda v, i: v[1, i], In((3, 4)), IDX3, **gi),
        # boolean masks
        C("getitem-mask-full", lambda v, m: v[m], lambda v, m: v[m], In((4, 5)), In((4, 5), "bool"), **gi),
        C("getitem-mask-rows", lambda v, m: v[m], lambda v, m: v[m], In((4, 5)), In((4,), "bool"), **gi),
        C("getitem-mask-expr", lambda v: v[v > 0], lambda v: v[v > 0], In((3, 4)), **gi),
        C("getitem-mask-const", lambda v: v[np.array([True, False, True, True])],
          lambda v: v[np.array([True, False, True, True])], In((4, 2), "int8"), **gi),
        C("getitem-mask-then-slice", lambda v, m: v[m, 1:], lambda v, m: v[m, 1:], In((4, 3)),
          In((4,), "bool"), **gi),
        # set_subtensor / inc_subtensor
        C("set_subtensor-slice", lambda v, y: gw.set_subtensor(v[1:3], y),
          lambda v, y: _set(v, np.s_[1:3], y),
          In((4, 5)), In((2, 5)), family="indexing", requires=("getitem", "set_subtensor")),
        C("set_subtensor-bcast-scalar", lambda v: gw.set_subtensor(v[:, 0], 0.0),
          lambda v: _set(v, np.s_[:, 0], 0.0), In((4, 5)), family="indexing",
          requires=("getitem", "set_subtensor")),
        C("set_subtensor-bcast-row", lambda v, y: gw.set_subtensor(v[1:], y),
          lambda v, y: _set(v, np.s_[1:], y),
          In((4, 5)), In((1, 5)), family="indexing", requires=("getitem", "set_subtensor")),
        C("set_subtensor-int", lambda v, y: gw.set_subtensor(v[2], y), lambda v, y: _set(v, 2, y),
          In((4, 5), "int8"), In((5,), "int8"), family="indexing", requires=("getitem", "set_subtensor")),
        C("set_subtensor-int-into-float", lambda v, y: gw.set_subtensor(v[-1], y),
          lambda v, y: _set(v, -1, y),
          In((4, 5)), In((5,), "int8"), family="indexing", requires=("getitem", "set_subtensor")),
        C("set_subtensor-array", lambda v, i, y: gw.set_subtensor(v[i], y),
          lambda v, i, y: _set(v, i, y), In((6, 2)), In((3,), "int64", (-0.5, 2.5)), In((3, 2)),
          family="indexing", requires=("getitem", "set_subtensor")),
        C("set_subtensor-mask", lambda v, m: gw.set_subtensor(v[m], 0.0), lambda v, m: _set(v, m, 0.0),
          In((3, 4)), In((3, 4), "bool"), family="indexing", requires=("getitem", "set_subtensor")),
        C("inc_subtensor-slice", lambda v, y: gw.inc_subtensor(v[:, 1:3], y),
          lambda v, y: _add_at(v, np.s_[:, 1:3], y), In((4, 5)), In((4, 2)), family="indexing",
          requires=("getitem", "inc_subtensor")),
        C("inc_subtensor-duplicates", lambda v, i: gw.inc_subtensor(v[i], 1.0),
          lambda v, i: _add_at(v, i, 1.0), In((4,)), In((6,), "int64", (-0.5, 1.5)), family="indexing",
          requires=("getitem", "inc_subtensor")),
        C("inc_subtensor-duplicates-rows", lambda v, i, y: gw.inc_subtensor(v[i], y),
          lambda v, i, y: _add_at(v, i, y), In((4, 3), "int64"), In((5,), "int64", (-2.5, 1.5)),
          In((5, 3), "int64"), family="indexing", requires=("getitem", "inc_subtensor")),
        C("inc_subtensor-int", lambda v, y: gw.inc_subtensor(v[1], y), lambda v, y: _add_at(v, 1, y),
          In((3, 4), "float32"), In((4,), "float32"), family="indexing",
          requires=("getitem", "inc_subtensor")),
        C("inc_subtensor-mask", lambda v, m: gw.inc_subtensor(v[m], 2.0), lambda v, m: _add_at(v, m, 2.0),
          In((3, 4)), In((3, 4), "bool"), family="indexing", requires=("getitem", "inc_subtensor")),
    ]
    return cases


def _nn_cases() -> list[Case]:
    cases = []
    for name, ref in (("softmax", sps.softmax), ("log_softmax", sps.log_softmax)):
        req = {"family": "nn", "requires": (name,)}
        for axis in (-1, 0, None):
            for dtype in ("float64", "float32"):
                cases.append(C(f"{name}-axis{axis}-{dtype}",
                               lambda x, _n=name, _a=axis: getattr(gw, _n)(x, axis=_a),
                               lambda x, _r=ref, _a=axis: _r(x, axis=_a), In((2, 3, 4), dtype), **req))
        cases += [
            C(f"{name}-default-axis", lambda x, _n=name: getattr(gw, _n)(x), lambda x, _r=ref: _r(x, axis=-1),
              In((3, 4)), **req),
            C(f"{name}-large", lambda x, _n=name: getattr(gw, _n)(x, axis=-1),
              lambda x, _r=ref: _r(x, axis=-1), In((3, 5), "float64", (-800.0, 800.0)), **req),
            C(f"{name}-int", lambda x, _n=name: getattr(gw, _n)(x, axis=0), lambda x, _r=ref: _r(x, axis=0),
              In((3, 2), "int64"), **req),
            C(f"{name}-vector", lambda x, _n=name: getattr(gw, _n)(x), lambda x, _r=ref: _r(x), In((5,)),
              **req),
        ]
    return cases


def _fused(fn: Callable, n_outputs: int = 1) -> Callable:
    """Build ``fn`` on the inputs, then the same values through one Composite of its elementwise graph."""

    def build(*xs):
        outs = fn(*xs)
        outs = list(outs) if isinstance(outs, tuple) else [outs]
        op = composite_of(outs, list(xs))
        return op(*xs)

    return build


def _composite_cases() -> list[Case]:
    req = {"family": "composite"}
    return [
        C("composite-broadcast", _fused(lambda x, y: gw.exp(x) * 2 + y), lambda x, y: np.exp(x) * 2 + y,
          In((2, 3)), In((3,)), **req),
        C("composite-two-outputs", _fused(lambda x, y: (gw.sin(x) + y, gw.log1p(gw.abs(x)) * y)),
          lambda x, y: [np.sin(x) + y, np.log1p(np.abs(x)) * y], In((4,)), In((4,)), **req),
        C("composite-int-to-float", _fused(lambda i, x: gw.sqrt(gw.abs(i)) + x),
          lambda i, x: np.sqrt(np.abs(i)) + x, In((3,), "int32"), In((3,)), **req),
        C("composite-nested", _fused(lambda x: _fused(lambda z: gw.tanh(z) - 1)(x) * x),
          lambda x: (np.tanh(x) - 1) * x, In((2, 2)), **req),
        C("composite-scalar", _fused(lambda x: gw.sigmoid(x) ** 2), lambda x: sps.expit(x) ** 2, In(()),
          **req),
    ]


def _fused_reduce(fn: Callable, kind: str, axis=None, keepdims: bool = False) -> Callable:
    """Build ``fn`` on the inputs as one Composite and reduce it by ``kind`` in the same node (CompositeReduce)."""

    def build(*xs):
        return composite_reduce(composite_of([fn(*xs)], list(xs)), kind, axis, xs, keepdims)

    return build


_FUSED_BODIES = {  # kind -> (graphwright body, NumPy body, input domain, special draws)
    "sum": (lambda x, y: gw.tanh(x) * y + x, lambda x, y: np.tanh(x) * y + x, (-INF, INF), None),
    "prod": (lambda x, y: x * y, lambda x, y: x * y, (0.5, 1.5), None),
    "max": (lambda x, y: gw.exp(x) - y, lambda x, y: np.exp(x) - y, (-INF, INF), None),
    "min": (lambda x, y: gw.sin(x) * y, lambda x, y: np.sin(x) * y, (-INF, INF), None),
    "all": (lambda x, y: x * y, lambda x, y: x * y, (-1.5, 1.5), "discrete"),
    "any": (lambda x, y: x - y, lambda x, y: x - y, (-1.5, 1.5), "discrete"),
}


def _composite_reduce_cases() -> list[Case]:
    """Reductions fused with the elementwise graph they reduce: every kind over several axes (broadcast
    inputs), NaN, empty axes, integer, bool and float32 data, 0-d."""
    req = {"family": "composite"}
    red = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "all": np.all, "any": np.any}
    cases = []
    for kind, (body, ref_body, domain, special) in _FUSED_BODIES.items():
        x, y = In((2, 3, 4), "float64", domain, special=special), In((3, 1), "float64", domain, special=special)
        for axis, keep in ((None, False), ((1,), False), ((0, 2), False), ((1, 2), True), ((0,), True), ((), False)):
            cases.append(C(
                f"composite_reduce-{kind}-axis{axis}-keep{keep}".replace(" ", ""),
                _fused_reduce(body, kind, axis, keep),
                lambda x, y, _r=red[kind], _b=ref_body, _a=axis, _k=keep: _r(_b(x, y), axis=_a, keepdims=_k),
                x, y, **req))
    nonfinite = In((3, 5), special="nonfinite")
    cases += [
        C("composite_reduce-max-nan", _fused_reduce(lambda x, y: x * y, "max", (1,)),
          lambda x, y: np.max(x * y, axis=1), nonfinite, In((5,)), **req),
        C("composite_reduce-min-nan-all", _fused_reduce(lambda x: gw.abs(x) - 1, "min"),
          lambda x: np.min(np.abs(x) - 1), nonfinite, **req),
        C("composite_reduce-sum-nan", _fused_reduce(lambda x: x * 2, "sum", (0,)), lambda x: np.sum(x * 2, axis=0),
          nonfinite, **req),
        C("composite_reduce-sum-bool", _fused_reduce(lambda x, y: x > y, "sum", (0,)),
          lambda x, y: np.sum(x > y, axis=0), In((3, 4)), In((4,)), **req),
        C("composite_reduce-sum-int8", _fused_reduce(lambda x, y: x * y, "sum"), lambda x, y: np.sum(x * y),
          In((3, 4), "int8"), In((3, 4), "int8"), **req),
        C("composite_reduce-prod-int64", _fused_reduce(lambda x, y: x + y, "prod", (1,)),
          lambda x, y: np.prod(x + y, axis=1), In((3, 4), "int64", (-1.5, 1.5)), In((4,), "int64", (0.5, 1.5)),
          **req),
        C("composite_reduce-min-uint8", _fused_reduce(lambda x, y: x + y, "min", (0,)),
          lambda x, y: np.min(x + y, axis=0), In((3, 4), "uint8", (-0.5, 100.0)), In((4,), "uint8", (-0.5, 100.0)),
          **req),
        C("composite_reduce-max-bool", _fused_reduce(lambda x, y: x > y, "max", (1,)),
          lambda x, y: np.max(x > y, axis=1), In((3, 4)), In((4,)), **req),
        C("composite_reduce-all-bool", _fused_reduce(lambda x, y: gw.or_(x, y), "all", (0,)),
          lambda x, y: np.all(x | y, axis=0), In((3, 4), "bool"), In((3, 4), "bool"), **req),
        C("composite_reduce-any-int", _fused_reduce(lambda x: x - 1, "any", (1,), True),
          lambda x: np.any(x - 1, axis=1, keepdims=True), In((3, 4), "int64", (-0.5, 2.5)), **req),
        C("composite_reduce-sum-float32", _fused_reduce(lambda x, y: gw.exp(x) * y, "sum", (0, 2)),
          lambda x, y: np.sum(np.exp(x) * y, axis=(0, 2)), In((2, 3, 4), "float32"), In((4,), "float32"), **req),
        C("composite_reduce-max-float32", _fused_reduce(lambda x: gw.tanh(x) * 3, "max"),
          lambda x: np.max(np.tanh(x) * 3), In((5, 4), "float32"), **req),
        C("composite_reduce-sum-int-to-float", _fused_reduce(lambda i, x: gw.sqrt(gw.abs(i)) + x, "sum", (1,)),
          lambda i, x: np.sum(np.sqrt(np.abs(i)) + x, axis=1), In((3, 4), "int32"), In((4,)), **req),
        C("composite_reduce-scalar", _fused_reduce(lambda x: gw.sigmoid(x) ** 2, "sum"),
          lambda x: np.sum(1 / (1 + np.exp(-x)) ** 2), In(()), **req),
        # empty inputs: a reduced axis of length 0 (sum, prod, all, any) or an empty kept axis (max)
        C("composite_reduce-sum-empty", _fused_reduce(lambda x: gw.exp(x), "sum", (0,)),
          lambda x: np.sum(np.exp(x), axis=0), In((0, 4)), **req),
        C("composite_reduce-prod-empty", _fused_reduce(lambda x: x * 2, "prod", (1,)),
          lambda x: np.prod(x * 2, axis=1), In((3, 0)), **req),
        C("composite_reduce-all-empty", _fused_reduce(lambda x: x > 0, "all"), lambda x: np.all(x > 0),
          In((3, 0)), **req),
        C("composite_reduce-any-empty", _fused_reduce(lambda x: x > 0, "any", (0,), True),
          lambda x: np.any(x > 0, axis=0, keepdims=True), In((0, 4)), **req),
        C("composite_reduce-max-empty-rows", _fused_reduce(lambda x: -x, "max", (1,)),
          lambda x: np.max(-x, axis=1), In((0, 4)), **req),
    ]
    return cases


def _blockwise_cases() -> list[Case]:
    """The generic vectorization fallback: a core op applied to every batch slice."""
    req = {"family": "blockwise"}

    def matvec(A, x):
        return Blockwise(gw.matmul(gw.matrix("a"), gw.vector("b")).owner.op, (2, 1), (1,))(A, x)

    def cumsum_rows(x):
        return Blockwise(gw.cumsum(gw.vector("c")).owner.op, (1,), (1,))(x)

    return [
        C("grad_clip-identity", lambda x: gw.grad_clip(x, -1.0, 1.0), lambda x: x, In((3, 2)), family="grad"),
        C("zero_grad-identity", gw.zero_grad, lambda x: x, In((4,)), family="grad"),
        # a true assumption: the random graphs also feed values from outside an input's domain
        C("assume-identity", lambda x: gw.assume(x * x, "nonnegative"), lambda x: x * x, In((3, 2))),
        C("blockwise-matvec", matvec, lambda A, x: np.einsum("bmn,bn->bm", A, x), In((4, 2, 3)), In((4, 3)),
          **req),
        C("blockwise-matvec-broadcast", matvec, lambda A, x: np.einsum("bmn,n->bm", A, x), In((4, 2, 3)),
          In((3,)), **req),
        C("blockwise-cumsum", cumsum_rows, lambda x: np.cumsum(x, axis=-1), In((2, 3, 4)), **req),
    ]


ALL_CASES: list[Case] = (_elemwise_cases() + _weak_scalar_cases() + _shape_cases() + _creation_cases()
                         + _reduction_cases() + _linalg_cases() + _indexing_cases() + _nn_cases()
                         + _composite_cases() + _composite_reduce_cases() + _blockwise_cases())


def _params():
    seen = set()
    for case in ALL_CASES:
        assert case.id not in seen, f"duplicate case id {case.id}"
        seen.add(case.id)
        marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
        marks += [pytest.mark.xfail(reason=f"core bug: {reason}", strict=strict)
                  for known, reason, strict in KNOWN_CORE_BUGS if known(case)]
        for mode in case.modes:
            yield pytest.param(case, mode, id=f"{case.id}-{mode}", marks=marks)


PARAMS = list(_params())

# ---------------------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------------------


def _as_list(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _expected_dtype(case: Case, array) -> str:
    if case.expect_dtype is not None:
        return case.expect_dtype
    name = np.asarray(array).dtype.name
    return _UNSUPPORTED_WIDEN.get(name, name)


def _build_inputs(case: Case, mode: str):
    rng = np.random.default_rng(zlib.crc32(f"{case.id}-{mode}".encode()))
    values = [draw(spec, rng) for spec in case.inputs]
    symbols = [gw.tensor(f"x{i}", dtype=spec.dtype, shape=declared_shape(spec, mode))
               for i, spec in enumerate(case.inputs)]
    return symbols, values


def _missing(case: Case, mode: str) -> list[str]:
    needed = case.requires + (case.dynamic_requires if mode == "dynamic" else ())
    return [n for n in needed if not _available(n)]


@pytest.mark.parametrize(("case", "mode"), PARAMS)
def test_op(case: Case, mode: str) -> None:
    missing = _missing(case, mode)
    if missing:
        pytest.skip(f"not implemented yet: {', '.join(missing)}")
    symbols, values = _build_inputs(case, mode)
    originals = [v.copy() for v in values]
    if case.refuse is not None:  # a documented refusal (complex where graphwright has no complex form)
        with pytest.raises(TypeError, match=case.refuse):
            case.build(*symbols)
        return
    assert case.ref is not None, f"no reference function for {case.id}: add the row to ELEMWISE_REFS"

    # The dtype NumPy gives (or the error it raises) decides what graphwright must do.
    try:
        with np.errstate(all="ignore"):
            dtype_probe = _as_list((case.dtype_ref or case.ref)(*values))
    except (TypeError, OverflowError) as exc:  # NumPy refuses these dtypes/values: so must graph building
        with pytest.raises(TypeError if isinstance(exc, TypeError) else OverflowError):
            case.build(*symbols)
        return
    expected_dtypes = [_expected_dtype(case, a) for a in dtype_probe]

    out = case.build(*symbols)
    outs = _as_list(out)
    got = _as_list(gw.function(symbols, outs)(*values))
    for v, o in zip(values, originals, strict=True):
        np.testing.assert_array_equal(v, o, err_msg="the compiled function modified its input")

    ref_inputs = values
    if case.upcast and all(np.dtype(d).kind == "f" for d in expected_dtypes) and all(
            v.dtype.kind != "c" for v in values):
        ref_inputs = [v.astype("float64") for v in values]  # accurate reference for float results
    with np.errstate(all="ignore"):
        expected = [np.asarray(e) for e in _as_list(case.ref(*ref_inputs))]

    assert len(got) == len(expected) == len(outs), f"{len(got)} outputs, expected {len(expected)}"
    for k, (g, e, var, dtype) in enumerate(zip(got, expected, outs, expected_dtypes, strict=True)):
        where = f"{case.id} output {k}"
        assert isinstance(g, np.ndarray), f"{where}: got {type(g).__name__}, not an ndarray"
        assert var.type.dtype == dtype, f"{where}: static dtype {var.type.dtype}, NumPy gives {dtype}"
        assert g.dtype == dtype, f"{where}: runtime dtype {g.dtype}, NumPy gives {dtype}"
        assert g.shape == e.shape, f"{where}: shape {g.shape}, NumPy gives {e.shape}"
        static = var.type.shape
        compatible = len(static) == g.ndim and all(
            s is None or s == n for s, n in zip(static, g.shape, strict=True))
        assert compatible, f"{where}: static shape {static} contradicts the runtime shape {g.shape}"
        if g.dtype.kind in "fc":
            rtol, atol = TOLERANCES[g.dtype.name]
            np.testing.assert_allclose(g, e.astype("complex128" if g.dtype.kind == "c" else "float64"),
                                       rtol=case.rtol or rtol, atol=case.atol or atol, equal_nan=True, err_msg=where)
        else:
            np.testing.assert_array_equal(g, e, err_msg=where, strict=False)


# ---------------------------------------------------------------------------------------------------------
# Completeness
# ---------------------------------------------------------------------------------------------------------


def test_reference_dict_matches_table() -> None:
    missing = sorted(set(SCALAR_OPS) - set(ELEMWISE_REFS))
    stale = sorted(set(ELEMWISE_REFS) - set(SCALAR_OPS))
    assert not missing, f"rows of SCALAR_OPS without a reference in ELEMWISE_REFS: {missing}"
    assert not stale, f"ELEMWISE_REFS has rows that SCALAR_OPS no longer has: {stale}"


def _tensor_op_classes() -> dict[str, type]:
    classes = {}
    for info in pkgutil.iter_modules(TENSOR_PACKAGE.__path__, "graphwright.tensor."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Op) and obj is not Op and obj.__module__ == info.name:
                classes[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return classes


def test_every_op_and_row_is_exercised() -> None:
    """Every Op class of graphwright.tensor.* and every row of SCALAR_OPS appears in some case's graph."""
    op_types: set[type] = set()
    rows: set[str] = set()
    for case in ALL_CASES:
        for mode in case.modes:
            if _missing(case, mode):
                continue
            symbols, _ = _build_inputs(case, mode)
            try:
                outs = _as_list(case.build(*symbols))
            except (TypeError, OverflowError, ValueError):
                continue  # cases that must raise (or fail in test_op) build nothing
            for node in toposort(outs):
                op_types.add(type(node.op))
                if isinstance(node.op, Elemwise):
                    rows.add(node.op.scalar_op.name)
    unused = [name for name, cls in _tensor_op_classes().items()
              if not any(issubclass(t, cls) for t in op_types)]
    assert not unused, f"Op classes no case exercises: {unused}"
    assert not set(SCALAR_OPS) - rows, f"SCALAR_OPS rows no case exercises: {sorted(set(SCALAR_OPS) - rows)}"


def test_case_table_is_not_empty_per_family() -> None:
    families = {c.family for c in ALL_CASES}
    assert {"elemwise", "shape", "creation", "reduce", "linalg", "indexing", "nn"} <= families



# ---------------------------------------------------------------------------------------------------------
# Fresh buffers: what the in-place planner relies on
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "mode"), [p for p in PARAMS if p.values[1] == "static" and not p.marks])
def test_ops_that_are_not_views_return_fresh_writeable_arrays(case: Case, mode: str) -> None:
    """The in-place phase may overwrite the output of any op not marked ``returns_view``: the NumPy backend
    must give such ops a new, writeable buffer that shares no memory with their inputs (or constants)."""
    from graphwright.backends.numpy_ref import impl_for

    if _missing(case, mode):
        pytest.skip("not implemented yet")
    symbols, values = _build_inputs(case, mode)
    try:
        outs = _as_list(case.build(*symbols))
    except (TypeError, OverflowError, ValueError):
        pytest.skip("an error case")
    env = {id(s): v for s, v in zip(symbols, values, strict=True)}
    for node in toposort(outs):
        args = [env[id(v)] if id(v) in env else v.data for v in node.inputs]
        with np.errstate(all="ignore"):
            try:
                result = impl_for(node)(*args)
            except Exception:  # noqa: BLE001 - error cases are test_op's business
                pytest.skip("the case raises at run time")
        results = list(result) if len(node.outputs) > 1 else [result]
        for out, value in zip(node.outputs, results, strict=True):
            env[id(out)] = value
            if node.op.returns_view or not isinstance(value, np.ndarray) or value.ndim == 0:
                continue
            where = f"{node.op.short_name()} in {case.id}"
            assert value.flags.writeable, f"{where} returns a read-only array but is not marked returns_view"
            for a in args:
                if isinstance(a, np.ndarray):
                    assert not np.shares_memory(value, a), f"{where} returns a view of an input"
