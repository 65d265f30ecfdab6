"""The one inner backprop every op holding a graph uses for its pullback: inline the inner graph on stand-ins
of the node's inputs, run the ordinary reverse pass on it, map the gradients back onto the inputs."""

from __future__ import annotations

from collections.abc import Sequence

from graphwright.graph.basic import Variable
from graphwright.graph.graph import replace
from graphwright.graph.inner import InnerGraph, substitute
from graphwright.transforms.grad import backprop

__all__ = ["inner_pullback"]


def inner_pullback(graph: InnerGraph, inputs: Sequence[Variable],
                   output_grads: Sequence[Variable | None]) -> list[Variable | None]:
    """The gradients with respect to ``inputs`` of ``graph`` applied to ``inputs``, from those of its outputs.

    Fresh stand-ins take the inputs' places while differentiating: an input computed from another one (or
    passed twice) must not pass its gradient on inside this pullback (the outer pass does that). Outputs
    that are the same inner variable add their gradients. None where no gradient flows.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x = gw.vector("x")
    >>> (graph,) = composite_of([gw.exp(x) * 2], [x]).inner_graphs()
    >>> inner_pullback(graph, [x], [gw.vector("g")])
    [(g * 2) * exp(x)]
    """
    if len(inputs) != len(graph.placeholders) or len(output_grads) != len(graph.outputs):
        raise ValueError(f"inner_pullback: the inner graph takes {len(graph.placeholders)} inputs and has "
                         f"{len(graph.outputs)} outputs, got {len(inputs)} inputs and {len(output_grads)} "
                         "output gradients")
    stand_ins = [x.type.make_variable(name=f"in{k}") for k, x in enumerate(inputs)]
    outer = substitute(graph, stand_ins)
    starts: dict[Variable, Variable] = {}
    for out, grad in zip(outer, output_grads, strict=True):
        if grad is not None:
            starts[out] = starts[out] + grad if out in starts else grad
    found = backprop(starts, stand_ins)
    back = dict(zip(stand_ins, inputs, strict=True))
    return [replace(found[s], back) if s in found else None for s in stand_ins]
