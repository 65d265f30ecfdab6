"""numerics / compare_numerics: value statistics per node, where NaN/Inf start, errors against mpmath."""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import pytest

import graphwright as gw
from graphwright.graph.basic import Apply, Op
from graphwright.tensor.scalar_ops import SCALAR_OPS
from graphwright.workbench.mp_evaluation import MAX_DPS, Evaluation
from graphwright.workbench.mp_reference import MP_FUNCTIONS, NoReference, evaluate_node, mp_elemwise, to_float, to_mp
from graphwright.workbench.numerics import NumericsComparison, OutputErrors, compare_numerics, numerics


@dataclass(frozen=True)
class FloatOnly(Op):
    """An op whose perform converts to float64 first: on object arrays it would return float values."""

    def make_node(self, x):
        return Apply.create(self, [x], [x.type])

    def perform(self, x):
        return np.asarray(x, dtype="float64") * 2


@dataclass(frozen=True)
class UfuncOnly(Op):
    """An op whose perform calls a NumPy ufunc that object arrays of mpf do not support."""

    def make_node(self, x):
        return Apply.create(self, [x], [x.type])

    def perform(self, x):
        return np.exp(x)


def test_first_nonfinite_is_where_the_trouble_starts():
    x = gw.vector("x")
    graph = gw.Graph([x], [gw.log(1 + gw.exp(x))])
    report = numerics(graph, [np.array([1.0, 800.0])])
    assert [r.label for r in report.rows] == ["exp", "add", "log"]
    assert report.first_nonfinite is report.rows[0]
    exp_row, add_row, log_row = report.rows
    assert (exp_row.n_inf, exp_row.n_nan, exp_row.min, exp_row.max) == (1, 0, np.e, np.e)
    assert add_row.n_inf == 1 and log_row.n_inf == 1
    assert exp_row.max_rel_err == 0.0  # exp(800) does not fit a float64: inf is the right float
    assert log_row.max_abs_err == np.inf and log_row.reference == "mpmath"  # mpmath: log(1 + e^800) = 800
    assert [r.node_id for r in report.rows] == ["n0", "n1", "n2"] and log_row.shape == (2,)
    text = report.text().splitlines()
    assert text[2].endswith("<- first non-finite") and not text[3].endswith("non-finite")
    html = report.html()
    assert '<tr data-node="n0" class="gw-first-nonfinite">' in html and 'class="gw-nonfinite"' in html
    assert numerics(gw.Graph([x], [gw.exp(x)]), [np.array([1.0])]).first_nonfinite is None


def test_a_nonfinite_input_is_not_a_node_where_trouble_starts():
    x = gw.vector("x")
    report = numerics(gw.Graph([x], [gw.exp(x) + gw.sqrt(x)]), [np.array([np.inf, -1.0])])
    assert [r.label for r in report.rows] == ["exp", "sqrt", "add"] and report.first_nonfinite is None


def test_stable_graph_has_tiny_errors_and_cancellation_a_large_one():
    x = gw.vector("x")
    stable = numerics(gw.Graph([x], [gw.exp(-x * x) * gw.tanh(x) + gw.log1p(x * x)]), [np.linspace(-3, 3, 25)])
    for r in stable.rows:
        assert r.reference == "mpmath" and r.max_rel_err < 1e-15, r
    naive = gw.Graph([x], [(1 - gw.cos(x)) / x**2])
    report = numerics(naive, {x: np.array([1e-8, 0.5])})
    sub_row, out_row = report.row("n1"), report.rows[-1]
    assert sub_row.label == "sub" and sub_row.max_rel_err == pytest.approx(1.0)  # 1 - cos(1e-8) is 0 in floats
    assert out_row.max_abs_err == pytest.approx(0.5) and out_row.max_rel_err == pytest.approx(1.0)
    rewritten, _ = gw.rewrite(naive)
    assert type(rewritten.toposort[0].op).__name__ == "Composite"  # the fused, stabilised form
    (fused,) = numerics(rewritten, [np.array([1e-8, 0.5])]).rows
    assert fused.reference == "mpmath" and fused.max_rel_err < 1e-15


