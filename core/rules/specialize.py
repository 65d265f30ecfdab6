"""Specialize: replace general elementwise operations by cheaper special cases (``x ** 2 -> sqr(x)`` ...).

The phase runs after canonicalize and stabilize, on graphs whose additions and products are flat variadic
nodes. Every rule here keeps the dtype exactly: where the special op would choose another dtype than the
general one (``sqrt`` of an int8 is float32, ``int8 ** 0.5`` is float64) the operand is cast to the output
dtype first, which also makes the arithmetic happen in the precision the original did. A rule whose special
form would broadcast to another static shape (a literal exponent with more dimensions than the base) does not
apply. Variadic products and sums are evaluated pairwise from the left (as canonicalize keeps them): the rules
that merge factors merge only a leading run and keep the order of the rest, so every partial product, and so
where the result overflows or an integer wraps around, stays as it was.

The reductions (``sum(a * X) -> a * sum(X)`` ...) live in :mod:`graphwright.rules.specialize_reduce`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from graphwright.graph.basic import Constant, Variable
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.rewrite.pattern import constant_value
from graphwright.tensor import elemwise as ew
from graphwright.tensor.creation import zeros_like
from graphwright.tensor.variable import constant

__all__ = ["RULES", "fit", "operands", "is_float", "product", "power"]

MAX_POWER = 8  # x ** n for integral |n| up to this becomes multiplications (repeated squaring)


# --- helpers shared with specialize_reduce -----------------------------------------------------------------------

def is_float(dtype: str) -> bool:
    """True for the floating-point dtypes."""
    return dtype.startswith("float")


def operands(var: Variable, name: str) -> Sequence[Variable] | None:
    """The inputs of ``var``'s node when it is the elementwise op ``name``, else None."""
    return var.owner.inputs if ew.is_elemwise(var, name) else None


def fit(var: Variable, new: Variable | None) -> Variable | None:
    """``new`` when it can replace ``var``: the same dtype and a static shape at least as specific, else None.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> fit(x ** 2, gw.sqr(x))
    sqr(x)
    >>> fit(x ** np.full((2, 3), 2.0), gw.sqr(x)) is None  # the literal broadcasts x to a matrix
    True
    """
    if new is None or new.type.dtype != var.type.dtype or not new.type.is_refinement_of(var.type):
        return None
    return new


def product(factors: Sequence[Variable]) -> Variable:
    """The product of one or more factors (a single factor is returned as it is)."""
    return factors[0] if len(factors) == 1 else ew.mul(*factors)


