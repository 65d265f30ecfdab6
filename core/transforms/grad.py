"""Reverse-mode automatic differentiation: ``grad`` walks the graph backwards calling each op's pullback."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from graphwright.graph.basic import Apply, Constant, GraphError, Variable
from graphwright.graph.graph import replace, toposort
from graphwright.tensor.grad_util import NotDifferentiableError, is_differentiable
from graphwright.tensor.variable import TensorVariable, as_tensor, tensor

__all__ = ["grad", "DisconnectedInputError", "backprop", "PRE_GRAD_PHASES"]

# The cost goes through these phases before it is differentiated, so that gradients of stabilized forms are
# taken (d/dx log(1 + exp(x)) = sigmoid(x), finite at x = 800).
PRE_GRAD_PHASES = ("canonicalize", "stabilize")


class DisconnectedInputError(GraphError, ValueError):
    """The cost does not depend on a variable it is differentiated with respect to."""


def _label(v: Variable) -> str:
    return f"{v} ({v.type.short()})"


def grad(cost: Any, wrt: Variable | Sequence[Variable], *, known_grads: Mapping[Variable, Any] | None = None,
         consider_constant: Sequence[Variable] = (), disconnected: str = "raise",
         stabilize: bool = True) -> Variable | list[Variable]:
    """The gradient of a scalar ``cost`` with respect to ``wrt`` (one variable or a list), as graphs.

    Parameters
    ----------
    cost : a 0-d float variable, or None when ``known_grads`` gives the starting gradients.
    wrt : the variable(s) to differentiate with respect to: float inputs or intermediate variables.
    known_grads : ``{variable: gradient}`` added to the backward pass (gradients flowing in from outside).
    consider_constant : variables treated as constants: no gradient flows through them to their ancestors.
    disconnected : what to do when the cost does not depend on a ``wrt``: "raise", "warn" (and return
        zeros) or "ignore" (return zeros).
    stabilize : rewrite the cost with the canonicalize and stabilize phases first (on by default), so the
        gradient of ``log(1 + exp(x))`` is ``sigmoid(x)`` and finite at ``x = 800``. With False the cost is
        differentiated as written: the gradient is that of the written form, NaN or infinite where the form
        or a derivative of it leaves float range (``exp(800)``; a probability ``p`` below 1e-308, whose log is
        finite but whose derivative ``1 / p`` is not), even where ``gw.function`` stabilizes the cost itself.

    Returns a variable per ``wrt`` (a list when ``wrt`` is a list), with the dtype and shape of its ``wrt``.

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> f = gw.function([x], gw.grad(gw.sum(x ** 2), x))
    >>> f(np.array([1.0, -3.0]))
    array([ 2., -6.])
    >>> f.graph.outputs[0]
    x * 2
    >>> g = gw.grad(gw.sum(gw.log(1 + gw.exp(x))), x)  # differentiated as softplus: finite at x = 800
    >>> gw.function([x], g)(np.array([-800.0, 0.0, 800.0]))
    array([0. , 0.5, 1. ])
    >>> cost = gw.log(gw.exp(x) / gw.sum(gw.exp(x)))[0]  # a hand-written log-softmax entry
    >>> with np.errstate(all="ignore"):  # as written: exp(800) / sum(exp(x)) is inf / inf
    ...     gw.function([x], gw.grad(cost, x, stabilize=False))(np.array([800.0, 0.0]))
    array([nan, nan])
    >>> gw.function([x], gw.grad(cost, x))(np.array([800.0, 0.0]))
    array([0., 0.])
    """
    single = isinstance(wrt, Variable)
    targets = [wrt] if single else list(wrt)
    if disconnected not in ("raise", "warn", "ignore"):
        raise ValueError(f"grad: disconnected must be 'raise', 'warn' or 'ignore', got {disconnected!r}")
    starts = _starting_grads(cost, known_grads)
    for w in targets:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be variables, got {type(w).__name__}")
        if isinstance(w, Constant):
            raise TypeError(f"grad: cannot differentiate with respect to the constant {w}")
        if not w.type.is_tensor:
            raise TypeError(f"grad: cannot differentiate with respect to {_label(w)}: it is not a tensor, and a "
                            f"value of type {w.type.short()} has no gradient")
        if not is_differentiable(w):
            raise TypeError(f"grad: cannot differentiate with respect to {_label(w)}: only float variables have "
                            "gradients (cast integers to float first)")
    constants = list(consider_constant)
    if stabilize:
        starts, targets_in, constants, back = _stabilized(starts, targets, constants)
    else:
        targets_in, back = targets, {}
    found = backprop(starts, targets_in, constants)
    if back:
        found = _through_cut_targets(found, targets, targets_in, constants, back)
    results = []
    for w, w_in in zip(targets, targets_in, strict=True):
        g = found.get(w_in)
        if g is None:
            if disconnected == "raise":
                raise DisconnectedInputError(
                    f"grad: the cost does not depend on {_label(w)}; pass disconnected='ignore' (or 'warn') to "
                    "get zeros instead")
            if disconnected == "warn":
                warnings.warn(f"grad: the cost does not depend on {_label(w)}; its gradient is zero", stacklevel=2)
            from graphwright.tensor.creation import zeros_like

            g = zeros_like(w)
        results.append(g)
    if back:
        results = replace(results, back)
    return results[0] if single else results


def _through_cut_targets(found: dict, targets: list, targets_in: list, constants: list, back: dict) -> dict:
    """Intermediate targets were cut out as placeholders for the stabilizing rewrite; the gradient that reached
    each one still has to flow on through its own (original) graph to the targets upstream of it. Done for
    the cut targets from the outputs' side inwards, so gradients that pass several of them are complete."""
    key = dict(zip(targets, targets_in, strict=True))
    cut = [t for t in targets if key[t] is not t]
    position = {node: k for k, node in enumerate(toposort(cut))}
    originals = list(targets)
    stop = [back.get(c, c) for c in constants]
    for t in sorted(cut, key=lambda v: position[v.owner], reverse=True):
        g = found.get(key[t])
        if g is None:
            continue
        others = [o for o in originals if o is not t]
        for u, contribution in backprop({t: g}, others, stop, leaves=[o for o in cut if o is not t]).items():
            found[key[u]] = found[key[u]] + contribution if key[u] in found else contribution
    return found


