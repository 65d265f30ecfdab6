"""The static forms of the workbench: the standalone HTML export of a session (one page that parses, inline SVGs,
every step, no external resources), every widget's static mimebundle, and the text fallback without graphviz."""

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np

import graphwright as gw
from graphwright.workbench.bench import bench_backends
from graphwright.workbench.graph_view import GraphView
from graphwright.workbench.html_export import session_to_html
from graphwright.workbench.numerics_panel import NumericsPanel
from graphwright.workbench.panels import CompilePanel, SubstitutePanel
from graphwright.workbench.session import Session
from graphwright.workbench.stepper_widget import RewriteStepper
from graphwright.workbench.widgets import SessionWidget

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class _Page(HTMLParser):
    """Counts tags, collects classes and every attribute that could load something."""

    def __init__(self):
        super().__init__()
        self.tags: dict[str, int] = {}
        self.classes: list[str] = []
        self.loads: list[tuple[str, str]] = []
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for key, value in attrs:
            if key == "class":
                self.classes += (value or "").split()
            if key in ("src", "href", "xlink:href") or (tag == "link"):
                self.loads.append((tag, value or ""))

    def handle_data(self, data):
        self.text.append(data)


def _parse(path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _session():
    x = gw.vector("x")
    return Session(gw.log(1 + gw.exp(x)) * 1 + gw.exp(x) * gw.exp(x), name="f")


def test_export_writes_one_parsable_page_with_the_graphs_and_every_step(tmp_path):
    s = _session()
    out = session_to_html(s, tmp_path / "f.html")
    assert out == tmp_path / "f.html"
    page = _parse(out)
    assert page.tags["html"] == 1 and page.tags["svg"] == 2 + len(s.steps)  # before, after, one diff per step
    assert page.classes.count("gw-step") == len(s.steps) and page.classes.count("gw-diff") == len(s.steps)
    assert {"gw-before", "gw-after", "gw-added", "gw-removed", "gw-rewired"} <= set(page.classes)
    text = "".join(page.text)
    for step in s.steps:
        assert step.rule in text and step.identity in text
    assert "no substitutions" in text and "gw-bench" not in page.classes


def test_export_has_no_external_resources(tmp_path):
    page = _parse(session_to_html(_session(), tmp_path / "f.html"))
    assert page.loads == [] and "script" not in page.tags and "link" not in page.tags
    raw = (tmp_path / "f.html").read_text()
    assert "https://" not in raw and "@import" not in raw and "url(" not in raw


def test_export_caps_the_drawn_diffs_and_says_how_many_were_left_out(tmp_path):
    s = _session()
    page = _parse(session_to_html(s, tmp_path / "f.html", max_diffs=1))
    assert page.classes.count("gw-diff") == 1 and page.classes.count("gw-step") == len(s.steps)
    assert "gw-diffs-left-out" in page.classes
    assert f"{len(s.steps) - 1} step(s) are listed without a drawing" in "".join(page.text)


def test_export_includes_edits_bench_and_numerics(tmp_path):
    x = gw.vector("x")
    s = Session(gw.exp(x) * gw.exp(x) + gw.log(1 + x), phases="stabilize")
    assert s.substitute(s.graph.outputs[0].owner.inputs[0].owner.inputs[0], "2 * x").ok
    bench = bench_backends(s.graph, ["numpy"], repeat=2)
    report = s.numerics([np.array([1.0, 2.0])])
    page = _parse(session_to_html(s, tmp_path / "s.html", bench=bench, numerics=report))
    text = "".join(page.text)
    assert "gw-edits" in page.classes and "x + x -> 2 * x" in text
    assert "gw-bench" in page.classes and "gw-numerics" in page.classes and "gw-bench-chart" in page.classes


def test_session_and_widget_export_through_the_same_page(tmp_path):
    s = Session(gw.log(1 + gw.vector("x")), phases="stabilize")
    page = _parse(s.to_html(tmp_path / "a.html"))
    assert page.tags["svg"] == 3
    widget = SessionWidget(s)
    widget.compile.run(["numpy"], repeat=2)
    page = _parse(widget.to_html(tmp_path / "b.html"))
    assert "gw-bench" in page.classes and page.tags["svg"] == 4  # plus the bar chart


# --- static mimebundles --------------------------------------------------------------------------------------
def test_graph_view_mimebundle_has_static_svg_and_text_with_the_widget_view():
    view = GraphView.from_graph(gw.exp(gw.vector("x")))
    data, meta = view._repr_mimebundle_(include=None, exclude=None)
    assert {WIDGET_MIME, "image/svg+xml", "text/plain"} <= set(data)
    assert data["image/svg+xml"].startswith("<svg") and ET.fromstring(data["image/svg+xml"]) is not None
    assert data["text/plain"].startswith("exp") and isinstance(meta, dict)


def test_session_widget_tabs_and_static_mimebundle():
    s = _session()
    widget = SessionWidget(s)
    assert [widget.tabs.get_title(k) for k in range(5)] == ["Graph", "Rewrites", "Substitute", "Compile", "Numerics"]
    data, _ = widget._repr_mimebundle_()
    assert {WIDGET_MIME, "image/svg+xml", "text/plain", "text/html"} <= set(data)
    assert _node_ids(data["image/svg+xml"]) == {s.ids.of(n) for n in s.graph.toposort} | {s.ids.of(x) for x in
                                                                                          s.graph.inputs}
    assert data["text/plain"].startswith("Session('f'") and "<svg" in data["text/html"]
    session_data, _ = s._repr_mimebundle_()
    assert {WIDGET_MIME, "image/svg+xml", "text/plain"} <= set(session_data)


def _node_ids(svg: str) -> set[str]:
    root = ET.fromstring(svg)
    return {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g") if "gw-node" in (g.get("class") or "")}


def _bundle(widget) -> dict:
    data, _ = widget._repr_mimebundle_(include=None, exclude=None)
    assert {WIDGET_MIME, "text/plain", "text/html"} <= set(data), type(widget).__name__
    if "image/svg+xml" in data:
        assert ET.fromstring(data["image/svg+xml"]).tag.endswith("svg")
    return data


def test_every_panel_has_a_static_svg_text_and_html_form():
    s = _session()
    stepper = _bundle(RewriteStepper(s))
    assert stepper["text/plain"].splitlines()[0] == str(s.steps[0]) and "gw&#45;removed" in stepper["image/svg+xml"]
    assert stepper["text/html"].count("<svg") == 2  # before and after
    panel = SubstitutePanel(s)
    panel.select(s.ids.of(s.graph.outputs[0]))
    panel.expr.value = "old"
    panel.check()
    sub = _bundle(panel)
    assert "gw&#45;selected" in sub["image/svg+xml"] and "refused" in sub["text/plain"]
    compile_panel = CompilePanel(s)
    assert "not run yet" in _bundle(compile_panel)["text/plain"]
    compile_panel.run(["numpy"], repeat=2)
    bench = _bundle(compile_panel)
    assert bench["text/plain"] == compile_panel.table.text() and 'class="gw-bench"' in bench["text/html"]
    assert "gw-bench-chart" in bench["image/svg+xml"]
    numerics = NumericsPanel(s)
    numerics.run([np.array([1.0, 2.0])])
    data = _bundle(numerics)
    assert "rewritten graph: all values finite" in data["text/plain"] and "gw-num-original" in data["text/html"]


# --- without graphviz ----------------------------------------------------------------------------------------
def test_graph_view_without_graphviz_shows_the_message_and_the_text(no_dot):
    view = GraphView.from_graph(gw.exp(gw.vector("x")) + 1)
    assert view.svg == "" and "`dot` was not found on PATH" in view.error
    assert view.status.startswith("drawing failed") and view.fallback.endswith(view.text)
    data, _ = view._repr_mimebundle_()
    assert "image/svg+xml" not in data and "not found on PATH" in data["text/plain"]


def test_session_widget_without_graphviz_still_works(no_dot):
    x = gw.vector("x")
    s = Session(gw.log(1 + gw.exp(x)) * 1 + gw.exp(x) * gw.exp(x), name="f", phases="stabilize")
    widget = SessionWidget(s)
    assert widget.graph_view.svg == "" and "not found on PATH" in widget.graph_view.error
    assert widget.stepper.before_view.error and widget.stepper.next().rule == "softplus"
    assert widget.numerics.run([np.array([1.0])]) is not None and widget.numerics.view.error
    data, _ = s._repr_mimebundle_()
    assert "image/svg+xml" not in data and data["text/plain"].startswith("Session('f'")
    assert "not found on PATH" in data["text/html"]


def test_big_graph_steps_are_drawn_around_the_change(tmp_path):
    """Above FOCUS_ABOVE nodes each step shows the neighbourhood of its change, not the whole graph."""
    from graphwright.workbench.html_export import FOCUS_ABOVE

    x = gw.vector("x")
    y = x
    for k in range(FOCUS_ABOVE):
        y = gw.tanh(y) + float(k)
    s = Session(gw.log(1 + gw.exp(y)).sum(), phases="stabilize")
    assert s.original.node_count > FOCUS_ABOVE and s.steps
    page = session_to_html(s, tmp_path / "big.html").read_text()
    assert page.count("the neighbourhood of the change") == len(s.steps)
    first_diff = page.split("<figure class='gw-diff'>")[1].split("</figure>")[0]
    assert first_diff.count('class="node') < 30  # a neighbourhood, not the 160-node graph
