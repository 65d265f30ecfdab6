"""The JSON form of op parameters and ops: an op is its class's qualified name plus its dataclass fields.

Values are JSON scalars where JSON can hold them exactly (None, bools, ints, strings, finite floats), arrays
for tuples (op parameters are hashable, so tuples are their only sequences), and one-key objects for the rest:
``{"float": "nan"}`` (also ``"inf"``, ``"-inf"``), ``{"op": {...}}`` (a nested op), ``{"scalar_op": "exp"}``
(a row of the scalar table), ``{"var": "n3"}`` (a variable of the op's inner graph, see
:mod:`graphwright.serialize.tables`). Decoding builds only :class:`~graphwright.graph.basic.Op` subclasses
defined in graphwright modules, found among the classes already loaded (nothing is imported by name).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from graphwright.graph.basic import GraphError, Op, Variable
from graphwright.tensor.scalar_ops import SCALAR_OPS, ScalarOp

__all__ = ["SerializeError", "op_class_name", "op_classes", "encode_value", "decode_value"]


class SerializeError(GraphError):
    """A graph, trace or session could not be written to or read from its JSON form."""


def op_class_name(cls: type) -> str:
    """The name an op class is stored under: ``module.QualName``.

    Examples
    --------
    >>> from graphwright.tensor.elemwise import Elemwise
    >>> op_class_name(Elemwise)
    'graphwright.tensor.elemwise.Elemwise'
    """
    return f"{cls.__module__}.{cls.__qualname__}"


def op_classes() -> dict[str, type]:
    """Every loaded Op subclass defined in a graphwright module that can be built from its fields, by name.

    Examples
    --------
    >>> "graphwright.tensor.reduce.Reduce" in op_classes()
    True
    """
    found: dict[str, type] = {}
    stack = list(Op.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("graphwright.") and dataclasses.is_dataclass(cls):
            found[op_class_name(cls)] = cls
    return found


def encode_value(value: Any, where: str, encode_op: Callable[[Op], dict],
                 encode_var: Callable[[Variable], str] | None = None) -> Any:
    """The JSON form of one op parameter; ``where`` names it in errors (``Reduce.axis``).

    Examples
    --------
    >>> encode_value((0, None, float("nan"), "x"), "DimShuffle.new_order", encode_op=None)
    [0, None, {'float': 'nan'}, 'x']
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, tuple):
        return [encode_value(v, where, encode_op, encode_var) for v in value]
    if isinstance(value, Op):
        return {"op": encode_op(value)}
    if isinstance(value, ScalarOp):
        if SCALAR_OPS.get(value.name) is not value:
            raise SerializeError(f"{where}: the scalar op {value.name!r} is not a row of SCALAR_OPS")
        return {"scalar_op": value.name}
    if isinstance(value, Variable) and encode_var is not None:
        return {"var": encode_var(value)}
    raise SerializeError(f"{where}: cannot write a parameter of type {type(value).__name__} ({value!r}) as JSON")


def decode_value(data: Any, where: str, decode_op: Callable[[dict], Op],
                 decode_var: Callable[[str], Variable] | None = None) -> Any:
    """The parameter that :func:`encode_value` wrote.

    Examples
    --------
    >>> decode_value([0, [1, 2], {"float": "-inf"}], "TensorDot.axes", decode_op=None)
    (0, (1, 2), -inf)
    """
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return tuple(decode_value(v, where, decode_op, decode_var) for v in data)
    if isinstance(data, dict) and len(data) == 1:
        (tag, body), = data.items()
        if tag == "float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "op":
            return decode_op(body)
        if tag == "scalar_op" and isinstance(body, str):
            if body not in SCALAR_OPS:
                raise SerializeError(f"{where}: no scalar op called {body!r}")
            return SCALAR_OPS[body]
        if tag == "var" and decode_var is not None:
            return decode_var(body)
    raise SerializeError(f"{where}: {data!r} is not a parameter in graphwright's JSON form")


def op_fields(op: Op) -> dict[str, Any]:
    """The constructor fields of an op (its dataclass fields that ``__init__`` takes)."""
    if not dataclasses.is_dataclass(op):
        raise SerializeError(f"op {op.short_name()} ({op_class_name(type(op))}) is not a dataclass of its "
                             "parameters and cannot be written as JSON")
    return {f.name: getattr(op, f.name) for f in dataclasses.fields(op) if f.init}


def build_op(name: Any, fields: dict[str, Any], classes: dict[str, type], node_id: str = "?") -> Op:
    """Instantiate the op class stored as ``name`` with decoded ``fields`` (only graphwright Op classes); any
    error of the constructor becomes a :class:`SerializeError` naming the op and ``node_id`` (its cause chained).

    Examples
    --------
    >>> from graphwright.tensor.elemwise import Elemwise
    >>> try:
    ...     build_op(op_class_name(Elemwise), {"bogus": 1}, op_classes(), "n1")
    ... except SerializeError as exc:
    ...     print(str(exc)[:70])
    node n1: cannot build graphwright.tensor.elemwise.Elemwise from fields
    """
    cls = classes.get(name) if isinstance(name, str) else None
    if cls is None:
        raise SerializeError(f"node {node_id}: {name!r:.100} is not an op class of graphwright (only graphwright Op "
                             "subclasses are built from JSON)")
    try:
        op = cls(**fields)
        hash(op)  # ops are hash-consed: a field of the wrong type may fail only here
    except Exception as exc:  # noqa: BLE001 - whatever the constructor raises, the document is to blame
        raise SerializeError(f"node {node_id}: cannot build {name} from fields {sorted(fields)}: "
                             f"{type(exc).__name__}: {exc}") from exc
    return op
