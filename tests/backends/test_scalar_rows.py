"""The scalar table's one rule per backend: every row finds its function by name, overrides are real exceptions,
and every row carries its derivative. The values of every row on every backend are the op table's business
(tests/tensor/test_op_table.py and the backends' op-table tests); here, the edge values of the newest rows."""

from __future__ import annotations

import numpy as np
import pytest

import graphwright as gw
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.scalar_ops import SCALAR_OPS, ScalarOp, rows_by_name

BACKENDS = ("numpy", "numba", "jax", "torch")


def test_every_row_carries_its_derivative() -> None:
    without = sorted(name for name, row in SCALAR_OPS.items() if not callable(row.grad))
    assert not without, f"rows without a grad beside them: {without}"


def test_a_row_without_a_derivative_is_not_differentiable_and_says_which() -> None:
    row = ScalarOp("exp_without_grad", 1, np.exp, domain=((-1.0, 1.0),))
    x = gw.vector("x")
    with pytest.raises(gw.NotDifferentiableError, match="exp_without_grad"):
        gw.grad(gw.sum(Elemwise(row)(x)), x)


def test_jax_overrides_are_exceptions_to_the_rule() -> None:
    pytest.importorskip("jax")
    from graphwright.backends.jax_backend import scalar as jax_scalar

    for name, fn in jax_scalar._JAX_OVERRIDES.items():
        by_rule = rows_by_name(jax_scalar._NAMESPACES, {}).get(name)
        assert by_rule is not fn, f"{name}: the override is what the rule gives"
    missing = sorted(n for n in SCALAR_OPS if not n.startswith("cast_") and n not in jax_scalar.JAX_ROWS)
    assert not missing


def test_torch_overrides_are_exceptions_to_the_rule() -> None:
    pytest.importorskip("torch")
    from graphwright.backends.torch_backend import scalar as torch_scalar

    for name, fn in torch_scalar._TORCH_OVERRIDES.items():
        by_rule = rows_by_name(torch_scalar._NAMESPACES, {}).get(name)
        assert by_rule is not fn, f"{name}: the override is what the rule gives"
    missing = sorted(n for n in SCALAR_OPS if not n.startswith("cast_") and n not in torch_scalar.TORCH_ROWS)
    assert not missing


def test_numba_overrides_are_exceptions_to_the_rule() -> None:
    from graphwright.backends.numba_backend import scalar as numba_scalar

    for name, template in numba_scalar._NUMBA_OVERRIDES.items():
        by_rule = numba_scalar._by_name(SCALAR_OPS[name])
        assert by_rule is None or by_rule[0] != template, f"{name}: the override is what the rule gives"


@pytest.mark.parametrize("backend", BACKENDS)
def test_xlogy_and_logit_at_their_edges(backend: str) -> None:
    pytest.importorskip({"numba": "numba", "jax": "jax", "torch": "torch"}.get(backend, "numpy"))
    x, y, p = gw.vector("x"), gw.vector("y"), gw.vector("p")
    f = gw.function([x, y, p], [gw.xlogy(x, y), gw.logit(p)], backend=backend)
    xs = np.array([0.0, 0.0, 0.0, 2.0, 3.0, 0.0])
    ys = np.array([0.0, np.nan, np.inf, 0.0, np.e, -1.0])
    ps = np.array([0.0, 1.0, 0.5, 0.25, 0.9, 1.5])
    got_xlogy, got_logit = (np.asarray(v) for v in f(xs, ys, ps))
    np.testing.assert_allclose(got_xlogy, [0.0, np.nan, 0.0, -np.inf, 3.0, 0.0], rtol=1e-13)
    np.testing.assert_allclose(got_logit, [-np.inf, np.inf, 0.0, -np.log(3.0), np.log(9.0), np.nan], rtol=1e-13,
                               atol=1e-15)


def test_xlogy_and_logit_gradients() -> None:
    x = gw.vector("x")
    report = gw.verify_grad(lambda a, b: gw.sum(gw.xlogy(a, b) + gw.logit(b / 4)),
                            [np.array([0.5, -1.5, 2.0]), np.array([0.5, 1.0, 3.0])])
    assert report.ok, str(report)
    g = gw.function([x], gw.grad(gw.sum(gw.logit(x)), x))(np.array([0.5, 0.25]))
    np.testing.assert_allclose(g, [4.0, 1 / 0.1875])
