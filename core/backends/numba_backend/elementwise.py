"""Numba kernels for Elemwise and Composite nodes: one generated loop nest over the broadcast shape.

Only static length-1 dimensions broadcast (the graph's rule), so which input is read at index 0 along which
dimension is known when the kernel is generated; the other lengths must agree at run time. A composite's
inner graph becomes straight-line scalar code inside the innermost loop, so a fused group is one pass over
memory with no temporaries. An ``InPlace`` node writes the outputs it may into the given input's buffer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.numba_backend.kernels import broadcast_lengths, njit_source, tuple_source
from graphwright.backends.numba_backend.scalar import SCALAR_NAMESPACE, UnsupportedRow, scalar_expr
from graphwright.backends.registry import UnsupportedOpError
from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.destroy import InPlace, plain_node
from graphwright.graph.inner import Instruction, Program
from graphwright.tensor.composite import Composite
from graphwright.tensor.elemwise import Elemwise

__all__ = ["elementwise_kernel", "kernel_source", "scalar_program_kernel"]


# A loop body longer than this many statements is cut into njit functions of this size (``split_into_parts``).
PART_STATEMENTS = 64
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FOLDED = ("add", "mul")


def _cast(expr: str, dtype: str) -> str:
    return f"bool({expr})" if dtype == "bool" else f"np.{dtype}({expr})"


def _folds(node: Apply) -> bool:
    """Whether ``node`` is a variadic add/mul of more than two operands, emitted one statement per step."""
    return isinstance(node.op, Elemwise) and node.op.scalar_op.name in _FOLDED and len(node.inputs) > 2


class _Program:
    """Straight-line statements computing one element of a Composite's outputs, in the order of its inner
    graph's :meth:`~graphwright.graph.inner.InnerGraph.program`.

    Every inner op gets a temporary of its own (a variadic add/mul one per pairwise step, emitted as soon
    as its operand is ready, so a long sum keeps one running value live instead of all its terms), and no
    expression nests more than one op deep: a program of any size is valid Python. ``reads`` maps an
    argument name to the statement loading it, emitted just before its first use.
    """

    def __init__(self, names: dict[Variable, str], consts: dict[str, object], prefix: str,
                 reads: dict[str, str] | None):
        self.names, self.consts, self.prefix, self.reads = names, consts, prefix, dict(reads or {})
        self.lines: list[str] = []

    def name_of(self, v: Variable) -> str:
        if v not in self.names:
            if not isinstance(v, Constant):  # pragma: no cover - inner graphs are closed
                raise ValueError(f"{v} is not computed by the composite")
            self.names[v] = f"k{len(self.consts)}"
            self.consts[self.names[v]] = np.asarray(v.data).astype(v.type.dtype)[()]
        name = self.names[v]
        read = self.reads.pop(name, None)
        if read is not None:
            self.lines.append(read)
        return name

    def run(self, program: Program) -> None:
        """Emit every instruction of ``program``; a fold's step on operand ``i`` right after the instruction
        computing it (or the previous step, whichever is later): ``_fold_schedule``."""
        steps = program.instructions
        after, accs = _fold_schedule(program), {}
        for pending in after.get(-1, ()):
            self._fold(steps, pending, accs)
        for step in steps:
            tag = f"{self.prefix}_{step.position}"
            self.finish(step.node, tag, accs.pop(step.position, None))
            for pending in after.get(step.position, ()):
                self._fold(steps, pending, accs)

    def _fold(self, steps: Sequence[Instruction], pending: tuple[int, int], accs: dict) -> None:
        position, i = pending
        tag = f"{self.prefix}_{position}"
        accs[position] = self.fold_step(steps[position].node, i, accs.get(position), tag)

    def fold_step(self, node: Apply, i: int, acc: tuple[str, str] | None, tag: str) -> tuple[str, str]:
        v = node.inputs[i]
        if acc is None:
            return self.name_of(v), v.type.dtype
        row = node.op.scalar_op
        step = row.output_dtype(acc[1], v.type.dtype)
        expr = scalar_expr(row, [acc[0], self.name_of(v)], (acc[1], v.type.dtype), step)
        self.lines.append(f"{tag}_{i} = {_cast(expr, step)}")
        return f"{tag}_{i}", step

    def finish(self, node: Apply, tag: str, acc: tuple[str, str] | None) -> None:
        if isinstance(node.op, Composite):
            sub_lines, outs = _scalar_program(node, [self.name_of(v) for v in node.inputs], self.consts, tag)
            self.lines += sub_lines
            self.names.update(zip(node.outputs, outs, strict=True))
            return
        out = node.outputs[0].type.dtype
        if acc is None:
            args = [self.name_of(v) for v in node.inputs]
            expr = scalar_expr(node.op.scalar_op, args, tuple(v.type.dtype for v in node.inputs), out)
        elif acc[1] == out:
            self.names[node.outputs[0]] = acc[0]
            return
        else:
            expr = acc[0]
        self.lines.append(f"{tag} = {_cast(expr, out)}")
        self.names[node.outputs[0]] = tag


def _fold_schedule(program: Program) -> dict[int, list[tuple[int, int]]]:
    """For each instruction position (-1: before the first), the fold steps ``(fold position, operand)`` to
    emit right after it: operand ``i`` of a variadic add/mul is folded in once it is computed and operand
    ``i - 1`` has been folded. One pass over the operands."""
    after: dict[int, list[tuple[int, int]]] = {}
    for step in program.instructions:
        if not _folds(step.node):
            continue
        ready = -1
        for i, operand in enumerate(step.operands):
            ready = max(ready, operand[1] if operand[0] == "value" else -1)
            after.setdefault(ready, []).append((step.position, i))
    return after


def _scalar_program(node: Apply, args: list[str], consts: dict[str, object], prefix: str = "t",
                    reads: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Statements computing one element of every output of an Elemwise or Composite node from the scalar
    names ``args``, and the names holding the outputs. Temporaries start with ``prefix``; constants of inner
    graphs go into ``consts``; ``reads`` (argument name -> statement) are emitted at first use."""
    op = node.op
    if isinstance(op, Elemwise):
        program = _Program(dict(zip(node.inputs, args, strict=False)), consts, prefix, reads)
        if _folds(node):
            acc = None
            for i in range(len(node.inputs)):
                acc = program.fold_step(node, i, acc, prefix)
            program.finish(node, prefix, acc)
        else:
            program.finish(node, prefix, None)
        return program.lines, [program.names[node.outputs[0]]]
    (graph,) = op.inner_graphs()
    program = _Program(dict(zip(graph.placeholders, args, strict=True)), consts, prefix, reads)
    program.run(graph.program)
    results = [program.name_of(v) for v in graph.outputs]
    return program.lines, results


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
    reads, invariant = {}, []
    for k in range(len(ins)):
        idx = [("0" if padded[k][d] == 1 else f"j{d}") for d in range(offsets[k], nd)]
        read = f"a{k} = x{k}[{', '.join(idx) if idx else '()'}]"
        if nd and all(i == "0" for i in idx):  # a broadcast scalar: read once, before the loops
            invariant.append(read)
        reads[args[k]] = read
    if len(invariant) > PART_STATEMENTS:  # many: read where used (a value live across the whole loop body
        invariant = []                    # costs Numba's SSA and lowering time per block it crosses)
    for read in invariant:
        del reads[read.split(" = ", 1)[0]]
    body, results = _scalar_program(plain, args, consts, reads=reads)
    out_idx = ", ".join(f"j{d}" for d in range(nd)) if nd else "()"
    parts, calls = split_into_parts(_with_stores(body, results, out_idx), [ln.split(" = ", 1)[0] for ln in invariant])
    lines += ["    " + ln for ln in invariant]
    if len(calls) > PART_STATEMENTS:
        lines.append("    go = x0.size >= 0")
    indent = "    "
    for d in range(nd):
        lines.append(f"{indent}for j{d} in range(n{d}):")
        indent += "    "
    lines += _blocks(calls, indent)
    lines.append(f"    return {', '.join(f'out{o}' for o in range(len(results)))}")
    return "\n".join(parts + lines) + "\n", consts


