"""to_dot: ids, classes, labels and tooltips; styles; fused nodes collapsed and expanded; errors."""

import pytest
from viz_parse import classes, dot_edges, dot_nodes

import graphwright as gw
from graphwright.tensor.composite import Composite
from graphwright.tensor.composite_reduce import CompositeReduce
from graphwright.viz import NodeIds, to_dot


def _small():
    x = gw.tensor("x", dtype="float32", shape=(3, None))
    y = gw.vector("y", dtype="float32")
    out = gw.exp(x) * 2 + gw.sin(y)
    return x, y, out, gw.Graph([x, y], [out])


def test_small_graph_nodes_ids_classes_and_labels():
    x, y, out, g = _small()
    ids = NodeIds()
    nodes = dot_nodes(to_dot(g, ids=ids))
    expected = {ids.of(x), ids.of(y), *(ids.of(n) for n in g.toposort)}
    two = next(v for v in g.toposort[1].inputs if isinstance(v, gw.Constant))
    assert set(nodes) == expected | {ids.of(two)}
    for nid, attrs in nodes.items():
        assert attrs["id"] == nid
        assert "gw-node" in classes(attrs)
    assert classes(nodes[ids.of(x)]) == {"gw-node", "gw-input"}
    assert nodes[ids.of(x)]["shape"] == "ellipse"
    assert nodes[ids.of(x)]["label"] == "x\nfloat32[3,?]"
    assert classes(nodes[ids.of(two)]) == {"gw-node", "gw-constant"}
    assert nodes[ids.of(two)]["label"] == "2" and nodes[ids.of(two)]["shape"] == "plaintext"
    assert classes(nodes[ids.of(out)]) == {"gw-node", "gw-op", "gw-output"}
    assert nodes[ids.of(out)]["peripheries"] == "2"
    assert nodes[ids.of(out)]["label"] == "add\nout 0"
    assert nodes[ids.of(gw.exp(x))]["label"] == "exp"


def test_tooltips_hold_op_dtype_shape_expression_and_stats():
    x, y, out, g = _small()
    ids = NodeIds()
    nodes = dot_nodes(to_dot(g, ids=ids, stats={out: "min -1, max 7, 0 NaN", x: "mean 0.5"}))
    tip = nodes[ids.of(out)]["tooltip"].splitlines()
    assert tip == [f"add [{ids.of(out)}]", "float32[3,?] = (exp(x) * 2) + sin(y)", "min -1, max 7, 0 NaN"]
    assert nodes[ids.of(x)]["tooltip"].splitlines() == [f"input x [{ids.of(x)}]", "float32[3,?]", "mean 0.5"]
    assert "float32[?]" in nodes[ids.of(gw.sin(y))]["tooltip"]


def test_edges_follow_inputs_with_type_tooltips_and_positions():
    x, y, out, g = _small()
    ids = NodeIds()
    edges = dot_edges(to_dot(g, ids=ids))
    want = {(ids.of(v), ids.of(n), pos) for n in g.toposort for pos, v in enumerate(n.inputs)}
    got = {(s, d, int(a["id"].rsplit("_", 1)[1])) for s, d, a in edges}
    assert got == want
    by_head = {(s, d): a for s, d, a in edges}
    mul = gw.exp(x) * 2
    assert by_head[(ids.of(mul), ids.of(out))]["tooltip"] == "float32[3,?] (input 0 of add)"
    assert by_head[(ids.of(mul), ids.of(out))]["headlabel"] == "0"
    assert "headlabel" not in by_head[(ids.of(x), ids.of(gw.exp(x)))]
    labelled = dot_edges(to_dot(g, edge_labels=True))
    assert {a["label"] for _, _, a in labelled} == {"float32[3,?]", "float32[?]", "float32[]"}


def test_inputs_ranked_first_and_title():
    _, _, _, g = _small()
    dot = to_dot(g, title='My "graph"')
    assert '{ rank=min; "n0" "n1" }' in dot
    assert 'label="My \\"graph\\"", labelloc=t' in dot


def test_outputs_named_multiple_and_passthrough():
    x = gw.matrix("x")
    a, b = gw.split(x, [1, 2], axis=0)
    total = gw.sum(a)
    total.name = "total"
    ids = NodeIds()
    nodes = dot_nodes(to_dot(gw.Graph([x], [total, b, x]), ids=ids))
    assert nodes[ids.of(total)]["label"] == "sum{axis=(0, 1)}\nout 0: total"
    assert nodes[ids.of(b)]["label"].endswith("out 1 (.1)")
    assert classes(nodes[ids.of(x)]) == {"gw-node", "gw-input", "gw-output"}
    edges = dot_edges(to_dot(gw.Graph([x], [total, b, x]), ids=ids))
    assert any(a.get("taillabel") == ".0" for _, _, a in edges)


