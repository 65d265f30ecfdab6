"""Graph: an immutable value of inputs and outputs with toposort, clients, ancestors and functional replace."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property

from graphwright.graph.basic import Apply, Constant, GraphError, Variable

__all__ = ["Graph", "ancestors", "toposort", "free_inputs", "replace", "clone"]


def _as_list(outputs: Variable | Sequence[Variable]) -> list[Variable]:
    return [outputs] if isinstance(outputs, Variable) else list(outputs)


def toposort(outputs: Iterable[Variable], stop_at: Iterable[Variable] = (),
             inside: Callable[[Apply], bool] | None = None) -> list[Apply]:
    """Apply nodes needed by ``outputs`` in dependency order (inputs before users), without recursion.

    ``stop_at``: variables whose owners are not visited. ``inside``: when given, only nodes for which it holds
    are visited and listed; the order is that of the whole toposort when the nodes inside are closed under
    users (every node using an inside node is inside), and the cost is proportional to the nodes inside.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> [n.op.short_name() for n in toposort([gw.exp(gw.log(x))])]
    ['log', 'exp']
    """
    stop = set(map(id, stop_at))
    order: list[Apply] = []
    done: set[Apply] = set()  # Apply hashes by identity
    # two parallel stacks (node, next input position) instead of tuples: deep chains keep the GC quiet
    nodes: list[Apply] = []
    positions: list[int] = []
    for out in outputs:
        if out.owner is None or id(out) in stop or out.owner in done or (inside and not inside(out.owner)):
            continue
        nodes.append(out.owner)
        positions.append(0)
        while nodes:
            node = nodes[-1]
            inputs = node.inputs
            i = positions[-1]
            n = len(inputs)
            while i < n:
                inp = inputs[i]
                i += 1
                owner = inp.owner
                if (owner is not None and owner not in done and (not stop or id(inp) not in stop)
                        and (inside is None or inside(owner))):
                    positions[-1] = i
                    nodes.append(owner)
                    positions.append(0)
                    break
            else:
                nodes.pop()
                positions.pop()
                if node not in done:
                    done.add(node)
                    order.append(node)
    return order


def ancestors(outputs: Iterable[Variable], stop_at: Iterable[Variable] = ()) -> list[Variable]:
    """Every variable that ``outputs`` depend on (themselves included), inputs before users."""
    seen: set[int] = set()
    result: list[Variable] = []

    def add(v: Variable) -> None:
        if id(v) not in seen:
            seen.add(id(v))
            result.append(v)

    outputs = list(outputs)
    for node in toposort(outputs, stop_at):
        for v in node.inputs:
            add(v)
        for v in node.outputs:
            add(v)
    for v in outputs:
        add(v)
    return result


def free_inputs(outputs: Iterable[Variable]) -> list[Variable]:
    """The non-constant variables without an owner that ``outputs`` depend on, in discovery order."""
    return [v for v in ancestors(outputs) if v.owner is None and not isinstance(v, Constant)]


def replace(
    outputs: Variable | Sequence[Variable], mapping: Mapping[Variable, Variable],
    node_map: dict[Apply, Apply] | None = None,
) -> Variable | list[Variable]:
    """Rebuild ``outputs`` with each key of ``mapping`` replaced by its value (functional, nothing mutates).

    Nodes whose inputs did not change are reused as they are; changed nodes are re-made through their op,
    so types are re-inferred and checked. ``node_map``, if given, receives old node -> rebuilt node.

    Examples
    --------
    >>> import graphwright as gw
    >>> x, y = gw.vector("x"), gw.vector("y")
    >>> replace(gw.exp(x) + 1, {x: y})
    exp(y) + 1
    """
    single = isinstance(outputs, Variable)
    outs = _as_list(outputs)
    new: dict[int, Variable] = {}
    for old, value in mapping.items():
        if not isinstance(old, Variable) or not isinstance(value, Variable):
            raise GraphError(f"replace needs Variable -> Variable, got {type(old).__name__} -> "
                             f"{type(value).__name__}")
        new[id(old)] = value
    for node in toposort(outs, stop_at=mapping.keys()):
        ins = [new.get(id(v), v) for v in node.inputs]
        if any(a is not b for a, b in zip(ins, node.inputs, strict=True)):
            rebuilt = node.op.make_node(*ins)
            if node_map is not None:
                node_map[node] = rebuilt
            for o_old, o_new in zip(node.outputs, rebuilt.outputs, strict=True):
                if id(o_old) not in new:
                    new[id(o_old)] = o_new
    result = [new.get(id(v), v) for v in outs]
    return result[0] if single else result


def clone(outputs: Variable | Sequence[Variable], inputs: Sequence[Variable] | None = None):
    """Copy a graph onto fresh input variables of the same types and names.

    Returns ``(new_inputs, new_outputs)``. Because nodes are hash-consed, only fresh inputs make a real copy.
    """
    single = isinstance(outputs, Variable)
    outs = _as_list(outputs)
    inputs = free_inputs(outs) if inputs is None else list(inputs)
    fresh = [v.type.make_variable(name=v.name) for v in inputs]
    new_outs = replace(outs, dict(zip(inputs, fresh, strict=True)))
    return fresh, (new_outs[0] if single else new_outs)


class Graph:
    """An immutable graph value: ``inputs`` and ``outputs`` plus lazily computed structure.

    Parameters
    ----------
    inputs : the graph inputs; by default every free variable the outputs depend on, in discovery order.
    outputs : one variable or a sequence of them.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> g = Graph([x], [gw.log(1 + gw.exp(x))])
    >>> g.node_count
    3
    """

    __slots__ = ("inputs", "outputs", "__dict__")

    def __init__(self, inputs: Sequence[Variable] | None = None,
                 outputs: Variable | Sequence[Variable] = ()):
        self.outputs = tuple(_as_list(outputs))
        free = self._free_inputs()
        if inputs is None:
            self.inputs = tuple(free)
        else:
            self.inputs = tuple(inputs)
            for v in self.inputs:
                if not isinstance(v, Variable) or isinstance(v, Constant) or v.owner is not None:
                    raise GraphError(f"graph input {v!r} must be a free variable (no owner, not a constant)")
            if len({id(v) for v in self.inputs}) != len(self.inputs):
                raise GraphError("a variable appears twice among the graph inputs")
            known = {id(v) for v in self.inputs}
            missing = [v for v in free if id(v) not in known]
            if missing:
                names = ", ".join(repr(v) for v in missing)
                raise GraphError(f"the outputs depend on input(s) {names} that are not among the graph inputs")

    def _free_inputs(self) -> list[Variable]:
        """Like :func:`free_inputs`, from the (cached) toposort."""
        seen: set[int] = set()
        free = []
        for v in [v for node in self.toposort for v in node.inputs] + list(self.outputs):
            if v.owner is None and id(v) not in seen and not isinstance(v, Constant):
                seen.add(id(v))
                free.append(v)
        return free

    @cached_property
    def toposort(self) -> tuple[Apply, ...]:
        return tuple(toposort(self.outputs))

    @cached_property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(ancestors(self.outputs))

    @cached_property
    def clients(self) -> dict[Variable, list[tuple[Apply, int]]]:
        """For each variable, the ``(node, input position)`` pairs that use it (outputs use key ``None``)."""
        result: dict[Variable, list[tuple[Apply, int]]] = {v: [] for v in self.variables}
        for v in self.inputs:
            result.setdefault(v, [])
        for node in self.toposort:
            for i, v in enumerate(node.inputs):
                result[v].append((node, i))
        return result

    @property
    def node_count(self) -> int:
        return len(self.toposort)

    def replace(self, mapping: Mapping[Variable, Variable]) -> Graph:
        """A new Graph with variables replaced; inputs that are replaced are dropped from the inputs."""
        outs = replace(list(self.outputs), mapping)
        replaced = {id(k) for k in mapping}
        kept = [v for v in self.inputs if id(v) not in replaced]
        known = {id(v) for v in kept}
        extra = [v for v in free_inputs(outs) if id(v) not in known]
        return Graph(kept + extra, outs)

    def clone(self) -> Graph:
        """A copy on fresh input variables."""
        new_inputs, new_outputs = clone(list(self.outputs), list(self.inputs))
        return Graph(new_inputs, new_outputs)

    def __repr__(self) -> str:
        return f"Graph({len(self.inputs)} inputs, {len(self.outputs)} outputs, {self.node_count} nodes)"
