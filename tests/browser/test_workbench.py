"""A `%%graph` cell of a generated notebook shows the workbench widget: graph, stepper and Compile tab work
(the same checks as the tour, on a graph whose rewrite steps are known, so a tour edit cannot hide a bug)."""

import pytest
from lab_driver import write_notebook

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
