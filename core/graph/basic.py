"""The immutable, hash-consed IR: Type, Variable, Constant, Op and Apply."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

__all__ = ["Type", "Variable", "Constant", "Op", "Apply", "GraphError"]


class GraphError(ValueError):
    """A graph could not be built: wrong types or shapes, missing inputs, bad replacements."""


class Type:
    """The type of a Variable; subclasses are immutable values (equal types compare equal)."""

    def make_variable(self, owner: Apply | None = None, index: int = 0, name: str | None = None) -> Variable:
        return Variable(self, owner, index, name)

    def make_constant(self, data: Any, name: str | None = None) -> Constant:
        raise NotImplementedError

    def filter(self, value: Any, name: str) -> Any:
        """Validate and convert a runtime value for an input called ``name``."""
        raise NotImplementedError


class Variable:
    """A value in a graph: a graph input (``owner is None``) or output ``index`` of an Apply node.

    Variables compare and hash by identity; ``name`` is display metadata only.
    """

    __slots__ = ("type", "owner", "index", "name", "tag", "__weakref__")

    def __init__(self, type: Type, owner: Apply | None = None, index: int = 0, name: str | None = None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag: dict[str, Any] | None = None

    def __repr__(self) -> str:
        from graphwright.printing import short_str

        return short_str(self)

    __str__ = __repr__


class Constant(Variable):
    """A variable with a fixed value. Constants are interned: the same bit pattern under the same name gives
    the same object (``graphwright.tensor.type.intern_constant`` explains why the name takes part)."""

    __slots__ = ("data", "_key")

    def __init__(self, type: Type, data: Any, key: Any, name: str | None = None):
        super().__init__(type, None, 0, name)
        self.data = data
        self._key = key


class Op:
    """An operation: subclasses are frozen dataclasses of their parameters.

    ``op(*inputs)`` builds (or finds, thanks to hash-consing) the Apply node and returns its output(s).
    Subclasses implement ``make_node`` (input conversion, type checks, output types), ``perform``
    (the NumPy reference: arrays in, an array out, or a tuple for several outputs) and ``infer_shape``.
    """

    nout: ClassVar[int] = 1
    # True for ops whose NumPy result may share memory with an input (views): backends copy such outputs
    # before handing them to the caller, and the in-place planner must know about them.
    returns_view: ClassVar[bool] = False
    # True for ops whose output types depend only on the input types (and the op's parameters), never on the
    # values of constant inputs: rewriting may then rebuild a node on inputs of unchanged types without
    # inferring its output types again.
    types_follow_input_types: ClassVar[bool] = False

    def make_node(self, *inputs: Any) -> Apply:
        raise NotImplementedError

    def __call__(self, *inputs: Any) -> Any:
        node = self.make_node(*inputs)
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def perform(self, *inputs: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no NumPy implementation")

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        """Symbolic output shapes (tuples of int64 scalar variables or ints) from the input shapes."""
        raise NotImplementedError(f"{type(self).__name__} cannot infer its output shape")

    def pullback(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Reverse-mode rule: the gradients with respect to ``node.inputs`` from those of ``node.outputs``.

        ``output_grads[i]`` is None when output ``i`` does not reach the cost (at least one is not None).
        Return one entry per input: a variable of the input's dtype and number of dimensions (broadcast
        dimensions summed away), or None where no gradient flows (integer inputs, indices, shapes).
        """
        from graphwright.tensor.grad_util import NotDifferentiableError

        raise NotDifferentiableError(f"{self.short_name()} ({type(self).__name__}) has no gradient (pullback) yet")

    def vectorize(self, node: Apply, inputs: Sequence[Variable], batch_ndims: Sequence[int]) -> list[Variable]:
        """The node on batched inputs: ``inputs[k]`` has ``batch_ndims[k]`` extra leading dimensions (0: not
        batched). Return the outputs with the batch dimensions in front. The default applies the op to each
        batch slice (Blockwise); ops override this with a direct batched form."""
        from graphwright.tensor.blockwise import Blockwise
        from graphwright.transforms.vectorize import pad_batch

        op = Blockwise(self, tuple(v.type.ndim for v in node.inputs), tuple(o.type.ndim for o in node.outputs))
        return list(op.make_node(*pad_batch(inputs, batch_ndims)).outputs)

    def inplace_options(self, node: Apply) -> list[tuple[int, int]]:
        """``(output, input)`` pairs where the output could be written into the input's buffer: same dtype and,
        whenever the node runs without error, the same shape. None by default; the in-place phase
        (:mod:`graphwright.rules.inplace`) decides which of them are safe."""
        return []

    def shared_outputs(self, node: Apply) -> dict[int, int]:
        """Outputs that may be the very same array as an earlier output (output -> that output): the in-place
        planner treats them as one buffer. None by default."""
        return {}

    def short_name(self) -> str:
        """A compact label used by the printers (``exp``, ``sum{axis=0}``...)."""
        return type(self).__name__

    def str_form(self, args: Sequence[str]) -> str:
        """The short text form of an application of this op to already-printed arguments."""
        from graphwright.printing import unwrap_parens

        return f"{self.short_name()}({', '.join(unwrap_parens(a) for a in args)})"


_APPLY_TABLE: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class Apply:
    """The application of an Op to input variables. Built only through :meth:`Apply.create`.

    Nodes are hash-consed on ``(op, identities of the inputs)``: applying an equal op to the same inputs
    returns the node that already exists, which gives common-subexpression elimination for free.
    """

    __slots__ = ("op", "inputs", "outputs", "__weakref__")

    def __init__(self, op: Op, inputs: tuple[Variable, ...], output_types: Sequence[Type]):
        self.op = op
        self.inputs = inputs
        self.outputs = tuple(t.make_variable(self, i) for i, t in enumerate(output_types))

    @staticmethod
    def lookup(op: Op, inputs: Sequence[Variable]) -> Apply | None:
        """Return the existing node for ``op`` applied to ``inputs``, if there is one."""
        return _APPLY_TABLE.get((op, *map(id, inputs)))

    @staticmethod
    def create(
        op: Op, inputs: Sequence[Variable], output_types: Sequence[Type] | Callable[[], Sequence[Type]]
    ) -> Apply:
        """Return the unique node for ``op`` applied to ``inputs``.

        ``output_types`` may be a callable, evaluated only when the node does not exist yet.
        """
        key = (op, *map(id, inputs))
        node = _APPLY_TABLE.get(key)
        if node is None:
            types = output_types() if callable(output_types) else output_types
            node = Apply(op, tuple(inputs), types)
            _APPLY_TABLE[key] = node
        return node

    @property
    def out(self) -> Variable:
        return self.outputs[0]

    def __repr__(self) -> str:
        return f"Apply({self.op.short_name()}, {len(self.inputs)} inputs)"


def apply_table_size() -> int:
    """Number of live hash-consed nodes (for tests of weak references)."""
    return len(_APPLY_TABLE)
