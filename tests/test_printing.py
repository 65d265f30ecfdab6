"""dprint and the short str form: content, determinism, elision and colours."""

import io

import numpy as np

import graphwright as gw


def test_short_forms():
    x, y = gw.vector("x"), gw.vector("y")
    cases = [
        (gw.log1p(x), "log1p(x)"),
        (gw.log(1 + gw.exp(x)), "log(1 + exp(x))"),
        ((x + y) * 2.5, "(x + y) * 2.5"),
        (-x, "-x"),
        (gw.switch(x > 0, x, 0), "switch(x > 0, x, 0)"),
        (gw.matrix("m").T, "m.T"),
        (gw.constant(np.arange(10.0)) + x, "constant{float64[10]} + x"),
        (gw.vector(dtype="int32") + 1, "<int32[?]> + 1"),
    ]
    for var, text in cases:
        assert str(var) == text
        assert repr(var) == text


def test_dprint_tree_and_ids():
    x = gw.vector("x")
    e = gw.exp(x)
    y = e * e + 1
    y.name = "y"
    text = gw.dprint(y, file="str")
    assert text.splitlines() == [
        "add [id A] float64[?] 'y'",
        " ├─ mul [id B] float64[?]",
        " │   ├─ exp [id C] float64[?]",
        " │   │   └─ x [id D] float64[?]",
        " │   └─ exp [id C] float64[?]",
        " └─ 1 [id E] float64[]",
    ]


def test_dprint_is_deterministic_and_prints_several_outputs():
    x = gw.matrix("x", shape=(2, None))
    outs = [gw.exp(x), gw.exp(x) * 2]
    first = gw.dprint(outs, file="str")
    assert first == gw.dprint(outs, file="str")
    assert first.splitlines()[0] == "exp [id A] float64[2,?]"
    assert "exp [id A] float64[2,?]" in first.splitlines()[3]  # shared node shown by id


def test_dprint_elides_long_and_wide_graphs():
    x = gw.vector("x")
    y = x
    for _ in range(100):
        y = gw.sin(y)
    text = gw.dprint(y, file="str", max_depth=10)
    assert "89 more node(s) elided" in text
    wide = sum((x * float(i) for i in range(300)), gw.constant(0.0))
    assert "not shown (max_lines=50)" in gw.dprint(wide, file="str", max_lines=50)


def test_dprint_to_stream_and_colour():
    x = gw.vector("x")
    plain = io.StringIO()
    gw.dprint(gw.exp(x), file=plain)
    assert plain.getvalue() == "exp [id A] float64[?]\n └─ x [id B] float64[?]\n"
    coloured = io.StringIO()
    gw.dprint(gw.exp(x), file=coloured, color=True)
    assert "\x1b[" in coloured.getvalue() and "exp" in coloured.getvalue()
