"""The NumPy backend runs a long composite as part functions of bounded size (issue 14, NumPy compile time).

CPython's compile time of one function grows faster than its length; a fused gradient held one function of
tens of thousands of statements. Checked by the structure of the generated source (statement counts, not
times) and by values: a program cut into parts of two or three statements computes what the whole one does.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.numpy_ref import composite as numpy_composite
from graphwright.backends.numpy_ref import program_parts
from graphwright.backends.numpy_ref.composite import composite_impl, composite_source
from graphwright.backends.numpy_ref.program_parts import PART_STATEMENTS, Statement, program_source
from graphwright.graph.destroy import plain_node
from graphwright.tensor.composite import Composite, composite_of


def _chain_composite(length: int) -> Composite:
    """``length`` inner ops over two inputs, every tenth value an output too (values cross the parts)."""
    x, y = gw.scalar("x"), gw.scalar("y")
    acc, outs = x, []
    for k in range(length // 2):
        acc = gw.tanh(acc * y) if k % 2 else gw.sin(acc + x)
        if k % 5 == 0:
            outs.append(acc)
    return composite_of([*outs, acc], [x, y])


def _functions(source: str) -> dict[str, ast.FunctionDef]:
    return {f.name: f for f in ast.parse(source).body if isinstance(f, ast.FunctionDef)}


@pytest.mark.parametrize("length", [2_000, 20_000])
def test_every_generated_function_has_a_bounded_number_of_statements(length):
    op = _chain_composite(length)
    source, _ = composite_source(op.make_node(gw.vector("a"), gw.vector("b")))
    functions = _functions(source)
    parts = [f for name, f in functions.items() if name.startswith("_composite_part")]
    broadcasts = 1 + len(op.partial_outputs)  # the shape, then each output that misses an input
    assert op.partial_outputs and len(parts) == -(-(op.size + broadcasts) // PART_STATEMENTS)
    # each part: one load, one clear, its statements, one store (or the return)
    assert all(len(f.body) <= PART_STATEMENTS + 3 for f in parts)
    assert len(functions["composite"].body) == len(parts) + 1  # the slots, then one call per part
    crossing = sum(len(f.body[0].targets[0].elts) for f in parts if isinstance(f.body[0].targets[0], ast.Tuple))
    assert crossing <= 3 * len(parts) + len(op.inner_outputs)  # a few live values cross each boundary


def test_a_short_program_is_one_function():
    op = _chain_composite(20)
    source, _ = composite_source(op.make_node(gw.vector("a"), gw.vector("b")))
    assert list(_functions(source)) == ["composite"]


def test_parts_load_once_clear_after_the_last_read_and_store_only_what_is_read_later(monkeypatch):
    monkeypatch.setattr(program_parts, "PART_STATEMENTS", 2)
    body = [Statement("a = x + 1", ("x",), ("a",)), Statement("b = a * 2", ("a",), ("b",)),
            Statement("c = b - x", ("b", "x"), ("c",)), Statement("d = a + c", ("a", "c"), ("d",)),
            Statement("e = d * d", ("d",), ("e",))]
    source = program_source("f", ["x"], body, ["e", "b"])
    assert source == (
        "def _f_part0(s):\n    x = s[0]\n    a = x + 1\n    b = a * 2\n    s[1], s[2] = b, a\n"
        "def _f_part1(s):\n    b, x, a = s[1], s[0], s[2]\n    s[0] = s[2] = None\n    c = b - x\n    d = a + c\n"
        "    s[3] = d\n"  # b is still in its slot: stored once, by the part that computed it
        "def _f_part2(s):\n    d, b = s[3], s[1]\n    s[3] = s[1] = None\n    e = d * d\n    return e, b,\n"
        "def f(x):\n    s = [x] + [None] * 3\n    _f_part0(s)\n    _f_part1(s)\n    return _f_part2(s)\n")
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - the source above
    assert namespace["f"](3) == (((3 + 1) * 2 - 3 + 4) ** 2, 8)


def _graphs():
    """Composites with partial, constant, repeated and input outputs, over inputs of different shapes."""
    x, y, m = gw.vector("x"), gw.vector("y"), gw.matrix("m")
    a = gw.exp(x) * y + 2.0
    b = gw.tanh(a - x) * gw.log1p(gw.abs(y))
    yield [x, y], [a, b, a * b, gw.sqr(b) + a]
    yield [x, y, m], [gw.sigmoid(m * x + y) - m, gw.exp(x) + 1.0, m]
    c = gw.cos(x)
    yield [x], [c, c, gw.sin(c) * c, gw.exp(c) - c, x]


@pytest.mark.parametrize("part_statements", [1, 2, 3])
def test_a_program_cut_into_tiny_parts_computes_the_same_values(monkeypatch, part_statements):
    rng = np.random.default_rng(0)
    for inputs, outputs in _graphs():
        data = [rng.uniform(-1, 1, size=(3, 4)[-v.type.ndim:] if v.type.ndim else ()) for v in inputs]
        want = gw.function(inputs, outputs, backend="numpy")(*data)
        monkeypatch.setattr(program_parts, "PART_STATEMENTS", part_statements)
        f = gw.function(inputs, outputs, backend="numpy")
        fused = [n for n in f.graph.toposort if isinstance(plain_node(n).op, Composite)]
        assert any("def _composite_part1(" in composite_source(n)[0] for n in fused)
        got = f(*data)
        monkeypatch.setattr(program_parts, "PART_STATEMENTS", PART_STATEMENTS)
        for w, g in zip(want, got, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12)
        assert len({id(g) for g in got}) == len(got)  # no output is another's buffer


def test_in_place_writes_into_a_mutable_input_across_parts(monkeypatch):
    monkeypatch.setattr(program_parts, "PART_STATEMENTS", 2)
    x, y = gw.vector("x"), gw.vector("y")
    out = gw.tanh(gw.exp(x) * y + x) - y
    f = gw.function([x, y], out, backend="numpy", mutable=[x])
    xs, ys = np.linspace(-1, 1, 5), np.linspace(0, 2, 5)
    want = np.tanh(np.exp(xs) * ys + xs) - ys
    np.testing.assert_allclose(f(xs.copy(), ys), want, rtol=1e-12)
    frozen = xs.copy()
    frozen.flags.writeable = False  # a read-only buffer is never written into
    np.testing.assert_allclose(f(frozen, ys), want, rtol=1e-12)
    np.testing.assert_array_equal(frozen, xs)


def test_a_long_composite_agrees_with_perform_and_reports_broadcast_errors():
    op = _chain_composite(3 * PART_STATEMENTS)
    node = op.make_node(gw.vector("a", shape=(4,)), gw.vector("b"))
    run = composite_impl(node)
    a, b = np.linspace(-1, 1, 4), np.linspace(0.5, 1.5, 4)
    for got, want in zip(run(a, b), op.perform(a, b), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert numpy_composite.composite_source(node)[0].count("def _composite_part") >= 3
    with pytest.raises(ValueError, match="composite"):
        run(a, np.ones(3))
