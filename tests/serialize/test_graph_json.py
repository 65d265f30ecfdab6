"""The JSON form of graphs: every op of the library (the op table), gradient graphs and compiled (fused,
in-place) graphs rebuild as the same hash-consed graph; constants keep their bits; bad documents are refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph.graph import Graph, replace
from graphwright.serialize import SerializeError, graph_from_json, graph_to_json, validate
from graphwright.serialize.values import decode_value, encode_value
from graphwright.tensor.composite import Composite
from graphwright.tensor.elemwise import Elemwise

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tensor"))
from test_op_table import ALL_CASES, _as_list, _build_inputs, _missing  # noqa: E402


def _case_graphs() -> list[tuple[str, Graph]]:
    graphs = []
    for case in ALL_CASES:
        for mode in case.modes:
            if _missing(case, mode):
                continue
            symbols, _ = _build_inputs(case, mode)
            try:
                outs = _as_list(case.build(*symbols))
            except (TypeError, OverflowError, ValueError):
                continue  # cases that must raise build nothing
            graphs.append((f"{case.id}-{mode}", Graph(symbols, outs)))
    return graphs


CASE_GRAPHS = _case_graphs()


def round_trip(graph: Graph) -> Graph:
    """Through JSON text and back, on fresh inputs, then put back onto the original inputs."""
    doc = json.loads(json.dumps(graph_to_json(graph), allow_nan=False))
    fresh = graph_from_json(doc)
    assert [v.type for v in fresh.inputs] == [v.type for v in graph.inputs]
    assert all(a is not b for a, b in zip(fresh.inputs, graph.inputs, strict=True))
    return Graph(graph.inputs, replace(list(fresh.outputs), dict(zip(fresh.inputs, graph.inputs, strict=True))))


def assert_same_graph(graph: Graph) -> None:
    again = round_trip(graph)
    assert all(a is b for a, b in zip(again.outputs, graph.outputs, strict=True)), "not the same hash-consed graph"
    bound = graph_from_json(graph_to_json(graph), inputs=list(graph.inputs))
    assert all(a is b for a, b in zip(bound.outputs, graph.outputs, strict=True))


def test_the_op_table_gives_many_graphs():
    assert len(CASE_GRAPHS) > 300


@pytest.mark.parametrize(("name", "graph"), CASE_GRAPHS, ids=[n for n, _ in CASE_GRAPHS])
def test_every_op_round_trips(name: str, graph: Graph) -> None:
    assert_same_graph(graph)


def test_compiled_graphs_of_every_op_round_trip():
    """The fast_run result of every case: fused Composites (nested graphs), CompositeReduce, InPlace ..."""
    seen: set[str] = set()
    for name, graph in CASE_GRAPHS:
        try:
            result, _ = gw.rewrite(graph)
        except Exception as exc:  # noqa: BLE001 - a case the rewriter refuses is tested by the rule tests
            pytest.fail(f"{name}: rewriting failed: {exc}")
        seen.update(type(node.op).__name__ for node in result.toposort)
        assert_same_graph(result)
    assert {"Composite", "CompositeReduce", "InPlace"} <= seen


def test_gradient_graphs_round_trip():
    count = 0
    for _, graph in CASE_GRAPHS:
        floats = [v for v in graph.inputs if v.type.dtype == "float64"]
        outs = [v for v in graph.outputs if v.type.dtype == "float64"]
        if not floats or not outs:
            continue
        try:
            grads = gw.grad(sum(gw.sum(v) for v in outs), floats)
        except Exception:  # noqa: BLE001 - not differentiable (the gradient tests cover which)
            continue
        assert_same_graph(Graph(graph.inputs, grads))
        count += 1
    assert count > 100


def test_nested_composites_and_named_outputs():
    x, y = gw.vector("x"), gw.vector("y")
    inner = gw.function([x, y], gw.exp(x) * y + gw.sin(x * y)).graph
    assert any(isinstance(n.op, Composite) for n in inner.toposort)
    named = gw.log1p(x)
    named.name = "z"
    g = Graph([x, y], [*inner.outputs, named * 2])
    again = graph_from_json(graph_to_json(g))
    assert again.outputs[1].owner.inputs[0].name == "z"
    assert_same_graph(g)


@pytest.mark.parametrize("value", [np.array([-0.0, 0.0, np.inf, -np.inf]), np.float32(-0.0),
                                   np.array([1, 0, 1], dtype=bool), np.arange(6, dtype="uint8").reshape(2, 3),
                                   np.array(-128, dtype="int8"), np.zeros((0, 3), dtype="int32")])
def test_constants_keep_dtype_shape_and_bits(value):
    c = gw.constant(value)
    again = round_trip(Graph([], [c])).outputs[0]
    assert again is c
    assert again.data.dtype == c.data.dtype and again.data.tobytes() == c.data.tobytes()


def test_nan_payloads_and_names_are_kept():
    quiet = np.array([np.nan])
    payload = np.array([0x7FF8000000000123], dtype=np.uint64).view(np.float64)
    a, b = gw.constant(quiet), gw.constant(payload)
    lr = gw.constant(0.5, name="lr")
    assert a is not b
    outs = round_trip(Graph([], [a, b, lr])).outputs
    assert outs[0] is a and outs[1] is b and outs[2] is lr and outs[2].name == "lr"
    doc = graph_to_json(Graph([], [b]))
    fresh = graph_from_json(json.loads(json.dumps(doc)))
    assert fresh.outputs[0].data.view(np.uint64)[0] == 0x7FF8000000000123


def test_parameter_values_round_trip_exactly():
    values = (0, -1, 2.5, -0.0, float("nan"), float("inf"), float("-inf"), None, True, "x", ((0, 1), ()))
    data = json.loads(json.dumps(encode_value(values, "test", None), allow_nan=False))
    back = decode_value(data, "test", None)
    assert back[:4] == values[:4] and np.signbit(back[3]) and np.isnan(back[4])
    assert back[5:] == values[5:]
    with pytest.raises(SerializeError, match="Reduce.axis.*set"):
        encode_value({1, 2}, "Reduce.axis", None)


def test_ids_are_in_drawing_order_and_given_ids_are_used():
    from graphwright.viz.ids import NodeIds

    x = gw.vector("x")
    g = Graph([x], [gw.exp(x) + 1, gw.sum(gw.exp(x) * 3)])
    ids = NodeIds()
    ids.assign(g)
    doc = graph_to_json(g)
    objects = _objects(doc, [x])  # the same objects (hash-consed)
    assert [e["id"] for e in doc["nodes"]] == [ids.of(objects[e["id"]]) for e in doc["nodes"]]
    assert len(doc["nodes"]) == len(ids)
    custom = graph_to_json(g, node_id=NodeIds(prefix="v").of)
    assert [e["id"] for e in custom["nodes"]] == [e["id"].replace("n", "v") for e in doc["nodes"]]


def _decoder(doc: dict, inputs: list):
    from graphwright.serialize.tables import NodeDecoder

    return NodeDecoder(doc["nodes"], inputs=dict(zip(doc["inputs"], inputs, strict=True)))


def _objects(doc: dict, inputs: list) -> dict:
    return _decoder(doc, inputs).objects


def _doc(*outputs) -> dict:
    return json.loads(json.dumps(graph_to_json(Graph(None, list(outputs)))))


def test_only_graphwright_op_classes_are_built():
    x = gw.vector("x")
    for name in ("os.system", "builtins.dict", "graphwright.tensor.type.TensorType", "graphwright.graph.basic.Op"):
        doc = _doc(gw.exp(x))
        doc["nodes"][1]["op"]["class"] = name
        with pytest.raises(SerializeError, match="not an op class of graphwright"):
            graph_from_json(doc)


def test_bad_documents_are_refused_with_the_reason():
    x = gw.vector("x")
    doc = _doc(gw.exp(x))
    with pytest.raises(SerializeError, match="version 1 cannot be read"):
        graph_from_json({**doc, "version": 1})
    with pytest.raises(SerializeError, match="expected a graphwright-graph document"):
        graph_from_json({**doc, "format": "graphwright-trace"})
    bad_type = json.loads(json.dumps(doc))
    bad_type["nodes"][1]["outputs"] = [{"dtype": "float32", "shape": [None]}]
    with pytest.raises(SerializeError, match=r"node n1: exp .* gives \['float64\[\?\]'\], the JSON says"):
        graph_from_json(bad_type)
    bad_ref = json.loads(json.dumps(doc))
    bad_ref["outputs"] = ["n7"]
    with pytest.raises(SerializeError, match="'n7' does not name a variable"):
        graph_from_json(bad_ref)
    bad_bytes = _doc(gw.constant([1.0, 2.0]) * x)
    bad_bytes["nodes"][1]["data"] = "AAAA"
    with pytest.raises(SerializeError, match="3 bytes do not fill float64"):
        graph_from_json(bad_bytes)
    with pytest.raises(SerializeError, match="has type float64.* but float32"):
        graph_from_json(doc, inputs=[gw.vector("y", dtype="float32")])
    for broken in (doc, bad_ref):
        validate(broken)  # structurally valid: the reader, not the schema, finds the broken reference


def test_the_output_follows_the_schema():
    x, m = gw.vector("x"), gw.matrix("m")
    g = gw.function([x, m], [gw.softmax(m @ x)[1:], gw.sum(gw.exp(m) * 2, axis=0)]).graph
    validate(json.loads(json.dumps(graph_to_json(g))))
    with pytest.raises(SerializeError, match="not a valid graphwright document"):
        validate({**graph_to_json(g), "nodes": [{"id": "n0"}]})


def test_whole_graph_walks_do_not_grow_with_the_graph(count_graph_calls, monkeypatch):
    """One toposort of the graph when writing (the table walks only new nodes), none when reading."""
    for size in (100, 1000, 10_000):
        x = gw.vector("x")
        y = x
        for k in range(size):
            y = gw.exp(y) * (k % 7) if k % 3 else y + 1
        g = Graph([x], [y])
        with monkeypatch.context() as patcher:
            calls = count_graph_calls(patcher, "toposort")
            doc = graph_to_json(g)
            assert calls[0] <= 1
            again = graph_from_json(doc, inputs=[x])
            assert calls[0] <= 1
        assert again.outputs[0] is y and len(doc["nodes"]) >= size


def test_elemwise_rows_are_stored_by_name():
    doc = graph_to_json(Graph(None, [gw.exp(gw.vector("x"))]))
    assert doc["nodes"][1]["op"] == {"class": "graphwright.tensor.elemwise.Elemwise",
                                     "fields": {"scalar_op": {"scalar_op": "exp"}}}
    assert isinstance(graph_from_json(doc).outputs[0].owner.op, Elemwise)


def test_loading_never_renames_the_callers_variables():
    """Names are display metadata: a document names only what it made, never a shared (hash-consed) node."""
    x = gw.vector("x")
    mine = gw.exp(x)
    elsewhere = gw.exp(gw.vector("x"))
    elsewhere.name = "secret"
    graph_from_json(graph_to_json(Graph(None, [elsewhere])), inputs=[x])
    assert mine.name is None
    named = gw.log(x)
    named.name = "first"
    doc = graph_to_json(Graph([x], [named]))
    doc["nodes"][1]["names"] = ["second"]
    assert graph_from_json(doc, inputs=[x]).outputs[0].name == "first"
    assert _decoder(doc, [x]).names == {named: "second"}  # the document's names, for whoever displays them
    fresh = graph_from_json(doc)  # on fresh inputs every node is new: it takes the stored name
    assert fresh.outputs[0].name == "second" and fresh.inputs[0].name == "x"


def _mutations() -> dict:
    def entry(kind):
        return lambda d: next(e for e in d["nodes"] if e["kind"] == kind)

    const, apply = entry("constant"), entry("apply")
    return {
        "constant shape null": (lambda d: const(d)["type"].update(shape=[None]), "needs a known shape"),
        "bad base64": (lambda d: const(d).update(data="!!!"), "data is not base64"),
        "data not a string": (lambda d: const(d).update(data=5), "base64 data, got float64.* and int"),
        "shape a string": (lambda d: d["nodes"][0]["type"].update(shape="ab"), "list shape"),
        "input name an int": (lambda d: d["nodes"][0].update(name=7), "name 7 is not a string"),
        "scalar_op a string": (lambda d: apply(d)["op"]["fields"].update(scalar_op="exp"),
                               "node n1: graphwright.tensor.elemwise.Elemwise cannot be applied"),
        "outputs not a list": (lambda d: apply(d).update(outputs=5), "inputs and outputs must be lists"),
        "names not a list": (lambda d: apply(d).update(names=5), "names 5 is not a list of 1"),
        "a name an int": (lambda d: apply(d).update(names=[5]), r"names \[5\] is not a list"),
        "version True": (lambda d: d.update(version=True), "version True cannot be read"),
        "input is a constant": (lambda d: d.update(inputs=[const(d)["id"]]), "graph input 'n2' names"),
        "input is a node": (lambda d: d.update(inputs=[apply(d)["id"]]), "graph input 'n1' names exp"),
    }


@pytest.mark.parametrize("name", sorted(_mutations()))
def test_untrusted_documents_are_refused_naming_the_field(name):
    x = gw.vector("x")
    doc = _doc(gw.exp(x) + gw.constant(np.array([1.0, 2.0])))
    mutate, message = _mutations()[name]
    mutate(doc)
    with pytest.raises(SerializeError, match=message):
        graph_from_json(doc)
