"""The immutable, hash-consed IR: Type, Variable, Constant, Op and Apply."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

__all__ = ["Type", "Variable", "Constant", "Op", "Apply", "GraphError", "InputError"]


class GraphError(ValueError):
    """A graph could not be built: wrong types or shapes, missing inputs, bad replacements."""


class InputError(TypeError):
    """A value does not fit the type it is given for (a compiled function's input, a ``Type.filter``)."""


class Type:
    """The type of a Variable: the protocol every kind of value in a graph implements.

    Subclasses are immutable values (equal types compare equal). :class:`~graphwright.tensor.type.TensorType`
    is one; :class:`~graphwright.tensor.random_type.RNGType` (a random generator) is another. Code that needs
    a dtype or a shape asks whether the type is a tensor (``is_tensor``) instead of assuming one.

    The protocol: ``filter`` (check and convert a runtime value), ``is_valid``, ``short`` (describe it),
    ``replacement_problem`` / ``may_replace`` (whether a variable of another type may stand in for one of
    this type in a rewrite), ``values_equal`` and ``copy_value`` (what a compiled function does with a value),
    and ``native_values`` (each backend's runtime form; a backend missing from it refuses the type).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> t, r = gw.vector("x").type, gw.rng_var("rng").type
    >>> t.short(), r.short(), t.is_tensor, r.is_tensor
    ('float64[?]', 'rng', True, False)
    >>> t.is_valid([1.0, 2.0]), r.is_valid(np.random.default_rng(0)), r.is_valid(3.0)
    (True, True, False)
    >>> r.replacement_problem(t)
    'type changes from rng to float64[?]'
    """

    is_tensor: ClassVar[bool] = False
    # backend name -> the class of its runtime values, in words; None: every backend (tensors: arrays)
    native_values: ClassVar[dict[str, str] | None] = None

    def make_variable(self, owner: Apply | None = None, index: int = 0, name: str | None = None) -> Variable:
        return Variable(self, owner, index, name)

    def make_constant(self, data: Any, name: str | None = None) -> Constant:
        raise NotImplementedError(f"{self.short()} has no constants")

    def filter(self, value: Any, *, name: str = "value", op: str | None = None) -> Any:
        """``value`` in this type's canonical runtime form, or an :class:`InputError` naming ``name`` (what the
        value is for, e.g. ``"input 0 (x)"``), ``op`` (where, if given) and the expected and received types."""
        raise NotImplementedError(f"{type(self).__name__} does not implement filter")

    def is_valid(self, value: Any) -> bool:
        """Whether ``filter`` accepts ``value``."""
        try:
            self.filter(value)
        except InputError:
            return False
        return True

    def short(self) -> str:
        """A compact description for printers and error messages."""
        return type(self).__name__

    def replacement_problem(self, new: Type) -> str | None:
        """Why a variable of type ``new`` may not replace one of this type, in words, or None when it may.
        By default only an equal type may."""
        return None if new == self else f"type changes from {self.short()} to {new.short()}"

    def may_replace(self, old: Type) -> bool:
        """Whether a variable of this type may replace one of type ``old`` (``old.replacement_problem``)."""
        return old.replacement_problem(self) is None

    def values_equal(self, a: Any, b: Any) -> bool:
        """Whether two runtime values of this type are the same value."""
        return a == b

    def copy_value(self, value: Any) -> Any:
        """A copy of ``value`` sharing no mutable state with it (what a compiled function returns for an
        output that could be the caller's own value)."""
        import copy

        return copy.deepcopy(value)

    def sample_value(self, rng: np.random.Generator) -> Any:
        """A random value of this type drawn from ``rng`` (the rewrite checks evaluate graphs on them)."""
        raise NotImplementedError(f"{type(self).__name__} cannot make random test values")

    def problem_on(self, backend: str) -> str | None:
        """Why ``backend`` cannot carry values of this type, or None when it can."""
        if self.native_values is None or backend in self.native_values:
            return None
        return (f"values of type {self.short()} are not supported on the {backend} backend (supported on: "
                f"{', '.join(sorted(self.native_values))})")

    @staticmethod
    def _where(name: str, op: str | None) -> str:
        """``name`` prefixed by ``op``, the start of every filter error."""
        return f"{op}: {name}" if op else name


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
    # The rewrite phases that may rewrite the op's inner graphs (``inner_graphs``); none by default.
    inner_rewrite_phases: ClassVar[frozenset[str]] = frozenset()

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
        batch slice (Blockwise); ops override this with a direct batched form. Blockwise batches tensors
        only: an op with a non-tensor input or output (a random generator) must define its own rule."""
        others = [v for v in (*node.inputs, *node.outputs) if not v.type.is_tensor]
        if others:
            raise GraphError(f"vectorize: {self.short_name()} ({type(self).__name__}) has a value of type "
                             f"{others[0].type.short()}, which is never batched; the op needs its own vectorize "
                             "rule to run on batched inputs")
        from graphwright.tensor.blockwise import Blockwise
        from graphwright.transforms.vectorize import pad_batch

        op = Blockwise(self, tuple(v.type.ndim for v in node.inputs), tuple(o.type.ndim for o in node.outputs))
        return list(op.make_node(*pad_batch(inputs, batch_ndims)).outputs)

    def shape_inputs(self, node: Apply) -> tuple[int, ...]:
        """Positions of the inputs whose *values* (not only shapes) decide the shape of the outputs: a shape
        vector, slice bounds, split sizes, a boolean mask, arange's bounds. None by default. Backends that
        need static shapes (JAX under ``jax.jit``) keep these values concrete; an op answers for itself,
        so no backend keeps a list of such ops."""
        return ()

    def inplace_options(self, node: Apply) -> list[tuple[int, int]]:
        """``(output, input)`` pairs where the output could be written into the input's buffer: same dtype and,
        whenever the node runs without error, the same shape. None by default; the in-place phase
        (:mod:`graphwright.rules.inplace`) decides which of them are safe."""
        return []

    def shared_outputs(self, node: Apply) -> dict[int, int]:
        """Outputs that may be the very same array as an earlier output (output -> that output): the in-place
        planner treats them as one buffer. None by default."""
        return {}

    def inner_graphs(self) -> tuple:
        """The :class:`~graphwright.graph.inner.InnerGraph` values this op holds (none by default): the one
        hook printing, viz, cache keys, rewriting, grad, vectorize and backends read an op's graphs through."""
        return ()

    def with_inner_graphs(self, graphs: Sequence) -> Op:
        """This op with its inner graphs replaced by ``graphs`` (same number, same placeholders)."""
        if tuple(graphs):
            raise GraphError(f"{self.short_name()} holds no inner graph, got {len(tuple(graphs))}")
        return self

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