def _with_stores(body: list[str], results: list[str], index: str) -> list[str]:
    """``body`` with each output stored right after the statement computing it (a value is not kept live
    to the end of the loop body); outputs no statement computes (constants) are stored at the end."""
    stores: dict[str, list[str]] = {}
    for o, r in enumerate(results):
        stores.setdefault(r, []).append(f"out{o}[{index}] = {r}")
    out: list[str] = []
    for line in body:
        out.append(line)
        out += stores.pop(line.split(" = ", 1)[0], ())
    return out + [line for lines in stores.values() for line in lines]


def split_into_parts(body: list[str], outer: Iterable[str] = (), live: Iterable[str] = ()
                     ) -> tuple[list[str], list[str]]:
    """A long loop ``body`` as calls of scalar njit functions of at most PART_STATEMENTS statements each.

    Numba's compile passes are quadratic in the length of a function (its lowering scans a basic block once
    per variable assigned in it; liveness and SSA work per block and variable): a loop body of a few
    thousand statements took minutes. The scalar statements are cut into njit functions of bounded size
    that take and return scalars only (each value a part computes and a later statement needs is
    returned); the array reads and stores (statements with ``[``) stay in the loop, before and after the
    call of the part that needs them, cut into basic blocks of bounded length by ``_blocks``. So the compile
    time grows linearly with the program. A short body stays as it is. ``outer`` names the scalars set
    before the loop that the body may use (passed to the parts that need them); ``live`` the scalars that
    statements after the body read (returned by the parts that compute them).

    Returns the source of the part functions (module level) and the statements that replace ``body``.

    Examples
    --------
    >>> split_into_parts(["a0 = x0[j0]", "t = a0 + 1.0", "out0[j0] = t"])
    ([], ['a0 = x0[j0]', 't = a0 + 1.0', 'out0[j0] = t'])
    """
    if len(body) <= PART_STATEMENTS:
        return [], body
    segments: list[tuple[list[str], list[str], list[str]]] = []  # (reads, scalar statements, stores)
    current: tuple[list[str], list[str], list[str]] = ([], [], [])
    for line in body:
        if "[" not in line:
            current[1].append(line)
            if len(current[1]) == PART_STATEMENTS:
                segments.append(current)
                current = ([], [], [])
        else:
            (current[2] if "[" in line.split(" = ", 1)[0] else current[0]).append(line)
    segments.append(current)
    local = {line.split(" = ", 1)[0] for line in body} | set(outer)
    defined = [[ln.split(" = ", 1)[0] for ln in chunk] for _, chunk, _ in segments]
    uses = [[u for u in dict.fromkeys(u for ln in chunk for u in _IDENT.findall(ln) if u in local)
             if u not in set(mine)] for (_, chunk, _), mine in zip(segments, defined, strict=True)]
    live_out, needed = [], set(live)
    for (_, _, stores), mine, ins in zip(reversed(segments), reversed(defined), reversed(uses), strict=True):
        needed |= {u for ln in stores for u in _IDENT.findall(ln)}
        live_out.append([v for v in mine if v in needed])
        needed = (needed - set(mine)) | set(ins)
    live_out.reverse()
    parts, calls = ["import numba", ""], []
    for c, ((reads, chunk, stores), ins, outs) in enumerate(zip(segments, uses, live_out, strict=True)):
        calls += reads
        if chunk:
            parts.append(f"def _part{c}({', '.join(ins)}):")
            parts += ["    " + ln for ln in chunk] + [f"    return {', '.join(outs)}," if outs else "    return"]
            parts += [f"_part{c} = numba.njit(_part{c}, error_model='numpy', no_cpython_wrapper=True)", ""]
            calls.append(f"{', '.join(outs)}, = _part{c}({', '.join(ins)})" if outs else f"_part{c}({', '.join(ins)})")
        calls += stores
    return parts, calls


