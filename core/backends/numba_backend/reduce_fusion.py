"""Numba kernel for CompositeReduce: one loop nest over the broadcast input shape that computes the composite's
scalar program and accumulates it into the reduction, with no full-size temporary.

The loops run in the broadcast shape's own (C) order. When the reduced axes are the innermost ones (or all of
them), each output element is one scalar accumulator, stored when its inner loops end; otherwise the kept
elements are accumulated in an array of the output's size. The arithmetic follows the Numba Reduce kernels
(:mod:`.axis_ops`): sequential float sums and products accumulate in float64 (so float32 sums are more
accurate than NumPy's), integer and bool sums in the output's integer dtype, a NaN wins max/min, and max/min
over an empty axis raise NumPy's ValueError. A long composite program is cut into scalar njit parts and its
loop body into blocks of bounded length, as in elementwise loops (``elementwise.split_into_parts``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.numba_backend.elementwise import (
    PART_STATEMENTS,
    _blocks,
    _scalar_program,
    scalar_program_kernel,
    split_into_parts,
)
from graphwright.backends.numba_backend.kernels import broadcast_lengths, tuple_source
from graphwright.graph.basic import Apply
from graphwright.graph.destroy import plain_node
from graphwright.tensor.composite_reduce import CompositeReduce

__all__ = ["composite_reduce_kernel", "kernel_source"]

_NUMPY_NAMES = {"max": "maximum", "min": "minimum"}
_BLOCK = 256  # values computed before they are folded into a scalar accumulator (see _Loop.innermost)


def _accumulator(kind: str, item: str, out: str) -> tuple[str, object]:
    """The accumulator's dtype and its initial value, for reduction ``kind`` of ``item`` values into ``out``."""
    if kind in ("all", "any"):
        return "bool", np.bool_(kind == "all")
    if kind in ("sum", "prod"):
        acc = "float64" if np.dtype(out).kind == "f" else out
        return acc, np.dtype(acc).type(0 if kind == "sum" else 1)
    dtype = np.dtype(item)
    if dtype.kind == "b":
        return item, np.bool_(kind == "min")
    if dtype.kind == "f":
        return item, dtype.type(-np.inf if kind == "max" else np.inf)
    info = np.iinfo(dtype)
    return item, dtype.type(info.min if kind == "max" else info.max)


def _combine(kind: str, acc_dtype: str, acc: str, value: str) -> list[str]:
    """Statements folding scalar ``value`` into accumulator ``acc`` (a name or an array element)."""
    if kind == "sum":
        return [f"{acc} += {value}" if acc_dtype == "float64" else f"{acc} += np.{acc_dtype}({value})"]
    if kind == "prod":
        return [f"{acc} *= {value}" if acc_dtype == "float64" else f"{acc} *= np.{acc_dtype}({value})"]
    if kind == "all":
        return [f"if not {value}:", f"    {acc} = False"]
    if kind == "any":
        return [f"if {value}:", f"    {acc} = True"]
    compare = ">" if kind == "max" else "<"
    return [f"if {value} {compare} {acc} or {value} != {value}:", f"    {acc} = {value}"]


def kernel_source(node: Apply) -> tuple[str, dict]:
    """The source of ``def kernel(x0, x1, ...)`` for a CompositeReduce node and the globals it needs."""
    node = plain_node(node)
    op: CompositeReduce = node.op
    comp, _ = op.unfused(node)
    nd = comp.outputs[0].type.ndim
    kept = [d for d in range(nd) if d not in op.axis]
    out_dtype = node.outputs[0].type.dtype
    acc_dtype, init = _accumulator(op.kind, comp.outputs[0].type.dtype, out_dtype)
    consts: dict[str, object] = {"acc_init": init}
    ins = [f"x{k}" for k in range(len(node.inputs))]
    padded = [(1,) * (nd - v.type.ndim) + tuple(v.type.shape) for v in node.inputs]
    offsets = [nd - v.type.ndim for v in node.inputs]
    lines = [f"def kernel({', '.join(ins)}):"]
    lines += broadcast_lengths(ins, offsets, padded, nd, f"{op.kind} of composite: input shapes")
    if op.kind in _NUMPY_NAMES and op.axis:
        lines += [f"    if {' * '.join(f'n{d}' for d in op.axis)} == 0:",
                  f"        raise ValueError('zero-size array to reduction operation {_NUMPY_NAMES[op.kind]} "
                  "which has no identity')"]
    body, (value,) = _scalar_program(comp, [f"a{k}" for k in range(len(ins))], consts)
    step = [f"a{k} = x{k}[{', '.join('0' if padded[k][d] == 1 else f'j{d}' for d in range(offsets[k], nd)) or '()'}]"
            for k in range(len(ins))] + body  # one element of the composite, at indices j0, j1, ...
    parts, step = split_into_parts(step, live=[value])  # a long program: njit parts (as elementwise.py)
    if len(step) > PART_STATEMENTS:
        lines.append("    go = x0.size >= 0")  # the loop body is cut into blocks (elementwise._blocks)
    loop = _Loop(op, nd, kept, step, value, acc_dtype)
    if not op.axis:
        lines += loop.per_element(out_dtype)
    elif op.axis == tuple(range(len(kept), nd)):
        lines += loop.innermost(out_dtype, comp.outputs[0].type.dtype)
    else:
        lines += loop.into_array(out_dtype)
    return "\n".join(parts + lines) + "\n", consts


