"""Numba kernels for shape, creation, join/split and indexing ops, generated per node from the op's parameters.

Every kernel returns arrays of the rank the graph declares (a 0-d result is a 0-d array, never a bare
scalar); shape values (``int64`` vectors and 0-d arrays) are read with ``[k]`` / ``[()]``.
"""

from __future__ import annotations

from collections.abc import Callable

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.numba_backend.kernels import njit_source, permuted, python_kernel, tuple_source
from graphwright.backends.registry import UnsupportedOpError
from graphwright.graph.basic import Apply
from graphwright.graph.destroy import InPlace, plain_node
from graphwright.tensor.assume import Assume
from graphwright.tensor.creation import Alloc, ARange, Eye
from graphwright.tensor.grad_control import GradControl
from graphwright.tensor.indexing import IncSubtensor, Subtensor
from graphwright.tensor.join import Join, Split
from graphwright.tensor.shape import DimShuffle, MakeVector, Reshape, Shape

__all__: list[str] = []


def _args(n: int, prefix: str = "x") -> str:
    return ", ".join(f"{prefix}{k}" for k in range(n))



@kernel("numba", Shape)
def _shape(node: Apply, ctx: KernelContext) -> Callable:
    nd = node.inputs[0].type.ndim
    lines = ["def kernel(x):", f"    out = np.empty({nd}, np.int64)"]
    lines += [f"    out[{d}] = x.shape[{d}]" for d in range(nd)]
    return njit_source("\n".join(lines + ["    return out"]) + "\n")


@kernel("numba", MakeVector)
def _make_vector(node: Apply, ctx: KernelContext) -> Callable:
    n, dtype = len(node.inputs), node.op.dtype
    lines = [f"def kernel({_args(n)}):", f"    out = np.empty({n}, np.{dtype})"]
    lines += [f"    out[{k}] = x{k}[()]" for k in range(n)]
    return njit_source("\n".join(lines + ["    return out"]) + "\n")


@kernel("numba", DimShuffle)
def _dimshuffle(node: Apply, ctx: KernelContext) -> Callable:
    op = node.op
    kept = [d for d in op.new_order if d != "x"]
    n_new = len(op.new_order)
    if not kept:  # a 0-d value, possibly with new length-1 axes: a new array
        read = f"x[{', '.join(['0'] * op.input_ndim)}]" if op.input_ndim else "x[()]"
        target = ", ".join(["0"] * n_new) or "()"
        source = (f"def kernel(x):\n    out = np.empty({tuple_source(['1'] * n_new)}, x.dtype)\n"
                  f"    out[{target}] = {read}\n    return out\n")
        return njit_source(source)
    lines = ["def kernel(x):", "    y = x"]
    if len(kept) < op.input_ndim:
        lines.append(f"    y = y[{', '.join('0' if d not in kept else ':' for d in range(op.input_ndim))}]")
    ranks = {d: i for i, d in enumerate(sorted(kept))}
    perm = [ranks[d] for d in kept]
    if perm != sorted(perm):
        lines.append(f"    y = {permuted('y', perm)}")
    if n_new > len(kept):
        lines.append(f"    y = y[{', '.join('None' if d == 'x' else ':' for d in op.new_order)}]")
    return njit_source("\n".join(lines + ["    return y"]) + "\n")


@kernel("numba", Reshape)
def _reshape(node: Apply, ctx: KernelContext) -> Callable:
    nd = node.op.ndim
    if nd == 0:
        source = "def kernel(x, s):\n    return np.ascontiguousarray(x).reshape(())\n"
    else:
        dims = tuple_source([f"s[{d}]" for d in range(nd)])
        source = f"def kernel(x, s):\n    return np.ascontiguousarray(x).reshape({dims})\n"
    return njit_source(source)


@kernel("numba", GradControl, Assume)
def _grad_control(node: Apply, ctx: KernelContext) -> Callable:
    return njit_source(f"def kernel({_args(len(node.inputs))}):\n    return x0\n")


@kernel("numba", Alloc)
def _alloc(node: Apply, ctx: KernelContext) -> Callable:
    value, out = node.inputs[0], node.outputs[0]
    nd = out.type.ndim
    offset = nd - value.type.ndim
    static = (1,) * offset + tuple(value.type.shape)
    lines = ["def kernel(v, s):"]
    lines += [f"    n{d} = s[{d}]" for d in range(nd)]
    for d in range(offset, nd):
        if static[d] != 1:
            lines += [f"    if v.shape[{d - offset}] != n{d}:",
                      f"        raise ValueError('alloc: the value does not have the length of dimension {d}')"]
    lines.append(f"    out = np.empty({tuple_source([f'n{d}' for d in range(nd)])}, np.{out.type.dtype})")
    indent = "    "
    for d in range(nd):
        lines.append(f"{indent}for j{d} in range(n{d}):")
        indent += "    "
    src_idx = ["0" if static[d] == 1 else f"j{d}" for d in range(offset, nd)]
    out_idx = [f"j{d}" for d in range(nd)]
    lines.append(f"{indent}out[{', '.join(out_idx) or '()'}] = v[{', '.join(src_idx) or '()'}]")
    return njit_source("\n".join(lines + ["    return out"]) + "\n")


