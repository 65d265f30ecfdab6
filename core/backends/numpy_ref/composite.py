"""NumPy implementation of Composite: one generated Python function that runs the inner graph on arrays."""

from __future__ import annotations

from collections.abc import Callable

from graphwright.backends.numpy_ref.elemwise import check_runtime_broadcast, elemwise_impl
from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import toposort
from graphwright.tensor.composite import Composite


def composite_source(node: Apply) -> tuple[str, dict]:
    """The source of ``def composite(i0, i1, ...)`` computing the node's outputs, and its namespace."""
    op = node.op
    names: dict[Variable, str] = {p: f"i{k}" for k, p in enumerate(op.inner_inputs)}
    namespace: dict = {}
    lines = [f"def composite({', '.join(names.values())}):"]
    for k, inner in enumerate(toposort(op.inner_outputs)):
        args = []
        for v in inner.inputs:
            if v not in names:  # a 0-d constant of the inner graph
                names[v] = f"c{len(namespace)}"
                namespace[names[v]] = v.data
            args.append(names[v])
        fn = f"f{k}"
        namespace[fn] = composite_impl(inner) if isinstance(inner.op, Composite) else elemwise_impl(inner)
        outs = [f"t{k}_{j}" for j in range(len(inner.outputs))]
        names.update(zip(inner.outputs, outs, strict=True))
        lines.append(f"    {', '.join(outs)}{',' if len(outs) > 1 else ''} = {fn}({', '.join(args)})  "
                     f"# {inner.op.short_name()}")
    results = [names[v] for v in op.inner_outputs]
    lines.append(f"    return {', '.join(results)}{',' if len(results) > 1 else ''}")
    return "\n".join(lines) + "\n", namespace


def composite_impl(node: Apply) -> Callable:
    source, namespace = composite_source(node)
    exec(compile(source, f"<composite {node.op.short_name()}>", "exec"), namespace)  # noqa: S102 - our own code
    run = namespace["composite"]
    shapes = [(1,) * (node.outputs[0].type.ndim - v.type.ndim) + v.type.shape for v in node.inputs]
    if len(node.inputs) < 2 or (all(None not in s for s in shapes) and len(set(shapes)) == 1):
        return run
    name = node.op.short_name()

    def checked(*xs):
        check_runtime_broadcast(name, xs, shapes)
        return run(*xs)

    return checked