def _starting_grads(cost: Any, known_grads: Mapping[Variable, Any] | None) -> dict[Variable, Variable]:
    starts: dict[Variable, Variable] = {}
    if cost is not None:
        if isinstance(cost, Variable) and not cost.type.is_tensor:
            raise TypeError(f"grad: the cost {_label(cost)} is not a tensor: it has no gradient")
        cost = as_tensor(cost)
        if cost.type.ndim != 0:
            raise ValueError(f"grad: the cost must be a scalar (0-d), got {_label(cost)}; reduce it first (e.g. "
                             "gw.sum) or use gw.jacobian / gw.vjp")
        if not is_differentiable(cost):
            hint = " (complex costs are not supported: take gw.abs of it)" if cost.type.dtype.startswith(
                "complex") else ""
            raise TypeError(f"grad: the cost {_label(cost)} is not a float: it has no gradient{hint}")
        from graphwright.tensor.variable import constant

        starts[cost] = constant(1.0, cost.type.dtype)
    for var, g in (known_grads or {}).items():
        g = as_tensor(g)
        if g.type.ndim != var.type.ndim:
            raise ValueError(f"grad: known_grads for {_label(var)} has type {g.type.short()}: the number of "
                             "dimensions must match")
        if any(t == 1 and s != 1 for s, t in zip(var.type.shape, g.type.shape, strict=True)):
            from graphwright.tensor.creation import zeros_like

            g = g + zeros_like(var)  # a gradient that broadcasts: give it the variable's full shape
        starts[var] = g if var not in starts else starts[var] + g
    if not starts:
        raise ValueError("grad: give a cost or known_grads")
    return starts


def _stabilized(starts: dict[Variable, Variable], targets: list[Variable], constants: list[Variable]):
    """Rewrite the forward graph with PRE_GRAD_PHASES. Intermediate variables that must survive (targets and
    constants) are first cut out as placeholder inputs, and put back at the end. The starting variables (the
    cost, known_grads keys) are the rewrite's outputs, so each keeps its value and its dependence on the
    inputs, which is all their gradients need."""
    from graphwright.rewrite import rewrite

    cut: dict[Variable, Variable] = {}
    for v in [*targets, *constants]:
        if v.owner is not None and v not in cut:
            cut[v] = tensor(v.name, dtype=v.type.dtype, shape=v.type.shape)
    keys = list(starts)
    heads = replace(keys, cut) if cut else keys
    graph, _ = rewrite(heads, phases=PRE_GRAD_PHASES)
    new_starts: dict[Variable, Variable] = {}
    for new_key, old_key in zip(graph.outputs, keys, strict=True):
        g = starts[old_key]
        new_starts[new_key] = g if new_key not in new_starts else new_starts[new_key] + g
    back = {p: v for v, p in cut.items()}
    return new_starts, [cut.get(t, t) for t in targets], [cut.get(c, c) for c in constants], back


