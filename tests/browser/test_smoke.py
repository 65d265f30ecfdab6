"""The browser machinery works: a generated notebook runs in JupyterLab, and ipywidgets and anywidget render and
talk to the kernel."""

import pytest
from lab_driver import run_notebook, write_notebook

expect = pytest.importorskip("playwright.sync_api").expect

CELLS = [
    "6 * 7",
    """\
import ipywidgets as w

clicks = w.Label("clicked 0 times")
button = w.Button(description="press me")
button.on_click(lambda _: setattr(clicks, "value", f"clicked {int(clicks.value.split()[1]) + 1} times"))
w.VBox([button, clicks])""",
    """\
import anywidget
import traitlets


class Counter(anywidget.AnyWidget):
    _esm = '''
    export default { render({ model, el }) {
      const div = document.createElement("div");
      div.className = "smoke-any";
      const show = () => { div.textContent = "count " + model.get("count"); };
      div.addEventListener("click", () => { model.set("count", model.get("count") + 1); model.save_changes(); });
      model.on("change:count", show);
      show();
      el.appendChild(div);
    } };
    '''
    count = traitlets.Int(5).tag(sync=True)


counter = Counter()
seen = w.Label("kernel saw 5")
counter.observe(lambda change: setattr(seen, "value", f"kernel saw {change['new']}"), names="count")
w.VBox([counter, seen])""",
    "counter.count = 10",
]


def test_notebook_runs_and_widgets_round_trip(page, lab_server):
    write_notebook(lab_server.root / "smoke.ipynb", CELLS)
    run_notebook(page, lab_server, "smoke.ipynb", timeout=120)
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    expect(cells).to_have_count(len(CELLS))
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("42")

    # ipywidgets: the click goes to the kernel, whose callback changes the label
    expect(page.locator(".widget-label", has_text="clicked 0 times")).to_be_visible()
    page.get_by_role("button", name="press me").click()
    expect(page.locator(".widget-label", has_text="clicked 1 times")).to_be_visible()

    # anywidget: the last cell's kernel-side change shows, and a click in the page reaches the kernel
    counter = page.locator(".smoke-any")
    expect(counter).to_have_text("count 10")
    expect(page.locator(".widget-label", has_text="kernel saw 10")).to_be_visible()
    counter.click()
    expect(counter).to_have_text("count 11")
    expect(page.locator(".widget-label", has_text="kernel saw 11")).to_be_visible()
