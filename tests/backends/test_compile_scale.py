"""Compile-path scaling (issue 14, items 9 and 10), checked by counting work, never by timing it.

Each test builds a graph that used to make one pass of the compile path quadratic or exponential (printing
shared subexpressions, the in-place sweep formatting refusals, one walk per composite output, inline checks
for thousands of inputs) and counts the calls that pass makes, at two sizes where that helps.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.codegen import outer_function
from graphwright.backends.numpy_ref.composite import composite_source
from graphwright.backends.wide_inputs import WIDE_INPUTS
from graphwright.graph import inner as inner_module
from graphwright.graph.destroy import AliasTracker
from graphwright.tensor.composite import Composite, composite_of
from graphwright.tensor.elemwise import Elemwise


def _shared_dag(levels: int):
    """x_{k+1} = x_k * x_k + x_k: every level uses the one below three times (a tree print is 3**levels)."""
    x = gw.vector("x")
    y = x
    for _ in range(levels):
        y = y * y + y
    return y


def _count_str_form(monkeypatch) -> list[int]:
    calls = [0]
    original = Elemwise.str_form

    def counting(self, args):
        calls[0] += 1
        return original(self, args)

    monkeypatch.setattr(Elemwise, "str_form", counting)
    return calls


@pytest.mark.parametrize("levels", [10, 40])
def test_printing_a_shared_graph_prints_each_subexpression_once_per_depth(monkeypatch, levels):
    y = _shared_dag(levels)
    calls = _count_str_form(monkeypatch)
    text = str(y)
    nodes = gw.Graph(None, [y]).node_count
    assert calls[0] <= 13 * nodes  # at most once per (node, remaining depth): linear, not 3 ** depth
    assert len(text) < 2100  # each node's text is capped: no exponential string either
    assert text.count("...") and text.startswith("(")


def test_printing_a_very_wide_node_is_capped():
    xs = [gw.scalar(f"s{i}") for i in range(3000)]
    from graphwright.tensor.elemwise import add

    text = str(add(*xs))
    assert text.startswith("s0 + s1 + ") and text.endswith("...") and len(text) < 2100


def test_the_inplace_sweep_formats_no_message(monkeypatch):
    """Refusals are only formatted when someone asks why: the sweep over a gradient graph (where most
    candidate buffers are the caller's inputs) prints no variable at all."""
    x, b = gw.vector("x"), gw.vector("b")
    ws = [gw.scalar(f"w{i}") for i in range(30)]
    h = x
    for w in ws:
        h = gw.tanh(h * w + b)
    graph, _ = gw.rewrite(gw.Graph([x, b, *ws], gw.grad(gw.sum(h), ws)),
                          phases=["canonicalize", "stabilize", "specialize", "fusion"])
    printed = [0]

    def forbidden(*args, **kwargs):
        printed[0] += 1
        return "?"

    monkeypatch.setattr("graphwright.printing.short_str", forbidden)
    gw.rewrite(graph, phases=["inplace"])
    assert printed[0] == 0


class _CountingDict(dict):
    gets = 0

    def get(self, *args):
        type(self).gets += 1
        return super().get(*args)


@pytest.mark.parametrize("length", [300, 3000])
def test_alias_tracker_work_is_linear_in_a_long_in_place_chain(length):
    """A chain of n in-place ops in one buffer: each question looks at the asking node's inputs, and each
    alias's readers are looked up once (the old tracker walked every earlier alias of the buffer for every
    question, n**2 lookups, and kept an n-bit ancestor set per node)."""
    x = gw.vector("x")
    y = gw.cumsum(x)
    for _ in range(length):
        y = gw.exp(y)
    graph = gw.Graph([x], [y])
    tracker = AliasTracker(graph)
    _CountingDict.gets = 0
    tracker.clients = _CountingDict(tracker.clients)
    for node in tracker.nodes:
        destroy = {0: 0} if node.op.short_name() == "exp" else {}
        if destroy:
            assert tracker.why_not(node, 0, 0) is None
        tracker.add(node, destroy)
    assert _CountingDict.gets <= 2 * (length + 2)
    assert len({tracker.roots[n.outputs[0]] for n in tracker.nodes}) == 1  # the chain lives in one buffer


@pytest.mark.parametrize("width", [50, 400])
def test_a_composite_walks_its_inner_graph_once(monkeypatch, width):
    """Building the op walks the inner graph; its properties and the NumPy code generation reuse that walk
    (they used to walk it again, each, on every call)."""
    ins = [gw.scalar(f"a{i}") for i in range(width)]
    acc = ins[0]
    outs = []
    for v in ins[1:]:
        acc = gw.tanh(acc * v)
        outs.append(acc)
    built = composite_of(outs, ins)
    calls = [0]
    original = inner_module.toposort  # the inner graph's one walk (graph/inner.py)

    def counting(outputs, *args, **kwargs):
        calls[0] += 1
        return original(outputs, *args, **kwargs)

    monkeypatch.setattr(inner_module, "toposort", counting)
    op = Composite(built.inner_inputs, built.inner_outputs)  # a fresh op: nothing cached yet
    partial = op.partial_outputs
    assert len(op.writable_inputs) == len(outs) and op.size == 2 * (width - 1)
    source, _ = composite_source(op.make_node(*ins))
    assert op.partial_outputs is partial and calls[0] == 1
    assert partial == tuple(range(width - 2))  # only the last output reads every input
    assert source.count("_broadcast_output(") == width - 2


def test_a_function_of_many_inputs_has_a_short_source_and_checks_each_input():
    n = 2 * WIDE_INPUTS + 100
    xs = [gw.scalar(f"s{i}") for i in range(n)]
    total = xs[0]
    for v in xs[1:]:
        total = total + v
    f = gw.function(xs, total, backend="numpy")
    assert f.source.count("\n") < 40  # a loop of checks, not two lines per input
    values = [np.float64(i) for i in range(n)]
    assert float(f(*values)) == sum(range(n))
    assert float(f.fn(*range(n))) == sum(range(n))  # Python ints are converted as before
    bad = list(values)
    bad[n - 7] = np.ones(3)
    with pytest.raises(gw.InputError, match=f"input {n - 7} \\(s{n - 7}\\)"):
        f(*bad)
    bad[n - 7] = np.array([1.0 + 2.0j])
    with pytest.raises(gw.InputError, match=f"input {n - 7}"):
        f(*bad)
    with pytest.raises(TypeError, match=f"takes {n} inputs, got {n - 1}"):
        f.fn(*values[:-1])
    assert float(f(*values[:-1], **{f"s{n - 1}": 1.0})) == sum(range(n - 1)) + 1.0
    trusted = gw.function(xs, total, backend="numpy", trust_input=True)
    assert float(trusted(*values)) == sum(range(n))


def test_the_outer_function_of_a_jitted_body_takes_many_inputs():
    n = WIDE_INPUTS + 1
    xs = [gw.vector(f"v{i}", shape=(2,)) for i in range(n)]
    graph = gw.Graph(xs, [xs[0] + xs[-1]])
    fn, source = outer_function(graph, lambda *a: (a[0] + a[-1],), to_output=lambda v, c: v, trust_input=False,
                                return_list=False, backend="demo", to_input=lambda a: a * 1.0)
    assert source.count("\n") < 20
    arrays = [np.full(2, float(i)) for i in range(n)]
    np.testing.assert_array_equal(fn(*arrays), [n - 1.0, n - 1.0])
    arrays[3] = np.ones(3)
    with pytest.raises(gw.InputError, match="input 3 \\(v3\\) expects shape"):
        fn(*arrays)


@pytest.mark.parametrize("width", [20, 200])
def test_the_inplace_phase_asks_about_each_input_of_a_wide_composite_once(monkeypatch, width):
    """A fused gradient has composites with thousands of inputs and outputs: the phase walks each group's
    inputs once (the options are their product)."""
    xs = [gw.vector(f"x{i}") for i in range(width)]
    placeholders = [gw.scalar(f"p{i}") for i in range(2 * width)]
    inner = [gw.tanh(placeholders[i] * placeholders[width + i]) for i in range(width)]
    op = composite_of(inner, placeholders)
    # the caller's arrays first (never overwritten), then computed buffers, each free after the composite
    node = op.make_node(*xs, *[gw.exp(x) for x in xs])
    questions = [0]
    original = AliasTracker.refusal

    def counting(self, asking, *args, **kwargs):
        questions[0] += asking is node
        return original(self, asking, *args, **kwargs)

    monkeypatch.setattr(AliasTracker, "refusal", counting)
    graph, _ = gw.rewrite(gw.Graph(xs, list(node.outputs)), phases=["inplace"])
    assert 0 < questions[0] <= 2 * width  # one question per input (the pairs are 2 * width ** 2)
    (fused,) = {n for n in graph.toposort if n.op.short_name().startswith("composite")}
    assert len(fused.op.destroy_map) == width  # every output got a buffer of its own
