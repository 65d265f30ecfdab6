"""The JSON form of workbench sessions: rule steps, edits and resumed rewrites come back without running a
rewrite, with the same step graphs, diffs and node ids; the document follows the schema."""

from __future__ import annotations

import json

import pytest
from history_graphs import gradient_of_cost, softplus_chain  # this folder is on sys.path (pytest)

import graphwright as gw
from graphwright.graph.graph import replace
from graphwright.serialize import SerializeError, validate
from graphwright.workbench.session import Session
from graphwright.workbench.session_json import session_from_json


def _round_trip(session: Session) -> Session:
    doc = json.loads(json.dumps(session.to_json(), allow_nan=False))
    validate(doc)
    return Session.from_json(doc)


def _same_history(again: Session, session: Session) -> None:
    assert again.text() == session.text()
    assert (again.name, again.phases, again.backends) == (session.name, session.phases, session.backends)
    back = dict(zip(again.inputs, session.inputs, strict=True))
    for k in range(-1, len(session.steps)):
        mine, theirs = again.graph_at(k), session.graph_at(k)
        assert replace(list(mine.outputs), back) == list(theirs.outputs), f"graph after step {k}"
        ids, their_ids = again.ids_at(k), session.ids_at(k)
        mine_drawn = [ids.of(n) for n in mine.toposort]
        assert mine_drawn == [their_ids.of(n) for n in theirs.toposort], f"node ids after step {k}"
    for a, b in zip(again.steps, session.steps, strict=True):
        assert (a.index, a.kind, a.phase, a.rule, a.identity) == (b.index, b.kind, b.phase, b.rule, b.identity)
        assert [n.op for n in a.changes.created] == [n.op for n in b.changes.created]
        assert len(a.changes.rebuilt) == len(b.changes.rebuilt) and len(a.changes.removed) == len(b.changes.removed)


@pytest.mark.parametrize("outputs", [softplus_chain(5), gradient_of_cost(3)], ids=["softplus", "gradient"])
def test_a_session_comes_back_with_its_steps_graphs_and_ids(outputs):
    session = Session(outputs, name="s", phases="fast_run")
    _same_history(_round_trip(session), session)


def test_edits_and_resumed_rewrites_come_back(monkeypatch):
    x = gw.vector("x")
    session = Session(gw.exp(x) * gw.exp(x) + gw.log(1 + x), name="edited", phases="stabilize")
    assert session.substitute(gw.exp(x) * gw.exp(x), "gw.exp(2 * x)", at=-1).ok
    assert session.substitute(session.graph.outputs[0], "gw.exp(2 * x) + gw.log1p(x) * 1", resume=True).ok
    assert [s.kind for s in session.steps].count("edit") == 2
    doc = session.to_json()
    with monkeypatch.context() as patcher:
        patcher.setattr(Session, "_run", lambda *a: pytest.fail("reading a session ran a rewrite"))
        again = session_from_json(json.loads(json.dumps(doc)))
    _same_history(again, session)
    assert not again.can_undo
    assert again.substitute(again.graph.outputs[0], "gw.exp(2 * x) + gw.log1p(x)", resume=False).ok  # usable


def test_an_edit_that_does_not_give_the_recorded_graph_is_refused():
    x = gw.vector("x")
    session = Session(gw.exp(x) + 1, name="e", phases="canonicalize")
    assert session.substitute(session.graph.outputs[0], "1 + gw.exp(x)", resume=False).ok
    doc = json.loads(json.dumps(session.to_json()))
    edit = next(s for s in doc["steps"] if s["kind"] == "edit")
    edit["outputs"] = [doc["original"]["outputs"][0]]
    with pytest.raises(SerializeError, match="does not give the graph the JSON records"):
        session_from_json(doc)
    with pytest.raises(SerializeError, match="expected a graphwright-session document"):
        session_from_json({**doc, "format": "graphwright-trace"})


def test_the_session_document_follows_the_schema():
    session = Session(gradient_of_cost(2), name="g")
    doc = session.to_json()
    validate(doc)
    with pytest.raises(SerializeError, match="not a valid graphwright document"):
        validate({**doc, "steps": [{"index": -1}]})


@pytest.mark.parametrize(("key", "value"), [("trace", -1), ("trace", 1), ("trace_index", 99), ("trace_index", -1),
                                            ("trace", True)])
def test_a_step_pointing_outside_the_traces_is_refused(key, value):
    """A stored index never counts from the end (Python's -1) and must name a step of a stored trace."""
    x = gw.vector("x")
    doc = json.loads(json.dumps(Session(gw.exp(x) * gw.exp(x), name="i", phases="stabilize").to_json()))
    doc["steps"][0][key] = value
    with pytest.raises(SerializeError, match="step 0: trace .* is not in the document"):
        session_from_json(doc)
