"""graphwright.viz.graph_json: the JSON form with the drawings' labels and node ids."""

from __future__ import annotations

import json

import graphwright as gw
from graphwright import viz
from graphwright.serialize import validate
from graphwright.viz.labels import op_label, var_label
from graphwright.workbench.session import Session


def test_labels_and_ids_are_those_of_the_drawing():
    x, y = gw.vector("x"), gw.matrix("y")
    graph, _ = gw.rewrite(gw.Graph([x, y], [gw.exp(y @ x) * 2 + 1, gw.sum(y, axis=0)]),
                          phases=["canonicalize", "fusion"])
    doc = json.loads(json.dumps(viz.graph_json(graph)))
    validate(doc)
    objects = {}
    ids = viz.NodeIds()
    ids.assign(graph)
    for obj in viz.ids.drawable(graph):
        objects[ids.of(obj)] = obj
    assert [e["id"] for e in doc["nodes"]] == list(objects)
    for entry in doc["nodes"]:
        obj = objects[entry["id"]]
        assert entry["label"] == (op_label(obj) if entry["kind"] == "apply" else var_label(obj))
    assert any(e["label"].startswith("fused: ") for e in doc["nodes"])
    again = viz.graph_from_json(doc, inputs=[x, y])
    assert again.outputs == graph.outputs


def test_a_session_table_gives_its_ids():
    x = gw.vector("x")
    session = Session(gw.log(1 + gw.exp(x)) * 2, phases="stabilize")
    ids = session.ids_at(0)
    doc = viz.graph_json(session.graph_at(0), ids=ids)
    assert [e["id"] for e in doc["nodes"]] == [ids.of(obj) for obj in viz.ids.drawable(session.graph_at(0))]
    mul = doc["nodes"][-1]
    assert mul["label"] == "mul" and mul["id"] == session.ids_at(-1).of(session.graph_at(-1).outputs[0])
    validate(doc)
