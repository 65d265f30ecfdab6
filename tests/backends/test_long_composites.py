"""Composites of hundreds of scalar ops compile on every backend (issue 14, items 8 and 11).

The Numba kernel of a composite is flat code (one temporary per inner op and per step of a long sum, never a
nested expression), and a long loop body is cut into njit parts of bounded size, so the compile time grows
linearly. Checked by the structure of the generated source (counts, not times) and by values.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.numba_backend import elementwise
from graphwright.backends.numba_backend.elementwise import PART_STATEMENTS, kernel_source, split_into_parts
from graphwright.tensor.composite import Composite


def long_sum(n: int):
    xs = [gw.vector(f"x{i}") for i in range(n)]
    acc = xs[0]
    for v in xs[1:]:
        acc = acc + gw.exp(v) * 0.5
    return xs, acc


def fused_node(inputs, outputs):
    (node,) = [n for n in gw.function(inputs, outputs, backend="numpy").graph.toposort
               if isinstance(n.op, Composite)]
    return node


def test_a_long_sum_is_flat_code_in_parts_of_bounded_size():
    xs, out = long_sum(300)  # 210 terms or more used to nest too deeply for Python's parser
    node = fused_node(xs, [out])
    assert len(node.inputs) == 300
    source, _ = kernel_source(node)
    tree = ast.parse(source)
    parts = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith("_part")]
    assert len(parts) >= 600 // PART_STATEMENTS  # 299 products, exponentials and sums
    assert all(len(f.body) <= PART_STATEMENTS + 1 for f in parts)  # its statements and the return
    assert not any(isinstance(n, ast.Subscript) for f in parts for n in ast.walk(f)), "parts never index arrays"
    (kernel,) = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "kernel"]
    blocks = [n for n in ast.walk(kernel) if isinstance(n, ast.If) and getattr(n.test, "id", "") == "go"]
    assert blocks and all(len(b.body) <= PART_STATEMENTS for b in blocks)
    depth = max(_depth(n) for n in ast.walk(tree) if isinstance(n, ast.Assign))
    assert depth <= 8, "no statement nests the ops of the sum"


def _depth(node: ast.AST) -> int:
    children = list(ast.iter_child_nodes(node))
    return 1 + max((_depth(c) for c in children), default=0)


def test_parts_pass_exactly_the_scalars_used_later(monkeypatch):
    body = ["a0 = x0[j0]", "t0 = a0 + 1.0", "t1 = t0 * 2.0", "t2 = t1 - a0", "out0[j0] = t2", "t3 = t0 + t2",
            "out1[j0] = t3"]
    monkeypatch.setattr(elementwise, "PART_STATEMENTS", 2)
    parts, calls = split_into_parts(body)
    # array reads and stores stay in the loop; the parts take and return scalars only
    assert calls == ["a0 = x0[j0]", "t0, t1, = _part0(a0)", "t2, t3, = _part1(t1, a0, t0)", "out0[j0] = t2",
                     "out1[j0] = t3"]
    assert "def _part1(t1, a0, t0):" in parts and "    return t2, t3," in parts


@pytest.mark.parametrize("backend", ["numba", "jax", "torch"])
def test_a_sum_of_220_terms_compiles_and_agrees(backend):
    if backend not in gw.available_backends():
        pytest.skip(f"{backend} is not installed")
    xs, out = long_sum(220)
    rng = np.random.default_rng(0)
    data = [rng.uniform(-1, 1, size=4) for _ in xs]
    want = gw.function(xs, [out], backend="numpy")(*data)[0]
    got = gw.function(xs, [out], backend=backend)(*data)[0]
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


def test_split_kernels_with_shared_values_and_several_outputs_on_numba(monkeypatch):
    if "numba" not in gw.available_backends():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(elementwise, "PART_STATEMENTS", 3)
    x, y, m, s = gw.vector("x"), gw.vector("y"), gw.matrix("m"), gw.scalar("s")  # s: read before the loop
    e = gw.exp(gw.sin(x) * y)
    outs = [e + s, gw.tanh(e) * x - y, gw.log1p(e * e), gw.exp(m) * 2.0 - gw.cos(m) * s]  # two composites
    rng = np.random.default_rng(1)
    data = [rng.uniform(-1, 1, size=5), rng.uniform(-1, 1, size=5), rng.uniform(-1, 1, size=(2, 5)),
            np.float64(0.7)]
    want = gw.function([x, y, m, s], outs, backend="numpy")(*data)
    for one_function in (True, False):
        f = gw.function([x, y, m, s], outs, backend="numba", backend_options={"one_function": one_function})
        for got, ref in zip(f(*data), want, strict=True):
            np.testing.assert_allclose(got, ref, rtol=1e-12)
