"""Numba kernels for Elemwise and Composite nodes: one generated loop nest over the broadcast shape.

Only static length-1 dimensions broadcast (the graph's rule), so which input is read at index 0 along which
dimension is known when the kernel is generated; the other lengths must agree at run time. A composite's
inner graph becomes straight-line scalar code inside the innermost loop, so a fused group is one pass over
memory with no temporaries. An ``InPlace`` node writes the outputs it may into the given input's buffer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphwright.backends.numba_backend.kernels import broadcast_lengths, njit_source, register, tuple_source
from graphwright.backends.numba_backend.scalar import SCALAR_NAMESPACE, UnsupportedRow, scalar_expr
from graphwright.backends.registry import UnsupportedOpError
from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.destroy import InPlace, plain_node
from graphwright.graph.graph import toposort
from graphwright.tensor.composite import Composite
from graphwright.tensor.elemwise import Elemwise

__all__ = ["elementwise_kernel", "kernel_source", "scalar_program_kernel"]


def _cast(expr: str, dtype: str) -> str:
    return f"bool({expr})" if dtype == "bool" else f"np.{dtype}({expr})"


def _scalar_program(node: Apply, args: list[str], consts: dict[str, object], prefix: str = "t"
                    ) -> tuple[list[str], list[str]]:
    """Statements computing one element of every output of an Elemwise or Composite node from the scalar
    names ``args``, and the names holding the outputs. Temporaries start with ``prefix``; constants of inner
    graphs go into ``consts``."""
    op = node.op
    if isinstance(op, Elemwise):
        out = node.outputs[0].type.dtype
        expr = scalar_expr(op.scalar_op, args, tuple(v.type.dtype for v in node.inputs), out)
        return [f"{prefix} = {_cast(expr, out)}"], [prefix]
    names: dict[Variable, str] = dict(zip(op.inner_inputs, args, strict=True))
    lines: list[str] = []

    def name_of(v: Variable) -> str:
        if v not in names:
            if not isinstance(v, Constant):  # pragma: no cover - composites are closed graphs
                raise ValueError(f"{v} is not computed by the composite")
            names[v] = f"k{len(consts)}"
            consts[names[v]] = np.asarray(v.data).astype(v.type.dtype)[()]
        return names[v]

    for k, inner in enumerate(toposort(op.inner_outputs)):
        sub_lines, sub_outs = _scalar_program(inner, [name_of(v) for v in inner.inputs], consts, f"{prefix}_{k}")
        lines += sub_lines
        names.update(zip(inner.outputs, sub_outs, strict=True))
    return lines, [name_of(v) for v in op.inner_outputs]


def kernel_source(node: Apply) -> tuple[str, dict]:
    """The source of ``def kernel(x0, x1, ...)`` for an Elemwise/Composite node (possibly InPlace) and the
    globals it needs."""
    destroy = node.op.destroy_map if isinstance(node.op, InPlace) else {}
    plain = plain_node(node)
    nd = plain.outputs[0].type.ndim
    ins = [f"x{k}" for k in range(len(plain.inputs))]
    padded = [(1,) * (nd - v.type.ndim) + tuple(v.type.shape) for v in plain.inputs]
    offsets = [nd - v.type.ndim for v in plain.inputs]
    lines = [f"def kernel({', '.join(ins)}):"]
    lines += broadcast_lengths(ins, offsets, padded, nd, f"{_short(plain)}: input shapes")
    shape = tuple_source([f"n{d}" for d in range(nd)])
    for o, out in enumerate(plain.outputs):
        if o in destroy:
            lines.append(f"    out{o} = x{destroy[o]}")
        else:
            lines.append(f"    out{o} = np.empty({shape}, np.{out.type.dtype})")
    consts: dict[str, object] = {}
    args = [f"a{k}" for k in range(len(ins))]
    body, results = _scalar_program(plain, args, consts)
    indent = "    "
    for d in range(nd):
        lines.append(f"{indent}for j{d} in range(n{d}):")
        indent += "    "
    for k in range(len(ins)):
        idx = [("0" if padded[k][d] == 1 else f"j{d}") for d in range(offsets[k], nd)]
        lines.append(f"{indent}a{k} = x{k}[{', '.join(idx) if idx else '()'}]")
    lines += [indent + ln for ln in body]
    out_idx = ", ".join(f"j{d}" for d in range(nd)) if nd else "()"
    for o, r in enumerate(results):
        lines.append(f"{indent}out{o}[{out_idx}] = {r}")
    lines.append(f"    return {', '.join(f'out{o}' for o in range(len(results)))}")
    return "\n".join(lines) + "\n", consts


def _short(node: Apply) -> str:
    return node.op.short_name().replace("'", "").replace("\\", "")[:60]


def scalar_program_kernel(node: Apply, source_of: Callable[[Apply], tuple[str, dict]]) -> Callable:
    """Compile the kernel ``source_of(node)`` writes around a scalar program (with the scalar helpers and the
    program's constants as globals); UnsupportedOpError when a scalar op has no Numba form."""
    try:
        source, consts = source_of(node)
    except UnsupportedRow as exc:
        raise UnsupportedOpError("numba", node, f"no Numba form of the scalar op {exc.args[0]}") from None
    helpers = {k: v for k, v in SCALAR_NAMESPACE.items() if k not in ("np", "math")}
    return njit_source(source, **helpers, **consts)


@register(Elemwise, Composite)
def elementwise_kernel(node: Apply) -> Callable:
    """An njit loop-nest kernel for an Elemwise or Composite node (identical nodes share one kernel)."""
    kernel = scalar_program_kernel(node, kernel_source)
    if isinstance(node.op, InPlace):
        kernel.writes_in_place = True
    return kernel
