"""Big graphs: elision to max_nodes with an explicit hidden-count node, and the focus neighbourhood view."""

import pytest
from viz_parse import classes, dot_edges, dot_nodes

import graphwright as gw
from graphwright.viz import HIDDEN_ID, NodeIds, to_dot


def _chain(n):
    x = gw.vector("x")
    y = x
    for _ in range(n):
        y = gw.exp(y)
    return x, y, gw.Graph([x], [y])


def _hidden_count(nodes):
    label = nodes[HIDDEN_ID]["label"]
    assert label.endswith(" hidden")
    return int(label.split()[0])


def test_5000_chain_keeps_nodes_nearest_the_output():
    x, y, g = _chain(5000)
    ids = NodeIds()
    nodes = dot_nodes(to_dot(g, ids=ids, max_nodes=300))
    drawn = set(nodes) - {HIDDEN_ID}
    assert len(drawn) == 300
    assert _hidden_count(nodes) == 5001 - 300
    assert classes(nodes[HIDDEN_ID]) == {"gw-node", "gw-hidden"}
    order = [ids.of(n) for n in g.toposort]
    assert drawn == set(order[-300:])
    edges = [(s, d) for s, d, _ in dot_edges(to_dot(g, ids=ids, max_nodes=300))]
    assert (HIDDEN_ID, order[-300]) in edges
    assert sum(s == HIDDEN_ID for s, _ in edges) == 1


def test_no_hidden_node_when_the_graph_fits():
    _, _, g = _chain(10)
    nodes = dot_nodes(to_dot(g, max_nodes=11))
    assert HIDDEN_ID not in nodes and len(nodes) == 11
    nodes = dot_nodes(to_dot(g, max_nodes=10))
    assert _hidden_count(nodes) == 1 and len(nodes) == 11


def test_scalar_constants_stay_with_their_node_and_count():
    x = gw.vector("x")
    y = x
    for k in range(50):
        y = y * float(k + 2)  # distinct constants
    nodes = dot_nodes(to_dot(y, max_nodes=21))
    drawn = set(nodes) - {HIDDEN_ID}
    assert 21 <= len(drawn) <= 22
    consts = [n for n in drawn if "gw-constant" in classes(nodes[n])]
    muls = [n for n in drawn if "gw-op" in classes(nodes[n])]
    assert len(consts) == len(muls)
    assert _hidden_count(nodes) == 101 - len(drawn)


def _diamond():
    x = gw.vector("x")
    a = gw.exp(x)
    b, c = gw.sin(a), gw.cos(a)
    d = b + c
    side = gw.log(x)  # a sibling branch of a, not its ancestor or descendant
    return x, a, b, c, d, side, gw.Graph([x], [d * side])


def test_focus_draws_ancestors_and_descendants_within_radius():
    x, a, b, c, d, side, g = _diamond()
    ids = NodeIds()
    ids.assign(g)
    nodes = dot_nodes(to_dot(g, ids=ids, focus=ids.of(a), radius=1))
    assert set(nodes) - {HIDDEN_ID} == {ids.of(v) for v in (x, a, b, c)}
    assert _hidden_count(nodes) == 7 - 4
    edges = {(s, d) for s, d, _ in dot_edges(to_dot(g, ids=ids, focus=ids.of(a), radius=1))}
    assert edges == {(ids.of(x), ids.of(a)), (ids.of(a), ids.of(b)), (ids.of(a), ids.of(c))}
    nodes = dot_nodes(to_dot(g, ids=ids, focus=ids.of(a), radius=2))
    assert ids.of(d) in nodes and ids.of(side) not in nodes and ids.of(g.outputs[0]) not in nodes


def test_focus_radius_zero_and_hidden_inputs_edge():
    x, a, b, c, d, side, g = _diamond()
    ids = NodeIds()
    ids.assign(g)
    dot = to_dot(g, ids=ids, focus=ids.of(d), radius=0)
    assert set(dot_nodes(dot)) == {ids.of(d), HIDDEN_ID}
    assert [(s, t) for s, t, _ in dot_edges(dot)] == [(HIDDEN_ID, ids.of(d))]


def test_focus_in_a_long_chain_and_max_nodes_together():
    x, y, g = _chain(5000)
    ids = NodeIds()
    ids.assign(g)
    mid = ids.of(g.toposort[2500])
    nodes = dot_nodes(to_dot(g, ids=ids, focus=mid, radius=3))
    assert len(nodes) == 7 + 1 and _hidden_count(nodes) == 5001 - 7
    nodes = dot_nodes(to_dot(g, ids=ids, focus=mid, radius=50, max_nodes=5))
    assert len(nodes) == 5 + 1 and mid in nodes


def test_bad_focus_and_limits_are_named():
    _, _, g = _chain(3)
    with pytest.raises(ValueError, match="focus 'n99' is not the id of a node of this graph"):
        to_dot(g, focus="n99")
    with pytest.raises(ValueError, match="max_nodes must be at least 1, got 0"):
        to_dot(g, max_nodes=0, focus="n1")
    with pytest.raises(ValueError, match="radius must be >= 0"):
        to_dot(g, focus="n1", radius=-1)