class _Loop:
    """The loop nests of a kernel: ``step`` computes ``value`` (one element of the composite) at ``j0, j1...``."""

    def __init__(self, op: CompositeReduce, nd: int, kept: list[int], step: list[str], value: str, acc_dtype: str):
        self.op, self.nd, self.kept, self.step, self.value, self.acc = op, nd, kept, step, value, acc_dtype

    def _open(self, dims: range, indent: str = "    ") -> tuple[list[str], str]:
        lines = []
        for d in dims:
            lines.append(f"{indent}for j{d} in range(n{d}):")
            indent += "    "
        return lines, indent

    def _combine(self, target: str, value: str, indent: str) -> list[str]:
        return [indent + ln for ln in _combine(self.op.kind, self.acc, target, value)]

    def per_element(self, out_dtype: str) -> list[str]:
        """Nothing reduced: every element is its own reduction (a converted copy)."""
        lines = [f"    out = np.empty({tuple_source([f'n{d}' for d in range(self.nd)])}, np.{out_dtype})"]
        loops, indent = self._open(range(self.nd))
        lines += loops + _blocks(self.step, indent) + [f"{indent}acc = acc_init"]
        lines += self._combine("acc", self.value, indent)
        index = ", ".join(f"j{d}" for d in range(self.nd)) or "()"
        return lines + [f"{indent}out[{index}] = acc", "    return out"]

    def innermost(self, out_dtype: str, item_dtype: str) -> list[str]:
        """The reduced axes are the innermost: one scalar accumulator per output element. The innermost loop
        computes blocks of values into a small buffer first and then folds them in, so the computing loop
        carries no dependency from one element to the next (about twice as fast when the composite calls
        scalar math functions), and sums become two-level (more accurate than one running sum)."""
        nk, last, keep = len(self.kept), self.nd - 1, len(self.op.axis) if self.op.keepdims else 0
        lines = [f"    out = np.empty({tuple_source([f'n{d}' for d in self.kept] + ['1'] * keep)}, np.{out_dtype})",
                 f"    buf = np.empty(min(n{last}, {_BLOCK}), np.{item_dtype})"]
        loops, indent = self._open(range(nk))
        lines += loops + [f"{indent}acc = acc_init"]
        reduced_loops, inner = self._open(range(nk, last), indent)
        lines += reduced_loops + [f"{inner}for s in range(0, n{last}, {_BLOCK}):",
                                  f"{inner}    e = min(s + {_BLOCK}, n{last})",
                                  f"{inner}    for j{last} in range(s, e):"]
        lines += _blocks(self.step, inner + "        ") + [f"{inner}        buf[j{last} - s] = {self.value}"]
        lines += [f"{inner}    part = acc_init", f"{inner}    for b in range(e - s):"]
        lines += self._combine("part", "buf[b]", inner + "        ") + self._combine("acc", "part", inner + "    ")
        index = ", ".join([f"j{d}" for d in self.kept] + ["0"] * keep) or "()"
        return lines + [f"{indent}out[{index}] = acc", "    return out"]

    def into_array(self, out_dtype: str) -> list[str]:
        """A reduced axis lies inside a kept one: the loops run in the inputs' (C) order and accumulate into
        an array of the output's size."""
        lines = [f"    acc = np.full({tuple_source([f'n{d}' for d in self.kept])}, acc_init)"]
        loops, indent = self._open(range(self.nd))
        lines += loops + _blocks(self.step, indent)
        lines += self._combine(f"acc[{', '.join(f'j{d}' for d in self.kept)}]", self.value, indent)
        result = "acc" if self.acc == out_dtype else f"acc.astype(np.{out_dtype})"
        if self.op.keepdims:
            full = tuple_source(["1" if d in self.op.axis else f"n{d}" for d in range(self.nd)])
            result = f"{result}.reshape({full})"
        return lines + [f"    return {result}"]


@kernel("numba", CompositeReduce)
def composite_reduce_kernel(node: Apply, ctx: KernelContext) -> Callable:
    """An njit kernel computing a CompositeReduce node in one pass (identical nodes share one kernel)."""
    return scalar_program_kernel(node, kernel_source)
