"""Session: the stepper's history from a real rewrite, stable node ids, why_not, substitution with resume, undo."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.viz.ids import drawable
from graphwright.workbench.session import Session
from graphwright.workbench.steps import StepView, edit_step, filter_steps
from graphwright.workbench.substitute import SubstitutionError


@pytest.fixture
def demo():
    x = gw.vector("x")
    softplus_naive = gw.log(1 + gw.exp(x))
    square = gw.exp(x) * gw.exp(x)
    y = softplus_naive.sum() * 1 + square.sum() + gw.log(1 + x).sum()
    return x, softplus_naive, square, y, Session(y, name="demo")


def test_steps_follow_the_trace(demo):
    x, softplus_naive, square, y, s = demo
    _, trace = gw.rewrite(y)
    assert [(v.phase, v.rule) for v in s.steps] == [(t.phase, t.rule_name) for t in trace]
    assert s.phases == ("canonicalize", "stabilize", "specialize", "linalg", "fusion", "inplace")
    assert s.inputs == [x] and s.original.outputs == (y,)
    assert [v.index for v in s.steps] == list(range(len(s.steps)))
    assert all(isinstance(v, StepView) and v.kind == "rule" for v in s.steps)
    for k, v in enumerate(s.steps):  # consecutive: each step starts from the graph the previous one left
        assert v.before is s.graph_at(k - 1) and v.after is s.graph_at(k)
    assert s.graph_at(-1) is s.original and s.graph is s.steps[-1].after
    assert s.graph.outputs[0] is trace.final.outputs[0]
    assert {"softplus", "log1p", "exp_mul_exp", "mul_one"} <= {v.rule for v in s.steps}
    with pytest.raises(IndexError, match="out of range"):
        s.graph_at(len(s.steps))


def test_filters(demo):
    *_, s = demo
    assert [v.rule for v in s.rewrite_steps(phase="stabilize")] == ["softplus", "exp_mul_exp", "log1p"]
    assert all(v.rule == "reduce_fusion" for v in s.rewrite_steps(rule="reduce_fusion"))
    assert len(s.rewrite_steps(rule="reduce_fusion")) == 3
    assert s.rewrite_steps(phase="fusion", rule="softplus") == []
    assert s.rewrite_steps() == s.steps
    assert filter_steps(s.steps, kind="edit") == []


def test_ids_stable_for_untouched_and_rebuilt_nodes(demo):
    x, softplus_naive, square, y, s = demo
    x_id = s.ids.of(x)
    for k in range(-1, len(s.steps)):
        assert s.node(x_id, at=k) is x  # an untouched input: one id, the same object, in every step
    # the output: rebuilt by mul_one (same id), replaced by add_flatten (new id), then rebuilt up to the end
    assert [v.rule for v in s.steps[:2]] == ["mul_one", "add_flatten"]
    assert s.ids_at(0).of(s.graph_at(0).outputs[0]) == s.ids_at(-1).of(y)
    flat_id = s.ids_at(1).of(s.steps[1].replacement)
    assert flat_id != s.ids_at(-1).of(y)
    outs = [s.graph_at(k).outputs[0] for k in range(1, len(s.steps))]
    assert len({id(o.owner) for o in outs}) > 3  # the output node is rebuilt again and again ...
    assert {s.ids_at(k).of(o) for k, o in enumerate(outs, start=1)} == {flat_id}  # ... and keeps its id
    for k, v in enumerate(s.steps):
        before, after = s.ids_at(k - 1), s.ids_at(k)
        for old, new in v.changes.rebuilt.items():
            assert before.of(old) == after.of(new)
        for node in v.changes.created:
            assert after.of(node) not in {before.of(n) for n in v.before.toposort}
    # exp(x) is untouched until fusion swallows it: same object and id while it lives
    exp_id = s.ids.of(gw.exp(x))
    assert s.node(exp_id, at=-1) is gw.exp(x).owner and s.node(exp_id, at=1) is gw.exp(x).owner


def test_node_lookup(demo):
    x, softplus_naive, *_, s = demo
    sp_id = s.ids.of(softplus_naive)
    assert s.node(sp_id, at=-1) is softplus_naive.owner
    assert s.node(sp_id) is softplus_naive.owner  # gone from the final graph: found in an earlier step
    one = s.original.toposort[1].inputs[0]  # the constant of 1 + exp(x)
    assert isinstance(one, gw.Constant) and s.node(s.ids.of(one), at=-1) is one
    with pytest.raises(KeyError, match="no node with id 'nope'"):
        s.node("nope")


def test_why_not_on_real_rules(demo):
    x, softplus_naive, square, y, s = demo
    fired = s.why_not("softplus", s.ids.of(softplus_naive), at=-1)
    assert fired.startswith("softplus fired at log(1 + exp(x)) in step ")
    assert s.steps[int(fired.split("in step ")[1].split()[0])].rule == "softplus"
    shadowed = s.why_not("log1p", s.ids.of(softplus_naive), at=-1)
    assert "log1p applies at log(1 + exp(x))" in shadowed and "replaced by softplus" in shadowed
    assert "is exp, not log" in s.why_not("softplus", s.ids.of(gw.exp(x)), at=-1)
    assert "graph input" in s.why_not("softplus", s.ids.of(x))
    with pytest.raises(KeyError, match="no rule called 'nope'"):
        s.why_not("nope", s.ids.of(x))


def test_why_not_softplus_on_log_2_plus_exp():
    x = gw.vector("x")
    s = Session(gw.log(2 + gw.exp(x)), phases="stabilize")
    assert s.steps == []
    answer = s.why_not("softplus", s.ids.of(s.graph.outputs[0]))
    assert answer.startswith("softplus does not match log(2 + exp(x))") and "2.0, not 1.0" in answer


def test_why_not_names_a_phase_the_session_skips():
    x = gw.vector("x")
    s = Session(gw.log(1 + x), phases="canonicalize")
    answer = s.why_not("log1p", s.ids.of(s.graph.outputs[0]))
    assert "log1p applies at log(1 + x)" in answer and "stabilize, is not among this session's phases" in answer


def test_substitute_and_resume(demo):
    x, softplus_naive, square, y, s = demo
    before_steps = list(s.steps)
    add_id = s.ids_at(-1).of(y)
    report = s.substitute(s.ids.of(square), "gw.exp(2 * x)", at=-1)
    assert report.ok, report.message
    edit = s.steps[0]
    assert (edit.kind, edit.phase, edit.rule, edit.index) == ("edit", "edit", "substitute", 0)
    assert edit.identity == "exp(x) * exp(x) -> exp(2 * x)"
    assert edit.replaced is square and edit.replacement is report.replacement
    assert edit.before is s.original and s.ids_at(0).of(edit.after.outputs[0]) == add_id  # rebuilt: keeps its id
    resumed = s.steps[1:]
    assert resumed and all(v.kind == "rule" for v in resumed)
    assert [v.index for v in s.steps] == list(range(len(s.steps)))
    assert "exp_mul_exp" not in {v.rule for v in resumed} and {"softplus", "log1p"} <= {v.rule for v in resumed}
    assert resumed[0].before is edit.after
    for v in resumed:
        before, after = s.ids_at(v.index - 1), s.ids_at(v.index)
        assert all(before.of(old) == after.of(new) for old, new in v.changes.rebuilt.items())
    assert "1 edit" in repr(s) and "[edit] substitute: exp(x) * exp(x) -> exp(2 * x)" in s.text()
    assert s.rewrite_steps(phase="edit") == [edit]
    s.undo()
    assert s.steps == before_steps and s.graph is before_steps[-1].after


def test_substitute_mid_history_resumes_from_the_phase_running_there(demo):
    x, softplus_naive, square, y, s = demo
    last_stabilize = s.rewrite_steps(phase="stabilize")[-1].index
    report = s.substitute(gw.log1p(x), "gw.log(1 + x)", at=last_stabilize)
    assert report.ok
    assert s.steps[last_stabilize + 1].kind == "edit"
    later = s.steps[last_stabilize + 2:]
    # stabilize was running at that point: it runs again (and turns log(1 + x) back into log1p(x)), then the rest
    assert [v.rule for v in later if v.phase == "stabilize"] == ["log1p"]
    assert {v.phase for v in later} <= {"stabilize", "fusion", "inplace"} and later[-1].phase != "stabilize"


def test_resume_runs_phases_that_made_no_steps():
    x = gw.vector("x")
    s = Session(gw.log(1 + x), phases=("canonicalize", "stabilize"))
    assert [(v.phase, v.rule) for v in s.steps] == [("stabilize", "log1p")]  # canonicalize made no step
    assert s.substitute(gw.log(1 + x), "old * 1", at=-1).ok  # before every step: all phases run
    assert [(v.phase, v.rule) for v in s.steps] == [("edit", "substitute"), ("canonicalize", "mul_one"),
                                                    ("stabilize", "log1p")]
    t = Session(gw.exp(x), phases="canonicalize")
    assert t.steps == []
    assert t.substitute(gw.exp(x), "old * 1").ok  # no step at all: every phase runs after the edit
    assert [v.rule for v in t.steps] == ["substitute", "mul_one"] and t.graph.outputs == (gw.exp(x),)


def test_resume_after_an_edit_step_uses_the_phase_of_the_rule_step_before_it():
    x = gw.vector("x")
    s = Session(gw.log(1 + x) * 1, phases=("canonicalize", "stabilize"))
    assert [v.rule for v in s.steps] == ["mul_one", "log1p"]
    assert s.substitute(gw.log1p(x), "old * 1", resume=False).ok
    assert [v.kind for v in s.steps] == ["rule", "rule", "edit"]
    # at the edit (step 2) the running phase is that of step 1, stabilize: canonicalize is not run again
    assert s.substitute(gw.log1p(x) * 1, "old * 1", at=2).ok
    assert [v.rule for v in s.steps] == ["mul_one", "log1p", "substitute", "substitute"]
    # with no rule step before the edit, every phase runs
    u = Session(gw.exp(x), phases=("canonicalize", "stabilize"))
    assert u.substitute(gw.exp(x), "old * 1", resume=False).ok
    assert u.substitute(gw.exp(x) * 1, "old * 1", at=0).ok
    assert [v.rule for v in u.steps] == ["substitute", "substitute", "mul_one", "mul_one"]


def test_substitute_without_resume_and_at_the_end(demo):
    x, softplus_naive, square, y, s = demo
    n = len(s.steps)
    assert s.substitute(square, "gw.exp(x + x)", at=-1, resume=False).ok
    assert len(s.steps) == 1 and s.steps[0].kind == "edit"
    s.undo()
    assert len(s.steps) == n
    t = Session(gw.log(1 + x), phases=("canonicalize", "stabilize"))
    assert t.substitute(t.graph.outputs[0], "old * 1").ok  # at the end: from the last rule step's phase on
    assert [v.rule for v in t.steps] == ["log1p", "substitute"]  # mul_one is canonicalize: not run
    assert t.substitute(gw.log1p(x), "gw.log(1 + x)").ok  # stabilize runs again: log1p fires
    assert [v.rule for v in t.steps] == ["log1p", "substitute", "substitute", "log1p"]
    assert t.graph.outputs == (gw.log1p(x) * 1,)


def test_refused_substitution_changes_nothing(demo):
    x, softplus_naive, square, y, s = demo
    steps, graph = list(s.steps), s.graph
    log1p_at = s.rewrite_steps(rule="log1p")[0].index
    cases = [(softplus_naive, "gw.cast(old, 'float32')", "dtype changes from float64 to float32"),
             (softplus_naive, "old.sum()", "static shape changes from float64[?] to float64[]"),
             (square, "gw.exp(x) * gw.exp(z)", "unknown name(s) z"),
             (softplus_naive, "gw.log(x)", "changes values")]
    for target, text, why in cases:
        report = s.substitute(target, text, at=-1)
        assert not report.ok and why in report.message
    report = s.substitute(gw.log1p(x), "gw.log(x)", at=log1p_at)
    assert not report.ok and "replacing log1p(x) by log(x) changes values" in report.message
    assert s.steps == steps and s.graph is graph and not s.can_undo


def test_substitute_bad_targets_and_positions(demo):
    x, softplus_naive, square, y, s = demo
    with pytest.raises(SubstitutionError, match=r"log1p\(x\) is not in the graph at step -1 of session 'demo'"):
        s.substitute(gw.log1p(x), "gw.log(1 + x)", at=-1)
    with pytest.raises(IndexError, match="out of range"):
        s.substitute(square, "gw.exp(2 * x)", at=99)
    with pytest.raises(KeyError):
        s.substitute("n999", "old")


def test_undo_nothing_and_twice():
    x = gw.vector("x")
    s = Session(gw.exp(x) * gw.exp(x), phases="stabilize")
    with pytest.raises(RuntimeError, match="nothing to undo in session 'graph'"):
        s.undo()
    original_steps = list(s.steps)
    assert s.substitute(gw.exp(x) * gw.exp(x), "gw.exp(2 * x)", at=-1).ok
    first_edit = list(s.steps)
    assert s.substitute(gw.exp(2 * x), "gw.exp(x + x)").ok
    s.undo()
    assert s.steps == first_edit
    s.undo()
    assert s.steps == original_steps and not s.can_undo


def test_session_from_graph_and_inputs():
    x, y = gw.vector("x"), gw.vector("y")
    g = gw.Graph([x, y], [gw.exp(x)])
    s = Session(g, phases="canonicalize", backends=["numpy"])
    assert s.inputs == [x, y] and s.backends == ["numpy"] and s.steps == []
    assert repr(s) == "Session('graph': 2 inputs, 1 -> 1 nodes, 0 steps)"
    assert Session(gw.exp(x), inputs=[y, x], phases="canonicalize").inputs == [y, x]
    with pytest.raises(ValueError, match="unknown phase"):
        Session(gw.exp(x), phases="nope")


def test_edit_step_changes():
    x = gw.vector("x")
    out = (gw.exp(x) * gw.exp(x)).sum()
    step = edit_step(gw.Graph([x], [out]), gw.exp(x) * gw.exp(x), gw.exp(2 * x), index=3)
    assert [n.op.short_name() for n in step.changes.created] == ["mul", "exp"]
    assert [n.op.short_name() for n in step.changes.removed] == ["exp", "mul"]
    assert list(step.changes.rebuilt) == [out.owner]
    assert step.after.inputs == (x,) and str(step) == "3. [edit] substitute: exp(x) * exp(x) -> exp(2 * x)"


def _assert_ids_unique(s):
    for k in range(-1, len(s.steps)):
        shown = [s.ids_at(k).of(obj) for obj in drawable(s.graph_at(k))]
        assert len(shown) == len(set(shown)), (k, sorted(shown))


def test_ids_are_unique_in_every_graph_of_the_history(demo):
    x = gw.vector("x")
    # the rebuilt sum(log(1 + exp(x))) is hash-consed to the sum(softplus(x)) that is already in the graph
    both = [gw.log(1 + gw.exp(x)).sum(), gw.softplus(x).sum()]
    s = Session(both, phases="stabilize")
    _assert_ids_unique(s)
    assert s.ids.of(both[0]) != s.ids.of(both[1])
    assert s.node(s.ids.of(both[1]), at=0) is both[1].owner
    for outputs in (both, [gw.exp(x) * gw.exp(x), gw.exp(x + x)], [gw.log(1 + x), gw.log1p(x) * 2]):
        _assert_ids_unique(Session(outputs))
    *_, square, _, d = demo
    _assert_ids_unique(d)
    assert d.substitute(square, "gw.exp(2 * x)", at=-1).ok
    _assert_ids_unique(d)
    # an edit whose replacement holds the node above the target: the old add stays next to its rebuilt form
    t = Session((gw.exp(x) + 1).sum(), phases="canonicalize")
    assert t.substitute(gw.exp(x), "(gw.exp(x) + 1) - 1", resume=False).ok
    _assert_ids_unique(t)


def test_stale_bench_and_numerics_are_cleared_by_edits_and_undo():
    x = gw.vector("x")
    s = Session(gw.log(1 + gw.exp(x)), phases="stabilize", backends=["numpy"])

    def run_both():
        s.compile(repeat=2)
        s.numerics([np.array([0.5, 2.0])])
        assert s.last_bench is not None and s.last_numerics is not None

    run_both()
    assert not s.substitute(gw.softplus(x), "gw.log(x)").ok  # refused: the results still describe the graph
    assert s.last_bench is not None and s.last_numerics is not None
    assert s.substitute(gw.softplus(x), "old * 1", resume=False).ok
    assert s.last_bench is None and s.last_numerics is None
    run_both()
    s.undo()
    assert s.last_bench is None and s.last_numerics is None


def test_on_change_callbacks():
    x = gw.vector("x")
    s = Session(gw.log(1 + x), phases="stabilize")
    seen: list[tuple[int, int]] = []

    def record(session):
        seen.append((id(session), len(session.steps)))

    assert s.on_change(record) is record
    s.on_change(record)  # registered once
    assert not s.substitute(gw.log1p(x), "gw.log(x)").ok  # refused: no change, no call
    assert seen == []
    assert s.substitute(gw.log1p(x), "gw.log(1 + x)").ok  # edit + stabilize again
    assert seen == [(id(s), 3)]
    s.undo()
    assert seen == [(id(s), 3), (id(s), 1)]
    s.remove_on_change(record)
    assert s.substitute(gw.log1p(x), "gw.log(1 + x)", resume=False).ok
    assert len(seen) == 2
    with pytest.raises(ValueError, match="not registered"):
        s.remove_on_change(record)
    with pytest.raises(TypeError, match="callable"):
        s.on_change("nope")


def test_a_failing_callback_warns_and_the_others_still_run():
    x = gw.vector("x")
    s = Session(gw.log(1 + x), phases="stabilize")
    calls = []

    def broken(session):
        raise RuntimeError("widget closed")

    s.on_change(broken)
    s.on_change(calls.append)
    with pytest.warns(RuntimeWarning, match="on_change callback .*broken.*widget closed"):
        assert s.substitute(gw.log1p(x), "gw.log(1 + x)").ok
    assert calls == [s] and s.steps[-1].rule == "log1p"


def test_substitute_reaches_unnamed_nodes_with_node_ids(demo):
    x, softplus_naive, square, y, s = demo
    exp_id = s.ids.of(gw.exp(x))
    report = s.substitute(s.ids.of(softplus_naive), f"gw.log1p(node('{exp_id}'))", at=-1)
    assert report.ok and report.replacement is gw.log1p(gw.exp(x))
    report = s.substitute(square, "node('n999') * 1", at=-1)
    assert not report.ok and "no node with id 'n999'" in report.message
