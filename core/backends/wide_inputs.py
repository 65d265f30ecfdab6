"""The signature and input checks of a generated function, inline for a few inputs and a loop for many.

A generated ``graphwright_fn`` checks each input (class, dtype, number of dimensions, static lengths) with two
inline lines per input: the fastest form for the usual handful of inputs. Past :data:`WIDE_INPUTS` inputs
those lines (and a parameter list as long) make CPython's compiler the slowest part of a compile (several
seconds for 10,000 scalar inputs), so a wide function takes ``*args`` instead, checks their number, runs one
loop over the inputs (:func:`input_checker`) and unpacks them into the same names ``i0, i1, ...`` the body
uses: the generated source stays linear, and short, in the number of inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from graphwright.graph.basic import Variable

__all__ = ["WIDE_INPUTS", "input_check_lines", "input_checker", "signature"]

WIDE_INPUTS = 256  # more inputs than this: ``*args`` and a loop of checks instead of inline lines


def input_check_lines(inputs: Sequence[Variable]) -> list[str]:
    """Two inline lines per input ``i<k>``: convert it unless it is an ndarray of the right dtype (names
    ``_ndarray``, ``_dt<k>``, ``_coerce``, ``_in<k>``), then check its rank and static lengths
    (``_check_shape``). A non-tensor input gets one line: its type's ``filter`` (through ``_coerce``)."""
    checks = []
    for i, v in enumerate(inputs):
        if not v.type.is_tensor:  # another kind of value: its type's filter checks and converts it
            checks.append(f"i{i} = _coerce({i}, _in{i}, i{i})")
            continue
        checks.append(f"if i{i}.__class__ is not _ndarray or i{i}.dtype is not _dt{i}: "
                      f"i{i} = _coerce({i}, _in{i}, i{i})")
        conds = [f"i{i}.ndim != {v.type.ndim}"]
        conds += [f"i{i}.shape[{d}] != {s}" for d, s in enumerate(v.type.shape) if s is not None]
        checks.append(f"if {' or '.join(conds)}: _check_shape({i}, _in{i}, i{i})")
    return checks


def input_checker(inputs: Sequence[Variable], coerce: Callable, check_shape: Callable) -> Callable:
    """``check(args) -> list`` doing for every input what :func:`input_check_lines` does inline.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> from graphwright.backends.codegen import check_shape, coerce_input
    >>> check = input_checker([gw.scalar("a"), gw.vector("b")], coerce_input, check_shape)
    >>> [v.dtype.name for v in check((1, [2.0, 3.0]))]
    ['float64', 'float64']
    """
    rows = [(k, v, np.dtype(v.type.dtype), v.type.ndim,
             tuple((d, s) for d, s in enumerate(v.type.shape) if s is not None))
            for k, v in enumerate(inputs) if v.type.is_tensor]
    others = [(k, v) for k, v in enumerate(inputs) if not v.type.is_tensor]
    ndarray = np.ndarray

    def check(args: Sequence) -> list:
        values = list(args)
        for k, var in others:
            values[k] = coerce(k, var, values[k])
        for k, var, dtype, ndim, static in rows:
            value = values[k]
            if value.__class__ is not ndarray or value.dtype is not dtype:
                value = values[k] = coerce(k, var, value)
            if value.ndim != ndim or any(value.shape[d] != s for d, s in static):
                check_shape(k, var, value)
        return values

    return check


def signature(inputs: Sequence[Variable], trust_input: bool, namespace: dict, coerce: Callable,
              check_shape: Callable) -> tuple[str, list[str]]:
    """``(parameters, head lines)`` of a generated function of ``inputs``: after the head, the inputs are in
    ``i0, i1, ...``, checked unless ``trust_input``. Adds what the head uses to ``namespace``."""
    n = len(inputs)
    if n <= WIDE_INPUTS:
        params = ", ".join(f"i{i}" for i in range(n))
        return params, [] if trust_input else input_check_lines(inputs)

    def wrong_count(got: int) -> None:
        raise TypeError(f"graphwright_fn takes {n} inputs, got {got}")

    namespace["_wrong_count"] = wrong_count
    head = [f"if len(args) != {n}: _wrong_count(len(args))"]
    if not trust_input:
        namespace["_check_inputs"] = input_checker(inputs, coerce, check_shape)
        head.append("args = _check_inputs(args)")
    head.append(", ".join(f"i{i}" for i in range(n)) + ", = args")
    return "*args", head
