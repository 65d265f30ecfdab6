"""The IPython extension in a real InteractiveShell: ``%load_ext graphwright``, ``%%graph`` and the line magics
(also with graphviz really missing: PATH emptied)."""

import ipywidgets.widgets.widget as ipy_widget
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import graphwright as gw
from graphwright.workbench.session import Session

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def shell():
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "graphwright")
    return sh


@pytest.fixture
def run(shell):
    """Run a cell; return (result, captured outputs); forget the names the test binds."""
    before = set(shell.user_ns)

    def _run(cell: str):
        with capture_output() as cap:
            result = shell.run_cell(cell)
        return result, cap

    yield _run
    for name in set(shell.user_ns) - before:
        del shell.user_ns[name]


def _widget(output):
    """The live widget behind a displayed widget view."""
    return ipy_widget._instances[output.data[WIDGET_MIME]["model_id"]]


def test_load_ext_pushes_gw_and_registers_the_magics(shell):
    assert shell.user_ns["gw"] is gw
    magics = shell.magics_manager.magics
    assert "graph" in magics["cell"]
    assert {"gw_show", "gw_compile", "gw_steps", "gw_numerics", "gw_substitute", "gw_undo", "gw_why"} <= set(
        magics["line"])


def test_graph_cell_binds_a_session_from_the_last_expression_and_shows_its_widget(shell, run):
    result, cap = run("%%graph f1 --phases stabilize\nx = gw.vector('x')\ngw.log(1 + gw.exp(x))")
    assert result.success and result.result is None
    session = shell.user_ns["f1"]
    assert isinstance(session, Session) and session.name == "f1" and session.phases == ("canonicalize", "stabilize")
    assert str(session.original.outputs[0]) == "log(1 + exp(x))" and [s.rule for s in session.steps] == ["softplus"]
    assert len(cap.outputs) == 1 and {WIDGET_MIME, "image/svg+xml", "text/plain"} <= set(cap.outputs[0].data)
    assert "np" in shell.user_ns  # the cell ran with numpy in scope


def test_graph_cell_outputs_named_with_o_and_backends(shell, run):
    result, _ = run("%%graph f2 -o y z --backend numpy\nx = gw.vector('x')\ny = gw.exp(x)\nz = np.float64(2) * y\n"
                    "unused = gw.log(x)")
    assert result.success
    session = shell.user_ns["f2"]
    assert [str(v) for v in session.original.outputs] == ["exp(x)", "2 * exp(x)"] and session.backends == ["numpy"]


def test_graph_cell_takes_a_phase_list(shell, run):
    run("%%graph f3 --phases canonicalize specialize\ngw.log(1 + gw.exp(gw.vector('x'))) * 1")
    assert shell.user_ns["f3"].phases == ("canonicalize", "specialize")


@pytest.mark.parametrize("cell, kind, line", [
    ("x = gw.vector('x')\ny = x +\n", "SyntaxError", "line 2: y = x +"),
    ("x = gw.vector('x')\nq + x", "NameError", "line 2: q + x"),
    ("x = gw.vector('x', shape=(2,))\nm = gw.matrix('m', shape=(3, 4))\ngw.dot(x, m)", "GraphError",
     "line 3: gw.dot(x, m)"),
    ("x = gw.vector('x')\ny = gw.exp(x)\n", "ValueError", "must end with an expression"),
    ("1 / 0", "ZeroDivisionError", "line 1: 1 / 0"),
    ("'not a graph'", "", "%%graph bad failed"),
])
def test_graph_cell_errors_show_a_readable_message_and_bind_nothing(shell, run, cell, kind, line):
    result, cap = run("%%graph bad\n" + cell)
    assert result.success  # the magic reported the error itself: no traceback
    assert "bad" not in shell.user_ns
    assert len(cap.outputs) == 1
    data = cap.outputs[0].data
    assert set(data) == {"text/html", "text/plain"} and "gw-error" in data["text/html"]
    assert kind in data["text/plain"] and line in data["text/plain"]
    assert "Traceback" not in cap.stdout + cap.stderr + data["text/plain"]


def test_graph_o_with_a_missing_name_is_an_error(shell, run):
    _, cap = run("%%graph bad2 -o y nope\ny = gw.exp(gw.vector('x'))")
    assert "bad2" not in shell.user_ns and "nope" in cap.outputs[0].data["text/plain"]


def test_graph_bad_arguments_are_a_usage_error(shell, run):
    result, _ = run("%%graph\n1")
    assert isinstance(result.error_in_exec, UsageError)
    _, cap = run("%%graph 1abc\ngw.exp(gw.vector('x'))")
    assert "not a valid Python name" in cap.outputs[0].data["text/plain"] and "1abc" not in shell.user_ns


def test_gw_steps_prints_the_steps(shell, run):
    run("%%graph f4\ngw.log(1 + gw.exp(gw.vector('x'))) * 1")
    _, cap = run("%gw_steps f4")
    assert cap.stdout.splitlines() == [str(s) for s in shell.user_ns["f4"].steps]
    _, cap = run("%gw_steps f4 --phase stabilize")
    assert cap.stdout.splitlines() == ["1. [stabilize] softplus: log(1 + exp(x)) -> softplus(x)"]


