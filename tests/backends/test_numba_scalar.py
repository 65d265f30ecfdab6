"""The Numba form of every row of the scalar table matches the row's NumPy reference, element by element.

Each case compiles a tiny njit loop (``out[j] = <expr>``, the store casting to the output dtype, as the
elementwise kernels do; every other case wraps the expression in the ``np.<dtype>(...)`` cast that fused
kernels put on intermediate results) and compares it with ``row.numpy`` plus the reference backend's cast, on
grids inside the row's domain and on special values: nan, +-inf, +-0, huge, tiny, subnormal, domain edges.
"""

from __future__ import annotations

import ast
import itertools
import math

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from graphwright.backends.numba_backend.scalar import SCALAR_NAMESPACE, UnsupportedRow, scalar_expr  # noqa: E402
from graphwright.tensor.scalar_ops import SCALAR_OPS  # noqa: E402
from graphwright.tensor.type import DTYPES  # noqa: E402

# (row, input dtypes) without a Numba form, with the reason; every other accepted combination must have one
UNSUPPORTED: dict[tuple[str, tuple[str, ...]], str] = {}

# Relative tolerances: float64 1e-13, float32 1e-5 unless listed (float32 references like logaddexp round more
# than the float64 computations here); the absolute tolerance is the dtype's smallest normal number.
RTOL64: dict[str, float] = {}
RTOL32: dict[str, float] = {}

# Rows whose SciPy reference is itself inexact near roots and poles (gammaln near 1 and its negative roots,
# digamma next to the poles, erfcx for x < -20): where it disagrees, the exact value (mpmath) decides.
EXACT = {
    "gammaln": lambda mp, x: mp.log(abs(mp.gamma(x))),
    "digamma": lambda mp, x: mp.digamma(x),
    "erfcx": lambda mp, x: mp.exp(x * x) * mp.erfc(x),
}

_KERNELS: dict[tuple[str, int], object] = {}


def _kernel(expr: str, nargs: int):
    """An njit loop applying ``expr`` (over a0, a1, ...) to 1-d arrays, cached per source."""
    key = (expr, nargs)
    if key not in _KERNELS:
        xs = ", ".join(f"x{i}" for i in range(nargs))
        loads = "".join(f"        a{i} = x{i}[j]\n" for i in range(nargs))
        src = f"def kernel(out, {xs}):\n    for j in range(out.shape[0]):\n{loads}        out[j] = {expr}\n"
        namespace = dict(SCALAR_NAMESPACE)
        exec(src, namespace)  # noqa: S102 - test-generated source
        _KERNELS[key] = numba.njit(error_model="numpy")(namespace["kernel"])
    return _KERNELS[key]


def run_numba(row, xs: list[np.ndarray], wrap: bool) -> np.ndarray:
    dtypes = tuple(x.dtype.name for x in xs)
    out_dtype = row.output_dtype(*dtypes)
    expr = scalar_expr(row, [f"a{i}" for i in range(len(xs))], dtypes, out_dtype)
    if wrap:
        expr = f"bool({expr})" if out_dtype == "bool" else f"np.{out_dtype}({expr})"
    out = np.empty(xs[0].shape, dtype=out_dtype)
    _kernel(expr, len(xs))(out, *xs)
    return out


def reference(row, xs: list[np.ndarray]) -> np.ndarray:
    """What the NumPy backend computes (see elemwise_impl): float rows on integers compute in the output dtype."""
    out_dtype = row.output_dtype(*(x.dtype.name for x in xs))
    with np.errstate(all="ignore"):
        if row.dtype_rule == "float" and any(x.dtype.kind != "f" for x in xs):
            return np.asarray(row.numpy(*(x.astype(out_dtype) for x in xs)))
        return np.asarray(row.numpy(*xs)).astype(out_dtype)


# --------------------------------------------------------------------------------------------- test values

_SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 2.0, -2.0,
            3.0, -3.0, 10.0, -10.0, 30.0, -30.0, 100.0, -100.0, 1e-8, -1e-8, 1e-300, -1e-300, 5e-324, -5e-324,
            2.2250738585072014e-308, 1e20, -1e20, 1e300, -1e300, 1.7976931348623157e308, -1.7976931348623157e308,
            700.0, -700.0, -745.5, -750.0, 800.0, -800.0, 26.7, -26.7, 1e-45, 1e-40, 88.5, -88.5, -104.0, 3e38,
            -0.6931471805599453, -0.6931471805599454, -0.6931471805599452, 0.9999999999999999, -0.9999999999999999,
            1.4616321449683622, -2.457024738220137, 127.0, -128.0, 255.0, 300.0, -129.5, 65535.5, 2.0**31 - 1]