def test_compare_numerics_shows_the_rewrite_fixing_an_output():
    x = gw.vector("x")
    naive = gw.Graph([x], [gw.log(1 + gw.exp(x)), gw.log(gw.sum(gw.exp(x))), x * 2])
    stable, _ = gw.rewrite(naive)
    values = [np.array([800.0, 1.0])]
    table = compare_numerics(naive, stable, values)
    softplus, lse, double = table.rows
    assert softplus.before_rel == np.inf and softplus.after_rel < 1e-15 and softplus.before_nonfinite == 1
    assert softplus.after_nonfinite == 0 and softplus.label == "log(1 + exp(x))"
    assert lse.before_abs == np.inf and lse.after_rel < 1e-15  # logsumexp evaluated at high precision too
    assert double.before_abs == double.after_abs == 0.0 and double.reference == "mpmath"
    text = table.text()
    assert text.splitlines()[0].split()[:3] == ["output", "expression", "before"] and "inf" in text
    assert str(table) == text and table.html().startswith('<table class="gw-numerics-compare">')
    with pytest.raises(ValueError, match="before has 3 outputs, after 1"):
        compare_numerics(naive, gw.Graph([x], [x]), values)


@pytest.mark.parametrize("op", [FloatOnly(), UfuncOnly()], ids=["float-perform", "ufunc-perform"])
def test_an_op_without_high_precision_form_gets_no_reference_nor_its_dependents(op):
    x = gw.vector("x")
    y = op(x)
    graph = gw.Graph([x], [gw.exp(y) + 1, gw.sin(x)])
    report = numerics(graph, [np.array([0.5, 1.0])])
    rows = {r.label: r for r in report.rows}
    name = type(op).__name__
    assert rows[name].reference.startswith("none: ") and "has no high-precision evaluation" in rows[name].reference
    assert rows[name].max_abs_err is None and rows[name].max_rel_err is None
    for dependent in ("exp", "add"):
        assert rows[dependent].reference.startswith("none: input ") and rows[dependent].max_abs_err is None
    assert rows["sin"].reference == "mpmath" and rows["sin"].max_rel_err < 1e-15
    assert rows[name].max == op.perform(np.array([0.5, 1.0])).max()  # the float statistics are still there
    comparison = compare_numerics(graph, graph, [np.array([0.5, 1.0])])
    assert comparison.rows[0].before_abs is None and comparison.rows[0].reference.startswith("none")


def test_too_large_graphs_skip_the_reference():
    x = gw.vector("x")
    report = numerics(gw.Graph([x], [gw.exp(x) * 2]), [np.ones(100)], max_elements=250)
    assert all(r.reference == "none: too large (300 elements; max_elements=250)" for r in report.rows)
    assert all(r.max_abs_err is None and r.max == 2 * np.e for r in report.rows[1:])


def test_integer_boolean_float32_and_multi_output_nodes():
    i, x, f = gw.vector("i", "int64"), gw.vector("x"), gw.vector("f", "float32")
    graph = gw.Graph([i, x, f], [i * 3 - 1, gw.switch(x > 0, x, 0.0), gw.cast(x, "int32"), gw.exp(f)])
    report = numerics(graph, [np.array([1, -2]), np.array([-1.5, 2.5]), np.array([0.1, 1.0], "float32")])
    rows = {r.label: r for r in report.rows}
    for label in ("mul", "sub", "gt", "switch", "cast_int32"):
        assert rows[label].reference == "mpmath" and rows[label].max_abs_err == 0.0, rows[label]
    assert rows["gt"].dtype == "bool" and rows["cast_int32"].min == -1.0
    assert 1e-9 < rows["exp"].max_rel_err < 1e-7  # float32 rounding, measured against the exact value
    fused, _ = gw.rewrite(gw.Graph([x], [gw.exp(x) + 1, gw.exp(x) * 2]))
    assert len(fused.toposort) == 1 and len(fused.toposort[0].outputs) == 2
    report = numerics(fused, [np.array([0.5])])
    assert [r.output for r in report.rows] == [0, 1] and report.rows[1].label.endswith("[output 1]")
    assert report.rows[0].node_id == report.rows[1].node_id == "n0"
    assert all(r.max_rel_err < 1e-15 for r in report.rows)
    assert set(report.stats()) == set(fused.outputs) and "nan 0, inf 0" in report.stats()[fused.outputs[1]]


