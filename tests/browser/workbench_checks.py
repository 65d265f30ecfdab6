"""Checks of a notebook's workbench widget in the browser: the graph (click to select, ctrl+wheel zoom), the rewrite
stepper and the Compile tab."""

import re

from lab_driver import run_notebook
from playwright.sync_api import expect

# pane, id and diff class of every coloured node or edge in the stepper's side-by-side views (before: removed and
# rewired; after: added and rewired)
DIFF_SIGNATURE_JS = """
(root) => [...root.querySelectorAll('.gw-step-before svg .gw-removed, .gw-step-before svg .gw-rewired,'
                                    + ' .gw-step-after svg .gw-added, .gw-step-after svg .gw-rewired')]
  .map(el => (el.closest('.gw-step-before') ? 'before:' : 'after:') + el.id + ':'
             + [...el.classList].filter(c => /^gw-(added|removed|rewired)$/.test(c)).join('+'))
  .sort().join(' ')
"""
CANVAS_TRANSFORM_JS = "(el) => el.style.transform"


def _open_tab(bench, title: str) -> None:
    tab = bench.locator(".lm-TabBar-tab", has_text=title).first
    tab.click()
    expect(tab).to_have_class(re.compile(r"\blm-mod-current\b"))


def _workbench(page):
    """The first workbench widget of the notebook: the Tab that holds a rewrite stepper."""
    bench = page.locator(".widget-tab").filter(has=page.locator(".gw-stepper")).first
    expect(bench).to_be_attached()
    bench.scroll_into_view_if_needed()
    return bench


def _check_graph_tab(bench) -> None:
    expect(bench.locator("svg g.gw-node").filter(visible=True).first).to_be_visible()


def _check_graph_selection_and_zoom(page, bench) -> None:
    """Clicking a node of the Graph tab selects it in Python (details and the Substitute target show its id);
    the wheel alone does not zoom, ctrl+wheel does."""
    _open_tab(bench, "Graph")
    view = bench.locator(".gw-session-graph")
    node = view.locator("svg g.gw-node.gw-op").first
    expect(node).to_be_visible()
    node_id = node.get_attribute("id")
    node.click()
    expect(node).to_have_class(re.compile(r"\bgw-picked\b"))
    expect(view.locator(".gw-gv-selection")).to_have_text(f"selected: {node_id}")
    expect(bench.locator(".gw-node-details")).to_contain_text(node_id)  # written by the kernel
    expect(bench.locator(".gw-sub-target")).to_contain_text(f"target {node_id}")

    canvas = view.locator(".gw-gv-canvas")
    viewport = view.locator(".gw-gv-viewport")
    viewport.scroll_into_view_if_needed()
    before = canvas.evaluate(CANVAS_TRANSFORM_JS)
    box = viewport.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -240)
    page.wait_for_timeout(300)
    assert canvas.evaluate(CANVAS_TRANSFORM_JS) == before, "the wheel alone zoomed the graph"
    viewport.scroll_into_view_if_needed()
    box = viewport.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -240)
    page.keyboard.up("Control")
    page.wait_for_function(f"([el, old]) => ({CANVAS_TRANSFORM_JS})(el) !== old",
                           arg=[canvas.element_handle(), before])


def _check_stepper(page, bench) -> None:
    """Next changes the step label and the set of coloured (added/removed/rewired) nodes and edges."""
    _open_tab(bench, "Rewrites")
    stepper = bench.locator(".gw-stepper")
    label = stepper.locator(".gw-step-label")
    expect(label).to_contain_text("step 1 /")
    expect(stepper.locator(".gw-step-before svg g.gw-node").first).to_be_visible()
    expect(stepper.locator(".gw-step-after svg g.gw-node").first).to_be_visible()
    root = stepper.element_handle()
    page.wait_for_function(f"(root) => ({DIFF_SIGNATURE_JS})(root) !== ''", arg=root)
    first_label, first_diff = label.inner_text(), stepper.evaluate(DIFF_SIGNATURE_JS)

    stepper.locator("button.gw-step-next").click()
    expect(label).not_to_have_text(first_label)
    expect(label).to_contain_text("step 2 /")
    page.wait_for_function(f"([root, old]) => ({DIFF_SIGNATURE_JS})(root) !== old", arg=[root, first_diff])

    # "diff on one graph" replaces the two panes by the union drawing, with the removed nodes too
    stepper.locator(".gw-step-union").click()
    expect(stepper.locator(".gw-step-before")).to_be_hidden()
    expect(stepper.locator(".gw-step-diff svg g.gw-node").first).to_be_visible()
    expect(stepper.locator(".gw-step-diff svg g.gw-node.gw-removed, .gw-step-diff svg g.gw-node.gw-added,"
                            " .gw-step-diff svg g.gw-node.gw-rewired").first).to_be_attached()
    stepper.locator(".gw-step-union").click()
    expect(stepper.locator(".gw-step-before svg g.gw-node").first).to_be_visible()


def _check_compile(bench) -> None:
    """The Compile tab times the graph on NumPy alone (3 calls) and shows the table."""
    _open_tab(bench, "Compile")
    panel = bench.locator(".gw-compile")
    boxes = panel.locator(".gw-compile-backend")
    expect(boxes.first).to_be_visible()
    for k in range(boxes.count()):
        box = boxes.nth(k).locator("input[type=checkbox]")
        if box.is_checked() != (boxes.nth(k).inner_text().strip() == "numpy"):
            box.click()
    repeat = panel.locator(".gw-compile-repeat input")
    repeat.fill("3")
    repeat.press("Enter")
    panel.locator("button.gw-compile-run").click()
    table = panel.locator("table.gw-bench")
    expect(table).to_be_visible(timeout=120_000)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr").first).to_contain_text("numpy")
    expect(panel.locator(".gw-compile-status")).to_contain_text("done: 1 backend(s), 3 timed calls each")


def check_workbench(page, server, path: str) -> None:
    """Run the notebook `path`, then check its first workbench widget: graph, selection and zoom, stepper,
    compile."""
    run_notebook(page, server, path, timeout=300)
    bench = _workbench(page)
    _check_graph_tab(bench)
    _check_graph_selection_and_zoom(page, bench)
    _check_stepper(page, bench)
    _check_compile(bench)
