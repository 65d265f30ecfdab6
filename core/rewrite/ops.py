"""Pattern-building functions named like the graph functions: ``ops.log(1 + x)``, ``ops.sum_(x, axis=A)``.

Every row of the scalar table has a function here (``exp``, ``log1p``, ``and_`` ...). Non-elementwise ops take
their parameters as keywords: a value constrains it, a :class:`PParam` binds it, and a missing keyword leaves it
free.
"""

from __future__ import annotations

from typing import Any

from graphwright.rewrite.pattern import PNode, _lift
from graphwright.tensor.creation import Alloc
from graphwright.tensor.cumulative import CumOp
from graphwright.tensor.indexing import IncSubtensor, Subtensor
from graphwright.tensor.join import Join
from graphwright.tensor.linalg import Dot, MatMul
from graphwright.tensor.nn import LogSoftmax, Softmax
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.reduce_special import Argmax, LogSumExp
from graphwright.tensor.scalar_ops import SCALAR_OPS
from graphwright.tensor.shape import DimShuffle, Reshape

__all__: list[str] = []


def _elemwise_pattern(name: str):
    def build(*children: Any) -> PNode:
        return PNode(name, tuple(_lift(c) for c in children))

    build.__name__ = name
    build.__doc__ = f"Pattern: elementwise ``{name}`` of the given sub-patterns."
    return build


_PUBLIC = {name: name for name in SCALAR_OPS if not name.startswith("cast_")}
_PUBLIC.update({"and": "and_", "or": "or_", "not": "invert"})
for _name, _public in _PUBLIC.items():
    globals()[_public] = _elemwise_pattern(_name)
    __all__.append(_public)


def cast(x: Any, dtype: str) -> PNode:
    """Pattern: ``cast(x, dtype)``."""
    return PNode(f"cast_{dtype}", (_lift(x),))


def _reduce(kind: str):
    def build(x: Any, **params: Any) -> PNode:
        return PNode(Reduce, (_lift(x),), {"kind": kind, **params})

    build.__name__ = f"{kind}_"
    build.__doc__ = f"Pattern: ``{kind}`` reduction; ``axis=`` / ``keepdims=`` constrain or bind its parameters."
    return build


sum_, prod_, max_, min_, all_, any_ = (_reduce(k) for k in ("sum", "prod", "max", "min", "all", "any"))


def _node(op_class: type, doc: str):
    def build(*children: Any, **params: Any) -> PNode:
        return PNode(op_class, tuple(_lift(c) for c in children), params)

    build.__doc__ = f"Pattern: {doc}; keywords constrain or bind the op's parameters."
    return build


logsumexp = _node(LogSumExp, "logsumexp")
softmax = _node(Softmax, "softmax")
log_softmax = _node(LogSoftmax, "log_softmax")
argmax = _node(Argmax, "argmax")
cumop = _node(CumOp, "cumsum / cumprod")
dimshuffle = _node(DimShuffle, "dimshuffle (transpose, expand_dims, squeeze)")
reshape = _node(Reshape, "reshape (x, shape vector)")
alloc = _node(Alloc, "alloc (value, shape vector)")
join = _node(Join, "concatenate (the inputs)")
dot = _node(Dot, "dot")
matmul = _node(MatMul, "matmul")
subtensor = _node(Subtensor, "x[...] (x, index parts)")
inc_subtensor = _node(IncSubtensor, "set/inc_subtensor (x, y, index parts)")

__all__ += ["cast", "sum_", "prod_", "max_", "min_", "all_", "any_", "logsumexp", "softmax", "log_softmax",
            "argmax", "cumop", "dimshuffle", "reshape", "alloc", "join", "dot", "matmul", "subtensor",
            "inc_subtensor"]
