"""Elemwise and Composite on torch: each row is one torch call (with NumPy's dtypes), a composite is inlined
as one generated function of those calls over whole tensors. ``InPlace`` nodes write into the buffer they may
overwrite with torch's ``out=`` where the row is one torch call on operands of the output's dtype.

As in the NumPy reference, only static length-1 dimensions broadcast: data that would broadcast a runtime
length 1 in a dimension the graph does not declare of length 1 raises.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import torch

from graphwright.backends.numpy_ref.elemwise import check_runtime_broadcast, shapes_to_check
from graphwright.backends.torch_backend.convert import as_tensor
from graphwright.backends.torch_backend.scalar import in_place_function, row_function
from graphwright.graph.basic import Apply, Variable
from graphwright.graph.destroy import InPlace, plain_node
from graphwright.graph.graph import toposort
from graphwright.tensor.composite import Composite
from graphwright.tensor.elemwise import Elemwise

__all__ = ["elemwise_kernel", "composite_kernel", "composite_source"]

_ids = count()


def _checked(fn: Callable, name: str, shapes: list[tuple] | None) -> Callable:
    """``fn`` preceded by the runtime broadcast check, when the static shapes do not settle it."""
    if shapes is None:
        return fn

    def checked(*xs):
        check_runtime_broadcast(name, xs, shapes)
        return fn(*xs)

    checked.writes_in_place = getattr(fn, "writes_in_place", False)
    return checked


def _written_into(into: Callable, nin: int, target: int) -> Callable:
    """``into(*xs)`` with its result written into the buffer of ``xs[target]`` (``out=``). Variadic rows fold
    pairwise and write from the step that reads the target on, as the NumPy reference does."""
    if nin <= 2:
        def kernel(*xs):
            return into(*xs, out=xs[target])
    else:
        first = max(target, 1)

        def kernel(*xs):
            buf, acc = xs[target], xs[0]
            for j in range(1, len(xs)):
                acc = into(acc, xs[j], out=buf) if j >= first else into(acc, xs[j])
            return acc

    kernel.writes_in_place = True
    return kernel


def elemwise_kernel(node: Apply, device: torch.device) -> Callable:
    """The torch function computing an Elemwise node; an ``InPlace`` one writes into the input it may
    overwrite when the row is a single torch call on inputs of the output dtype.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x", dtype="int8")
    >>> f = elemwise_kernel(gw.exp(x).owner, torch.device("cpu"))
    >>> f(torch.tensor([0, 1], dtype=torch.int8))
    tensor([1.0000, 2.7183])
    """
    target = node.op.destroy_map.get(0) if isinstance(node.op, InPlace) else None
    node = plain_node(node)
    row = node.op.scalar_op
    in_dtypes = tuple(v.type.dtype for v in node.inputs)
    out_dtype = node.outputs[0].type.dtype
    fn = None
    if target is not None:
        into = in_place_function(row, in_dtypes, out_dtype)
        if into is not None:
            fn = _written_into(into, len(in_dtypes), target)
    if fn is None:
        fn = row_function(row, in_dtypes, out_dtype)
    return _checked(fn, row.name, shapes_to_check(node))


def composite_source(node: Apply, device: torch.device) -> tuple[str, dict]:
    """The source of ``def composite(i0, i1, ...)`` computing a Composite node's outputs with one torch call
    per inner node, and its namespace (the inner kernels ``f<k>`` and 0-d constants as tensors).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x = gw.vector("x")
    >>> source, _ = composite_source(composite_of([gw.exp(x) * 2], [x])(x).owner, torch.device("cpu"))
    >>> print(source)
    def composite(i0):
        t0 = f0(i0)  # exp
        t1 = f1(t0, c0)  # mul
        return t1
    <BLANKLINE>
    """
    op = plain_node(node).op
    nodes = toposort(op.inner_outputs)
    writes = _buffer_writes(node, nodes)
    names: dict[Variable, str] = {p: f"i{k}" for k, p in enumerate(op.inner_inputs)}
    namespace: dict = {"_bshape": torch.broadcast_shapes}
    n_const = count()

    def name_of(v: Variable) -> str:
        if v not in names:  # a 0-d constant of the inner graph
            names[v] = f"c{next(n_const)}"
            namespace[names[v]] = as_tensor(v.data, device)
        return names[v]

    lines = [f"def composite({', '.join(f'i{k}' for k in range(len(op.inner_inputs)))}):"]
    for k, inner in enumerate(nodes):
        args = ", ".join(name_of(v) for v in inner.inputs)
        is_composite = isinstance(inner.op, Composite)
        namespace[f"f{k}"] = composite_kernel(inner, device) if is_composite else elemwise_kernel(inner, device)
        outs = [f"t{k}" if len(inner.outputs) == 1 else f"t{k}_{j}" for j in range(len(inner.outputs))]
        names.update(zip(inner.outputs, outs, strict=True))
        label = "composite" if is_composite else inner.op.short_name()
        if k in writes:  # the output the node may write into a dead input's buffer
            namespace[f"f{k}"], buffer = writes[k]
            args, label = f"{args}, out={buffer}", f"{label}, into {buffer}"
        lines.append(f"    {', '.join(outs)}{',' if len(outs) > 1 else ''} = f{k}({args})  # {label}")
    results = [name_of(v) for v in op.inner_outputs]
    partial = set(op.partial_outputs)
    if partial:  # outputs that miss some inputs take the full broadcast shape, in a buffer of their own
        lines.append(f"    shape = _bshape({', '.join(f'i{k}.shape' for k in range(len(op.inner_inputs)))})")
    seen: set[str] = set()
    for k, name in enumerate(results):
        if k in partial:
            results[k] = f"{name}.expand(shape).clone()"
        elif name in seen:  # the same value twice: two buffers (either may be overwritten later)
            results[k] = f"{name}.clone()"
        seen.add(name)
    lines.append(f"    return {', '.join(results)}{',' if len(results) > 1 else ''}")
    return "\n".join(lines) + "\n", namespace


def _buffer_writes(node: Apply, nodes: list[Apply]) -> dict[int, tuple[Callable, str]]:
    """For an ``InPlace`` composite: inner node position -> (its row taking ``out=``, the input buffer it
    writes into), for each output it may put in an input's buffer when that output is one torch call on
    operands of its dtype, computed after the last read of that input."""
    if not isinstance(node.op, InPlace):
        return {}
    op = node.op.op
    position = {inner: k for k, inner in enumerate(nodes)}
    last_read: dict[Variable, int] = {v: k for k, inner in enumerate(nodes) for v in inner.inputs}
    last_read.update({v: len(nodes) for v in op.inner_outputs if v in op.inner_inputs})  # returned at the end
    partial = set(op.partial_outputs)
    writes = {}
    for o, i in node.op.destroy_map.items():
        out, buffer = op.inner_outputs[o], op.inner_inputs[i]
        inner = out.owner
        if (o in partial or inner is None or not isinstance(inner.op, Elemwise) or op.inner_outputs.count(out) > 1
                or out.type.dtype != buffer.type.dtype or last_read.get(buffer, -1) > position[inner]):
            continue
        into = in_place_function(inner.op.scalar_op, tuple(v.type.dtype for v in inner.inputs), out.type.dtype)
        if into is not None:
            writes[position[inner]] = (into if len(inner.inputs) <= 2 else _fold_into(into), f"i{i}")
    return writes


def _fold_into(into: Callable) -> Callable:
    """A variadic row folded pairwise, the last step written into ``out``."""

    def fold(*xs, out):
        acc = xs[0]
        for x in xs[1:-1]:
            acc = into(acc, x)
        return into(acc, xs[-1], out=out)

    return fold


def composite_kernel(node: Apply, device: torch.device) -> Callable:
    """The torch function computing a Composite node; an ``InPlace`` one writes the outputs it may into the
    inputs' buffers where :func:`_buffer_writes` allows it.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x, y = gw.vector("x"), gw.vector("y")
    >>> node = composite_of([x * y + 1], [x, y])(x, y).owner
    >>> composite_kernel(node, torch.device("cpu"))(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
    tensor([4., 9.])
    """
    source, namespace = composite_source(node, device)
    exec(compile(source, f"<torch-composite-{next(_ids)}>", "exec"), namespace)  # noqa: S102 - generated here
    run = namespace["composite"]
    run.writes_in_place = bool(_buffer_writes(node, toposort(plain_node(node).op.inner_outputs)))
    return _checked(run, plain_node(node).op.short_name(), shapes_to_check(node))
