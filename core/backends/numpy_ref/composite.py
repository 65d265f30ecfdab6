"""NumPy implementation of Composite: one generated Python function that runs the inner graph on arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphwright.backends.numpy_ref.elemwise import (
    check_runtime_broadcast,
    elemwise_impl,
    shapes_to_check,
    written_into_buffer,
)
from graphwright.graph.basic import Apply, Variable
from graphwright.graph.destroy import InPlace, plain_node
from graphwright.graph.graph import toposort
from graphwright.tensor.composite import Composite, broadcast_output


def _ufunc_of(inner: Apply, fn: Callable) -> np.ufunc | None:
    """The NumPy ufunc that ``fn`` (the impl of an inner elementwise node) is, if it is exactly one."""
    ufunc = written_into_buffer(fn)
    return ufunc if ufunc is not None and ufunc.nin == len(inner.inputs) else None


def _last_uses(nodes: list[Apply]) -> dict[Variable, int]:
    last: dict[Variable, int] = {}
    for k, inner in enumerate(nodes):
        for v in inner.inputs:
            last[v] = k
    return last


def composite_source(node: Apply) -> tuple[str, dict]:
    """The source of ``def composite(i0, i1, ...)`` computing the node's outputs, and its namespace.

    A temporary that dies at an instruction is reused as that instruction's output buffer when the
    instruction is a plain ufunc and the shapes and dtypes match at run time (``out=``): one allocation less.
    Inputs an ``InPlace`` node may overwrite count as such temporaries.
    """
    destroyed = set(node.op.destroy_map.values()) if isinstance(node.op, InPlace) else set()
    node = plain_node(node)
    op = node.op
    names: dict[Variable, str] = {p: f"i{k}" for k, p in enumerate(op.inner_inputs)}
    namespace: dict = {"_ndarray": np.ndarray, "_bshape": np.broadcast_shapes, "_shape": np.shape}
    lines = [f"def composite({', '.join(names.values())}):"]
    nodes = toposort(op.inner_outputs)
    last = _last_uses(nodes)
    kept, placeholders = set(op.inner_outputs), set(op.inner_inputs)
    temporaries: set[Variable] = {op.inner_inputs[k] for k in destroyed}
    for k, inner in enumerate(nodes):
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
        label = "composite" if isinstance(inner.op, Composite) else inner.op.short_name()
        call = f"{fn}({', '.join(args)})"
        ufunc = None if isinstance(inner.op, Composite) else _ufunc_of(inner, namespace[fn])
        dying = [v for v in dict.fromkeys(inner.inputs) if v in temporaries and last[v] == k and v not in kept
                 and v.type.dtype == inner.outputs[0].type.dtype]
        if ufunc is not None and dying:
            buf = names[dying[0]]
            namespace[f"u{k}"] = ufunc
            shapes = ", ".join(f"_shape({a})" for a in args)
            writeable = f" and {buf}.flags.writeable" if dying[0] in placeholders else ""
            call = (f"u{k}({', '.join(args)}, out={buf}) if {buf}.__class__ is _ndarray{writeable} and "
                    f"{buf}.shape == _bshape({shapes}) else {call}")
        temporaries.update(inner.outputs)
        lines.append(f"    {', '.join(outs)}{',' if len(outs) > 1 else ''} = {call}  # {label}")
    for v in op.inner_outputs:
        if v not in names:  # an output that is a constant of the inner graph
            names[v] = f"c{len(namespace)}"
            namespace[names[v]] = v.data
    results = [names[v] for v in op.inner_outputs]
    partial = op.partial_outputs
    if partial:  # outputs that miss some inputs are broadcast to the composite's shape (and never alias one)
        namespace["_broadcast_output"] = broadcast_output
        shapes = ", ".join(f"_shape(i{k})" for k in range(len(op.inner_inputs)))
        lines.append(f"    shape = _bshape({shapes})")
        for k in partial:
            lines.append(f"    {results[k]}_b = _broadcast_output({results[k]}, shape)")
            results[k] = f"{results[k]}_b"
    lines.append(f"    return {', '.join(results)}{',' if len(results) > 1 else ''}")
    return "\n".join(lines) + "\n", namespace


def composite_impl(node: Apply) -> Callable:
    """The callable computing a Composite node (or an ``InPlace`` one, reusing the inputs it may overwrite)."""
    source, namespace = composite_source(node)
    exec(compile(source, "<composite>", "exec"), namespace)  # noqa: S102 - our own generated code
    run = namespace["composite"]
    run.writes_in_place = isinstance(node.op, InPlace)  # into the inputs it may overwrite, when shapes match
    shapes = shapes_to_check(node)
    if shapes is None:
        return run

    def checked(*xs):
        try:
            check_runtime_broadcast("composite", xs, shapes)
        except ValueError as exc:  # the (long) composite name only when there is an error to report
            raise ValueError(str(exc).replace("composite", plain_node(node).op.short_name(), 1)) from None
        return run(*xs)

    checked.writes_in_place = run.writes_in_place
    return checked


def composite_reduce_impl(node: Apply) -> Callable:
    """The callable computing a CompositeReduce node: the composite's fast path (with its run-time broadcast
    check), then the reduction; the full-size temporary is unavoidable on NumPy."""
    node = plain_node(node)
    comp, red = node.op.unfused(node)
    run, reduce = composite_impl(comp), red.op.perform

    def composite_reduce(*xs):
        return reduce(run(*xs))

    return composite_reduce
