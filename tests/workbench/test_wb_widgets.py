"""The workbench widgets without a browser: GraphView traits and mimebundle, the stepper, the three panels and
the session widget, driven through their button callbacks and traits (their static forms and the fallback without
graphviz: test_wb_html.py)."""

import gc
import re
import weakref
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import graphwright as gw
from graphwright import viz
from graphwright.workbench.graph_view import GraphView
from graphwright.workbench.panels import CompilePanel
from graphwright.workbench.session import Session
from graphwright.workbench.stepper_widget import RewriteStepper
from graphwright.workbench.steps import graph_index
from graphwright.workbench.widgets import SessionWidget

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _session(**kw):
    x = gw.vector("x")
    return Session(gw.log(1 + gw.exp(x)) * 1 + gw.exp(x) * gw.exp(x), name="f", **kw)


def _classed(svg: str, cls: str) -> set[str]:
    """Ids of the drawn nodes (SVG <g class="gw-node ...">) whose class list holds ``cls`` (graphviz writes '-' as
    &#45;, which XML parsing reads back)."""
    root = ET.fromstring(svg)
    found = set()
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        classes = (g.get("class") or "").split()
        if "gw-node" in classes and cls in classes:
            found.add(g.get("id"))
    return found


def _node_ids(svg: str) -> set[str]:
    return _classed(svg, "gw-node")


# --- GraphView ---------------------------------------------------------------------------------------------
def test_graph_view_traits_sync_and_esm_comes_from_the_package_file():
    traits = GraphView.class_traits()
    for name in ("svg", "selected", "status", "height", "fallback", "expanded", "expandable"):
        assert traits[name].metadata.get("sync") is True, name
    view = GraphView()
    js = (Path(viz.__file__).parents[1] / "workbench" / "static" / "graph_view.js").read_text()
    assert view._esm == js and "export default" in js
    # the wheel zooms only with ctrl/cmd (else the page scrolls); a cancelled pointer ends the drag
    wheel = js[js.index("function onWheel"):js.index("function onDown")]
    assert wheel.index("if (!e.ctrlKey && !e.metaKey) return;") < wheel.index("e.preventDefault()")
    assert 'addEventListener("pointercancel"' in js and "ctrl+wheel: zoom" in js
    assert not re.search(r"^\s*import\b|import\(", js, re.M)  # no imports: nothing fetched from a CDN
    assert "https://" not in js and "http://" not in js.replace("http://www.w3.org/1999/xlink", "")


def test_graph_view_from_graph_draws_every_node_and_keeps_the_selection():
    x = gw.vector("x")
    y = gw.exp(x) + 1
    ids = viz.NodeIds()
    view = GraphView.from_graph(y, ids=ids)
    assert {ids.of(x), ids.of(y), ids.of(gw.exp(x))} <= _node_ids(view.svg)
    view.selected = ids.of(y)
    view.show(gw.log(y), ids=ids)
    assert view.selected == ids.of(y) and ids.of(gw.log(y)) in _node_ids(view.svg)
    assert view.status == "3 nodes"


# --- RewriteStepper ----------------------------------------------------------------------------------------
def test_stepper_next_and_prev_change_the_label_and_the_svgs():
    s = _session()
    stepper = RewriteStepper(s)
    views = lambda: (stepper.label.value, stepper.before_view.svg, stepper.after_view.svg)  # noqa: E731
    first = views()
    assert "mul_one" in first[0] and "step 1 / 4" in first[0]
    assert stepper.next().rule == "softplus"
    assert "softplus" in stepper.label.value and "step 2 / 4" in stepper.label.value
    assert stepper.before_view.svg != first[1] and stepper.after_view.svg != first[2]
    assert stepper.slider.value == 1 and stepper.step_list.value == 1
    stepper.prev_button.click()
    assert views() == first
    stepper.prev_button.click()  # stays on the first step
    assert stepper.position == 0
    for _ in range(6):
        stepper.next_button.click()
    assert stepper.current.rule == "elemwise_fusion" and stepper.position == 3