def power(x: Variable, n: int) -> Variable:
    """``x ** n`` for an integer ``n >= 1`` by repeated squaring: ``x ** 4 = sqr(sqr(x))``.

    Examples
    --------
    >>> import graphwright as gw
    >>> power(gw.vector("x"), 7)
    sqr(sqr(x) * x) * x
    """
    if n == 1:
        return x
    half = ew.sqr(power(x, n // 2))
    return ew.mul(half, x) if n % 2 else half


def _same_dtype(factors: Sequence[Variable], dtype: str) -> bool:
    return all(f.type.dtype == dtype for f in factors)


# --- powers ------------------------------------------------------------------------------------------------------

def _pow_rule(name: str, identity: str, wanted: Callable[[float], bool], make: Callable[[Variable, float], Variable],
              float_only: bool = True):
    """A rule for ``x ** c`` with a literal exponent ``c`` (a constant whose elements are all equal)."""

    def fn(var: Variable, ctx) -> Variable | None:
        ins = operands(var, "pow")
        c = None if ins is None else constant_value(ins[1])
        out = var.type.dtype
        if c is None or not wanted(c) or out == "bool" or (float_only and not is_float(out)):
            return None
        return fit(var, make(ew.cast(ins[0], out), c))

    fn.__name__ = name
    return function_rule(name, roots=("pow",), identity=identity)(fn)


def _small_int(c: float) -> bool:
    return c.is_integer() and (3 <= abs(c) <= MAX_POWER or c == -2)


def _by_squaring(x: Variable, c: float) -> Variable:
    p = power(x, int(abs(c)))
    return ew.reciprocal(p) if c < 0 else p


def _pow_squaring(var: Variable, ctx) -> Variable | None:
    ins = operands(var, "pow")
    c = None if ins is None else constant_value(ins[1])
    out = var.type.dtype
    if c is None or not _small_int(c) or out == "bool" or (c < 0 and not is_float(out)):
        return None  # integers to negative powers are an error in NumPy: leave them be
    return fit(var, _by_squaring(ew.cast(ins[0], out), c))


pow_to_sqr = _pow_rule("pow_to_sqr", "x ** 2 = sqr(x)", lambda c: c == 2, lambda x, c: ew.sqr(x), float_only=False)
pow_to_sqrt = _pow_rule("pow_to_sqrt", "x ** 0.5 = sqrt(x)", lambda c: c == 0.5, lambda x, c: ew.sqrt(x))
pow_to_reciprocal = _pow_rule("pow_to_reciprocal", "x ** -1 = reciprocal(x)", lambda c: c == -1,
                              lambda x, c: ew.reciprocal(x))
# sqrt(1 / x), not 1 / sqrt(x): pow(-inf, -0.5) is 0 (C99), and so is sqrt(1 / -inf) = sqrt(-0.0), whereas
# 1 / sqrt(-inf) is NaN. The price: a positive subnormal x (below 1 / max float) gives inf, as pow does on
# backends that flush subnormals to zero.
pow_to_rsqrt = _pow_rule("pow_to_rsqrt", "x ** -0.5 = sqrt(reciprocal(x))", lambda c: c == -0.5,
                         lambda x, c: ew.sqrt(ew.reciprocal(x)))
pow_to_squaring = function_rule(
    "pow_to_squaring", roots=("pow",),
    identity=f"x ** n = repeated squaring for integral 3 <= |n| <= {MAX_POWER} (x ** 4 = sqr(sqr(x)), "
             "x ** 3 = sqr(x) * x, x ** -n = reciprocal(x ** n)); also x ** -2 = reciprocal(sqr(x))")(_pow_squaring)


@function_rule("pow_two_to_exp2", roots=("pow",), identity="2 ** x = exp2(x)")
def pow_two_to_exp2(var: Variable, ctx) -> Variable | None:
    ins = operands(var, "pow")
    out = var.type.dtype
    if ins is None or constant_value(ins[0]) != 2 or not is_float(out) or isinstance(ins[1], Constant):
        return None
    return fit(var, ew.exp2(ew.cast(ins[1], out)))


@function_rule("sqrt_sqr_to_abs", roots=("sqrt",), identity="sqrt(sqr(x)) = abs(x) (floats)")
def sqrt_sqr_to_abs(var: Variable, ctx) -> Variable | None:
    inner = operands(var, "sqrt")[0]
    ins = operands(inner, "sqr")
    if ins is None or not _same_dtype([ins[0], inner], var.type.dtype):
        return None
    return fit(var, ew.abs(ins[0]))


# --- products ----------------------------------------------------------------------------------------------------

def _leading_run(ins: Sequence[Variable], same: Callable[[Variable], bool]) -> int:
    """How many factors from the first on satisfy ``same``.

    A product is evaluated pairwise from the left, ``((f0 * f1) * f2) * ...``, so merging a leading run keeps
    every partial product: the merged form overflows (or wraps around) exactly when the original does. A run
    further right would not: in ``(tiny * x) * x`` the partial product stays finite where ``sqr(x)`` overflows.
    """
    n = 0
    while n < len(ins) and same(ins[n]):
        n += 1
    return n


@function_rule("mul_to_sqr", roots=("mul",),
               identity="x * x = sqr(x), and a leading run x * x * ... * x of n copies = x ** n by repeated squaring")
def mul_to_sqr(var: Variable, ctx) -> Variable | None:
    ins = var.owner.inputs
    x = ins[0]
    if isinstance(x, Constant) or x.type.dtype == "bool":  # constants are left to constant folding
        return None
    n = _leading_run(ins, lambda v: v is x)
    return fit(var, product([power(x, n), *ins[n:]])) if n > 1 else None


def _merge(var: Variable, op: str, same: Callable[[Variable, Variable], bool],
           combine: Callable[[list[Variable], str], Variable]) -> Variable | None:
    """Merge the leading run of ``op`` factors of one float dtype (and ``same`` as the first) into one."""
    ins = var.owner.inputs
    first = ins[0]
    dtype = first.type.dtype
    if not ew.is_elemwise(first, op) or not is_float(dtype):
        return None
    n = _leading_run(ins, lambda v: ew.is_elemwise(v, op) and v.type.dtype == dtype and same(first, v))
    return fit(var, product([combine(list(ins[:n]), dtype), *ins[n:]])) if n > 1 else None


def _sum_of(values: Sequence[Variable], dtype: str) -> Variable:
    """The sum of ``values`` cast to ``dtype``, folded to one constant when they are all constants."""
    if all(isinstance(v, Constant) for v in values):
        total = np.asarray(values[0].data, dtype=dtype)
        for v in values[1:]:
            total = total + np.asarray(v.data, dtype=dtype)
        return constant(np.asarray(total, dtype=dtype))
    return ew.add(*(ew.cast(v, dtype) for v in values))


@function_rule("mul_exp_to_exp_add", roots=("mul",),
               identity="exp(x) * exp(y) = exp(x + y) (a leading run of exp factors)")
def mul_exp_to_exp_add(var: Variable, ctx) -> Variable | None:
    return _merge(var, "exp", lambda first, v: True,
                  lambda run, dtype: ew.exp(_sum_of([e.owner.inputs[0] for e in run], dtype)))


@function_rule("mul_pow_to_pow_add", roots=("mul",),
               identity="a ** x * a ** y = a ** (x + y) (a leading run of powers of one base)")
def mul_pow_to_pow_add(var: Variable, ctx) -> Variable | None:
    return _merge(var, "pow", lambda first, v: v.owner.inputs[0] is first.owner.inputs[0],
                  lambda run, dtype: ew.pow(run[0].owner.inputs[0], _sum_of([p.owner.inputs[1] for p in run], dtype)))


@function_rule("mul_minus_one_to_neg", roots=("mul",), identity="-1 * x = -x")
def mul_minus_one_to_neg(var: Variable, ctx) -> Variable | None:
    ins, out = var.owner.inputs, var.type.dtype
    minus = [v for v in ins if constant_value(v) == -1]
    rest = [v for v in ins if constant_value(v) != -1]
    if not minus or not rest or out in ("bool", "uint8"):
        return None
    if not (_same_dtype(ins, out) or (len(rest) == 1 and rest[0].type.dtype == out)):
        return None  # dropping a factor would change the dtype some partial product is computed in
    rest_product = product(rest)
    return fit(var, ew.neg(rest_product) if len(minus) % 2 else rest_product)


# --- sums and differences ----------------------------------------------------------------------------------------

def _negatable(y: Variable, out: str) -> bool:
    """-y and the subtraction of y agree: floats, or integers already in the output dtype (both wrap alike)."""
    return is_float(y.type.dtype) or (y.type.dtype == out and out not in ("bool", "uint8"))


@function_rule("add_neg_to_sub", roots=("add",), identity="x + (-y) = x - y")
def add_neg_to_sub(var: Variable, ctx) -> Variable | None:
    ins = list(var.owner.inputs)
    i = next((i for i, v in enumerate(ins) if operands(v, "neg") is not None), None)
    if i is None:
        return None
    if i == 0:  # -y + a = a - y exactly: the first pairwise addition commutes
        ins[0], ins[1], i = ins[1], ins[0], 1
    y = operands(ins[i], "neg")[0]
    prefix = ins[0] if i == 1 else ew.add(*ins[:i])  # the sum is evaluated pairwise from the left: keep it so
    diff = ew.sub(prefix, y)
    if not _negatable(y, diff.type.dtype):
        return None
    return fit(var, diff if i + 1 == len(ins) else ew.add(diff, *ins[i + 1:]))


@function_rule("sub_neg_to_add", roots=("sub",), identity="x - (-y) = x + y")
def sub_neg_to_add(var: Variable, ctx) -> Variable | None:
    x, minus = var.owner.inputs
    neg = operands(minus, "neg")
    if neg is None or not _negatable(neg[0], var.type.dtype):
        return None
    return fit(var, ew.add(x, neg[0]))


@function_rule("sub_self_to_zeros", roots=("sub",), identity="x - x = zeros_like(x)")
def sub_self_to_zeros(var: Variable, ctx) -> Variable | None:
    x, y = var.owner.inputs
    return fit(var, zeros_like(x, var.type.dtype)) if x is y else None


# --- divisions ---------------------------------------------------------------------------------------------------

@function_rule("div_to_reciprocal", roots=("true_div",), identity="1 / x = reciprocal(x)")
def div_to_reciprocal(var: Variable, ctx) -> Variable | None:
    one, x = var.owner.inputs
    if constant_value(one) != 1:
        return None
    return fit(var, ew.reciprocal(ew.cast(x, var.type.dtype)))


def _exact_reciprocal(c: float | None, dtype: str) -> float | None:
    """1 / c when ``c`` is a power of two other than 1 whose reciprocal is exact in ``dtype``, else None."""
    if c is None or c in (0.0, 1.0) or not np.isfinite(c):
        return None
    value = np.asarray(c, dtype=dtype)
    with np.errstate(all="ignore"):
        inv = np.asarray(1, dtype=dtype) / value
    if value != c or not np.isfinite(inv) or abs(np.frexp(value)[0]) != 0.5 or inv * value != 1:
        return None
    return float(inv)


@function_rule("div_pow2_to_mul", roots=("true_div",),
               identity="x / c = x * (1 / c) for c a power of two (exact: both round the same real number)")
def div_pow2_to_mul(var: Variable, ctx) -> Variable | None:
    x, c = var.owner.inputs
    out = var.type.dtype
    inv = _exact_reciprocal(constant_value(c), out)
    if inv is None:
        return None
    factor = constant(np.full(np.shape(c.data), inv, dtype=out))
    return fit(var, ew.mul(ew.cast(x, out), factor))


@function_rule("div_exp_to_exp_sub", roots=("true_div",), identity="exp(x) / exp(y) = exp(x - y)")
def div_exp_to_exp_sub(var: Variable, ctx) -> Variable | None:
    num, den = var.owner.inputs
    out = var.type.dtype
    a, b = operands(num, "exp"), operands(den, "exp")
    if a is None or b is None or not _same_dtype([num, den], out):
        return None
    return fit(var, ew.exp(ew.sub(ew.cast(a[0], out), ew.cast(b[0], out))))


RULES = register("specialize", RuleSet("specialize", [
    pow_to_sqr, pow_to_sqrt, pow_to_reciprocal, pow_to_rsqrt, pow_to_squaring, pow_two_to_exp2, sqrt_sqr_to_abs,
    mul_to_sqr, mul_exp_to_exp_add, mul_pow_to_pow_add, mul_minus_one_to_neg,
    add_neg_to_sub, sub_neg_to_add, sub_self_to_zeros,
    div_to_reciprocal, div_pow2_to_mul, div_exp_to_exp_sub,
]))
