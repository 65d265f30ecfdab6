"""The in-place phase on multi-output composites: random graphs with shared subexpressions, several outputs,
dead intermediates and mutable inputs keep their values through every phase (fusion and inplace included),
on the NumPy backend and, for a few examples, on Numba, whose fused loop stores each output element as soon
as it is computed (the backend that exposed an output written into an input another output still reads)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import graphwright as gw
from graphwright.graph.destroy import InPlace, destroy_problems, plain_op
from graphwright.graph.graph import toposort
from graphwright.tensor.composite import Composite

HAS_NUMBA = importlib.util.find_spec("numba") is not None
LENGTH, ROWS = 5, 3
UNARY = [gw.exp, gw.tanh, gw.neg, gw.sigmoid, lambda v: 2 * v, lambda v: gw.exp(-v)]
BINARY = [gw.add, gw.mul, gw.sub]
PRODUCERS = [  # not fusable: their results are dead intermediates the in-place phase may overwrite
    lambda v: gw.softmax(2 * v, axis=-1), lambda v: gw.softmax(v, axis=0), lambda v: gw.cumsum(v, axis=-1),
    lambda v: v + gw.sum(v, axis=-1, keepdims=True), lambda v: v[::-1],
]


@st.composite
def elementwise_layer(draw, base: list, values: list) -> list:
    """Elementwise ops over ``base`` (inputs and dead intermediates) and each other: one fused group, whose
    values the caller may return (so the group becomes a multi-output composite)."""
    layer: list = []
    for _ in range(draw(st.integers(2, 6))):
        a = draw(st.sampled_from(base + layer))
        if draw(st.booleans()):
            layer.append(draw(st.sampled_from(UNARY))(a))
        else:
            layer.append(draw(st.sampled_from(BINARY))(a, draw(st.sampled_from(base + layer))))
    values += layer
    return layer


@st.composite
def multi_output_graphs(draw):
    """Inputs, outputs (one to four, drawn among the values built, most from fused groups) and the inputs
    marked mutable. Layers alternate: producers (softmax, cumsum, ...: not fusable, so their results are dead
    intermediates the in-place phase may overwrite) over what exists, then a fused group over them."""
    make = gw.vector if draw(st.booleans()) else gw.matrix  # one loop shape: every value fuses with every other
    inputs = [make("x"), make("y")]
    base, values = list(inputs), []
    for _ in range(draw(st.integers(1, 2))):
        produced = [draw(st.sampled_from(PRODUCERS))(draw(st.sampled_from(base)))
                    for _ in range(draw(st.integers(1, 3)))]
        values += produced
        layer = draw(elementwise_layer(base + produced, values))
        base = base + produced + layer
    outputs = [values[-1]] + draw(st.lists(st.sampled_from(layer), min_size=1, max_size=3))
    outputs += draw(st.lists(st.sampled_from(values), max_size=1))
    mutable = draw(st.lists(st.sampled_from(inputs), unique=True, max_size=2))
    return inputs, outputs, mutable


def sample_values(inputs) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.uniform(-1, 1, (ROWS, LENGTH)[2 - v.type.ndim:]) for v in inputs]


def composite_pairs_read_before_written(graph) -> list[str]:
    """Independently of the library's bookkeeping: each output of an in-place composite written into an input
    must read that input, unless no output of the composite reads it."""
    bad = []
    for node in graph.toposort:
        op = plain_op(node)
        if not isinstance(node.op, InPlace) or not isinstance(op, Composite):
            continue
        reads = [{v for n in toposort([o]) for v in n.inputs} | {o} for o in op.inner_outputs]
        read_by_any = set().union(*reads)
        for o, i in node.op.destroy_map.items():
            holder = op.inner_inputs[i]
            if holder in read_by_any and holder not in reads[o]:
                bad.append(f"{node.op.short_name()}: output {o} overwrites input {i}, read by another output")
    return bad


def compare(inputs, outputs, mutable, backend: str, explain=note) -> None:
    values = sample_values(inputs)
    originals = [v.copy() for v in values]
    want = gw.function(inputs, outputs, rewrites=None, backend="numpy")(*values)
    f = gw.function(inputs, outputs, mutable=mutable, backend=backend)
    explain(str(f.memory_plan))
    assert not destroy_problems(f.graph, f.mutable)
    assert not composite_pairs_read_before_written(f.graph)
    got = f(*[v.copy() if any(v_ is inp for v_ in mutable) else v for v, inp in zip(values, inputs, strict=True)])
    for v, o in zip(values, originals, strict=True):
        np.testing.assert_array_equal(v, o, err_msg="an input not marked mutable was modified")
    for k, (a, b) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"output {k} on {backend}")
    if backend == "numpy":
        compiled_in_another_order(f, values)


def compiled_in_another_order(f, values) -> None:
    """The compiled graph run as written with its outputs reversed and the buffers it overwrites returned
    too (another toposort, new readers): the compiler checks the permissions again and drops them."""
    overwritten = [n.inputs[i] for n in f.graph.toposort if isinstance(n.op, InPlace)
                   for i in n.op.destroy_map.values()]
    outputs = list(f.graph.outputs[::-1]) + overwritten
    want = gw.function(f.inputs, outputs, rewrites=["canonicalize"], backend="numpy")(*values)  # no permission
    again = gw.function(f.inputs, outputs, rewrites=None, mutable=f.mutable, backend="numpy")
    assert not destroy_problems(again.graph, again.mutable)
    got = again(*[v.copy() for v in values])
    for k, (a, b) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"output {k}, run in another order")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(multi_output_graphs())
def test_rewritten_and_compiled_graphs_keep_their_values_on_numpy(case):
    compare(*case, backend="numpy")


def has_multi_output_inplace_composite(inputs, outputs, mutable) -> bool:
    graph = gw.function(inputs, outputs, mutable=mutable, backend="numpy").graph
    return any(isinstance(n.op, InPlace) and len(n.outputs) > 1 for n in graph.toposort)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(multi_output_graphs())
def test_rewritten_and_compiled_graphs_keep_their_values_on_numba(case):
    """Numba stores each output element as soon as it is computed: compiling takes a while, so only graphs
    with a multi-output in-place composite are run."""
    assume(has_multi_output_inplace_composite(*case))
    compare(*case, backend="numba")


# ---------------------------------------------------------------------------------------------------------
# The reported case: exp(-x) * softmax(2x), after fusion a composite {exp(-i0), exp(-i0) * i1}
# ---------------------------------------------------------------------------------------------------------


def reported_graph(ndim: int, axis: int):
    x = gw.vector("x") if ndim == 1 else gw.matrix("x")
    soft, decay = gw.softmax(2 * x, axis=axis), gw.exp(-x)
    return x, [decay, decay * soft, soft]


@pytest.mark.parametrize(("ndim", "axis"), [(1, -1), (2, -1), (2, 0)])
@pytest.mark.parametrize("outputs", [2, 3])
@pytest.mark.parametrize("backend", ["numpy", "numba", "torch", "jax"])
def test_exp_neg_times_softmax_keeps_its_values(ndim, axis, outputs, backend):
    if importlib.util.find_spec(backend) is None and backend != "numpy":
        pytest.skip(f"{backend} is not installed")
    x, outs = reported_graph(ndim, axis)
    for mutable in ([], [x]):
        compare([x], outs[:outputs], mutable, backend, explain=print)


def test_a_composite_output_does_not_take_an_input_only_another_output_reads():
    """exp(-i0) may not be written into i1 (the softmax, dead after the node): i1 is read by the second output
    after the first is stored. The second output, which reads i1, takes it instead."""
    x, outs = reported_graph(1, -1)
    f = gw.function([x], outs[:2], backend="numpy")
    (node,) = [n for n in f.graph.toposort if isinstance(n.op, InPlace)]
    assert node.op.destroy_map == {1: 1}
    assert plain_op(node).writable_inputs == (0b1, 0b11)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed")
def test_the_checked_rewrite_of_the_reported_graph_passes_on_numba():
    """The report: ``rewrite(..., check=True)`` on the Numba backend found that inplace_buffers changed the
    product's values (exp(-x) was written into the softmax before the product read it)."""
    gw.config.backend = "numba"  # the conftest fixture puts numpy back
    x, outs = reported_graph(1, -1)
    graph, trace = gw.rewrite(gw.Graph([x], outs[:2]), check=True)
    assert "inplace_buffers" in [s.rule.name for s in trace.steps]
