"""Facts about the matrices in the last two dimensions: identity, diagonal, triangular, symmetric, positive
definite, orthogonal. Users state them with ``gw.assume``; ``eye`` is known to be the identity."""

from __future__ import annotations

import numpy as np

from graphwright.facts.registry import Ask, declare_fact, fact_rule, implies
from graphwright.graph.basic import Constant, Variable
from graphwright.tensor.creation import Eye
from graphwright.tensor.shape import static_value

__all__ = ["MATRIX_FACTS"]

MATRIX_FACTS = (
    declare_fact("identity", "every matrix is the identity", square=True),
    declare_fact("diagonal", "every matrix is zero off its diagonal", matrix=True),
    declare_fact("lower_triangular", "every matrix is zero above its diagonal", matrix=True),
    declare_fact("upper_triangular", "every matrix is zero below its diagonal", matrix=True),
    declare_fact("symmetric", "every matrix equals its transpose", square=True),
    declare_fact("positive_definite", "every matrix is symmetric positive definite", square=True),
    declare_fact("orthogonal", "every matrix has orthonormal columns", matrix=True),
)
for _weaker in ("diagonal", "symmetric", "positive_definite", "orthogonal", "nonnegative", "integer_valued"):
    implies("identity", _weaker)
for _weaker in ("lower_triangular", "upper_triangular", "symmetric"):
    implies("diagonal", _weaker)
implies("positive_definite", "symmetric")


@fact_rule("identity", Eye)
def _eye(var: Variable, ask: Ask) -> bool:
    """``eye(n, m, k)`` with k = 0 and m = n (the same variable, or equal known values)."""
    n, m, k = var.owner.inputs
    kv, nv, mv = static_value(k), static_value(n), static_value(m)
    return kv is not None and int(kv) == 0 and (n is m or (nv is not None and mv is not None and nv == mv))


@fact_rule("identity", Constant)
def _identity_constant(var: Constant, ask: Ask) -> bool:
    """A constant whose every matrix is the identity."""
    data = np.asarray(var.data)
    if data.ndim < 2 or data.shape[-1] != data.shape[-2] or data.size == 0:
        return False
    return bool(np.all(data == np.eye(data.shape[-1], dtype=data.dtype)))
