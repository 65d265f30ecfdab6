"""A graph evaluated twice, in floating point and with mpmath, taking more digits where the reference cancels."""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.destroy import plain_op
from graphwright.graph.graph import Graph
from graphwright.tensor.elemwise import Elemwise
from graphwright.workbench.bench import random_values, resolve_values
from graphwright.workbench.metrics import max_errors
from graphwright.workbench.mp_reference import (
    EXACT_FUNCTIONS,
    NoReference,
    evaluate_node,
    exact_elemwise,
    to_float,
    to_mp,
)

__all__ = ["Evaluation", "MAX_DPS"]

MAX_DPS = 1600  # the reference doubles its digits up to this many while a value still changes


def _elemwise_name(node: Apply) -> str | None:
    op = plain_op(node)
    return op.scalar_op.name if isinstance(op, Elemwise) else None


class Evaluation:
    """Float values (``perform``) and mp values (or why there are none) of every variable of a graph.

    ``value``: float value per variable; ``mp``: mp value per variable that has a reference; ``why``: "none: ..."
    per variable without one; ``exact``: the variables whose mp value has no rounding error at all (inputs,
    and add/sub/mul/neg of exact values whose result fits the precision); ``dps``: the digits the reference used;
    ``too_large``: why no reference was computed, or None.

    Examples
    --------
    >>> import graphwright as gw
    >>> t = gw.vector("t")
    >>> ev = Evaluation(gw.Graph([t], [1 - t]), [np.array([1.0, 0.5])], dps=50, max_elements=1000)
    >>> ev.dps, ev.errors(ev.graph.outputs[0])
    (100, (0.0, 0.0, 'mpmath'))
    """

    def __init__(self, graph: Graph, values: Any, dps: int, max_elements: int):
        args = random_values(graph.inputs, length=10) if values is None else resolve_values(graph, values)
        self.graph = graph
        self.value: dict[Variable, np.ndarray] = dict(zip(graph.inputs, args, strict=True))
        with np.errstate(all="ignore"):
            for node in graph.toposort:
                self._float(node)
        self.total = sum(int(np.size(v)) for v in self.value.values())
        self.mp: dict[Variable, np.ndarray] = {}
        self.why: dict[Variable, str] = {}
        self.exact: set[Variable] = set()
        self.dps = dps
        if self.total > max_elements:
            self.too_large: str | None = f"none: too large ({self.total} elements; max_elements={max_elements})"
            return
        self.too_large = None
        self.dps = self._resolve(args, dps)

    def _resolve(self, args: list, dps: int) -> int:
        """Evaluate at ``dps`` digits, then at twice as many, doubling until every value rounds to the same
        float (a cancellation deeper than the precision shows up as a change) and no add/sub cancels to a
        doubtful zero (see :meth:`_cancelled`); values still changing at :data:`MAX_DPS` digits get no
        reference. Returns the digits used."""
        self._mp_pass(args, dps)
        while True:
            previous, dps = self.mp, min(2 * dps, MAX_DPS)
            self._mp_pass(args, dps)
            unsettled = [v for v, a in self.mp.items() if v in previous and not _same_floats(a, previous[v])]
            if not unsettled and not any(self._cancelled(node) for node in self.graph.toposort):
                return dps
            if dps >= MAX_DPS:  # a sum still exactly 0 here is taken as exact; a changing value is not
                for v in unsettled:
                    del self.mp[v]
                    self.why[v] = f"none: not resolved at {MAX_DPS} digits"
                return dps

    def _cancelled(self, node: Apply) -> bool:
        """Did an add or sub give exactly 0 from non-zero operands that are not all exact? At this precision
        such operands may only look equal (1 - sigmoid(800) needs about 350 digits), so the reference takes
        more digits. An exact zero of exact operands (``1 - t`` at t == 1, ``x - x``) is a true zero: the
        output is then in ``exact`` (rounding never turns a non-zero sum into 0) and needs no more digits."""
        if _elemwise_name(node) not in ("add", "sub") or node.outputs[0] not in self.mp:
            return False
        out = np.asarray(self.mp[node.outputs[0]])
        if node.outputs[0] in self.exact or out.dtype != object:
            return False
        if any(v not in self.mp and not isinstance(v, Constant) for v in node.inputs):
            return False
        nonzero = np.zeros(out.shape, dtype=bool)
        for v in node.inputs:
            nonzero |= np.broadcast_to(np.asarray(self._mp_of(v)) != 0, out.shape)
        return bool(np.any((out == 0) & nonzero))

    def _mp_pass(self, args: list, dps: int) -> None:
        self.mp, self.why = {}, {}
        self.exact = set(self.graph.inputs)
        with mpmath.workdps(dps), np.errstate(all="ignore"):
            self.mp.update({v: to_mp(a) for v, a in zip(self.graph.inputs, args, strict=True)})
            for node in self.graph.toposort:
                self._reference(node)

    def get(self, var: Variable) -> np.ndarray:
        """The float value of ``var`` (a constant's data)."""
        return np.asarray(var.data) if isinstance(var, Constant) else self.value[var]

    def _mp_of(self, var: Variable) -> Any:
        return to_mp(var.data) if isinstance(var, Constant) else self.mp[var]

    def _float(self, node: Apply) -> None:
        out = plain_op(node).perform(*(self.get(v) for v in node.inputs))
        outs = out if len(node.outputs) > 1 else (out,)
        self.value.update((v, np.asarray(o)) for v, o in zip(node.outputs, outs, strict=True))

    def _reference(self, node: Apply) -> None:
        blocked = next((v for v in node.inputs if v in self.why), None)
        if blocked is not None:
            why = self.why[blocked]
            reason = why if why.startswith("none: input") else f"none: input {blocked.owner.op.short_name()} " \
                                                                 "has no high-precision evaluation"
            self.why.update((v, reason) for v in node.outputs)
            return
        args = [self._mp_of(v) for v in node.inputs]
        try:
            outs = evaluate_node(node, args)
        except NoReference as exc:
            self.why.update((v, f"none: {exc}") for v in node.outputs)
            return
        self.mp.update(zip(node.outputs, outs, strict=True))
        self._track_exact(node, args)

    def _track_exact(self, node: Apply, args: list) -> None:
        """Put ``node``'s output in ``exact`` when it is an add/sub/mul/neg of exact values whose rounded
        result equals the unrounded one (1 + 1e-300 at 50 digits is not exact). Other ops count as inexact."""
        name = _elemwise_name(node)
        if name not in EXACT_FUNCTIONS or not all(isinstance(v, Constant) or v in self.exact for v in node.inputs):
            return
        (out,) = node.outputs
        if bool(np.all(np.asarray(self.mp[out]) == exact_elemwise(name, args))):
            self.exact.add(out)

    def errors(self, var: Variable) -> tuple[float | None, float | None, str]:
        """(max abs error, max rel error, reference) of ``var``'s float value against its mp value
        (:func:`graphwright.workbench.metrics.max_errors` of the float value and the mp value rounded once)."""
        if self.too_large:
            return None, None, self.too_large
        if isinstance(var, Constant):
            return 0.0, 0.0, "mpmath"
        if var not in self.mp:
            return None, None, self.why.get(var, "none: not computed")
        return (*max_errors(self.value[var], to_float(self.mp[var])), "mpmath")


def _same_floats(a: np.ndarray, b: np.ndarray) -> bool:
    """Do two mp arrays round to the same floats (NaN equal to NaN)?"""
    fa, fb = to_float(a), to_float(b)
    return fa.shape == fb.shape and bool(np.all((fa == fb) | (np.isnan(fa) & np.isnan(fb))))
