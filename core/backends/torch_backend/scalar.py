"""Torch versions of the rows of the scalar table (``graphwright.tensor.scalar_ops.SCALAR_OPS``).

Each row becomes a function of tensors computing in the dtype NumPy would (the node's static output dtype for
arithmetic and float functions, the promoted input dtype for comparisons), with NumPy's semantics where torch
differs: integer division and modulo by zero give 0, integers to negative integer powers raise, variadic
rows fold pairwise with NumPy's dtype at each step.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable

import numpy as np
import torch

from graphwright.backends.torch_backend.convert import torch_dtype
from graphwright.tensor.scalar_ops import SCALAR_OPS, ScalarOp, rows_by_name
from graphwright.tensor.type import promote_dtypes

__all__ = ["row_function", "in_place_function", "TORCH_ROWS"]

_LN2 = math.log(2.0)


def _is_float(dtype: str) -> bool:
    return np.dtype(dtype).kind == "f"


def _log1mexp(x):
    return torch.where(x > -_LN2, torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def _softplus(x):
    return torch.logaddexp(x, x.new_zeros(()))


def _int_div(x, y):
    zero = y == 0
    return torch.where(zero, 0, torch.floor_divide(x, torch.where(zero, 1, y)))


def _int_mod(x, y):
    zero = y == 0
    return torch.where(zero, 0, torch.remainder(x, torch.where(zero, 1, y)))


def _int_pow(x, y):
    if y.dtype.is_signed and bool((y < 0).any()):
        raise ValueError("Integers to negative integer powers are not allowed.")
    return torch.pow(x, y)


def _clip(x, lo, hi):
    return torch.minimum(torch.maximum(x, lo), hi)


def _switch(cond, a, b):
    return torch.where(cond, a, b)


def _copy(x):
    return x.clone()


# The rows whose torch function is not found by the rule of ``rows_by_name`` (``torch`` or ``torch.special`` under
# the row's name or its reference's), each with the reason. Integer inputs of floor/ceil/round/abs/int_div/
# mod/pow are handled in ``_core`` (NumPy's integer semantics).
_TORCH_OVERRIDES: dict[str, Callable] = {
    "not": torch.bitwise_not,  # torch's name for NumPy's invert
    "log1mexp": _log1mexp, "softplus": _softplus,  # no torch function (torch's softplus has a threshold)
    "clip": _clip,  # NumPy's nan propagation from the bounds
    "switch": _switch,  # never written in place (``out=``)
}
_NAMESPACES = (torch, torch.special)


# every row's function: its override, else the one of its name (shared rule: scalar_ops.rows_by_name)
TORCH_ROWS: dict[str, Callable] = rows_by_name(_NAMESPACES, _TORCH_OVERRIDES)
# torch's own functions take ``out=`` (the wrappers above do not)
_TAKES_OUT = {fn for fn in TORCH_ROWS.values() if isinstance(fn, types.BuiltinFunctionType)}


def _core(row: ScalarOp, out_dtype: str) -> Callable:
    """The torch function of ``row`` on inputs already in their compute dtypes."""
    name = row.name
    floating = _is_float(out_dtype)
    if name in ("floor", "ceil", "round") and not floating:
        return _copy  # integers are their own floor, ceiling and rounding
    if name == "abs" and out_dtype == "bool":
        return _copy
    if name in ("int_div", "mod") and not floating:
        return _int_div if name == "int_div" else _int_mod
    if name == "pow" and not floating:
        return _int_pow
    fn = TORCH_ROWS.get(name)
    if fn is None and name.startswith("cast_"):
        target = torch_dtype(name[5:])
        return lambda x: x.to(target, copy=True)
    if fn is None:  # pragma: no cover - check_rows() keeps the table complete
        raise KeyError(f"no torch implementation of the elementwise row {name!r}")
    return fn


def compute_dtypes(row: ScalarOp, in_dtypes: tuple[str, ...], out_dtype: str) -> tuple[str, ...]:
    """The dtype each input is converted to before the row's torch function runs (NumPy's loop dtype).

    Examples
    --------
    >>> compute_dtypes(SCALAR_OPS["lt"], ("int64", "float32"), "bool")
    ('float64', 'float64')
    >>> compute_dtypes(SCALAR_OPS["switch"], ("int8", "int8", "float32"), "float32")
    ('bool', 'float32', 'float32')
    """
    name = row.name
    if name.startswith("cast_") or name in ("isnan", "isinf") or (name == "abs" and "complex" in in_dtypes[0]):
        return in_dtypes  # (abs of a complex number is real: it reads the complex input as it is)
    if row.dtype_rule == "bool":  # comparisons: in the promoted input dtype
        common = promote_dtypes(*in_dtypes)
        return (common,) * len(in_dtypes)
    if name == "switch":
        return ("bool", out_dtype, out_dtype)
    return (out_dtype,) * len(in_dtypes)


def _with_casts(core: Callable, casts: list[torch.dtype | None]) -> Callable:
    """``core`` applied after converting input ``k`` to ``casts[k]`` (None: as it is)."""
    if not any(c is not None for c in casts):
        return core
    if len(casts) == 1:
        (c0,) = casts
        return lambda x: core(x.to(c0))
    if len(casts) == 2:
        c0, c1 = casts
        if c0 is None:
            return lambda x, y: core(x, y.to(c1))
        if c1 is None:
            return lambda x, y: core(x.to(c0), y)
        return lambda x, y: core(x.to(c0), y.to(c1))
    return lambda *xs: core(*(x if c is None else x.to(c) for x, c in zip(xs, casts, strict=True)))


def row_function(row: ScalarOp, in_dtypes: tuple[str, ...], out_dtype: str) -> Callable:
    """A function of tensors (of ``in_dtypes``) computing ``row`` as NumPy does; its result has
    ``out_dtype`` and is a new tensor (never one of the inputs).

    Examples
    --------
    >>> import torch
    >>> f = row_function(SCALAR_OPS["int_div"], ("int64", "int64"), "int64")
    >>> f(torch.tensor([7, -7, 3]), torch.tensor([2, 2, 0]))
    tensor([ 3, -4,  0])
    >>> g = row_function(SCALAR_OPS["add"], ("int64", "float32"), "float64")
    >>> g(torch.tensor([1]), torch.tensor([0.5])).dtype
    torch.float64
    """
    if row.nin == -1 and len(in_dtypes) > 2:
        return _fold(row, in_dtypes)
    wanted = compute_dtypes(row, in_dtypes, out_dtype)
    casts = [None if w == d else torch_dtype(w) for w, d in zip(wanted, in_dtypes, strict=True)]
    return _with_casts(_core(row, out_dtype), casts)


def _fold(row: ScalarOp, in_dtypes: tuple[str, ...]) -> Callable:
    """A variadic row folded pairwise, each step in the dtype NumPy gives that pair (as the reference)."""
    steps = []
    acc = in_dtypes[0]
    for d in in_dtypes[1:]:
        out = row.output_dtype(acc, d)
        steps.append(row_function(row, (acc, d), out))
        acc = out
    first, rest = steps[0], steps[1:]

    def fold(*xs):
        value = first(xs[0], xs[1])
        for step, x in zip(rest, xs[2:], strict=True):
            value = step(value, x)
        return value

    return fold


def in_place_function(row: ScalarOp, in_dtypes: tuple[str, ...], out_dtype: str) -> Callable | None:
    """The row as one torch function taking ``out=`` when every input is already in the output dtype (so
    the result can be written into one of them); None otherwise. Variadic rows give their binary function.

    Examples
    --------
    >>> in_place_function(SCALAR_OPS["exp"], ("float32",), "float32")
    <built-in method exp of type object at ...>
    >>> in_place_function(SCALAR_OPS["exp"], ("int8",), "float32") is None
    True
    """
    if row.name.startswith("cast_") or any(d != out_dtype for d in in_dtypes):
        return None
    core = _core(row, out_dtype)
    return core if core in _TAKES_OUT else None


def check_rows() -> list[str]:
    """Rows of the table without a torch implementation (empty when every row has one).

    Examples
    --------
    >>> check_rows()
    []
    """
    missing = []
    for name, row in SCALAR_OPS.items():
        try:
            _core(row, "float64")
        except KeyError:
            missing.append(name)
    return missing
