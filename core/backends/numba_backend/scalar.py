"""One element of each row of the scalar table, as Numba-compilable source.

``scalar_expr(row, args, in_dtypes, out_dtype)`` gives an expression over the scalar argument names ``args``;
the names it uses live in ``SCALAR_NAMESPACE`` (``math``, ``np`` and the ``_s_*`` helpers below and in
:mod:`graphwright.backends.numba_backend.scalar_special`, compiled with Numba). The kernel generator casts
every result to the row's output dtype, so an expression may compute in a wider type.

The expressions follow the row's NumPy reference: arguments are first converted to the dtype NumPy's loop
computes in (the output dtype for arithmetic, the promoted dtype for comparisons), integer arithmetic wraps,
integer division and remainder by zero give 0 and ``pow`` of integers to negative powers raises ValueError
as NumPy does. Float rows on integer inputs compute in the output precision, like the reference backend;
rows whose reference is SciPy (erf, gammaln, ...) or one of the table's own functions compute in float64.
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from graphwright.backends.numba_backend.scalar_special import SPECIAL_NAMESPACE, _jit
from graphwright.tensor.scalar_ops import ScalarOp
from graphwright.tensor.type import COMPLEX_DTYPES, FLOAT_DTYPES, UINT_DTYPES, promote_dtypes

__all__ = ["SCALAR_NAMESPACE", "scalar_expr", "UnsupportedRow"]


class UnsupportedRow(KeyError):
    """No Numba form of this row (for these dtypes)."""


# ----------------------------------------------------------------------------------------------- helpers


@_jit
def _s_int_floordiv(a, b):
    """NumPy's floor division of int64 values: the quotient rounded down, 0 for b == 0, wrapping MIN // -1."""
    if b == 0:
        return 0 * a
    if b == -1:
        return -a
    return a // b


@_jit
def _s_int_mod(a, b):
    """NumPy's remainder of int64 values: the sign of the divisor, 0 for b == 0 (and b == -1)."""
    if b == 0 or b == -1:
        return 0 * a
    return a % b


@_jit
def _s_int_pow(a, b):
    """a ** b for int64 values by repeated squaring (wrapping as NumPy does); ValueError for b < 0 like NumPy."""
    if b < 0:
        raise ValueError("Integers to negative integer powers are not allowed.")
    result = 1 + 0 * a
    while b:
        if b & 1:
            result *= a
        a *= a
        b >>= 1
    return result


@_jit
def _s_uint_floordiv(a, b):
    """NumPy's floor division of uint64 values: 0 for b == 0."""
    if b == 0:
        return a - a
    return a // b


@_jit
def _s_uint_mod(a, b):
    """NumPy's remainder of uint64 values: 0 for b == 0."""
    if b == 0:
        return a - a
    return a % b


@_jit
def _s_uint_pow(a, b):
    """a ** b for uint64 values by repeated squaring, wrapping as NumPy does (every constant is a uint64:
    Numba gives float64 for uint64 mixed with int64)."""
    one = np.uint64(1)
    result = one
    while b:
        if b & one:
            result *= a
        a *= a
        b >>= one
    return result


@_jit
def _s_float_to_uint64(x):
    """A float as uint64 the way NumPy's C cast does on x86-64: below 2**63 through int64 (negative values wrap),
    above it directly."""
    if x < 9.223372036854775808e18:
        return np.uint64(np.int64(x))
    return np.uint64(x)