@pytest.mark.parametrize("k", range(4))
def test_stepper_shows_before_and_after_side_by_side_with_the_same_ids(k):
    s = _session()
    stepper = RewriteStepper(s)
    stepper.go(k)
    step = stepper.current
    diff = viz.graph_diff(step.before, step.after, step.changes)
    old_ids, ids = s.ids_at(step.index - 1), s.ids_at(step.index)  # the ids of the graphs before and after
    added = {ids.of(n) for n in diff.added}
    removed = {old_ids.of(n) for n in diff.removed}
    rewired_old = {old_ids.of(n) for n in diff.rewired}
    assert rewired_old == {ids.of(n) for n in diff.rewired.values()}  # a rewired node keeps its id
    assert added or rewired_old or removed
    before, after = stepper.before_view.svg, stepper.after_view.svg
    assert _classed(before, "gw-removed") == removed and _classed(before, "gw-rewired") == rewired_old
    assert _classed(before, "gw-added") == set()
    assert _classed(after, "gw-added") == added and _classed(after, "gw-rewired") == rewired_old
    assert _classed(after, "gw-removed") == set()
    # each pane is its own graph, under its own ids
    assert _node_ids(before) == set(graph_index(old_ids, step.before))
    assert _node_ids(after) == set(graph_index(ids, step.after)) and not removed & _node_ids(after)
    assert stepper.pair.layout.display == "" and stepper.union_box.layout.display == "none"


def test_stepper_diff_on_one_graph_toggle():
    s = _session()
    stepper = RewriteStepper(s)
    stepper.go(1)
    step = stepper.current
    assert stepper.diff_view.svg == ""  # drawn only when asked for
    stepper.union.value = True
    assert stepper.pair.layout.display == "none" and stepper.union_box.layout.display == ""
    diff = viz.graph_diff(step.before, step.after, step.changes)
    union = stepper.diff_view.svg
    ids = s.ids_at(step.index)  # one id space for both graphs of the step
    assert _classed(union, "gw-removed") == {ids.of(n) for n in diff.removed}
    assert _classed(union, "gw-added") == {ids.of(n) for n in diff.added}
    assert _classed(union, "gw-rewired") == {ids.of(n) for n in diff.rewired}
    assert stepper.next().rule == "exp_mul_exp" and stepper.diff_view.svg != union
    stepper.union.value = False
    assert stepper.pair.layout.display == "" and "exp_mul_exp" in stepper.label.value


def test_stepper_slider_and_list_move_to_a_step():
    stepper = RewriteStepper(_session())
    stepper.slider.value = 2
    assert stepper.current.rule == "exp_mul_exp" and stepper.step_list.value == 2
    stepper.step_list.value = 3
    assert stepper.current.rule == "elemwise_fusion" and stepper.slider.value == 3


@pytest.mark.parametrize("phase, rule, expected", [
    ("stabilize", None, ["softplus", "exp_mul_exp"]),
    (None, "softplus", ["softplus"]),
    ("fusion", None, ["elemwise_fusion"]),
    ("canonicalize", "softplus", []),
    (None, None, ["mul_one", "softplus", "exp_mul_exp", "elemwise_fusion"]),
])
def test_stepper_filters_restrict_the_step_list(phase, rule, expected):
    stepper = RewriteStepper(_session())
    stepper.set_filters(phase=phase, rule=rule)
    assert [s.rule for s in stepper.visible] == expected
    assert len(stepper.step_list.options) == len(expected)
    assert stepper.slider.max == max(len(expected) - 1, 0)
    if expected:
        assert stepper.current.rule == expected[0] and expected[0] in stepper.label.value
    else:
        assert stepper.current is None and "no step matches" in stepper.label.value


def test_stepper_filter_dropdowns_drive_the_list():
    stepper = RewriteStepper(_session())
    assert stepper.phase_filter.options == ("(all)", "canonicalize", "stabilize", "fusion")
    stepper.phase_filter.value = "stabilize"
    assert [label for label, _ in stepper.step_list.options][1].startswith("2. [stabilize] exp_mul_exp")


def test_stepper_jump_to_rule_goes_to_the_next_step_of_that_rule():
    stepper = RewriteStepper(_session())
    stepper.jump.value = "exp_mul_exp"
    assert stepper.current.rule == "exp_mul_exp" and stepper.jump.value is None
    assert stepper.jump_to_rule("mul_one").rule == "mul_one"  # wraps around