@kernel("numba", Eye)
def _eye(node: Apply, ctx: KernelContext) -> Callable:
    return njit_source(f"def kernel(n, m, k):\n    return np.eye(n[()], m[()], k[()], dtype=np.{node.op.dtype})\n")


@kernel("numba", ARange)
def _arange(node: Apply, ctx: KernelContext) -> Callable:
    dtype = node.op.dtype
    source = ("def kernel(a, b, c):\n"
              "    if c[()] == 0:\n        raise ValueError('arange: the step is zero')\n"
              f"    return np.arange(a[()], b[()], c[()]).astype(np.{dtype})\n")
    return njit_source(source)


@kernel("numba", Join)
def _join(node: Apply, ctx: KernelContext) -> Callable:
    n = len(node.inputs)
    items = tuple_source([f"x{k}" for k in range(n)])
    return njit_source(f"def kernel({_args(n)}):\n    return np.concatenate({items}, axis={node.op.axis})\n")


@kernel("numba", Split)
def _split(node: Apply, ctx: KernelContext) -> Callable:
    op = node.op
    nd = node.inputs[0].type.ndim
    lines = ["def kernel(x, s):", "    total = 0"]
    lines += [f"    total += s[{k}]" for k in range(op.n_splits)]
    lines += [f"    if total != x.shape[{op.axis}]:", "        raise ValueError('split: the sizes do not add up')",
              "    start = 0"]
    outs = []
    for k in range(op.n_splits):
        index = [":"] * nd
        index[op.axis] = f"start:start + s[{k}]"
        lines += [f"    o{k} = x[{', '.join(index)}]", f"    start += s[{k}]"]
        outs.append(f"o{k}")
    lines.append(f"    return {', '.join(outs)}")
    return njit_source("\n".join(lines) + "\n")


def _index_code(node: Apply, spec: tuple, first_part: int) -> tuple[list[str], str, list[int]]:
    """Statements that check and normalize the index parts, the index expression, and the positions of
    advanced (array) entries. Integer indices are bounds-checked and wrapped as NumPy does."""
    lines: list[str] = []
    pieces: list[str] = []
    arrays: list[int] = []
    part = first_part
    dim = 0
    for pos, e in enumerate(spec):
        kind = e[0]
        if kind == "int":
            name = f"p{part}"
            lines += [f"    k{pos} = {name}[()]", f"    if k{pos} < -x.shape[{dim}] or k{pos} >= x.shape[{dim}]:",
                      f"        raise IndexError('index out of bounds for dimension {dim}')",
                      f"    if k{pos} < 0:", f"        k{pos} += x.shape[{dim}]"]
            pieces.append(f"k{pos}")
            part += 1
            dim += 1
        elif kind == "slice":
            bounds = []
            for has in e[1:]:
                bounds.append(f"p{part}[()]" if has else "")
                part += has
            if e[3]:
                lines += [f"    if {bounds[2]} == 0:", "        raise ValueError('slice step cannot be zero')"]
            pieces.append(":".join(bounds) if e[3] else ":".join(bounds[:2]))
            dim += 1
        elif kind == "newaxis":
            pieces.append("None")
        elif kind == "array" and e[1] == 1:
            name = f"p{part}"
            lines += [f"    a{pos} = {name}.astype(np.int64)",
                      f"    for q in range(a{pos}.shape[0]):",
                      f"        if a{pos}[q] < -x.shape[{dim}] or a{pos}[q] >= x.shape[{dim}]:",
                      f"            raise IndexError('index out of bounds for dimension {dim}')",
                      f"        if a{pos}[q] < 0:", f"            a{pos}[q] += x.shape[{dim}]"]
            pieces.append(f"a{pos}")
            arrays.append(pos)
            part += 1
            dim += 1
        else:
            raise UnsupportedOpError("numba", node, f"index entry {kind} of rank {e[-1]} (native kernels index "
                                                    "with basic entries and one 1-d integer array)")
    return lines, ", ".join(pieces) or "()", arrays


