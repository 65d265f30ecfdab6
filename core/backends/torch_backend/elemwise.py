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

from graphwright.backends.dispatch import KernelContext
from graphwright.backends.numpy_ref.elemwise import check_runtime_broadcast, shapes_to_check
from graphwright.backends.torch_backend.convert import as_tensor
from graphwright.backends.torch_backend.scalar import in_place_function, row_function
from graphwright.graph.basic import Apply, Variable
from graphwright.graph.destroy import InPlace, plain_node
from graphwright.graph.inner import Program
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


def elemwise_kernel(node: Apply, ctx: KernelContext) -> Callable:
    """The torch function computing an Elemwise node; an ``InPlace`` one writes into the input it may
    overwrite when the row is a single torch call on inputs of the output dtype.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x", dtype="int8")
    >>> from graphwright.backends.dispatch import KernelContext
    >>> f = elemwise_kernel(gw.exp(x).owner, KernelContext("torch", torch.device("cpu")))
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
    (graph,) = op.inner_graphs()
    program = graph.program
    writes = _buffer_writes(node, program)
    namespace: dict = {"_bshape": torch.broadcast_shapes}
    constants: dict[Variable, str] = {}

    def name_of(operand: tuple) -> str:
        if operand[0] == "input":
            return f"i{operand[1]}"
        if operand[0] == "value":
            single = len(program.instructions[operand[1]].node.outputs) == 1
            return f"t{operand[1]}" if single else f"t{operand[1]}_{operand[2]}"
        if operand[1] not in constants:  # a 0-d constant of the inner graph
            constants[operand[1]] = name = f"c{len(constants)}"
            namespace[name] = as_tensor(operand[1].data, device)
        return constants[operand[1]]

    n_in = len(graph.placeholders)
    lines = [f"def composite({', '.join(f'i{k}' for k in range(n_in))}):"]
    for step in program.instructions:
        k, inner = step.position, step.node
        args = ", ".join(name_of(a) for a in step.operands)
        is_composite = isinstance(inner.op, Composite)
        inner_ctx = KernelContext("torch", device)
        namespace[f"f{k}"] = (composite_kernel if is_composite else elemwise_kernel)(inner, inner_ctx)
        outs = [name_of(("value", k, j)) for j in range(len(inner.outputs))]
        label = "composite" if is_composite else inner.op.short_name()
        if k in writes:  # the output the node may write into a dead input's buffer
            namespace[f"f{k}"], buffer = writes[k]
            args, label = f"{args}, out={buffer}", f"{label}, into {buffer}"
        lines.append(f"    {', '.join(outs)}{',' if len(outs) > 1 else ''} = f{k}({args})  # {label}")
    results = [name_of(r) for r in program.results]
    partial = set(op.partial_outputs)
    if partial:  # outputs that miss some inputs take the full broadcast shape, in a buffer of their own
        lines.append(f"    shape = _bshape({', '.join(f'i{k}.shape' for k in range(n_in))})")
    seen: set[str] = set()
    for k, name in enumerate(results):
        if k in partial:
            results[k] = f"{name}.expand(shape).clone()"
        elif name in seen:  # the same value twice: two buffers (either may be overwritten later)
            results[k] = f"{name}.clone()"
        seen.add(name)
    lines.append(f"    return {', '.join(results)}{',' if len(results) > 1 else ''}")
    return "\n".join(lines) + "\n", namespace


def _buffer_writes(node: Apply, program: Program) -> dict[int, tuple[Callable, str]]:
    """For an ``InPlace`` composite: inner instruction position -> (its row taking ``out=``, the input buffer
    it writes into), for each output it may put in an input's buffer when that output is one torch call on
    operands of its dtype, computed after the last read of that input (``program.last_use``)."""
    if not isinstance(node.op, InPlace):
        return {}
    op = node.op.op
    (graph,) = op.inner_graphs()
    partial = set(op.partial_outputs)
    writes = {}
    for o, i in node.op.destroy_map.items():
        out, buffer, where = graph.outputs[o], graph.placeholders[i], program.results[o]
        if where[0] != "value":
            continue
        inner = out.owner
        if (o in partial or not isinstance(inner.op, Elemwise) or graph.outputs.count(out) > 1
                or out.type.dtype != buffer.type.dtype or program.last_use.get(buffer, -1) > where[1]):
            continue
        into = in_place_function(inner.op.scalar_op, tuple(v.type.dtype for v in inner.inputs), out.type.dtype)
        if into is not None:
            writes[where[1]] = (into if len(inner.inputs) <= 2 else _fold_into(into), f"i{i}")
    return writes


def _fold_into(into: Callable) -> Callable:
    """A variadic row folded pairwise, the last step written into ``out``."""

    def fold(*xs, out):
        acc = xs[0]
        for x in xs[1:-1]:
            acc = into(acc, x)
        return into(acc, xs[-1], out=out)

    return fold


def composite_kernel(node: Apply, ctx: KernelContext) -> Callable:
    """The torch function computing a Composite node; an ``InPlace`` one writes the outputs it may into the
    inputs' buffers where :func:`_buffer_writes` allows it.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x, y = gw.vector("x"), gw.vector("y")
    >>> node = composite_of([x * y + 1], [x, y])(x, y).owner
    >>> from graphwright.backends.dispatch import KernelContext
    >>> run = composite_kernel(node, KernelContext("torch", torch.device("cpu")))
    >>> run(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
    tensor([4., 9.])
    """
    device = ctx.device
    source, namespace = composite_source(node, device)
    exec(compile(source, f"<torch-composite-{next(_ids)}>", "exec"), namespace)  # noqa: S102 - generated here
    run = namespace["composite"]
    run.writes_in_place = bool(_buffer_writes(node, plain_node(node).op.inner_graphs()[0].program))
    return _checked(run, plain_node(node).op.short_name(), shapes_to_check(node))