_SPECIAL_SMALL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, -7.0, 1e-300, 5e-324,
                  1e20, 1e300]


def _grid(lo: float, hi: float, n: int) -> list[float]:
    """n points across the interval (its finite part capped at +-40) plus log-spaced ones toward its ends."""
    pts = list(np.linspace(max(lo, -40.0), min(hi, 40.0), n))
    if hi == math.inf:
        pts += list(np.logspace(0, 15, n // 2))
    if lo == -math.inf:
        pts += list(-np.logspace(0, 15, n // 2))
    if lo == 0.0:
        pts += list(np.logspace(-12, 0, n // 2))
    return pts + [lo, hi]


def _values(dtype: str, domain: tuple[float, float], small: bool) -> np.ndarray:
    if dtype == "bool":
        return np.array([False, True])
    if dtype in ("complex64", "complex128"):  # finite real parts of the domain, with a few imaginary parts
        real = _values("float64", domain, True)
        real = real[np.isfinite(real)]
        return (real[:, None] + 1j * np.array([0.0, 0.5, -2.0])[None, :]).reshape(-1).astype(dtype)
    if dtype in ("float32", "float64"):
        vals = _grid(*domain, 9 if small else 41) + (_SPECIAL_SMALL if small else _SPECIAL)
        with np.errstate(all="ignore"):
            return np.array(vals, dtype=np.float64).astype(dtype)
    info = np.iinfo(dtype)
    vals = [info.min, info.min + 1, -100, -7, -3, -2, -1, 0, 1, 2, 3, 5, 7, 100, info.max - 1, info.max]
    return np.array(sorted({v for v in vals if info.min <= v <= info.max}), dtype=dtype)


def inputs(row, dtypes: tuple[str, ...]) -> list[np.ndarray]:
    """Every combination of test values for the row's inputs (minus those the row leaves undefined)."""
    domains = row.domain or ((-math.inf, math.inf),) * len(dtypes)
    domains = domains + (domains[-1],) * (len(dtypes) - len(domains))  # variadic rows
    small = len(dtypes) > 1
    columns = [_values(d, dom, small) for d, dom in zip(dtypes, domains, strict=True)]
    xs = [np.array(c) for c in zip(*itertools.product(*columns), strict=True)]
    xs = [x.astype(d) for x, d in zip(xs, dtypes, strict=True)]
    keep = np.ones(xs[0].shape, bool)
    if row.name == "pow" and dtypes[1] != "bool" and np.dtype(row.output_dtype(*dtypes)).kind in "iu":
        keep &= xs[1] >= 0  # negative integer powers raise: test_int_pow_negative_exponent
    target = row.name[5:] if row.name.startswith("cast_") else None
    if target and target not in ("bool", "float32", "float64") and dtypes[0] in ("float32", "float64"):
        limit = 2.0**63 if target == "int64" else 2.0**31  # float -> int of finite values (NumPy: x86 casts)
        keep &= np.isfinite(xs[0]) & (np.abs(xs[0].astype(np.float64)) < limit)
    return [x[keep] for x in xs]


# --------------------------------------------------------------------------------------------- the cases

_UNARY = ["float64", "float32", "int64", "int8", "uint8", "bool", "uint16", "uint32", "uint64", "complex64",
          "complex128"]
_BINARY = [("float64", "float64"), ("float32", "float32"), ("int64", "int64"), ("int8", "int8"),
           ("uint8", "uint8"), ("bool", "bool"), ("int8", "uint8"), ("float32", "int16"), ("int64", "float32"),
           ("uint64", "uint64"), ("uint32", "int8"), ("uint64", "int64"), ("complex128", "complex128"),
           ("complex64", "float64")]
_TERNARY = [("float64",) * 3, ("float32",) * 3, ("int64",) * 3, ("bool",) * 3, ("int8", "uint8", "int8"),
            ("float32", "int8", "float64")]
_VARIADIC = [("float32", "float32", "float32"), ("int8", "int8", "float32"), ("bool", "bool", "int8"),
             ("uint8", "int8", "int16", "float64")]


def _accepts(row, dtypes) -> bool:
    try:
        row.output_dtype(*dtypes)
    except TypeError:
        return False
    return True


def _cases():
    for name, row in SCALAR_OPS.items():
        combos = {1: [(d,) for d in _UNARY], 2: _BINARY, 3: _TERNARY}[abs(row.nin) if row.nin > 0 else 2]
        if row.nin < 0:
            combos = combos + _VARIADIC
        if name.startswith("cast_"):
            combos = combos + [("int32",), ("int16",)]
        accepted = [c for c in combos if _accepts(row, c) and (name, c) not in UNSUPPORTED]
        for i, dtypes in enumerate(accepted):
            yield pytest.param(name, dtypes, i % 2 == 1, id=f"{name}-{'-'.join(dtypes)}")


def _close(ours: np.ndarray, want: np.ndarray, rtol: float) -> np.ndarray:
    with np.errstate(all="ignore"):
        close = np.abs(ours - want) <= np.finfo(want.dtype).tiny + rtol * np.abs(want)
    zero_sign = (ours == 0) & (want == 0) & (np.signbit(ours) != np.signbit(want))
    return ((ours == want) | (np.isnan(ours) & np.isnan(want)) | close) & ~zero_sign


def _exact(row, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        return np.array([float(EXACT[row.name](mpmath, mpmath.mpf(float(v)))) for v in x]).astype(dtype)


def _check(row, ours: np.ndarray, ref: np.ndarray, xs) -> None:
    assert ours.dtype == ref.dtype
    if ref.dtype.kind == "c":
        with np.errstate(all="ignore"):
            bad = ~np.isclose(ours, ref, rtol=1e-5 if ref.dtype == np.complex64 else 1e-13, atol=0, equal_nan=True)
    elif ref.dtype.kind == "f":
        rtol = RTOL32.get(row.name, 1e-5) if ref.dtype == np.float32 else RTOL64.get(row.name, 1e-13)
        bad = ~_close(ours, ref, rtol)
        if bad.any() and row.name in EXACT and bad.sum() <= 20:
            bad[bad] = ~_close(ours[bad], _exact(row, xs[0][bad], ref.dtype), rtol)
    else:
        bad = ours != ref
    if bad.any():
        where = [x[bad][:6].tolist() for x in xs]
        raise AssertionError(f"{row.name}{tuple(x.dtype.name for x in xs)}: {bad.sum()} of {bad.size} differ; "
                             f"at {where} got {ours[bad][:6].tolist()}, want {ref[bad][:6].tolist()}")


@pytest.mark.parametrize(("name", "dtypes", "wrap"), list(_cases()))
def test_row_matches_reference(name, dtypes, wrap):
    row = SCALAR_OPS[name]
    xs = inputs(row, dtypes)
    _check(row, run_numba(row, xs, wrap), reference(row, xs), xs)


def test_every_row_has_a_numba_form():
    """Every accepted (row, dtypes) has an expression over its arguments and SCALAR_NAMESPACE's names."""
    for name, helper in SCALAR_NAMESPACE.items():
        jitted = isinstance(helper, numba.core.dispatcher.Dispatcher)
        assert name in ("math", "cmath", "np") or (name.startswith("_s_") and jitted), name
    missing = []
    for name, row in SCALAR_OPS.items():
        n = row.nin if row.nin > 0 else 2
        for dtypes in itertools.product(DTYPES, repeat=n) if n < 3 else [(d,) * n for d in DTYPES]:
            if not _accepts(row, dtypes) or (name, dtypes) in UNSUPPORTED:
                continue
            args = [f"v{i}" for i in range(n)]
            try:
                expr = scalar_expr(row, args, dtypes, row.output_dtype(*dtypes))
            except UnsupportedRow:
                missing.append((name, dtypes))
                continue
            used = {node.id for node in ast.walk(ast.parse(expr, mode="eval")) if isinstance(node, ast.Name)}
            assert used <= set(args) | set(SCALAR_NAMESPACE), (name, dtypes, expr)
    assert not missing, f"rows without a Numba form: {missing}"


@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int8", "int32")])
def test_int_pow_negative_exponent(dtypes):
    """Integers to negative integer powers raise ValueError, as the reference does."""
    row = SCALAR_OPS["pow"]
    xs = [np.array([2, 3]).astype(dtypes[0]), np.array([1, -1]).astype(dtypes[1])]
    with pytest.raises(ValueError, match="negative integer powers"):
        reference(row, xs)
    with pytest.raises(ValueError, match="negative integer powers"):
        run_numba(row, xs, wrap=False)


def test_argument_names_are_free():
    """Expressions use the names they are given (a fused kernel's own variable names), nothing else."""
    expr = scalar_expr(SCALAR_OPS["clip"], ["t_3", "lo", "hi"], ("int8", "uint8", "float32"), "float32")
    used = {node.id for node in ast.walk(ast.parse(expr, mode="eval")) if isinstance(node, ast.Name)}
    assert {"t_3", "lo", "hi"} <= used <= {"t_3", "lo", "hi"} | set(SCALAR_NAMESPACE)


def test_wrong_arity_is_refused():
    with pytest.raises(UnsupportedRow):
        scalar_expr(SCALAR_OPS["exp"], ["a", "b"], ("float64", "float64"), "float64")
    with pytest.raises(UnsupportedRow):
        scalar_expr(SCALAR_OPS["add"], ["a"], ("float64",), "float64")