def test_structural_ops_run_their_perform_on_exact_values():
    x, m = gw.vector("x"), gw.matrix("m")
    outs = [gw.concatenate([x[1:], x]), gw.dot(m, x), (m.T @ m).sum(axis=0), gw.max(m, axis=1), gw.cumsum(x),
            gw.softmax(x), m.reshape((-1,)) * 3]
    values = [np.array([0.1, 0.2, 0.3]), np.arange(9.0).reshape(3, 3) / 7]
    for r in numerics(gw.Graph([x, m], outs), values).rows:
        assert r.reference == "mpmath" and r.max_rel_err < 1e-15, r


def test_ids_come_from_a_node_id_table():
    from graphwright.viz import NodeIds

    x = gw.vector("x")
    y = gw.exp(x)
    ids = NodeIds()
    expected = [ids.of(x), ids.of(y), ids.of((y + 1).owner)]
    report = numerics(gw.Graph([x], [y + 1]), [np.zeros(2)], ids=ids)
    assert [r.node_id for r in report.rows] == expected[1:] and report.row(expected[1]).label == "exp"
    with pytest.raises(KeyError, match="no node 'n99'"):
        report.row("n99")


def test_values_none_and_wrong_values():
    x = gw.vector("x")
    report = numerics(gw.Graph([x], [gw.exp(x)]), None)
    assert report.rows[0].shape == (10,) and report.rows[0].reference == "mpmath"
    with pytest.raises(ValueError, match=r"input 0 \(x\) has type float64\[\?\], got an array of shape \(2, 2\)"):
        numerics(gw.Graph([x], [gw.exp(x)]), [np.ones((2, 2))])


@pytest.mark.parametrize("name, args, want", [
    ("log1p", [1e-20], 1e-20), ("expm1", [1e-20], 1e-20), ("softplus", [800.0], 800.0),
    ("sigmoid", [-800.0], float(mpmath.exp(-800))), ("true_div", [1.0, 0.0], np.nan), ("sqrt", [-1.0], np.nan),
    ("logaddexp", [1000.0, 1000.0], 1000 + float(mpmath.log(2))), ("maximum", [np.nan, 1.0], np.nan),
    ("pow", [-8.0, 1 / 3], np.nan), ("exp", [1e300], np.nan), ("gammaln", [-0.5], float(mpmath.log(2 * mpmath.sqrt(
        mpmath.pi)))), ("round", [2.5], 2.0), ("mod", [-1.5, 0.7], -1.5 - 0.7 * np.floor(-1.5 / 0.7)),
])
def test_scalar_table_rows_at_high_precision(name, args, want):
    with mpmath.workdps(50):
        got = to_float(mp_elemwise(name, [to_mp(np.array([a])) for a in args], "float64"))[0]
    np.testing.assert_allclose(got, want, rtol=1e-15, equal_nan=True)


def test_the_mpmath_table_covers_the_scalar_table():
    handled_elsewhere = {"switch", "and", "or", "xor", "not"}  # switch by its branches; bitwise: integers only
    missing = {n for n in SCALAR_OPS if not n.startswith("cast_")} - set(MP_FUNCTIONS) - handled_elsewhere
    assert not missing
    x = gw.vector("x")
    with mpmath.workdps(20), pytest.raises(NoReference, match="FloatOnly has no high-precision evaluation"):
        evaluate_node(FloatOnly()(x).owner, [to_mp(np.ones(2))])


