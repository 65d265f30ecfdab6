"""Facts about every element of a value: nonnegative, positive, integer_valued, zeros, no_negative_zero; and the
ops that pass facts through unchanged (assume, gradient control) or move elements without changing them
(reshape ...).

"nonnegative" holds of -0.0 (-0.0 >= 0), so it says nothing of the sign of a zero: 1 / -0.0 is -inf and
abs(-0.0) is +0.0. A rule whose result depends on that sign (a divisor, a base raised to a negative power,
abs(x) = x) also asks "no_negative_zero"; "nonnegative" and "no_negative_zero" together say that every sign
bit is clear (NaN aside)."""

from __future__ import annotations

import numpy as np

from graphwright.facts.forms import even_power_base, is_float
from graphwright.facts.registry import ANY_FACT, Ask, declare_fact, fact_rule, implies
from graphwright.graph.basic import Constant, Variable
from graphwright.rewrite.pattern import constant_value
from graphwright.tensor import nn
from graphwright.tensor.assume import Assume
from graphwright.tensor.creation import Alloc
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.grad_control import GradControl
from graphwright.tensor.indexing import Subtensor
from graphwright.tensor.join import Join
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.shape import DimShuffle, Reshape

__all__ = ["ELEMENT_FACTS"]

ELEMENT_FACTS = (
    declare_fact("nonnegative", "every element is >= 0 (or NaN)"),
    declare_fact("positive", "every element is > 0 (or NaN)"),
    declare_fact("integer_valued", "every element is a whole number (or not finite)"),
    declare_fact("zeros", "every element is zero (of either sign)"),
    declare_fact("no_negative_zero", "no element is -0.0 (NaN allowed)"),
)
implies("positive", "nonnegative")
implies("positive", "no_negative_zero")
implies("zeros", "nonnegative")
implies("zeros", "integer_valued")

# float ops whose every result is >= 0 or NaN, whatever the operands
_NONNEG_OPS = frozenset(("exp", "exp2", "sqrt", "abs", "sqr", "cosh", "sigmoid", "softplus", "erfc", "erfcx",
                         "arccosh", "hypot"))
# of those, the ones that never give -0.0 either (sqrt(-0.0) is -0.0)
_SIGN_CLEAR_OPS = _NONNEG_OPS - {"sqrt"}
# float ops that are nonnegative when every operand is (not a quotient: 1 / -0.0 is -inf)
_NONNEG_IF_ALL = frozenset(("add", "mul", "minimum"))
# float ops whose result is a whole number (or not finite) whatever the operands, and those that keep whole
# numbers whole
_INTEGER_OPS = frozenset(("floor", "ceil", "round", "int_div", "sign"))
_INTEGER_IF_ALL = frozenset(("add", "sub", "mul", "neg", "abs", "sqr", "maximum", "minimum", "clip", "mod"))


def _data(var: Constant) -> np.ndarray | None:
    data = np.asarray(var.data)
    return data if data.size > 0 and data.dtype.kind in "biuf" else None


# ------------------------------------------------------------------------------- by dtype, and constants
@fact_rule("nonnegative", Variable)
def _unsigned(var: Variable, ask: Ask) -> bool:
    """Unsigned integers and booleans are never negative."""
    return str(getattr(var.type, "dtype", "float"))[0] in "ub"


def _integer_dtype(var: Variable, ask: Ask) -> bool:
    """Integers and booleans are whole numbers, and have no -0.0."""
    return str(getattr(var.type, "dtype", "float"))[0] in "iub"


fact_rule("integer_valued", Variable)(_integer_dtype)
fact_rule("no_negative_zero", Variable)(_integer_dtype)


@fact_rule("nonnegative", Constant)
def _nonnegative_constant(var: Constant, ask: Ask) -> bool:
    data = _data(var)
    return data is not None and bool(np.all(data >= 0))


@fact_rule("positive", Constant)
def _positive_constant(var: Constant, ask: Ask) -> bool:
    data = _data(var)
    return data is not None and bool(np.all(data > 0))


@fact_rule("integer_valued", Constant)
def _integer_constant(var: Constant, ask: Ask) -> bool:
    data = _data(var)
    if data is None:
        return False
    finite = data[np.isfinite(data)] if data.dtype.kind == "f" else data
    return bool(np.all(finite == np.round(finite)))


@fact_rule("zeros", Constant)
def _zeros_constant(var: Constant, ask: Ask) -> bool:
    return constant_value(var) == 0.0


@fact_rule("no_negative_zero", Constant)
def _no_negative_zero_constant(var: Constant, ask: Ask) -> bool:
    data = _data(var)
    return data is not None and not bool(np.any((data == 0) & np.signbit(data)))


# ----------------------------------------------------------------------------------------- computed values
def _sign_clear(ask: Ask, var: Variable) -> bool:
    """Every value of ``var`` is >= 0 and not -0.0 (or NaN): a divisor or a base that keeps a quotient's or a
    power's sign."""
    return all([ask("nonnegative", var), ask("no_negative_zero", var)])  # both requested at once


