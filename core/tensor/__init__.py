"""Tensor types and the op library; importing this package registers every op family on purpose."""

from graphwright.tensor import (  # noqa: F401  (each family registers its ops)
    creation,
    elemwise,
    indexing,
    linalg,
    nn,
    reduce,
    scalar_ops,
    shape,
    variable,
)
from graphwright.tensor.type import TensorType
from graphwright.tensor.variable import TensorConstant, TensorVariable

FAMILIES = (elemwise, shape, creation, reduce, linalg, indexing, nn)

__all__ = ["TensorType", "TensorVariable", "TensorConstant", "FAMILIES"]