def test_reference_takes_more_digits_for_deep_cancellation():
    """1 - sigmoid(800) is exp(-800), about 1e-348: at 50 or 100 digits the reference cancels to 0 as well, so
    an exact zero from non-zero operands makes it take more digits; log of it is then -800, not -inf."""
    z = gw.vector("z")
    graph = gw.Graph([z], [gw.log(1 - gw.sigmoid(z))])
    report = numerics(graph, [np.array([800.0, 0.0])])
    assert report.dps >= 400
    assert report.rows[-1].max_abs_err == np.inf  # the float graph gives -inf, the reference -800
    assert report.rows[-1].reference == "mpmath"


def test_exact_cancellation_keeps_its_reference():
    x = gw.vector("x")
    report = numerics(gw.Graph([x], [x - x]), [np.arange(1.0, 4.0)])
    assert report.rows[-1].reference == "mpmath" and report.rows[-1].max_abs_err == 0.0
    assert report.dps == 100  # x - x of an exact input is a true zero: no more digits


def test_one_minus_an_exact_label_stays_at_100_digits_while_one_minus_sigmoid_escalates():
    """A loss's ``1 - t`` at t == 1 cancels exactly: the operands are exact (an input and a constant), so the
    zero is true and the reference stops at 100 digits; ``1 - sigmoid(800)`` cancels too, but sigmoid rounds."""
    t, p, z = gw.vector("t"), gw.vector("p"), gw.vector("z")
    loss = gw.Graph([t, p], [gw.sum(t * gw.log(p) + (1 - t) * gw.log(1 - p))])
    report = numerics(loss, [np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.6])])
    assert report.dps == 100 and all(r.reference == "mpmath" and r.max_rel_err < 1e-15 for r in report.rows)
    deep = numerics(gw.Graph([z], [gw.log(1 - gw.sigmoid(z))]), [np.array([800.0])])
    assert deep.dps >= 400 and deep.rows[-1].max_abs_err == np.inf  # float: log(0); reference: -800
    both = numerics(gw.Graph([t, z], [gw.log(1 - t + 1 - gw.sigmoid(z))]), [np.array([1.0]), np.array([800.0])])
    assert both.dps >= 400 and both.rows[-1].max_abs_err == np.inf


def test_a_rounded_sum_of_exact_values_is_not_exact():
    """1 + 1e-300 rounds to 1 at 50 and 100 digits: (1 + x) - 1 would look like an exact zero, but the add was
    rounded (its exact result needs about 300 digits), so the zero is doubtful and the reference takes more."""
    x = gw.vector("x")
    one_plus = 1 + x
    graph = gw.Graph([x], [one_plus - 1])
    ev = Evaluation(graph, [np.array([1e-300])], dps=50, max_elements=100)
    assert ev.dps >= 400 and one_plus in ev.exact and graph.outputs[0] in ev.exact
    assert ev.errors(graph.outputs[0]) == (1e-300, 1.0, "mpmath")  # the float graph gives 0
    ev = Evaluation(graph, [np.array([0.5])], dps=50, max_elements=100)
    assert ev.dps == 100 and graph.outputs[0] in ev.exact
    ev = Evaluation(gw.Graph([x], [gw.exp(x) - 1]), [np.array([0.0])], dps=50, max_elements=100)
    # exp is never taken as exact, so exp(0) - 1 == 0 escalates to MAX_DPS (where a zero is taken as true)
    assert ev.exact == {x} and ev.dps == MAX_DPS and ev.errors(ev.graph.outputs[0]) == (0.0, 0.0, "mpmath")


def test_compare_numerics_is_importable_from_numerics_and_its_own_module():
    from graphwright.workbench import numerics_compare

    assert numerics_compare.compare_numerics is compare_numerics
    assert numerics_compare.NumericsComparison is NumericsComparison and numerics_compare.OutputErrors is OutputErrors
