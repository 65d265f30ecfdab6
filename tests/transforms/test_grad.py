"""gw.grad: the API, its errors, known gradients, constants, intermediate variables, gradient control."""

import warnings

import numpy as np
import pytest

import graphwright as gw


def values(inputs, outputs, *data):
    return gw.function(inputs, outputs)(*data)


def test_closed_forms():
    x, y = gw.vector("x"), gw.vector("y")
    a, b = np.array([0.5, -1.5, 2.0]), np.array([1.0, 2.0, -0.5])
    gx, gy = gw.grad(gw.sum(x * y + gw.exp(x) * y ** 2), [x, y])
    got = values([x, y], [gx, gy], a, b)
    np.testing.assert_allclose(got[0], b + np.exp(a) * b ** 2)
    np.testing.assert_allclose(got[1], a + 2 * np.exp(a) * b)


def test_second_derivative():
    x = gw.scalar("x")
    d2 = gw.grad(gw.grad(x ** 3, x), x)
    assert float(values([x], d2, 2.0)) == pytest.approx(12.0)


def test_a_single_wrt_gives_a_variable_and_a_list_gives_a_list():
    x = gw.vector("x")
    assert isinstance(gw.grad(gw.sum(x), x), gw.Variable)
    assert isinstance(gw.grad(gw.sum(x), [x]), list)


@pytest.mark.parametrize(("cost", "message"), [
    (lambda x: x * 2, r"the cost must be a scalar \(0-d\), got x \* 2 \(float64\[\?\]\)"),
    (lambda x: gw.sum(x > 0), "is not a float"),
])
def test_bad_costs_are_named(cost, message):
    x = gw.vector("x")
    with pytest.raises((ValueError, TypeError), match=message):
        gw.grad(cost(x), x)


def test_bad_wrt_are_named():
    x, i = gw.vector("x"), gw.vector("i", "int64")
    with pytest.raises(TypeError, match=r"cannot differentiate with respect to i \(int64\[\?\]\)"):
        gw.grad(gw.sum(x * i), i)
    with pytest.raises(TypeError, match="the constant"):
        gw.grad(gw.sum(x), gw.constant(1.0))
    with pytest.raises(ValueError, match="disconnected must be"):
        gw.grad(gw.sum(x), x, disconnected="maybe")


