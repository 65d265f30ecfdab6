"""Substitution: parsing replacement expressions and checking them (type, static shape, inputs, values)."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.rewrite.check import sample_inputs
from graphwright.viz import NodeIds
from graphwright.workbench.substitute import (
    SubstitutionError,
    SubstitutionReport,
    check_substitution,
    parse_replacement,
)


@pytest.fixture
def xg():
    x = gw.vector("x")
    h = gw.exp(x)
    h.name = "h"
    target = h * h
    return x, h, target, gw.Graph([x], [target.sum()])


# --- parse_replacement ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("gw.exp(2 * x)", "exp(2 * x)"),
    ("i0 ** 2", "exp(x) ** 2"),
    ("old + 0", "(exp(x) * exp(x)) + 0"),
    ("h * i1", "exp(x) * exp(x)"),
    ("gw.exp(x) * np.float64(2)", "exp(x) * 2"),
    ("max(1, 2) * x", "2 * x"),
])
def test_parse_names_in_scope(xg, text, expected):
    x, h, target, g = xg
    assert str(parse_replacement(text, target, g)) == expected


def test_parse_builds_the_expected_nodes(xg):
    x, h, target, g = xg
    assert parse_replacement("old", target, g) is target
    assert parse_replacement("i0", target, g) is h
    assert parse_replacement("gw.exp(x)", target, g) is h  # hash-consing: the same node
    assert parse_replacement("  gw.exp(x) \n", target, g) is h
    assert parse_replacement("k * x", target, g, namespace={"k": 3}).owner.inputs[0].data == 3


@pytest.mark.parametrize("text, message", [
    ("gw.exp(y)", r"replacement 'gw.exp\(y\)': unknown name\(s\) y; "
                  r"the names in scope are gw, np, node\(id\), h, i0, i1, old, x"),
    ("exp(x) + sin(x)", r"unknown name\(s\) exp, sin;"),
    ("open('f')", r"unknown name\(s\) open"),
    ("__import__('os')", r"unknown name\(s\) __import__"),
    ("x +", r"replacement 'x \+' is not a valid expression: invalid syntax"),
    ("x = 1", r"is not a valid expression"),
    ("old.__class__", r"uses private attribute\(s\) __class__"),
    ("gw.exp(x, x)", r"could not be built: TypeError: exp takes 1 input\(s\), got 2"),
    ("x + gw.matrix('m', shape=(2, 5)) + gw.vector('v', shape=(3,))", r"could not be built"),
    ("lambda q: q", r"gives a function, not a graph expression"),
])
def test_parse_errors_name_the_text_and_the_problem(xg, text, message):
    x, h, target, g = xg
    with pytest.raises(SubstitutionError, match=message):
        parse_replacement(text, target, g)


def test_parse_allows_local_names_and_rejects_non_strings(xg):
    x, h, target, g = xg
    assert str(parse_replacement("sum([q * x for q in (1, 2)])", target, g)) == "(0 + (1 * x)) + (2 * x)"
    assert parse_replacement("(lambda q: q * 2)(x)", target, g).owner.op.short_name() == "mul"
    with pytest.raises(SubstitutionError, match="must be a string, got int"):
        parse_replacement(3, target, g)


def test_parse_node_reaches_unnamed_nodes_by_id(xg):
    x, h, target, g = xg
    ids = NodeIds()
    ids.assign(g)
    tid = ids.of(target)  # h * h has no name: node(id) is the only way to it
    assert parse_replacement(f'node("{tid}")', target, g, ids=ids) is target
    assert parse_replacement(f"node('{ids.of(x)}') * 2", target, g, ids=ids) is x * 2
    parts = gw.split(x, [1, 2], axis=0)
    g2 = gw.Graph([x], [parts[0].sum() + parts[1].sum()])
    ids.assign(g2)
    assert parse_replacement(f"node('{ids.of(parts[1])}')", g2.outputs[0], g2, ids=ids) is parts[0]  # first output
    out = g.outputs[0]
    report = check_substitution(g, out, f"node('{tid}').sum() * 1", ids=ids)
    assert report.ok and report.replacement is out * 1


def test_parse_node_errors_name_the_id(xg):
    x, h, target, g = xg
    ids = NodeIds()
    ids.assign(g)
    elsewhere = ids.of(gw.sin(x))  # an id, but of no node of this graph
    with pytest.raises(SubstitutionError, match=rf"node\('{elsewhere}'\): no node with id '{elsewhere}' in the graph"):
        parse_replacement(f"node('{elsewhere}') + x", target, g, ids=ids)
    with pytest.raises(SubstitutionError, match=r"node\('n99'\): no node with id 'n99'"):
        parse_replacement("node('n99')", target, g, ids=ids)
    with pytest.raises(SubstitutionError, match=r"node\('n1'\) needs node ids: .*ids="):
        parse_replacement("node('n1')", target, g)
    with pytest.raises(SubstitutionError, match=r"node\(\) takes one node id string such as 'n7', got int"):
        parse_replacement("node(3)", target, g, ids=ids)
    report = check_substitution(g, target, "node('n99')", ids=ids)
    assert not report.ok and report.replacement is None and "no node with id 'n99'" in report.message


def test_parse_constant_values_become_constants(xg):
    x, h, target, g = xg
    const = parse_replacement("[1.0, 2.0]", target, g)
    assert isinstance(const, gw.Constant) and const.type.short() == "float64[2]"


# --- check_substitution --------------------------------------------------------------------------------------


def test_accepted_with_cases(xg):
    x, h, target, g = xg
    report = check_substitution(g, target, "gw.exp(2 * x)")
    assert isinstance(report, SubstitutionReport) and report.ok and bool(report)
    assert report.target is target and str(report.replacement) == "exp(2 * x)"
    assert [c for c, _ in report.cases] == ["random, length 3", "random, length 1", "random, length 8",
                                           "edge, length 3", "edge, length 8"]
    assert all(err >= 0 for _, err in report.cases)
    assert report.cases[0][1] < 1e-12  # moderate inputs: rounding error only
    assert "values agree on 5 input sets" in report.message
    text = report.text()
    assert text.startswith("accepted: exp(x) * exp(x) -> exp(2 * x)") and "edge, length 8: max abs error" in text


def test_refused_wrong_dtype(xg):
    x, h, target, g = xg
    report = check_substitution(g, target, gw.cast(target, "float32"))
    assert not report.ok and report.cases == []
    assert report.message == ("cannot replace exp(x) * exp(x) (float64[?]) by cast_float32(exp(x) * exp(x)) "
                              "(float32[?]): dtype changes from float64 to float32")
    assert not check_substitution(g, target, "gw.vector('i', dtype='int64')").ok


@pytest.mark.parametrize("text, why", [
    ("old.sum()", "static shape changes from float64[?] to float64[]"),
    ("gw.matrix('m')", "static shape changes from float64[?] to float64[?,?]"),
    ("old[None]", "static shape changes from float64[?] to float64[1,?]"),
    ("np.zeros(1)", "(a length 1 would broadcast)"),
])
def test_refused_wrong_static_shape(xg, text, why):
    x, h, target, g = xg
    report = check_substitution(g, target, text)
    assert not report.ok and why in report.message and "cannot replace exp(x) * exp(x) (float64[?])" in report.message


def test_more_specific_shape_is_allowed_but_checked_at_runtime():
    x = gw.vector("x")
    g = gw.Graph([x], [gw.exp(x)])
    report = check_substitution(g, x, "gw.reshape(x, (3,))")  # float64[3] refines float64[?] ...
    assert not report.ok  # ... but the graph also runs on other lengths, where it fails
    assert report.message.startswith("reshape(x, [3]) fails on inputs where x works (random, length 1)")
    assert report.cases == [("random, length 3", 0.0)]


def test_refused_wrong_values_names_the_first_index():
    x = gw.vector("x")
    g = gw.Graph([x], [gw.log1p(x) * 2])
    report = check_substitution(g, gw.log1p(x), "gw.log(x)")
    assert not report.ok
    assert report.message.startswith("replacing log1p(x) by log(x) changes values (random, length 3): at index (0,)")
    (x0,) = sample_inputs([x], np.random.default_rng(0), "random", 3)  # the first input set, as the check drew it
    assert f"old={float(np.log1p(x0[0]))!r}, new={float(np.log(x0[0]))!r}" in report.message
    assert [c for c, _ in report.cases] == ["random, length 3"] and report.cases[0][1] > 0.1
    assert report.text().startswith("refused: replacing log1p(x) by log(x)")


def test_refused_when_edge_values_disagree():
    x = gw.vector("x")
    g = gw.Graph([x], [gw.log1p(x)])
    report = check_substitution(g, gw.log1p(x), "gw.log(1 + x)")  # fine for moderate x
    assert report.ok
    g2 = gw.Graph([x], [gw.softplus(x)])
    report = check_substitution(g2, gw.softplus(x), "gw.log(1 + gw.exp(x))")  # overflows for x = 700
    assert not report.ok and "(edge, length " in report.message and "new=inf" in report.message
    assert [c for c, _ in report.cases[:3]] == ["random, length 3", "random, length 1", "random, length 8"]


def test_refused_foreign_inputs(xg):
    x, h, target, g = xg
    z = gw.vector("z")
    report = check_substitution(g, target, target + z)
    assert not report.ok
    assert report.message == ("cannot replace exp(x) * exp(x) by (exp(x) * exp(x)) + z: it uses z, which is not "
                              "among the graph inputs (x)")
    report = check_substitution(g, target, "old + gw.vector('z') * gw.vector('w')")
    assert "it uses z, w, which are not among the graph inputs" in report.message


def test_refused_unknown_names_report(xg):
    x, h, target, g = xg
    report = check_substitution(g, target, "gw.exp(2 * y)")
    assert not report.ok and report.replacement is None and "unknown name(s) y" in report.message
    assert report.text().startswith("refused: replacement 'gw.exp(2 * y)': unknown name(s) y")


def test_refused_identity_and_bad_arguments(xg):
    x, h, target, g = xg
    assert "is the target itself" in check_substitution(g, target, "old").message
    with pytest.raises(SubstitutionError, match=r"the target log1p\(x\) is not a variable of the graph"):
        check_substitution(g, gw.log1p(x), "x")
    with pytest.raises(SubstitutionError, match="the target must be a Variable, got str"):
        check_substitution(g, "n1", "x")
    with pytest.raises(SubstitutionError, match="must be a Variable or a string, got float"):
        check_substitution(g, target, 2.0)


def test_integer_graphs_compare_exactly():
    i = gw.vector("i", dtype="int64")
    g = gw.Graph([i], [(i * 2).sum()])
    assert check_substitution(g, i * 2, "i + i").ok
    report = check_substitution(g, i * 2, "i * 3")
    assert not report.ok and "changes values" in report.message


def test_input_target_and_graph_that_fails_everywhere():
    x = gw.vector("x")
    g = gw.Graph([x], [gw.exp(x)])
    assert check_substitution(g, x, "x * 1").ok  # an input may be replaced too
    r5 = gw.reshape(x, (5,))
    report = check_substitution(gw.Graph([x], [r5]), r5, "old * 1")
    assert not report.ok and report.message.startswith("cannot check values: reshape(x, [5]) fails on every input")


def test_seed_makes_the_check_reproducible(xg):
    x, h, target, g = xg
    a = check_substitution(g, target, "gw.exp(2 * x)", seed=3)
    b = check_substitution(g, target, "gw.exp(2 * x)", seed=3)
    assert a.cases == b.cases
