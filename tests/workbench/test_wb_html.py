"""The standalone HTML export of a session: one page that parses, inline SVGs, every step, no external resources."""

from html.parser import HTMLParser

import numpy as np

import graphwright as gw
from graphwright.workbench.bench import bench_backends
from graphwright.workbench.html_export import session_to_html
from graphwright.workbench.session import Session
from graphwright.workbench.widgets import SessionWidget


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
