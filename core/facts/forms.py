"""Forms of expressions that the fact rules and the rewrite rules both recognise (facts is the lower layer: the
rules in ``graphwright.rules`` import these from here)."""

from __future__ import annotations

from graphwright.graph.basic import Variable
from graphwright.rewrite.pattern import constant_value
from graphwright.tensor.elemwise import Elemwise

__all__ = ["is_float", "square_base", "even_power_base"]


def is_float(var: Variable) -> bool:
    """True for a floating-point tensor.

    Examples
    --------
    >>> import graphwright as gw
    >>> is_float(gw.vector("x")), is_float(gw.vector("i", "int8")), is_float(gw.vector("z", "complex128"))
    (True, False, False)
    """
    return str(getattr(var.type, "dtype", "")).startswith("float")


def square_base(var: Variable) -> Variable | None:
    """``x`` when ``var`` is ``x**2``, ``sqr(x)`` or ``x * x``; else None.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> square_base(x * x) is x, square_base(gw.sqr(x)) is x, square_base(x * 2) is None
    (True, True, True)
    """
    owner = var.owner
    if owner is None or not isinstance(owner.op, Elemwise):
        return None
    name, ins = owner.op.scalar_op.name, owner.inputs
    if name == "sqr" or (name == "pow" and constant_value(ins[1]) == 2.0):
        return ins[0]
    if name == "mul" and len(ins) == 2 and ins[0] is ins[1]:
        return ins[0]
    return None


def even_power_base(var: Variable) -> Variable | None:
    """``x`` when ``var`` is a square (see :func:`square_base`) or ``x ** c`` for any even constant ``c``
    (negative and zero included): its every value is >= 0 with a clear sign bit, or NaN; else None.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> even_power_base(x ** -4.0) is x, even_power_base(x ** 3.0) is None
    (True, True)
    """
    base = square_base(var)
    if base is not None or var.owner is None or not isinstance(var.owner.op, Elemwise):
        return base
    ins = var.owner.inputs
    c = constant_value(ins[1]) if var.owner.op.scalar_op.name == "pow" else None
    return ins[0] if c is not None and c % 2 == 0 else None