def test_stepper_why_not_answers_for_the_selected_node():
    s = _session()
    stepper = RewriteStepper(s)
    stepper.go(3)
    node_id = s.ids.of(s.graph.outputs[0])
    stepper.after_view.selected = node_id
    stepper.why_rule.value = "log1p"
    stepper.why_button.click()
    assert s.why_not("log1p", node_id, at=3) in stepper.why_text.value.replace("&#x27;", "'")
    assert "log1p" in stepper.why_text.value
    assert "no rule called" in stepper.why_not("no_such_rule", node_id)
    stepper.after_view.selected = stepper.before_view.selected = ""
    stepper._last_view = None
    assert "select a node" in stepper.why_not("log1p")


def test_stepper_why_not_on_a_node_of_the_before_pane():
    s = _session()
    stepper = RewriteStepper(s)
    step = stepper.go(1)  # softplus: log(1 + exp(x)) -> softplus(x)
    removed = viz.graph_diff(step.before, step.after, step.changes).removed
    log_id = next(s.ids_at(step.index - 1).of(n) for n in removed if n.op.short_name() == "log")
    stepper.before_view.selected = log_id  # only in the before graph
    answer = stepper.why_not("softplus")
    assert answer.startswith("softplus fired at log(1 + exp(x)) in step 1")


def test_stepper_without_steps_shows_the_graph():
    s = Session(gw.exp(gw.vector("x")), phases="canonicalize")
    stepper = RewriteStepper(s)
    assert stepper.current is None and "no rewrite steps" in stepper.label.value
    assert stepper.next() is None and _node_ids(stepper.after_view.svg) == {"n0", "n1"}


# --- Substitute --------------------------------------------------------------------------------------------
def _edit_widget():
    x = gw.vector("x")
    s = Session(gw.exp(x) * gw.exp(x) + gw.log(1 + x), phases="stabilize")
    widget = SessionWidget(s)
    target = s.ids.of(s.graph.outputs[0].owner.inputs[0].owner.inputs[0])  # x + x, inside exp(x + x)
    return s, widget, target


def test_substitute_check_then_apply_edits_the_session_and_refreshes_every_tab():
    s, widget, target = _edit_widget()
    graph_svg, n_steps = widget.graph_view.svg, len(s.steps)
    widget.graph_view.selected = target  # a click in the Graph tab
    assert target in widget.substitute.target.value and "x + x" in widget.substitute.target.value
    widget.substitute.expr.value = "2 * x"
    widget.substitute.check_button.click()
    assert "gw-sub-ok" in widget.substitute.report.value and "accepted" in widget.substitute.report.value
    assert len(s.steps) == n_steps  # checking changes nothing
    widget.substitute.apply_button.click()
    assert s.steps[-1].kind == "edit" and str(s.graph.outputs[0]) == "exp(2 * x) + log1p(x)"
    assert widget.graph_view.svg != graph_svg
    assert len(widget.stepper.step_list.options) == n_steps + 1
    assert "2 * x" in widget.substitute.history.value and "edit" in widget.stepper.phase_filter.options
    assert not widget.substitute.undo_button.disabled
    widget.substitute.undo_button.click()
    assert len(s.steps) == n_steps and str(s.graph.outputs[0]) == "exp(x + x) + log1p(x)"
    assert widget.graph_view.svg == graph_svg and widget.substitute.undo_button.disabled


@pytest.mark.parametrize("expr, reason", [
    ("gw.exp(x)", "changes values"),
    ("y + 1", "unknown name"),
    ("x +", "not a valid expression"),
    ("gw.matrix('m')", "cannot replace"),
])
def test_substitute_refusals_change_nothing(expr, reason):
    s, widget, target = _edit_widget()
    before = (list(s.steps), widget.graph_view.svg)
    widget.select(target)
    widget.substitute.expr.value = expr
    widget.substitute.apply_button.click()
    assert "gw-sub-refused" in widget.substitute.report.value and reason in widget.substitute.report.value
    assert (list(s.steps), widget.graph_view.svg) == before


