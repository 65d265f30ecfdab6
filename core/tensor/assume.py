"""``assume``: the identity op through which a user states facts about a value (``gw.assume(S,
"positive_definite")``); rules read them through ``graphwright.facts``, and the op is removed before the
backends see the graph (the fusion phase, after every phase whose rules read facts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, Op
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["Assume", "assume"]


def _registry():
    from graphwright.facts import registry  # the fact rules import this module: import the registry late

    return registry


@dataclass(frozen=True)
class Assume(Op):
    """Identity on values that states ``facts`` (sorted, without repeats) about its input."""

    facts: tuple[str, ...]
    returns_view: ClassVar[bool] = True
    types_follow_input_types: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not self.facts:
            raise ValueError("assume: give at least one fact; the known facts are "
                             f"{', '.join(sorted(_registry().known_facts()))}")
        facts = _registry().check_fact_names(self.facts, "assume")
        if facts != self.facts:
            raise ValueError(f"Assume: facts must be sorted and distinct (use gw.assume), got {self.facts}")

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        _registry().check_fact_applies(self.facts, x.type.shape, f"assume({x}, {', '.join(self.facts)})")
        return Apply.create(self, [x], lambda: [x.type])

    def perform(self, x: np.ndarray) -> np.ndarray:
        return x

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [input_shapes[0]]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """The identity: the gradient flows through unchanged."""
        return [output_grads[0]]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The same facts of the batched value (element facts hold for every element, matrix facts for every
        matrix of the batch)."""
        return [self(inputs[0])]

    def short_name(self) -> str:
        return f"assume[{','.join(self.facts)}]"


def assume(x: Any, *facts: str) -> TensorVariable:
    """``x`` unchanged, with ``facts`` stated about it for the rewrite rules (see ``graphwright.facts``).

    Parameters
    ----------
    x : the value.
    *facts : fact names (``"nonnegative"``, ``"positive"``, ``"symmetric"``, ``"positive_definite"`` ...);
        ``graphwright.facts.known_facts()`` lists them. A matrix fact needs at least two dimensions.

    Nothing is checked at run time: a false assumption can give wrong results. ``"nonnegative"`` admits -0.0
    (``-0.0 >= 0``), which ``abs`` and a division tell from +0.0: state ``"no_negative_zero"`` too (or
    ``"positive"``, which implies both) for ``abs(x) = x`` or a nonnegative ``1 / x``.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.facts import has
    >>> x = gw.vector("x")
    >>> y = gw.assume(x, "positive")
    >>> has("positive", y), has("nonnegative", y), has("positive", x)
    (True, True, False)
    >>> gw.function([x], gw.abs(y)).graph.outputs[0]
    x
    >>> has("nonnegative", 1.0 / gw.assume(x, "nonnegative")), has("nonnegative", 1.0 / y)
    (False, True)
    """
    return Assume(_registry().check_fact_names(facts, "assume"))(x)
