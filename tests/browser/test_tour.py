"""The tour notebook in a real JupyterLab: the workbench widget of its `%%graph` cell draws the graph, steps
through the rewrites with a coloured diff, and compiles and times the graph from the Compile tab."""

import pytest

pytest.importorskip("playwright.sync_api")
from workbench_checks import check_workbench  # noqa: E402


def test_tour_workbench(page, lab_server):
    check_workbench(page, lab_server, "tour.ipynb")
