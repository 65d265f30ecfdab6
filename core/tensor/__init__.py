"""Tensor types and the op library; importing this package registers every op family on purpose.

The package is also callable: ``gw.tensor("x", shape=(2, None))`` is :func:`graphwright.tensor.tensor`, the input
constructor (as ``pytensor.tensor.tensor``), so ``gw.tensor`` is both this package and the constructor.
"""
# ruff: noqa: I001  (order matters: variable.py first, it imports the families at its end)

import sys
import types

from graphwright.tensor import variable
from graphwright.tensor import (
    assume,
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
from graphwright.tensor.variable import TensorConstant, TensorVariable, tensor

FAMILIES = (elemwise, shape, join, creation, reduce, reduce_special, cumulative, linalg, indexing, nn)

__all__ = ["TensorType", "TensorVariable", "TensorConstant", "FAMILIES", "scalar_ops", "variable", "tensor"]


class _CallableModule(types.ModuleType):
    """This package, callable as the input constructor :func:`graphwright.tensor.variable.tensor`."""

    def __call__(self, *args, **kwargs) -> TensorVariable:
        return tensor(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
