"""The public graphwright.viz API: the names and keyword parameters the workbench relies on, each with an example."""

import inspect

import pytest

import graphwright.viz as viz

SPEC = {
    "to_dot": ["graph", "ids", "styles", "extra", "expand", "focus", "radius", "max_nodes", "stats", "title"],
    "to_svg": ["dot", "timeout"],
    "graph_svg": ["graph"],
    "graph_diff": ["before", "after", "changes"],
    "diff_dot": ["before", "after", "changes", "ids"],
    "tree_text": ["graph_or_vars", "color"],
    "rich_tree": ["graph_or_vars"],
}


@pytest.mark.parametrize("name", sorted(SPEC))
def test_functions_take_the_specified_parameters(name):
    params = list(inspect.signature(getattr(viz, name)).parameters)
    assert params[: len(SPEC[name])] == SPEC[name]


def test_defaults_and_classes():
    sig = inspect.signature(viz.to_dot).parameters
    assert (sig["radius"].default, sig["max_nodes"].default, sig["expand"].default) == (2, 300, ())
    assert inspect.signature(viz.to_svg).parameters["timeout"].default == 60
    assert issubclass(viz.GraphvizError, RuntimeError)
    assert {"added", "removed", "rewired"} <= set(viz.GraphDiff.__dataclass_fields__)
    assert isinstance(viz.GraphDiff.is_empty, property)
    assert callable(viz.NodeIds().of) and callable(viz.NodeIds().alias)


def test_public_names_have_docstring_examples():
    missing = [name for name in viz.__all__
               if callable(obj := getattr(viz, name)) and ">>>" not in (obj.__doc__ or "")]
    assert not missing, f"public viz names without a docstring example: {missing}"
