"""The notebook workbench: a Session over a graph (every rewrite step, edits, undo), the widgets that show it,
the backend bake-off and the numerics report.

The widget classes need ipywidgets and anywidget (the ``notebook`` extra); they are imported on first use, so the
session, bench and numerics logic work without them.
"""

from graphwright.workbench.bench import BenchRow, BenchTable, bench_backends, random_values, resolve_values
from graphwright.workbench.numerics import (
    NodeNumerics,
    NumericsComparison,
    NumericsReport,
    OutputErrors,
    compare_numerics,
    numerics,
)
from graphwright.workbench.session import Session
from graphwright.workbench.steps import StepView, filter_steps, steps_from_trace
from graphwright.workbench.substitute import (
    SubstitutionError,
    SubstitutionReport,
    check_substitution,
    parse_replacement,
)

_WIDGETS = {
    "GraphView": "graphwright.workbench.graph_view",
    "RewriteStepper": "graphwright.workbench.stepper_widget",
    "SubstitutePanel": "graphwright.workbench.panels",
    "CompilePanel": "graphwright.workbench.panels",
    "NumericsPanel": "graphwright.workbench.numerics_panel",
    "SessionWidget": "graphwright.workbench.widgets",
    "session_to_html": "graphwright.workbench.html_export",
}

__all__ = [
    "Session", "StepView", "filter_steps", "steps_from_trace",
    "SubstitutionError", "SubstitutionReport", "check_substitution", "parse_replacement",
    "BenchRow", "BenchTable", "bench_backends", "random_values", "resolve_values",
    "NodeNumerics", "NumericsReport", "NumericsComparison", "OutputErrors", "numerics", "compare_numerics",
    *_WIDGETS,
]


def __getattr__(name: str):
    """The widget classes, imported on first use (they need ipywidgets)."""
    if name in _WIDGETS:
        import importlib

        return getattr(importlib.import_module(_WIDGETS[name]), name)
    raise AttributeError(f"module 'graphwright.workbench' has no attribute {name!r}")
