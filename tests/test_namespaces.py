"""The public namespaces: gw.linalg, gw.nn, gw.random, gw.facts are modules; gw.tensor is the tensor package
and, called, the input constructor (as pytensor.tensor.tensor); the top-level names keep working."""

from __future__ import annotations

import importlib
import types

import graphwright as gw


def test_namespaces_are_modules_whose_names_are_the_top_level_functions():
    for module in (gw.linalg, gw.nn, gw.random, gw.facts, gw.tensor):
        assert isinstance(module, types.ModuleType), module
    for name in gw.linalg.__all__:
        assert getattr(gw.linalg, name) is getattr(gw, name)
    assert gw.nn.softmax is gw.softmax and gw.nn.logsumexp is gw.logsumexp and gw.nn.softplus is gw.softplus
    assert gw.random.__all__ == [] and "rng" in gw.random.__doc__
    assert gw.facts.has is importlib.import_module("graphwright.facts.registry").has


def test_gw_tensor_is_the_package_and_the_constructor():
    assert gw.tensor is importlib.import_module("graphwright.tensor")
    assert gw.tensor.shape is importlib.import_module("graphwright.tensor.shape")
    x = gw.tensor("x", shape=(2, None))
    assert x.type == gw.TensorType("float64", (2, None)) and x.name == "x"
    assert gw.tensor(dtype="int8", ndim=1).type == gw.TensorType("int8", (None,))
    assert gw.tensor.tensor("y", shape=()).type.ndim == 0
    assert gw.tensor("z", "float32", (3,)).type == gw.TensorType("float32", (3,))