def test_substitute_needs_a_selection_and_an_expression_and_undo_needs_an_edit():
    s, widget, target = _edit_widget()
    panel = widget.substitute
    panel.expr.value = "2 * x"
    assert panel.apply() is None and "select a node" in panel.report.value
    panel.select(target)
    panel.expr.value = " "
    assert panel.check() is None and "type a replacement" in panel.report.value
    assert panel.undo() is False and "nothing to undo" in panel.report.value


# --- Compile and Numerics ----------------------------------------------------------------------------------
def test_compile_panel_times_the_ticked_backend_and_shows_the_table():
    panel = CompilePanel(Session(gw.exp(gw.vector("x")) + 1, backends=["numpy"]))
    for name, box in panel.checkboxes.items():
        box.value = name == "numpy"
    panel.repeat.value = 3
    seen = []
    panel.overall.observe(lambda ch: seen.append(ch["new"]), names="value")
    panel.run_button.click()
    assert [row.backend for row in panel.table.rows] == ["numpy"] and panel.table.rows[0].error is None
    assert 'class="gw-bench"' in panel.result.value and "<svg" in panel.result.value
    assert panel.overall.value == 1.0 and panel.count.value == 1 and len(seen) >= 3
    assert seen == sorted(seen)  # the progress callback drove the bar forward


def test_compile_panel_status_says_which_backend_compiles():
    panel = CompilePanel(Session(gw.exp(gw.vector("x")) + 1, backends=["numpy"]))
    statuses = []
    panel.status.observe(lambda ch: statuses.append(ch["new"]), names="value")
    panel.run(["numpy"], repeat=3)
    phases = [re.sub(r"<[^>]+>", "", v).split(" (")[0] for v in statuses]
    assert phases[:2] == ["compiling numpy…", "timing numpy"] and phases[-1].startswith("done: 1 backend(s)")
    assert panel.progress_history == ["compiling numpy…", "timing numpy", "done: 1 backend(s)"]


def test_compile_panel_needs_a_backend():
    panel = CompilePanel(Session(gw.exp(gw.vector("x")), backends=["numpy"]))
    for box in panel.checkboxes.values():
        box.value = False
    assert panel.run() is None and "tick at least one backend" in panel.status.value


def test_numerics_panel_reports_and_selects_the_first_nonfinite_node():
    x = gw.vector("x")
    s = Session(gw.log(1 + gw.exp(x)), phases="canonicalize")  # not stabilized: exp overflows
    widget = SessionWidget(s)
    report = widget.numerics.run([np.array([1.0, 800.0])])
    first = report.first_nonfinite
    assert first is not None and first.label == "exp" and first.node_id == s.ids.of(gw.exp(x))
    assert widget.graph_view.selected == first.node_id and widget.numerics.view.selected == first.node_id
    assert 'class="gw-numerics"' in widget.numerics.result.value
    assert "gw-first-nonfinite" in widget.numerics.result.value
    assert "gw-numerics-compare" in widget.numerics.compare.value
    assert first.node_id in _classed(widget.numerics.view.svg, "gw-selected")


def test_numerics_panel_shows_the_original_graph_where_the_overflow_starts():
    x = gw.vector("x")
    s = Session(gw.log(1 + gw.exp(x)), phases="stabilize")  # rewritten to softplus: finite
    widget = SessionWidget(s)
    report = widget.numerics.run([np.array([1.0, 800.0])])
    original = widget.numerics.original_report
    assert report.first_nonfinite is None and widget.graph_view.selected == ""
    assert original.first_nonfinite.label == "exp" and original.first_nonfinite.node_id == s.ids.of(gw.exp(x))
    assert "gw-first-nonfinite" in widget.numerics.original.value
    assert "gw-first-nonfinite" not in widget.numerics.result.value
    status = widget.numerics.status.value
    assert "rewritten graph: all values finite" in status and "original graph: first non-finite value at" in status


def test_graph_tab_hover_shows_value_statistics_after_numerics():
    s = Session(gw.exp(gw.vector("x")) * 2, phases="canonicalize")
    widget = SessionWidget(s)
    assert "nan 0" not in widget.graph_view.svg
    widget.numerics.run([np.array([0.0, 1.0])])
    svg = widget.graph_view.svg
    assert "[1, 2.718]; nan 0, inf 0" in svg and "hover shows value statistics" in widget.graph_view.status
    assert s.substitute(s.graph.outputs[0], "gw.exp(x) + gw.exp(x)").ok  # an edit clears last_numerics
    assert "nan 0" not in widget.graph_view.svg


