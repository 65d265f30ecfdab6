"""NodeIds: stable, valid ids; aliasing of rebuilt nodes; lookup by id."""

import re

import pytest

import graphwright as gw
from graphwright.viz import NodeIds


def test_ids_are_stable_and_shared_by_outputs_of_one_node():
    x = gw.vector("x")
    y = gw.exp(x)
    ids = NodeIds()
    first = [ids.of(x), ids.of(y), ids.of(y.owner)]
    assert first == ["n0", "n1", "n1"]
    assert [ids.of(x), ids.of(y)] == ["n0", "n1"]
    assert len(ids) == 2 and x in ids and y in ids and "x" not in ids


def test_multi_output_node_has_one_id():
    x = gw.matrix("x")
    parts = gw.split(x, [1, 2], axis=0)
    ids = NodeIds()
    assert ids.of(parts[0]) == ids.of(parts[1]) == ids.of(parts[0].owner)


def test_ids_are_valid_xml_and_dot_ids():
    x = gw.vector("x")
    g = gw.Graph([x], [gw.log(1 + gw.exp(x)) * 2])
    ids = NodeIds()
    ids.assign(g)
    pattern = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
    assert len(ids) == g.node_count + 3  # x and the constants 1 and 2
    for node in g.toposort:
        assert pattern.match(ids.of(node))


def test_assign_order_is_inputs_then_toposort():
    x, y = gw.vector("x"), gw.vector("y")
    out = gw.exp(y) + x
    ids = NodeIds()
    ids.assign(gw.Graph([x, y], [out]))
    assert ids.of(x) == "n0" and ids.of(y) == "n1"
    assert ids.of(gw.exp(y)) == "n2" and ids.of(out) == "n3"


def test_alias_keeps_old_id_and_find_resolves_in_each_graph():
    x, y = gw.vector("x"), gw.vector("y")
    before = gw.Graph([x, y], [gw.log(1 + gw.exp(x)) * y])
    after = gw.Graph([x, y], [gw.softplus(x) * y])
    old, new = before.outputs[0].owner, after.outputs[0].owner
    assert old is not new
    ids = NodeIds()
    ids.assign(before)
    ids.alias(new, old)
    ids.assign(after)
    nid = ids.of(old)
    assert ids.of(new) == nid
    assert ids.find(nid, before) is old
    assert ids.find(nid, after) is new
    assert ids.find("n999", after) is None


def test_alias_keeps_an_existing_id_and_names_old_first():
    x = gw.vector("x")
    a, b, c = gw.exp(x).owner, gw.sin(x).owner, gw.cos(x).owner
    ids = NodeIds()
    b_id = ids.of(b)
    # b already has an id (hash-consed, it may be a node living elsewhere in the graph): it keeps it
    assert ids.alias(b, a) is False
    assert ids.of(b) == b_id and ids.of(a) != b_id
    # c has none: it takes a's id (a gets one first if it had none)
    d = gw.tan(x).owner
    assert ids.alias(c, d) is True and ids.of(c) == ids.of(d) not in (b_id, ids.of(a))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="prefix"):
        NodeIds(prefix="1x")
    with pytest.raises(ValueError, match="prefix"):
        NodeIds(prefix="a-b")
    with pytest.raises(TypeError, match="Apply or a Variable.*str"):
        NodeIds().of("x")
    assert NodeIds(prefix="v").of(gw.vector("x")) == "v0"
