"""Numba kernels for dot, matmul and tensordot.

Float products of vectors and matrices go to ``np.dot`` (BLAS through Numba); batched matmul loops over the
batch dimensions (static length-1 batch dimensions broadcast, as for elementwise ops) and calls ``np.dot`` per
slice; integer and boolean products use an explicit triple loop (BLAS has none).
"""

from __future__ import annotations

from collections.abc import Callable

import numba

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.numba_backend.kernels import broadcast_lengths, njit_source, permuted
from graphwright.backends.registry import UnsupportedOpError
from graphwright.graph.basic import Apply
from graphwright.tensor.linalg import Dot, MatMul, TensorDot

__all__: list[str] = []

_BLAS = ("float32", "float64")


@numba.njit(error_model="numpy")
def _matmul_loops(a, b, out):
    """``out = a @ b`` for 2-d arrays of any dtype, accumulating in ``out``'s dtype."""
    if a.shape[1] != b.shape[0]:
        raise ValueError("matmul: the inner dimensions do not match")
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            acc = 0
            for k in range(a.shape[1]):
                acc += a[i, k] * b[k, j]
            out[i, j] = acc


def _product_2d(node: Apply, dtype: str) -> str:
    """Source of ``_mm(a2, b2)``: the 2-d product in ``dtype``. BLAS reads C- and F-ordered operands (a
    transpose) as they are; Numba copies others itself. An operand is converted only if its dtype differs."""
    if dtype in _BLAS:
        a, b = (name if v.type.dtype == dtype else f"{name}.astype(np.{dtype})"
                for name, v in zip("ab", node.inputs, strict=True))
        return ("def _mm(a, b):\n    if a.shape[1] != b.shape[0]:\n"
                "        raise ValueError('the inner dimensions of the product do not match')\n"
                f"    return np.dot({a}, {b})\n")
    return (f"def _mm(a, b):\n    out = np.empty((a.shape[0], b.shape[1]), np.{dtype})\n"
            "    _loops(a, b, out)\n    return out\n")


def _as_2d(expr: str, ndim: int, side: str) -> str:
    """Source of operand ``expr`` as a matrix: a vector is one row (``a``) or one column (``b``). Numba
    reshapes only contiguous arrays, so a strided vector (``P[0, ::2]``) is copied first (a contiguous one is
    not: ``np.ascontiguousarray`` returns it)."""
    if ndim == 2:
        return expr
    if ndim == 1:
        flat = f"np.ascontiguousarray({expr})"
        return f"{flat}.reshape((1, {expr}.shape[0]))" if side == "a" else f"{flat}.reshape(({expr}.shape[0], 1))"
    return f"np.ascontiguousarray({expr}).reshape((1, 1))"


def _simple_product(node: Apply) -> Callable:
    """Operands of rank <= 2: one 2-d product, reshaped to the declared rank."""
    a, b = node.inputs
    out = node.outputs[0]
    dtype = out.type.dtype
    if a.type.ndim == 0 or b.type.ndim == 0:
        body = f"    res = (a * b).astype(np.{dtype})\n    return res\n" if out.type.ndim else (
            f"    res = np.empty((), np.{dtype})\n    res[()] = a[()] * b[()]\n    return res\n")
        return njit_source("def kernel(a, b):\n" + body)
    product = f"_mm({_as_2d('a', a.type.ndim, 'a')}, {_as_2d('b', b.type.ndim, 'b')})"
    if out.type.ndim == 2:
        tail = f"    return {product}\n"
    elif out.type.ndim == 1:
        tail = f"    p = {product}\n    return p.reshape((p.size,))\n"
    else:
        tail = f"    p = {product}\n    res = np.empty((), np.{dtype})\n    res[()] = p[0, 0]\n    return res\n"
    inner = njit_source(_product_2d(node, dtype).replace("def _mm", "def kernel"), _loops=_matmul_loops)
    return njit_source("def kernel(a, b):\n" + tail, _mm=inner)


@kernel("numba", Dot)
def _dot(node: Apply, ctx: KernelContext) -> Callable:
    a, b = node.inputs
    if a.type.ndim > 2 or b.type.ndim > 2:
        raise UnsupportedOpError("numba", node, "dot of arrays of rank above 2 (use matmul or tensordot)")
    return _simple_product(node)