@_jit
def _s_cdiv(a, b):
    """Complex a / b as NumPy's loop computes it (Smith's method, scaled by the reciprocal of the larger
    part of b; a zero divisor gives each part of a over +0), where Numba would raise on a zero divisor.
    ``np.float32(1)`` keeps the parts' precision (float32 with float64 is float64)."""
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    one = np.float32(1)
    if abs(br) >= abs(bi):
        if br == 0 and bi == 0:
            return complex(ar / abs(br), ai / abs(br))
        rat = bi / br
        scl = one / (br + bi * rat)
        return complex((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    rat = br / bi
    scl = one / (bi + br * rat)
    return complex((ar * rat + ai) * scl, (ai * rat - ar) * scl)


@_jit
def _s_cexp(z):
    """Complex exp as NumPy's: a real argument stays real (exp(1e20 + 0j) is inf + 0j, not inf + nan j)."""
    if z.imag == 0:
        return complex(math.exp(z.real), z.imag)
    return cmath.exp(z)


@_jit
def _s_floordiv(a, b):
    """NumPy's floor division of floats: floor((a - fmod(a, b)) / b), corrected when the remainder's sign
    differs from the divisor's or the quotient lands just under an integer; a / b for b == 0; the sign of
    a / b on a zero quotient."""
    if b == 0.0:
        return a / b
    m = np.fmod(a, b)
    d = (a - m) / b
    if m != 0.0 and (b < 0.0) != (m < 0.0):
        d -= 1.0
    if d == 0.0:
        return math.copysign(0.0, a / b)
    q = np.floor(d)
    if d - q > 0.5:
        q += 1.0
    return q


@_jit
def _s_mod(a, b):
    """NumPy's remainder of floats: fmod(a, b) moved to the divisor's sign; a zero takes the divisor's sign;
    nan for b == 0 and for infinite a."""
    m = np.fmod(a, b)
    if m != 0.0:
        if (b < 0.0) != (m < 0.0):
            m += b
        return m
    return math.copysign(0.0, b)


@_jit
def _s_sign(x):
    """NumPy's sign of a float: -1, 0 (also for -0.0) or 1, nan for nan."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    if x == 0:
        return 0.0
    return x + 0.0


@_jit
def _s_int_sign(x):
    """The sign of an integer: -1, 0 or 1."""
    if x > 0:
        return 1
    return -1 if x < 0 else 0


@_jit
def _s_maximum(a, b):
    """NumPy's maximum: nan if either is nan; of two equal values (+-0.0) the second."""
    return a if (a > b or a != a) else b


@_jit
def _s_minimum(a, b):
    """NumPy's minimum: nan if either is nan; of two equal values (+-0.0) the second."""
    return a if (a < b or a != a) else b


@_jit
def _s_clip(x, lo, hi):
    """NumPy's clip: minimum(maximum(x, lo), hi), nan from any argument propagating; hi wins if lo > hi."""
    return _s_minimum(_s_maximum(x, lo), hi)


SCALAR_NAMESPACE: dict = {"math": math, "cmath": cmath, "np": np, **SPECIAL_NAMESPACE}
SCALAR_NAMESPACE.update({name: value for name, value in globals().items() if name.startswith("_s_")})

# ----------------------------------------------------------------------------------------------- the rows

# The float rows (dtype rule "float") follow one rule, ``_float_form``: a helper ``_s_<name>`` of
# scalar_special.py is called in float64, as is ``math.<name>`` for a row whose reference is SciPy (which
# computes in double); any other row calls ``math.<name>`` (NumPy's ``arc`` spelled ``a``: math.asin) or else
# ``np.<name>``, in the output dtype. The exceptions, each with the reason:
_NUMBA_OVERRIDES = {
    "exp2": "np.exp2({0})",  # NumPy's own exp2 loop, as the reference (math.exp2 is libm's)
    "reciprocal": "(np.{dt}(1) / {0})",  # no function of that name; 1 / x in the output dtype, as NumPy
}
_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "and": "&", "or": "|", "xor": "^"}
_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "neq": "!="}
_SMALL_INTS = ("int8", "int16", "uint8", "uint16")
# complex rows (output dtype complex) whose Numba form differs from the real one (NumPy's edge cases kept)
_COMPLEX_NATIVE = {"exp": "_s_cexp({0})", "true_div": "_s_cdiv({0}, {1})", "log": "cmath.log({0})",
                   "sqrt": "cmath.sqrt({0})"}