def test_gw_compile_shows_progress_then_the_bench_table(shell, run):
    run("%%graph f5\ngw.exp(gw.vector('x')) + 1")
    result, cap = run("%gw_compile f5 --backend numpy --repeat 2")
    assert result.success and len(cap.outputs) == 2
    progress = _widget(cap.outputs[0])
    assert progress.history == ["compiling numpy…", "timing numpy", "done: 1 backend(s)"]
    assert progress.bar.value == 1.0 and "gw-progress-line" in progress._dom_classes
    assert 'class="gw-bench"' in cap.outputs[1].data["text/html"]
    assert cap.outputs[1].data["text/plain"].splitlines()[2].startswith("numpy")


def test_gw_compile_numerics_and_steps_take_a_variable_or_graph(shell, run):
    sessions_before = {k for k, value in shell.user_ns.items() if isinstance(value, Session)}
    run("v = gw.log(1 + gw.exp(gw.vector('v')))")
    result, cap = run("%gw_compile gw.exp(v) * 2 --backend numpy -r 2")
    assert result.success and cap.outputs[-1].data["text/plain"].splitlines()[2].startswith("numpy")
    _, cap = run("%gw_numerics v --values [np.array([1.0, 800.0])]")
    text = cap.outputs[0].data["text/plain"]
    assert text.startswith("rewritten graph: all values finite\noriginal graph: first non-finite value at")
    _, cap = run("%gw_steps gw.Graph(None, [v])")
    assert "softplus" in cap.stdout
    sessions = {k for k, value in shell.user_ns.items() if isinstance(value, Session)}
    assert sessions == sessions_before  # nothing bound (the shell is shared with other tests)


def test_gw_show_a_session_or_a_graph(shell, run):
    run("%%graph f6\ngw.exp(gw.vector('x'))")
    _, cap = run("%gw_show f6")
    assert WIDGET_MIME in cap.outputs[0].data and "Session('f6'" in cap.outputs[0].data["text/plain"]
    _, cap = run("v = gw.exp(gw.vector('v'))\n%gw_show v")
    assert {WIDGET_MIME, "image/svg+xml"} <= set(cap.outputs[0].data)
    assert cap.outputs[0].data["text/plain"].startswith("exp")


def test_gw_numerics_shows_the_report(shell, run):
    run("%%graph f7 --phases canonicalize\nx = gw.vector('x')\ngw.log(1 + gw.exp(x))")
    _, cap = run("%gw_numerics f7 --values [np.array([1.0, 800.0])]")
    assert "gw-first-nonfinite" in cap.outputs[0].data["text/html"]


@pytest.mark.parametrize("line, message", [
    ("%gw_steps nope", "NameError"),
    ("%gw_compile gw", "gw is a module, not a workbench Session, a Graph or variables"),
    ("%gw_undo gw", "gw is a module, not a workbench Session"),
    ("%gw_substitute f8", "usage: %gw_substitute NAME NODE_ID EXPR"),
    ("%gw_show 1 +", "SyntaxError"),
])
def test_line_magic_errors_are_readable(shell, run, line, message):
    result, cap = run(line)
    assert result.success and message in cap.outputs[0].data["text/plain"]
    assert "gw-error" in cap.outputs[0].data["text/html"]


def test_gw_substitute_undo_and_why_edit_a_session_and_its_widget_follows(shell, run):
    _, cap = run("%%graph f9 --phases canonicalize\nx = gw.vector('x')\ngw.exp(x) + gw.exp(x)")
    session, widget = shell.user_ns["f9"], _widget(cap.outputs[0])
    target = session.ids.of(session.graph.outputs[0])
    _, cap = run(f"%gw_substitute f9 {target} 2 * gw.exp(x)")
    assert cap.outputs[0].data["text/plain"].startswith("accepted: exp(x) + exp(x) -> 2 * exp(x)")
    assert str(session.graph.outputs[0]) == "2 * exp(x)" and "1 step(s)" in widget.header.value
    _, cap = run(f"%gw_why f9 mul_one {target}")
    assert cap.stdout.startswith("mul_one")
    _, cap = run("%gw_undo f9")
    assert cap.stdout.startswith("undone: Session('f9'") and "0 step(s)" in widget.header.value
    _, cap = run("%gw_undo f9")
    assert "nothing to undo" in cap.outputs[0].data["text/plain"]
    for line, message in [(f"%gw_substitute f9 {target} gw.exp(x)", "refused: replacing"),
                          ("%gw_substitute f9 n99 x", "KeyError: no node with id 'n99'"),
                          (f"%gw_why f9 no_such_rule {target}", "no rule called")]:
        result, cap = run(line)
        assert result.success and message in cap.outputs[0].data["text/plain"], line
        assert "gw-error" in cap.outputs[0].data["text/html"]


def test_graph_without_graphviz_binds_the_session_and_shows_text(shell, run, no_dot):
    result, cap = run("%%graph f10\ngw.log(1 + gw.vector('x'))")
    assert result.success and isinstance(shell.user_ns["f10"], Session)
    notice = cap.outputs[0].data
    assert "graphviz's `dot` was not found on PATH" in notice["text/plain"] and "gw-draw-failed" in notice["text/html"]
    assert shell.user_ns["f10"].text() in notice["text/plain"]
    assert WIDGET_MIME in cap.outputs[1].data and "image/svg+xml" not in cap.outputs[1].data
    assert "Traceback" not in cap.stdout + cap.stderr
    _, cap = run("%%graph f11\nq + 1")  # an error in the cell still binds nothing
    assert "f11" not in shell.user_ns and "NameError" in cap.outputs[0].data["text/plain"]
    _, cap = run("%gw_show f10.original")
    assert "not found on PATH" in cap.outputs[0].data["text/plain"] and "log" in cap.outputs[0].data["text/plain"]
