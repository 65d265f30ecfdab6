"""to_svg / graph_svg with the real graphviz: ids and classes in the SVG, escaping, errors, cache."""

import shutil
import uuid

import pytest
from viz_parse import dot_nodes, svg_groups, svg_texts, svg_tooltip

import graphwright as gw
from graphwright.tensor.composite import Composite
from graphwright.viz import GraphvizError, NodeIds, clear_svg_cache, graph_svg, to_dot, to_svg

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")


def _unique_dot() -> str:
    return f'digraph {{ "{uuid.uuid4().hex}" }}'


def test_svg_is_inline_ready_and_nodes_keep_ids_and_classes():
    x, y = gw.vector("x"), gw.vector("y")
    g = gw.Graph([x, y], [gw.exp(x) * 2 + gw.sin(y)])
    ids = NodeIds()
    dot = to_dot(g, ids=ids, styles={ids.of(g.outputs[0]): "selected"})
    svg = to_svg(dot)
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    groups = svg_groups(svg)
    for nid, attrs in dot_nodes(dot).items():
        assert f'<g id="{nid}" class="node ' in svg
        assert groups[nid] == {"node", *attrs["class"].split()}
    assert groups[ids.of(g.outputs[0])] >= {"gw-output", "gw-selected"}
    assert "gw-edge" in groups[f"e_{ids.of(x)}_{ids.of(gw.exp(x))}_0"]
    tip = svg_tooltip(svg, ids.of(g.outputs[0]))
    assert "float64[?] = (exp(x) * 2) + sin(y)" in tip


@pytest.mark.parametrize("name", ['we"ird', "back\\slash", "\\N node", "<tag> & &amp;", "{a|b}"])
def test_odd_names_are_drawn_exactly(name):
    x = gw.vector(name)
    ids = NodeIds()
    svg = graph_svg(gw.exp(x), ids=ids)
    assert svg_texts(svg, ids.of(x)) == [name, "float64[?]"]
    assert svg_tooltip(svg, ids.of(x)) == f"input {name} [{ids.of(x)}]\nfloat64[?]"


def test_expanded_composite_cluster_keeps_the_node_id():
    x = gw.matrix("x")
    g, _ = gw.rewrite(gw.Graph([x], [(gw.exp(x) * 2 + gw.sin(x)) @ x]), phases="fast_run")
    node = next(n for n in g.toposort if isinstance(n.op, Composite))
    ids = NodeIds()
    cid = ids.of(node)
    groups = svg_groups(graph_svg(g, ids=ids, expand=[cid]))
    assert groups[cid] == {"cluster", "gw-node", "gw-composite", "gw-expanded"}
    assert {"node", "gw-inner", "gw-inner-input"} <= groups[f"{cid}_i0"]


def test_hidden_node_in_svg():
    x = gw.vector("x")
    y = x
    for _ in range(30):
        y = gw.exp(y)
    svg = graph_svg(y, max_nodes=10)
    assert svg_groups(svg)["gw_hidden"] == {"node", "gw-node", "gw-hidden"}
    assert svg_texts(svg, "gw_hidden") == ["21 nodes hidden"]


def test_missing_dot_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizError) as info:
        to_svg(_unique_dot())
    assert str(info.value) == "graphviz's `dot` was not found on PATH; install it: apt-get install graphviz"


def test_dot_failure_carries_its_stderr():
    with pytest.raises(GraphvizError, match=r"exit status 1: .*syntax error in line 1"):
        to_svg(f"digraph {{ a -> -> {uuid.uuid4().hex} }}")


def test_timeout_is_an_error():
    x = gw.vector("x")
    y = x
    for k in range(300):
        y = gw.exp(y) + float(k)
    with pytest.raises(GraphvizError, match="did not finish within 0.001 s"):
        to_svg(to_dot(y, max_nodes=1000, title=uuid.uuid4().hex), timeout=0.001)


def test_cache_returns_recent_drawings_without_running_dot(monkeypatch, tmp_path):
    dot = _unique_dot()
    first = to_svg(dot)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert to_svg(dot) == first
    clear_svg_cache()
    with pytest.raises(GraphvizError, match="not found on PATH"):
        to_svg(dot)


def test_cache_keeps_only_recent_drawings(monkeypatch, tmp_path):
    old = _unique_dot()
    to_svg(old)
    for _ in range(40):
        to_svg(_unique_dot())
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizError):
        to_svg(old)


def test_graph_svg_passes_to_dot_options():
    x = gw.vector("x")
    svg = graph_svg([gw.exp(x), gw.sin(x)], title="two outputs")
    assert "two outputs" in svg and svg.count("gw&#45;output") == 2
