"""A `%%graph` cell of a generated notebook shows the workbench widget: graph, stepper and Compile tab work
(the same checks as the tour, on a graph whose rewrite steps are known, so a tour edit cannot hide a bug), and a
double-click expands one fused node."""

import pytest
from lab_driver import run_notebook, write_notebook

expect = pytest.importorskip("playwright.sync_api").expect
from workbench_checks import check_workbench  # noqa: E402

CELLS = [
    "%load_ext graphwright",
    """\
%%graph softplus --phases canonicalize stabilize
x = gw.vector("x")
gw.log(1 + gw.exp(x * 1)).sum() + gw.exp(x).sum() * 1""",
    "[step.rule for step in softplus.steps]",
]


def test_graph_magic_workbench(page, lab_server):
    write_notebook(lab_server.root / "workbench.ipynb", CELLS)
    check_workbench(page, lab_server, "workbench.ipynb")
    # the magic bound the session to its name
    expect(page.locator(".jp-CodeCell").nth(2).locator(".jp-OutputArea-output")).to_contain_text("'mul_one'")


FUSED_CELLS = ["%load_ext graphwright", "%%graph fused\nx = gw.vector('x')\ngw.exp(x) * 2 + 1"]


def test_double_click_expands_and_collapses_one_fused_node(page, lab_server):
    write_notebook(lab_server.root / "fused.ipynb", FUSED_CELLS)
    run_notebook(page, lab_server, "fused.ipynb")
    view = page.locator(".gw-session-graph").first
    node = view.locator("svg g.gw-node.gw-composite").first
    expect(node).to_be_visible()
    node_id = node.get_attribute("id")
    expect(view.locator(".gw-gv-hint")).to_contain_text("double-click a fused node")
    node.dblclick()  # the kernel redraws the view with the node expanded (a cluster keeping the node's id)
    cluster = view.locator(f"svg g.gw-expanded#{node_id}")
    expect(cluster).to_be_visible()
    cluster.dblclick(position={"x": 30, "y": 12})  # on the cluster's frame, next to its label
    expect(view.locator("svg g.gw-expanded")).to_have_count(0)
    expect(view.locator(f"svg g.gw-node.gw-composite#{node_id}")).to_be_visible()