def _multi_array_layout(node: Apply, spec: tuple, arrays: list[int], source: str) -> tuple[list[str], list[int]]:
    """For an index of several 1-d arrays and full slices only: lines defining ``L`` (the broadcast length of
    the arrays), ``xt`` (a view of ``source`` with the indexed dimensions first), ``shape`` (``(L,) + the
    other lengths``) and ``region`` (the result's shape in NumPy's order, where the indexed dimension sits at
    the first array's place when the arrays are adjacent, else in front); and that order (``moved``) as a
    permutation of ``shape``. Other mixes are left to object mode."""
    if any(e[0] != "array" and e != ("slice", False, False, False) for e in spec):
        raise UnsupportedOpError("numba", node, "index arrays mixed with ints, bounded slices or new axes")
    nd = len(spec)
    others = [d for d in range(nd) if d not in arrays]
    adjacent = arrays == list(range(arrays[0], arrays[0] + len(arrays)))
    at = arrays[0] if adjacent else 0
    lines = ["    L = 1"]
    for p in arrays:
        lines += [f"    if a{p}.shape[0] != 1:", f"        if L != 1 and a{p}.shape[0] != L:",
                  "            raise IndexError('shape mismatch: index arrays could not be broadcast together')",
                  f"        L = a{p}.shape[0]"]
    lines.append(f"    xt = {permuted(source, arrays + others)}")
    lines.append(f"    shape = (L,) + {tuple_source([f'x.shape[{d}]' for d in others])}")
    moved = list(range(1, at + 1)) + [0] + list(range(at + 1, len(others) + 1))
    lines.append(f"    region = {tuple_source([f'shape[{m}]' for m in moved])}")
    return lines, moved


def _take(arrays: list[int]) -> str:
    """``xt[...]`` at position ``k`` of the broadcast index arrays."""
    return "xt[" + ", ".join(f"a{p}[k % a{p}.shape[0]]" for p in arrays) + "]"


_OBJECT_MODE = ("Numba's object mode (the NumPy kernel) for masks, index arrays of rank > 1, and index arrays "
                "mixed with ints, bounded slices or new axes")


@kernel("numba", Subtensor, note=_OBJECT_MODE)
def _subtensor(node: Apply, ctx: KernelContext) -> Callable:
    spec = node.op.spec
    try:
        lines, index, arrays = _index_code(node, spec, 0)
    except UnsupportedOpError as exc:
        return python_kernel(node, str(exc))
    params = _args(len(node.inputs) - 1, "p")
    head = [f"def kernel(x{', ' + params if params else ''}):"]
    if len(arrays) > 1:
        try:
            layout, moved = _multi_array_layout(node, spec, arrays, "x")
        except UnsupportedOpError as exc:
            return python_kernel(node, str(exc))
        body = layout + ["    out = np.empty(shape, x.dtype)", "    for k in range(L):",
                         f"        out[k] = {_take(arrays)}", f"    return {permuted('out', moved)}"]
        return njit_source("\n".join(head + lines + body) + "\n")
    if node.outputs[0].type.ndim == 0:
        body = ["    out = np.empty((), x.dtype)", f"    out[()] = x[{index}]", "    return out"]
    else:
        body = [f"    return x[{index}]"]
    return njit_source("\n".join(head + lines + body) + "\n")


@kernel("numba", IncSubtensor, in_place=True,
        note=_OBJECT_MODE)
def _inc_subtensor(node: Apply, ctx: KernelContext) -> Callable:
    op = plain_node(node).op
    spec = op.spec
    try:
        lines, index, arrays = _index_code(node, spec, 0)
    except UnsupportedOpError as exc:
        return python_kernel(node, str(exc))
    params = _args(len(node.inputs) - 2, "p")
    head = [f"def kernel(x, y{', ' + params if params else ''}):"]
    body = ["    out = x" if isinstance(node.op, InPlace) else "    out = x.copy()"]
    if len(arrays) > 1:  # one position at a time: repeats accumulate (inc) or the last write wins (set)
        try:
            layout, moved = _multi_array_layout(node, spec, arrays, "out")
        except UnsupportedOpError as exc:
            return python_kernel(node, str(exc))
        inverse = [moved.index(d) for d in range(len(moved))]
        body += layout + ["    yb = np.broadcast_to(y, region)", f"    yt = {permuted('yb', inverse)}",
                          "    for k in range(L):",
                          f"        {_take(arrays)} {'=' if op.mode == 'set' else '+='} yt[k]"]
    elif op.mode == "set" or not arrays:
        value = "y[()]" if node.inputs[1].type.ndim == 0 else "y"  # Numba adds no 0-d array into an element
        body.append(f"    out[{index}] {'=' if op.mode == 'set' else '+='} {value}")
    else:  # repeated positions accumulate (np.add.at): one position at a time
        (pos,) = arrays
        pieces = index.split(", ")
        region_dim = sum(1 for e in spec[:pos] if e[0] in ("slice", "newaxis"))
        at = pieces.copy()
        at[pos] = f"a{pos}[q]"
        region = f"out[{index}]"
        body += [f"    yb = np.broadcast_to(y, {region}.shape)",
                 f"    for q in range(a{pos}.shape[0]):",
                 f"        out[{', '.join(at)}] += yb[{', '.join([':'] * region_dim + ['q'])}]"]
    body.append("    return out")
    kernel = njit_source("\n".join(head + lines + body) + "\n")
    if isinstance(node.op, InPlace):
        kernel.writes_in_place = True
    return kernel
