"""The IR: hash-consing, identity, weak references, Graph structure, replace/clone, deep chains."""

import gc

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import Graph, GraphError, ancestors, clone, free_inputs, replace, toposort
from graphwright.graph.basic import apply_table_size


def test_identical_expressions_are_one_node():
    x, y = gw.vector("x"), gw.vector("y")
    assert (x + y) is (x + y)
    assert gw.exp(gw.log1p(x)) is gw.exp(gw.log1p(x))
    assert (x + 1.0) is (x + 1.0)
    assert (x + y) is not (y + x)  # no commutative canonicalisation at construction


def test_names_never_change_identity():
    a, b = gw.vector("same"), gw.vector("same")
    assert a is not b
    assert (a * 2) is not (b * 2)
    y = a * 2
    y.name = "y"
    assert (a * 2) is y  # naming does not create a new node


def test_constants_are_interned_by_value():
    assert gw.constant(2.0) is gw.constant(2.0)
    assert gw.constant(np.array([1, 2])) is gw.constant([1, 2])
    assert gw.constant(np.nan) is gw.constant(np.nan)
    assert gw.constant(0.0) is not gw.constant(-0.0)
    assert gw.constant(1.0) is not gw.constant(1)  # dtype is part of the identity
    big = np.arange(10_000.0)
    other = big.copy()
    other[-1] = -1
    assert gw.constant(big) is gw.constant(big.copy())
    assert gw.constant(big) is not gw.constant(other)  # differs outside the hashed sample


def test_constant_data_is_read_only_copy():
    data = np.ones(3)
    c = gw.constant(data)
    data[0] = 5
    assert c.data[0] == 1
    with pytest.raises(ValueError):
        c.data[0] = 2


def test_unused_nodes_are_freed():
    x = gw.vector("x")
    gc.collect()
    before = apply_table_size()
    y = x
    for _ in range(200):
        y = gw.sin(y)
    assert apply_table_size() >= before + 200
    del y
    gc.collect()
    assert apply_table_size() <= before + 1


def test_toposort_clients_and_ancestors():
    x, y = gw.vector("x"), gw.vector("y")
    s = x + y
    out = gw.exp(s) * s
    order = toposort([out])
    assert [n.op.short_name() for n in order] == ["add", "exp", "mul"]
    g = Graph([x, y], [out])
    assert g.node_count == 3
    users = {n.op.short_name() for n, _ in g.clients[s]}
    assert users == {"exp", "mul"}
    assert set(map(id, free_inputs([out]))) == {id(x), id(y)}
    assert ancestors([out])[-1] is out


def test_graph_inputs_are_checked():
    x, y = gw.vector("x"), gw.vector("y")
    with pytest.raises(GraphError, match=r"depend on input\(s\) y"):
        Graph([x], [x + y])
    with pytest.raises(GraphError, match="free variable"):
        Graph([x + 1], [x])
    with pytest.raises(GraphError, match="twice"):
        Graph([x, x], [x])
    assert Graph(outputs=[x * y]).inputs == (x, y)


def test_replace_is_functional():
    x, y, z = gw.vector("x"), gw.vector("y"), gw.vector("z")
    out = gw.exp(x) + y
    new = replace(out, {x: z})
    assert str(new) == "exp(z) + y"
    assert str(out) == "exp(x) + y"  # the original is untouched
    assert replace(out, {y: y}) is out
    g = Graph([x, y], [out]).replace({x: gw.log(z)})
    assert [v.name for v in g.inputs] == ["y", "z"]
    np.testing.assert_allclose(gw.function(list(g.inputs), g.outputs[0])([1.0], [2.0]), [3.0])


def test_replace_rechecks_types():
    x = gw.vector("x", shape=(3,))
    out = x + gw.vector("w", shape=(3,))
    with pytest.raises(GraphError, match="cannot be broadcast"):
        replace(out, {x: gw.vector("q", shape=(4,))})


def test_clone_makes_fresh_inputs():
    x = gw.vector("x")
    out = gw.exp(x)
    (x2,), out2 = clone(out)
    assert x2 is not x and x2.name == "x" and out2 is not out
    assert str(out2) == "exp(x)"
    g2 = Graph([x], [out]).clone()
    assert g2.inputs[0] is not x and g2.node_count == 1


def _chain(n):
    x = gw.vector("x")
    y = x
    for i in range(n):
        y = gw.exp(y) if i % 2 else y + 1.0
    return x, y


def test_deep_chain_builds_sorts_prints_and_evaluates():
    n = 100_000
    x, y = _chain(n)
    g = Graph([x], [y])
    assert g.node_count == n
    text = gw.dprint(y, file="str")
    assert "elided" in text and len(text.splitlines()) < 100
    assert len(str(y)) < 500
    y2 = x
    for i in range(n):
        y2 = gw.sin(y2) if i % 2 else y2 * 0.5
    f = gw.function([x], y2)
    expected = np.array([0.3])
    for i in range(n):
        expected = np.sin(expected) if i % 2 else expected * 0.5
    np.testing.assert_allclose(f(np.array([0.3])), expected)