def backprop(starts: Mapping[Variable, Variable], targets: Sequence[Variable],
             constants: Sequence[Variable] = (), leaves: Sequence[Variable] = ()) -> dict[Variable, Variable]:
    """The reverse pass: gradients of the ``targets`` reachable from ``starts`` (``{variable: gradient}``).

    Only nodes on a path from a target to a start are visited; ``constants`` stop the pass (they get no
    gradient), ``leaves`` receive theirs but do not pass it on. Returns ``{target: gradient}`` for the
    connected targets.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> y = gw.exp(x)
    >>> backprop({y: gw.vector("g")}, [x])[x]
    g * exp(x)
    """
    stop = set(constants)
    heads = list(starts)
    nodes = toposort(heads, stop_at=stop | set(leaves))
    # which variables depend on a target (only their nodes need a pullback)
    wanted = set(targets)
    live: set[Variable] = set(wanted)
    for node in nodes:
        if any(v in live for v in node.inputs):
            live.update(node.outputs)
    pending: dict[Variable, list[Variable]] = {}
    for var, g in starts.items():
        if var in live:
            pending.setdefault(var, []).append(_checked(g, var, None))
    for node in reversed(nodes):
        if not any(o in pending for o in node.outputs) or not any(v in live for v in node.inputs):
            continue
        out_grads = [_total(pending.pop(o)) if o in pending else None for o in node.outputs]
        for o, g in zip(node.outputs, out_grads, strict=True):
            if o in wanted and g is not None:
                pending.setdefault(o, []).append(g)  # keep it for the result
        _refuse_complex(node, live)
        in_grads = node.op.pullback(node, out_grads)
        if len(in_grads) != len(node.inputs):
            raise GraphError(f"{node.op.short_name()}.pullback returned {len(in_grads)} gradients for "
                             f"{len(node.inputs)} inputs")
        for pos, (var, g) in enumerate(zip(node.inputs, in_grads, strict=True)):
            if g is None or var not in live or var in stop:
                continue
            pending.setdefault(var, []).append(_checked(g, var, node, pos))
    return {t: _total(pending[t]) for t in targets if t in pending}


def _refuse_complex(node, live: set[Variable]) -> None:
    """Gradients do not flow through complex values (no silent zero): raise naming the op and the dtype."""
    for var in node.inputs:
        if var in live and str(getattr(var.type, "dtype", "")).startswith("complex"):
            raise NotDifferentiableError(
                f"grad: {node.op.short_name()} takes {var} of dtype {var.type.dtype}, which depends on the "
                "variables differentiated: gradients through complex values are not supported")


def _total(grads: list[Variable]) -> Variable:
    if len(grads) == 1:
        return grads[0]
    from graphwright.tensor.elemwise import add

    return add(*grads)


def _checked(g: Any, var: Variable, node: Apply | None, pos: int = 0) -> TensorVariable:
    """A pullback's gradient must match its input's dtype and ndim, and broadcast to its static shape."""
    g = as_tensor(g)
    where = f"{node.op.short_name()}.pullback for input {pos}" if node is not None else "the starting gradient"
    if not is_differentiable(var):
        raise NotDifferentiableError(f"{where}: {_label(var)} is not a float variable but received a gradient")
    if g.type.ndim != var.type.ndim:
        raise GraphError(f"{where}: gradient {g} of type {g.type.short()} does not match {_label(var)} "
                         "(number of dimensions)")
    if g.type.dtype != var.type.dtype:
        from graphwright.tensor.elemwise import cast

        g = cast(g, var.type.dtype)
    for d, (s, t) in enumerate(zip(var.type.shape, g.type.shape, strict=True)):
        if s is not None and t is not None and s != t:
            raise GraphError(f"{where}: gradient {g} of type {g.type.short()} does not fit {_label(var)} "
                             f"(dimension {d})")
    return g