def _float_form(row: ScalarOp) -> tuple[str, bool] | None:
    """The expression template of a float row (``{0}``, ``{1}``: its arguments, ``{dt}``: the compute dtype)
    and whether it computes in float64, by the rule above; None for the other rows.

    Examples
    --------
    >>> from graphwright.tensor.scalar_ops import SCALAR_OPS
    >>> _float_form(SCALAR_OPS["arcsin"]), _float_form(SCALAR_OPS["erfcx"]), _float_form(SCALAR_OPS["add"])
    (('math.asin({0})', False), ('_s_erfcx({0})', True), None)
    """
    if row.dtype_rule != "float":
        return None
    if row.name in _NUMBA_OVERRIDES:
        return _NUMBA_OVERRIDES[row.name], False
    return _by_name(row)


def _by_name(row: ScalarOp) -> tuple[str, bool] | None:
    """A float row's template and whether it computes in float64, by the rule alone (overrides aside)."""
    name = row.name
    args = ", ".join(f"{{{k}}}" for k in range(row.nin))
    if f"_s_{name}" in SPECIAL_NAMESPACE:
        return f"_s_{name}({args})", True
    math_name = name.replace("arc", "a", 1)
    if hasattr(math, math_name):
        return f"math.{math_name}({args})", row.scipy_reference
    return (f"np.{name}({args})", row.scipy_reference) if hasattr(np, name) else None


def _cast(expr: str, src: str, dst: str) -> str:
    """``expr`` (of dtype ``src``) converted to ``dst`` as NumPy's ``astype`` does.

    Floats go to the small integer types through int32, as NumPy's C casts do on x86, so finite values that
    overflow the small type wrap the same way.
    """
    if src == dst:
        return expr
    if dst == "bool":
        return f"({expr} != 0)"
    if src in FLOAT_DTYPES and dst in _SMALL_INTS:
        return f"np.{dst}(np.int32({expr}))"
    if src in FLOAT_DTYPES and dst == "uint32":  # through int64, as NumPy's C cast on x86-64
        return f"np.uint32(np.int64({expr}))"
    if src in FLOAT_DTYPES and dst == "uint64":
        return f"_s_float_to_uint64({expr})"
    return f"np.{dst}({expr})"


def _fold(row: ScalarOp, args: list[str], in_dtypes: tuple[str, ...]) -> str:
    """add/mul over two or more arguments, folded pairwise as the reference does, each step in its dtype."""
    op = _INFIX[row.name]
    acc, acc_dtype = args[0], in_dtypes[0]
    for k in range(1, len(args)):
        if k > 1:  # the previous step's value in its dtype (wrapped, rounded; bool: or/and), as NumPy stores it
            acc = f"({acc} != 0)" if acc_dtype == "bool" else f"np.{acc_dtype}({acc})"
        step = row.output_dtype(acc_dtype, in_dtypes[k])
        acc = f"({_cast(acc, acc_dtype, step)} {op} {_cast(args[k], in_dtypes[k], step)})"
        acc_dtype = step
    return acc


def _int_or_float(name: str, a: list[str], dt: str) -> str:
    """int_div / mod / pow / sign / abs / neg / sqr / floor / ceil / round / not on arguments of dtype ``dt``."""
    is_float = dt in FLOAT_DTYPES
    if name in ("int_div", "mod", "pow"):
        if is_float:
            f64 = [_cast(x, dt, "float64") for x in a]
            return {"int_div": "_s_floordiv({0}, {1})", "mod": "_s_mod({0}, {1})",
                    "pow": "({0} ** {1})"}[name].format(*(a if name == "pow" else f64))
        if dt == "uint64":  # uint64 does not fit int64
            helper = {"int_div": "_s_uint_floordiv", "mod": "_s_uint_mod", "pow": "_s_uint_pow"}[name]
            return f"{helper}({a[0]}, {a[1]})"
        i64 = [_cast(x, dt, "int64") for x in a]
        return {"int_div": "_s_int_floordiv", "mod": "_s_int_mod", "pow": "_s_int_pow"}[name] + f"({i64[0]}, {i64[1]})"
    x = a[0]
    if name == "sign":
        return f"_s_sign({x})" if is_float else f"_s_int_sign({x})"
    if name == "abs":
        return f"np.abs({x})" if dt != "bool" and dt not in UINT_DTYPES else x  # complex: the modulus
    if name == "neg":
        return f"(-{x})"
    if name == "sqr":
        return f"({x} * {x})"
    if name in ("floor", "ceil"):
        return f"np.{name}({x})" if is_float else x
    if name == "round":
        return f"np.rint({x})" if is_float else x
    if name == "not":
        return f"(not {x})" if dt == "bool" else f"(~{x})"
    raise UnsupportedRow(name)