@pytest.mark.parametrize("name", ['we"ird', "back\\slash", "\\N node", "<tag> & &amp;", "tab\there", "multi\nline"])
def test_odd_names_survive_dot_quoting(name):
    x = gw.vector(name)
    ids = NodeIds()
    nodes = dot_nodes(to_dot(gw.exp(x), ids=ids))
    shown = name.replace("\t", " ")
    assert nodes[ids.of(x)]["label"] == f"{shown}\nfloat64[?]"
    assert nodes[ids.of(x)]["tooltip"].startswith(f"input {shown} [")


def test_styles_add_classes_and_colours():
    _, y, out, g = _small()
    ids = NodeIds()
    ids.assign(g)
    nodes = dot_nodes(to_dot(g, ids=ids, styles={ids.of(out): "added selected", ids.of(y): "removed"}))
    assert classes(nodes[ids.of(out)]) == {"gw-node", "gw-op", "gw-output", "gw-added", "gw-selected"}
    assert nodes[ids.of(out)]["color"] == "#1971c2" and nodes[ids.of(out)]["penwidth"] == "4"
    assert "dashed" in nodes[ids.of(y)]["style"].split(",") and "gw-removed" in classes(nodes[ids.of(y)])
    with pytest.raises(ValueError, match="unknown style 'green' for node 'n0'"):
        to_dot(g, ids=ids, styles={"n0": "green"})


def _fused(expr_fn, kind):
    x = gw.matrix("x")
    g, _ = gw.rewrite(gw.Graph([x], [expr_fn(x)]), phases="fast_run")
    node = next(n for n in g.toposort if isinstance(n.op, kind))
    return x, g, node


def test_composite_collapsed_names_fused_ops_and_count():
    x, g, node = _fused(lambda x: (gw.exp(x) * 2 + gw.sin(x)) @ x, Composite)
    ids = NodeIds()
    nodes = dot_nodes(to_dot(g, ids=ids))
    attrs = nodes[ids.of(node)]
    assert classes(attrs) == {"gw-node", "gw-composite"}
    assert attrs["label"] == "fused: exp\u2218mul\u2218sin\u2218add\n4 ops"
    assert "composite{(exp(i0) * 2) + sin(i0)}" in attrs["tooltip"]
    assert not any(nid.startswith(ids.of(node) + "_") for nid in nodes)


def test_composite_expanded_as_cluster_wired_to_outer_nodes():
    x, g, node = _fused(lambda x: (gw.exp(x) * 2 + gw.sin(x)) @ x, Composite)
    ids = NodeIds()
    cid = ids.of(node)
    dot = to_dot(g, ids=ids, expand=[cid])
    assert f'subgraph "cluster_{cid}" {{' in dot
    assert f'id="{cid}";' in dot and 'class="gw-node gw-composite gw-expanded";' in dot
    nodes = dot_nodes(dot)
    inner = {nid: a for nid, a in nodes.items() if nid.startswith(cid + "_")}
    assert sorted(a["label"] for a in inner.values()) == ["2", "add", "exp", "i0", "mul", "sin"]
    assert cid not in nodes  # drawn as the cluster, not as a box
    edges = {(s, d) for s, d, _ in dot_edges(dot)}
    matmul = g.outputs[0].owner
    add_id = next(nid for nid, a in inner.items() if a["label"] == "add")
    assert (ids.of(x), f"{cid}_i0") in edges and (add_id, ids.of(matmul)) in edges


def test_composite_reduce_collapsed_and_expanded():
    x, g, node = _fused(lambda x: gw.sum(gw.exp(x) * gw.sin(x), axis=1), CompositeReduce)
    ids = NodeIds()
    cid = ids.of(node)
    label = dot_nodes(to_dot(g, ids=ids))[cid]["label"]
    assert label == "fused: exp\u2218sin\u2218mul\u2218sum{axis=(1,)}\n4 ops\nout 0"
    nodes = dot_nodes(to_dot(g, ids=ids, expand=[cid]))
    assert nodes[f"{cid}_r"]["label"] == "sum{axis=(1,)}"


def test_expand_ignores_ids_of_plain_nodes():
    x = gw.vector("x")
    ids = NodeIds()
    y = gw.exp(x)
    assert "subgraph" not in to_dot(y, ids=ids, expand=[ids.of(y)])


def test_bad_graph_argument_is_named():
    with pytest.raises(TypeError, match="expected a Graph, a Variable or a sequence of Variables, got str"):
        to_dot("x + 1")
    with pytest.raises(TypeError, match="got list"):
        to_dot([gw.vector("x"), 3])