def test_disconnected_inputs():
    x, y = gw.vector("x"), gw.vector("y")
    cost = gw.sum(x)
    with pytest.raises(gw.DisconnectedInputError, match=r"does not depend on y \(float64\[\?\]\)"):
        gw.grad(cost, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = gw.grad(cost, y, disconnected="warn")
    assert "does not depend on y" in str(caught[0].message)
    np.testing.assert_array_equal(g.eval({y: np.ones(3)}), np.zeros(3))
    np.testing.assert_array_equal(gw.grad(cost, y, disconnected="ignore").eval({y: np.ones(2)}), np.zeros(2))


def test_integer_paths_carry_no_gradient():
    x = gw.vector("x")
    cost = gw.sum(gw.cast(gw.argmax(x), "float64") * x)  # argmax is piecewise constant
    g = gw.grad(cost, x)
    a = np.array([1.0, 3.0, 2.0])
    np.testing.assert_allclose(values([x], g, a), [1.0, 1.0, 1.0])


def test_known_grads_start_the_pass_from_an_intermediate():
    x = gw.vector("x")
    h = gw.exp(x)
    up = gw.vector("up")
    g = gw.grad(None, x, known_grads={h: up})
    a, u = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    np.testing.assert_allclose(values([x, up], g, a, u), u * np.exp(a))


def test_consider_constant_stops_the_pass():
    x = gw.vector("x")
    h = gw.sin(x)
    g = gw.grad(gw.sum(h * x), x, consider_constant=[h])
    a = np.array([0.3, 1.2])
    np.testing.assert_allclose(values([x], g, a), np.sin(a))


def test_gradient_with_respect_to_an_intermediate_variable():
    x = gw.vector("x")
    h = gw.log(1 + gw.exp(x))  # rewritten to softplus before differentiating: h must survive
    g = gw.grad(gw.sum(h ** 2), h)
    a = np.array([0.0, 800.0])
    np.testing.assert_allclose(values([x], g, a), 2 * np.logaddexp(0, a))


@pytest.mark.parametrize(("build", "expected"), [
    (lambda x: gw.log(1 + gw.exp(x)), lambda a: 1 / (1 + np.exp(-a))),
    (lambda x: gw.log(gw.sigmoid(x)), lambda a: 1 / (1 + np.exp(a))),
    (lambda x: gw.log(1 - gw.sigmoid(x)), lambda a: -1 / (1 + np.exp(-a))),
])
def test_pre_gradient_stabilization_at_800(build, expected):
    x = gw.vector("x")
    a = np.array([-800.0, -3.0, 0.0, 3.0, 800.0])
    with np.errstate(over="ignore"):
        want = expected(a)
    stable = values([x], gw.grad(gw.sum(build(x)), x), a)
    np.testing.assert_allclose(stable, want, rtol=1e-12, atol=1e-300)
    with np.errstate(all="ignore"):  # the gradient of the naive form, run as written, is not finite
        naive = gw.function([x], gw.grad(gw.sum(build(x)), x, stabilize=False), rewrites=None)(a)
    assert not np.allclose(naive, want, equal_nan=False)


# (entry i of log(exp(x) / sum(exp(x))), x): the written form and its derivatives stay in float64's range
IN_RANGE = [(0, [400.0, 0.0, -3.0]), (0, [700.0, 0.0]), (1, [0.0, -700.0])]
# ... and where they do not: exp(800) overflows; exp(-740) / sum is a subnormal p, log(p) is finite but 1/p is not
OUT_OF_RANGE = [(0, [800.0, 0.0]), (1, [0.0, -740.0])]


@pytest.mark.parametrize(("i", "a"), IN_RANGE + OUT_OF_RANGE)
def test_unstabilized_gradient_is_the_written_forms(i, a):
    """``stabilize=False`` differentiates the cost as written: its gradient equals the stabilized one wherever
    the written form and its derivatives are in range, and is not finite where they are not (what the
    docstring states), even though ``gw.function`` makes the cost itself a finite ``log_softmax``."""
    x = gw.vector("x")
    cost = gw.log(gw.exp(x) / gw.sum(gw.exp(x)))[i]
    a = np.array(a)
    stable = values([x], gw.grad(cost, x), a)
    assert np.isfinite(values([x], cost, a)) and np.isfinite(stable).all()
    with np.errstate(all="ignore"):
        plain = values([x], gw.grad(cost, x, stabilize=False), a)
    if (i, list(a)) in IN_RANGE:
        np.testing.assert_allclose(plain, stable, rtol=1e-12, atol=1e-300)
    else:
        assert not np.isfinite(plain).all()


def test_gradient_control_ops():
    x = gw.vector("x")
    a = np.array([1.0, -2.0])
    np.testing.assert_allclose(values([x], gw.grad(gw.sum(gw.zero_grad(x) * x), x), a), a)
    np.testing.assert_allclose(values([x], gw.grad(gw.sum(gw.disconnected_grad(x) * x), x), a), a)
    with pytest.raises(gw.DisconnectedInputError):
        gw.grad(gw.sum(gw.disconnected_grad(x)), x)
    np.testing.assert_allclose(values([x], gw.grad(gw.sum(gw.zero_grad(x)), x), a), [0.0, 0.0])
    clipped = gw.grad(gw.sum(gw.grad_clip(x, -1.0, 1.0) * 5 + x), x)
    np.testing.assert_allclose(values([x], clipped, a), [2.0, 2.0])
    np.testing.assert_allclose(values([x], gw.grad(gw.sum(gw.grad_scale(x, 0.5) * 4), x), a), [2.0, 2.0])
    # identity on values, and gone from compiled graphs
    f = gw.function([x], gw.grad_clip(x, -1.0, 1.0) * 2)
    np.testing.assert_allclose(f(a), 2 * a)
    assert "grad_clip" not in str(f.graph.outputs[0])
    with pytest.raises(TypeError, match="must be a scalar"):
        gw.grad_clip(x, x, 1.0)


def test_verify_grad_reports_a_wrong_gradient():
    from graphwright.tensor.scalar_grads import DERIVATIVES

    x = gw.vector("x")
    report = gw.verify_grad(lambda v: gw.sum(gw.sin(v)), [np.array([0.1, 0.4])])
    assert report.ok and "x0" in str(report)
    saved = DERIVATIVES["sin"]
    DERIVATIVES["sin"] = lambda xs, out, g: [g * gw.sin(xs[0])]  # a deliberately wrong derivative
    try:
        with pytest.raises(gw.GradientCheckError, match="NO"):
            gw.verify_grad(lambda v: gw.sum(gw.sin(v)), [np.array([0.1, 0.4])])
    finally:
        DERIVATIVES["sin"] = saved
    assert x is not None


def test_fused_graphs_can_be_differentiated():
    x = gw.vector("x")
    f = gw.function([x], gw.tanh(gw.exp(x) * 2 + 1) - x)
    fused = f.graph.outputs[0]
    g = gw.grad(gw.sum(fused), x)
    a = np.array([-0.5, 0.2])
    t = np.tanh(np.exp(a) * 2 + 1)
    np.testing.assert_allclose(values([x], g, a), (1 - t ** 2) * 2 * np.exp(a) - 1)


def test_known_grads_on_an_intermediate_next_to_a_cost():
    x = gw.vector("x")
    h = 1 + gw.exp(x)  # the cost log(h) is rewritten to softplus(x): h is no longer used by it
    up = gw.vector("up")
    g = gw.grad(gw.sum(gw.log(h)), x, known_grads={h: up})
    a, u = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    want = np.exp(a) / (1 + np.exp(a)) + u * np.exp(a)
    np.testing.assert_allclose(values([x, up], g, a, u), want)


def test_targets_that_depend_on_each_other_get_total_derivatives():
    x = gw.vector("x")
    y = gw.exp(x)
    z = gw.log(1 + y)  # rewritten to softplus(x) when the cost is stabilized
    cost = gw.sum(z * y + x)
    a = np.array([0.5, 1.0])
    stable = gw.function([x], gw.grad(cost, [x, y, z]))(a)
    plain = gw.function([x], gw.grad(cost, [x, y, z], stabilize=False))(a)
    for s, p in zip(stable, plain, strict=True):
        np.testing.assert_allclose(s, p)
    e = np.exp(a)
    np.testing.assert_allclose(stable[0], np.log1p(e) * e + e * e / (1 + e) + 1)


def test_gradients_through_fused_composites_count_each_path_once():
    from graphwright.tensor.composite import composite_of

    x, s = gw.vector("x"), gw.scalar("s")
    fused = gw.function([x, s], gw.exp(x * s) + s ** 2).graph.outputs[0]  # inputs x, s and sqr(s)
    xv, sv = np.array([0.1, -0.5, 1.0, 2.0]), np.array(0.3)
    got = gw.function([x, s], gw.grad(gw.sum(fused), s))(xv, sv)
    np.testing.assert_allclose(got, np.sum(xv * np.exp(xv * sv)) + 4 * 2 * sv)
    op = composite_of([x * s], [x, s])
    np.testing.assert_allclose(gw.function([x], gw.grad(gw.sum(op(x, x)), x))(xv), 2 * xv)


def test_pow_gradient_at_zero():
    x, y = gw.vector("x"), gw.vector("y")
    gx, gy = gw.grad(gw.sum(x ** y), [x, y])
    with np.errstate(divide="ignore", invalid="ignore"):  # the unused branches of the switches
        got = gw.function([x, y], [gx, gy])(np.array([0.0, 0.0, 2.0]), np.array([2.0, 0.0, 3.0]))
    np.testing.assert_allclose(got[0], [0.0, 0.0, 12.0])
    np.testing.assert_allclose(got[1], [0.0, 0.0, 8 * np.log(2.0)])


def test_a_broadcasting_starting_gradient_takes_the_variable_shape():
    x = gw.vector("x")
    g = gw.vjp(x * 2.0, x, gw.constant(np.array([1.0])))
    assert g.type.shape == (None,)
    np.testing.assert_allclose(gw.function([x], g)(np.zeros(3)), [2.0, 2.0, 2.0])


def test_prod_second_derivatives_are_exact_at_zeros():
    x = gw.vector("x")
    H = gw.function([x], gw.hessian(gw.prod(x), x))
    np.testing.assert_allclose(H(np.array([0.0, 2.0, 3.0])), [[0, 3, 2], [3, 0, 0], [2, 0, 0]])
    np.testing.assert_allclose(H(np.array([0.0, 0.0, 3.0])), [[0, 3, 0], [3, 0, 0], [0, 0, 0]])