def scalar_expr(row: ScalarOp, args: list[str], in_dtypes: tuple[str, ...], out_dtype: str) -> str:
    """The Numba expression for one element of ``row`` applied to the scalars named ``args``.

    Parameters
    ----------
    row : ScalarOp
        A row of :data:`graphwright.tensor.scalar_ops.SCALAR_OPS`.
    args : list of str
        The names of the scalar arguments (two or more for the variadic rows add and mul).
    in_dtypes : tuple of str
        The arguments' dtypes.
    out_dtype : str
        The row's output dtype for these inputs (``row.output_dtype(*in_dtypes)``).

    Returns
    -------
    str
        A Python expression over ``args`` and the names in :data:`SCALAR_NAMESPACE`; stored into an array of
        ``out_dtype``, it gives what the row's NumPy reference gives.

    Raises
    ------
    UnsupportedRow
        If the row has no Numba form for these dtypes.

    Examples
    --------
    >>> from graphwright.tensor.scalar_ops import SCALAR_OPS
    >>> scalar_expr(SCALAR_OPS["add"], ["a", "b"], ("float64", "float64"), "float64")
    '(a + b)'
    >>> scalar_expr(SCALAR_OPS["exp"], ["x"], ("int8",), "float32")
    'math.exp(np.float32(x))'
    >>> scalar_expr(SCALAR_OPS["lt"], ["x", "y"], ("int64", "float64"), "bool")
    '(np.float64(x) < y)'
    """
    name = row.name
    if len(args) != (row.nin if row.nin > 0 else max(len(args), 2)) or len(args) != len(in_dtypes):
        raise UnsupportedRow(f"{name}: {len(args)} arguments with dtypes {in_dtypes}")
    if name in ("add", "mul"):
        return _fold(row, args, in_dtypes)
    if name.startswith("cast_"):
        return _cast(args[0], in_dtypes[0], name[5:])
    if name in _COMPARE:
        common = promote_dtypes(*in_dtypes)
        a, b = (_cast(x, d, common) for x, d in zip(args, in_dtypes, strict=True))
        return f"({a} {_COMPARE[name]} {b})"
    if name in ("isnan", "isinf"):
        return f"math.{name}({args[0]})" if in_dtypes[0] in FLOAT_DTYPES else "False"
    if name == "switch":
        a, b = (_cast(x, d, out_dtype) for x, d in zip(args[1:], in_dtypes[1:], strict=True))
        return f"({a} if {args[0]} else {b})"
    if out_dtype in COMPLEX_DTYPES and name in _COMPLEX_NATIVE:  # in the output (complex) dtype
        return _COMPLEX_NATIVE[name].format(*(_cast(x, d, out_dtype) for x, d in zip(args, in_dtypes, strict=True)))
    form = _float_form(row)
    if form is not None:
        template, in_float64 = form
        compute = "float64" if in_float64 else out_dtype
        return template.format(*(_cast(x, d, compute) for x, d in zip(args, in_dtypes, strict=True)), dt=compute)
    # every other row computes in its output dtype (NumPy's loop dtype), except round and the rows that
    # keep their (single) input's dtype
    keeps_input = name == "round" or (name == "abs" and in_dtypes[0] in COMPLEX_DTYPES)  # abs: complex -> real
    compute = in_dtypes[0] if keeps_input else out_dtype
    a = [_cast(x, d, compute) for x, d in zip(args, in_dtypes, strict=True)]
    if name in _INFIX:
        return f"({a[0]} {_INFIX[name]} {a[1]})"
    if name in ("maximum", "minimum", "clip"):
        return f"_s_{name}({', '.join(a)})"
    if name == "round" and compute == "bool":  # np.round of bools gives (rounded) floats
        return _cast(a[0], "bool", out_dtype)
    return _int_or_float(name, a, compute)
