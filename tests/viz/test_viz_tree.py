"""tree_text and rich_tree: the dprint rows as a rich tree, plain or coloured."""

import re

import graphwright as gw
from graphwright.viz import rich_tree, tree_text


def test_plain_tree_structure():
    x, y = gw.vector("x"), gw.vector("y")
    e = gw.exp(x)
    out = e * e + y
    assert tree_text(out) == "\n".join([
        "add [id A] float64[?]",
        "├── mul [id B] float64[?]",
        "│   ├── exp [id C] float64[?]",
        "│   │   └── x [id D] float64[?]",
        "│   └── exp [id C] float64[?]",
        "└── y [id E] float64[?]",
    ])


def test_several_outputs_and_names():
    x = gw.vector("x")
    s = gw.sum(x)
    s.name = "total"
    lines = tree_text([s, gw.exp(x)]).splitlines()
    assert lines[0] == "sum{axis=(0,)} [id A] float64[] 'total'"
    assert lines[1] == "└── x [id B] float64[?]"
    assert lines[2] == "exp [id C] float64[?]"
    assert lines[3] == "└── x [id B] float64[?]"


def test_colour_only_when_asked():
    x = gw.vector("x")
    assert "\x1b[" not in tree_text(gw.exp(x))
    coloured = tree_text(gw.exp(x), color=True)
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == tree_text(gw.exp(x))


def test_elision_rows_and_markup_in_names_are_text():
    x = gw.vector("[bold]x[/bold]")
    y = x
    for _ in range(10):
        y = gw.exp(y)
    text = tree_text(gw.Graph([x], [y]), max_depth=3)
    assert text.splitlines()[-1].endswith("└── ... 6 more node(s) elided")
    assert "[bold]x" in tree_text(gw.exp(x))


def test_rich_tree_children_per_output():
    x = gw.vector("x")
    tree = rich_tree([gw.exp(x), gw.sin(x)])
    assert tree.hide_root
    assert [str(c.label) for c in tree.children] == ["exp [id A] float64[?]", "sin [id C] float64[?]"]
    assert [str(c.label) for c in tree.children[0].children] == ["x [id B] float64[?]"]