def _blocks(body: list[str], indent: str) -> list[str]:
    """``body`` at ``indent``, cut into basic blocks of at most PART_STATEMENTS statements by ``if go:``
    (``go`` is always true but unknown to Numba; LLVM folds it), so no block of a loop over many inputs
    is long (see ``split_into_parts``)."""
    if len(body) <= PART_STATEMENTS:
        return [indent + ln for ln in body]
    lines = []
    for start in range(0, len(body), PART_STATEMENTS):
        lines.append(f"{indent}if go:")
        lines += [f"{indent}    {ln}" for ln in body[start:start + PART_STATEMENTS]]
    return lines


def _short(node: Apply) -> str:
    return node.op.short_name().replace("'", "").replace("\\", "")[:60]


def scalar_program_kernel(node: Apply, source_of: Callable[[Apply], tuple[str, dict]]) -> Callable:
    """Compile the kernel ``source_of(node)`` writes around a scalar program (with the scalar helpers and the
    program's constants as globals); UnsupportedOpError when a scalar op has no Numba form."""
    try:
        source, consts = source_of(node)
    except UnsupportedRow as exc:
        raise UnsupportedOpError("numba", node, f"no Numba form of the scalar op {exc.args[0]}") from None
    helpers = {k: v for k, v in SCALAR_NAMESPACE.items() if k not in ("np", "math", "cmath")}
    return njit_source(source, **helpers, **consts)


@kernel("numba", Elemwise, Composite, in_place=True)
def elementwise_kernel(node: Apply, ctx: KernelContext) -> Callable:
    """An njit loop-nest kernel for an Elemwise or Composite node (identical nodes share one kernel)."""
    kernel = scalar_program_kernel(node, kernel_source)
    if isinstance(node.op, InPlace):
        kernel.writes_in_place = True
    return kernel
