"""Tensor types and the op library; importing this package registers every op family on purpose."""
# ruff: noqa: I001  (order matters: variable.py first, it imports the families at its end)

from graphwright.tensor import variable
from graphwright.tensor import (
    composite,
    composite_reduce,
    creation,
    cumulative,
    elemwise,
    grad_control,
    indexing,
    join,
    linalg,
    nn,
    reduce,
    reduce_special,
    scalar_ops,
    shape,
)
from graphwright.tensor.type import TensorType
from graphwright.tensor.variable import TensorConstant, TensorVariable

FAMILIES = (elemwise, shape, join, creation, reduce, reduce_special, cumulative, linalg, indexing, nn)

__all__ = ["TensorType", "TensorVariable", "TensorConstant", "FAMILIES", "scalar_ops", "variable"]