def test_numerics_panel_random_inputs_and_values_typed_as_python():
    s = Session(gw.exp(gw.vector("x")) * 2, phases="canonicalize")
    panel = SessionWidget(s).numerics
    report = panel.run()
    assert len(report.rows) == s.graph.node_count and report.first_nonfinite is None
    panel.values_expr.value = "[np.array([1.0, 2.0, 3.0])]"
    panel.run_button.click()
    assert panel.report.rows[-1].shape == (3,)
    panel.values_expr.value = "[np.ones((2, 2))]"
    assert panel.run() is None and "ValueError" in panel.status.value


# --- SessionWidget -----------------------------------------------------------------------------------------
def test_graph_tab_selection_shows_details_and_the_toggles_redraw():
    s = _session()
    widget = SessionWidget(s)
    node_id = s.ids.of(s.graph.outputs[0])
    widget.graph_view.selected = node_id
    assert node_id in widget.details.value and "composite" in widget.details.value
    plain = widget.graph_view.svg
    widget.expand.value = True
    assert widget.graph_view.svg != plain and _classed(widget.graph_view.svg, "gw-expanded") == {node_id}
    widget.expand.value = False
    widget.focus.value = True
    assert node_id in widget.graph_view.status and node_id in _node_ids(widget.graph_view.svg)
    widget.graph_view.selected = "n999"
    assert "no node" in widget.details.value


def test_session_widget_follows_edits_made_in_python_and_lets_go_when_closed():
    x = gw.vector("x")
    s = Session(gw.exp(x) * gw.exp(x) + gw.log(1 + x), phases="stabilize")
    widget = SessionWidget(s)
    graph_svg, n_steps = widget.graph_view.svg, len(s.steps)
    assert s.substitute(s.graph.outputs[0].owner.inputs[0].owner.inputs[0], "2 * x").ok
    assert widget.graph_view.svg != graph_svg and len(widget.stepper.step_list.options) == n_steps + 1
    assert f"{n_steps + 1} step(s)" in widget.header.value and "2 * x" in widget.substitute.history.value
    s.undo()
    assert widget.graph_view.svg == graph_svg and len(widget.stepper.step_list.options) == n_steps
    ref = weakref.ref(widget)
    widget.close()
    del widget
    gc.collect()
    assert ref() is None  # neither the session nor ipywidgets keeps a closed widget alive
    assert s.substitute(s.graph.outputs[0].owner.inputs[0].owner.inputs[0], "2 * x").ok  # no dead listener fails


def test_session_callback_holds_the_widget_weakly():
    from graphwright.workbench.widgets import _subscribe

    class Listener:
        refreshed = 0

        def refresh(self):
            Listener.refreshed += 1

    s = Session(gw.exp(gw.vector("x")) + gw.exp(gw.vector("x")), phases="canonicalize")
    listener = Listener()
    callback = _subscribe(s, listener)
    edit = (s.graph.outputs[0], "i1 + i0")
    assert s.substitute(*edit).ok and Listener.refreshed == 1
    del listener
    gc.collect()
    s.undo()  # the callback finds the listener gone and unsubscribes itself
    with pytest.raises(ValueError, match="not registered"):
        s.remove_on_change(callback)


def test_double_click_expansion_of_one_fused_node():
    s = _session()
    widget = SessionWidget(s)
    fused = s.ids.of(s.graph.outputs[0])
    assert _classed(widget.graph_view.svg, "gw-expanded") == set() and widget.graph_view.expandable
    widget.graph_view.expanded = [fused]  # what a double-click in the browser sends
    assert _classed(widget.graph_view.svg, "gw-expanded") == {fused}
    widget.graph_view.expanded = []
    assert _classed(widget.graph_view.svg, "gw-expanded") == set()
    widget.expand.value = True  # the global toggle expands every fused node
    assert widget.graph_view.expanded == [fused] and _classed(widget.graph_view.svg, "gw-expanded") == {fused}
    view = GraphView.from_graph(s.graph, ids=s.ids)  # a standalone view redraws itself too
    view.expanded = [fused]
    assert _classed(view.svg, "gw-expanded") == {fused}