@fact_rule("nonnegative", Elemwise)
def _nonnegative_elemwise(var: Variable, ask: Ask) -> bool:
    """exp, squares, abs, sigmoid ... and sums, products, quotients, minima of such (floats: integer
    arithmetic wraps around; a divisor, or the base of a power to a negative exponent, must also never be -0.0)."""
    if not is_float(var):
        return False
    name, ins = var.owner.op.scalar_op.name, var.owner.inputs
    if name in _NONNEG_OPS or even_power_base(var) is not None:
        return True
    if name in _NONNEG_IF_ALL:
        return ask.all("nonnegative", ins)
    if name in ("true_div", "reciprocal"):  # 1 / -0.0 = -inf
        return (name == "reciprocal" or ask("nonnegative", ins[0])) and _sign_clear(ask, ins[-1])
    if name == "pow":  # (-0.0) ** -1 = -inf, (-0.0) ** 3 = -0.0
        return _sign_clear(ask, ins[0]) or ask.all("nonnegative", ins)
    if name == "maximum":
        return ask.any("nonnegative", ins)
    if name == "switch":
        return ask.all("nonnegative", ins[1:])
    if name == "clip":  # minimum(maximum(x, lo), hi)
        return ask("nonnegative", ins[2]) and ask.any("nonnegative", ins[:2])
    return False


@fact_rule("no_negative_zero", Elemwise)
def _no_negative_zero_elemwise(var: Variable, ask: Ask) -> bool:
    """exp, abs, squares ...; a sum with one operand that is never -0.0 (a sum is -0.0 only when every term
    is); products and quotients of values >= 0 that are never -0.0; results that are one of the operands."""
    if not is_float(var):
        return False
    name, ins = var.owner.op.scalar_op.name, var.owner.inputs
    if name in _SIGN_CLEAR_OPS or even_power_base(var) is not None:
        return True
    if name in ("add", "sub"):  # a - b is -0.0 only for a = -0.0, b = +0.0
        return ask.any("no_negative_zero", ins if name == "add" else ins[:1])
    if name in ("mul", "true_div"):
        return all([_sign_clear(ask, v) for v in ins])
    if name == "reciprocal":  # 1 / x is -0.0 only for x = -inf
        return ask("nonnegative", ins[0])
    if name == "pow":
        return _sign_clear(ask, ins[0])
    if name in ("sqrt", "minimum", "switch", "maximum", "clip"):
        chosen = ins[1:] if name == "switch" else ins  # the result is one of these (or NaN)
        return ask.all("no_negative_zero", chosen) or (name in ("maximum", "clip") and _above_zero(ask, var))
    return False


def _above_zero(ask: Ask, var: Variable) -> bool:
    """maximum(a, b) with a positive operand is positive; so is clip(x, lo, hi) with a positive lo, when hi is
    never -0.0."""
    ins = var.owner.inputs
    if var.owner.op.scalar_op.name == "maximum":
        return ask.any("positive", ins)
    return ask("positive", ins[1]) and ask("no_negative_zero", ins[2])


@fact_rule("integer_valued", Elemwise)
def _integer_elemwise(var: Variable, ask: Ask) -> bool:
    """floor, ceil, round ...; sums, differences and products of whole numbers; whole powers of them."""
    name, ins = var.owner.op.scalar_op.name, var.owner.inputs
    if name in _INTEGER_OPS:
        return True
    if name in _INTEGER_IF_ALL:
        return ask.all("integer_valued", ins)
    if name == "switch":
        return ask.all("integer_valued", ins[1:])
    if name == "pow":
        return ask.all("integer_valued", ins) and ask("nonnegative", ins[1])
    return False


def _softmax(var: Variable, ask: Ask) -> bool:
    """Probabilities, never -0.0 (the exact class: a log-softmax is not nonnegative)."""
    return True


fact_rule("nonnegative", nn.Softmax)(_softmax)
fact_rule("no_negative_zero", nn.Softmax)(_softmax)


@fact_rule("nonnegative", Reduce)
def _nonnegative_reduce(var: Variable, ask: Ask) -> bool:
    """Sums, products, maxima and minima of nonnegative floats."""
    return is_float(var) and var.owner.op.kind in ("sum", "prod", "max", "min") and ask(
        "nonnegative", var.owner.inputs[0])


@fact_rule("no_negative_zero", Reduce)
def _no_negative_zero_reduce(var: Variable, ask: Ask) -> bool:
    """Sums, maxima and minima of floats that are never -0.0 (an empty sum is +0.0); products of such that
    are also >= 0."""
    kind, x = var.owner.op.kind, var.owner.inputs[0]
    if not is_float(var) or kind not in ("sum", "prod", "max", "min"):
        return False
    return _sign_clear(ask, x) if kind == "prod" else ask("no_negative_zero", x)


@fact_rule("integer_valued", Reduce)
def _integer_reduce(var: Variable, ask: Ask) -> bool:
    """Sums, products, maxima and minima of whole numbers."""
    return var.owner.op.kind in ("sum", "prod", "max", "min") and ask("integer_valued", var.owner.inputs[0])


# ----------------------------------------------------------------------------- values passed on unchanged
@fact_rule(ANY_FACT, Assume)
def _assumed(var: Variable, ask: Ask) -> bool:
    """A stated fact, or a fact of the value it states facts about."""
    return ask.fact in var.owner.op.facts or ask(ask.fact, var.owner.inputs[0])


@fact_rule(ANY_FACT, GradControl)
def _grad_control(var: Variable, ask: Ask) -> bool:
    """Gradient control is the identity on values."""
    return ask(ask.fact, var.owner.inputs[0])


def _moved(var: Variable, ask: Ask) -> bool:
    """Ops that move, select or repeat the elements of their first input keep every element fact."""
    return ask(ask.fact, var.owner.inputs[0])


def _joined(var: Variable, ask: Ask) -> bool:
    return ask.all(ask.fact, var.owner.inputs)


for _fact in ELEMENT_FACTS:
    fact_rule(_fact, DimShuffle, Reshape, Alloc, Subtensor)(_moved)
    fact_rule(_fact, Join)(_joined)
