"""Constant folding (canonicalize phase): nodes of constants become constants; static shapes become constants.

Folding runs the op's NumPy reference (``perform``), so a folded graph computes exactly what the unfolded
one would. Constants are interned, so a folded value equal to an existing constant *is* that constant
(constant merging needs no rule).
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.rules.helpers import MAX_FOLD_SIZE
from graphwright.tensor.indexing import Subtensor
from graphwright.tensor.shape import MakeVector, Shape, static_value
from graphwright.tensor.variable import constant

__all__ = ["RULES", "NO_FOLD", "fold"]

# Op classes that are never folded even when every input is a constant (none so far).
NO_FOLD: frozenset[type] = frozenset()


def fold(var: Variable, max_size: int = MAX_FOLD_SIZE) -> Constant | None:
    """The constant value of ``var`` (an output of a node whose inputs are all constants), or None when
    the op must not fold, the result would have more than ``max_size`` elements, or ``perform`` fails.

    ``perform`` runs once per node: the outputs of a multi-output node are computed together and kept (weakly,
    with the node) for its other outputs.

    Examples
    --------
    >>> import graphwright as gw
    >>> fold(gw.constant(2.0) + gw.constant([1.0, 3.0]))
    [3., 5.]
    """
    node = var.owner
    if node is None or type(node.op) in NO_FOLD or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    shape = var.type.shape
    if None not in shape and math.prod(shape) > max_size:  # decided before computing anything
        return None
    outputs = _performed(node)
    if outputs is None:
        return None
    out = outputs[var.index]
    if out.size > max_size or out.ndim != len(shape) or any(
            s is not None and s != n for s, n in zip(shape, out.shape, strict=True)):
        return None
    return constant(out.astype(var.type.dtype, copy=False))


# multi-output node -> its computed outputs (None: perform failed); weak, so it lives as long as the node
_PERFORMED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _performed(node: Apply) -> tuple[np.ndarray, ...] | None:
    """Every output of ``node`` computed with ``perform`` on its constant inputs, or None if it raises."""
    several = len(node.outputs) > 1
    if several and node in _PERFORMED:
        return _PERFORMED[node]
    try:
        with np.errstate(all="ignore"):
            out = node.op.perform(*(i.data for i in node.inputs))
        outputs = tuple(np.asarray(o) for o in out) if several else (np.asarray(out),)
    except Exception:  # the graph raises the same error when it runs; leave the node there
        outputs = None
    if several:
        _PERFORMED[node] = outputs
    return outputs


@function_rule("constant_folding", identity="f(c1, c2, ...) = c (computed with f's perform)")
def constant_folding(var: Variable, ctx) -> Variable | None:
    """A node whose inputs are all constants is replaced by the constant it computes."""
    return fold(var)


@function_rule("shape_static", roots=(Shape,), identity="shape_of(x) = [n0, n1, ...] for a static shape")
def shape_static(var: Variable, ctx) -> Variable | None:
    """shape_of(x) is a constant when every length of x is static."""
    value = static_value(var)
    return None if value is None else constant(np.asarray(value, dtype=var.type.dtype))


@function_rule("shape_index_static", roots=(Subtensor,), identity="shape_of(x)[i] = n_i for a static length")
def shape_index_static(var: Variable, ctx) -> Variable | None:
    """shape_of(x)[i] (or make_vector(...)[i]) is a constant when that entry is statically known."""
    src = var.owner.inputs[0]
    if src.owner is None or not isinstance(src.owner.op, Shape | MakeVector):
        return None
    value = static_value(var)
    return None if value is None else constant(np.asarray(value, dtype=var.type.dtype))


RULES = register("canonicalize", RuleSet("constant_folding", [shape_static, shape_index_static,
                                                              constant_folding]))