@kernel("numba", MatMul)
def _matmul(node: Apply, ctx: KernelContext) -> Callable:
    a, b = node.inputs
    out = node.outputs[0]
    if a.type.ndim <= 2 and b.type.ndim <= 2:
        return _simple_product(node)
    # a vector operand is a one-row (a) or one-column (b) matrix, and that dimension is dropped at the end
    nd_a, nd_b = max(a.type.ndim, 2), max(b.type.ndim, 2)
    nb = max(nd_a, nd_b) - 2
    pads = {"a": nb - (nd_a - 2), "b": nb - (nd_b - 2)}
    statics = {"a": (1,) * pads["a"] + a.type.shape[:-2], "b": (1,) * pads["b"] + b.type.shape[:-2]}
    lines = ["def kernel(a, b):"]
    if a.type.ndim == 1:
        lines.append("    a = np.ascontiguousarray(a).reshape((1, a.shape[0]))")
    if b.type.ndim == 1:
        lines.append("    b = np.ascontiguousarray(b).reshape((b.shape[0], 1))")
    lines += broadcast_lengths(["a", "b"], [pads["a"], pads["b"]], [statics["a"], statics["b"]], nb, "matmul batch")
    shape = "".join(f"n{d}, " for d in range(nb))
    lines.append(f"    out = np.empty(({shape}a.shape[-2], b.shape[-1]), np.{out.type.dtype})")
    indent = "    "
    for d in range(nb):
        lines.append(f"{indent}for j{d} in range(n{d}):")
        indent += "    "

    def operand(s: str) -> str:
        index = ", ".join("0" if statics[s][d] == 1 else f"j{d}" for d in range(pads[s], nb))
        return f"{s}[{index}]" if index else s

    lines.append(f"{indent}out[{', '.join(f'j{d}' for d in range(nb))}] = _mm({operand('a')}, {operand('b')})")
    final = ["out.shape[" + str(d) + "]" for d in range(nb)]
    if a.type.ndim != 1:
        final.append(f"out.shape[{nb}]")
    if b.type.ndim != 1:
        final.append(f"out.shape[{nb + 1}]")
    lines.append(f"    return out.reshape(({''.join(f + ', ' for f in final)}))")
    inner = njit_source(_product_2d(node, out.type.dtype).replace("def _mm", "def kernel"), _loops=_matmul_loops)
    return njit_source("\n".join(lines) + "\n", _mm=inner)


@kernel("numba", TensorDot)
def _tensordot(node: Apply, ctx: KernelContext) -> Callable:
    a, b = node.inputs
    out = node.outputs[0]
    axes_a, axes_b = (tuple(ax) for ax in node.op.axes)
    free_a = [d for d in range(a.type.ndim) if d not in axes_a]
    free_b = [d for d in range(b.type.ndim) if d not in axes_b]
    perm_a, perm_b = free_a + list(axes_a), list(axes_b) + free_b

    def prod(name: str, dims) -> str:
        return " * ".join([f"{name}.shape[{d}]" for d in dims]) or "1"

    shape = [f"a.shape[{d}]" for d in free_a] + [f"b.shape[{d}]" for d in free_b]
    lines = ["def kernel(a, b):"]
    for da, db in zip(axes_a, axes_b, strict=True):
        lines += [f"    if a.shape[{da}] != b.shape[{db}]:",
                  "        raise ValueError('tensordot: summed dimensions do not match')"]
    lines += [f"    a2 = np.ascontiguousarray({permuted('a', perm_a)}).reshape("
              f"({prod('a', free_a)}, {prod('a', axes_a)}))",
              f"    b2 = np.ascontiguousarray({permuted('b', perm_b)}).reshape("
              f"({prod('b', axes_b)}, {prod('b', free_b)}))",
              "    p = _mm(a2, b2)"]
    if shape:
        lines.append(f"    return p.reshape(({''.join(s + ', ' for s in shape)}))")
    else:
        lines += [f"    res = np.empty((), np.{out.type.dtype})", "    res[()] = p[0, 0]", "    return res"]
    inner = njit_source(_product_2d(node, out.type.dtype).replace("def _mm", "def kernel"), _loops=_matmul_loops)
    return njit_source("\n".join(lines) + "\n", _mm=inner)

