"""sum(a * X) -> a * sum(X) on long products: the product of the other operands is built once, not once per
operand (a product of k operands cost k products of k - 1 operands, quadratic in k)."""

import numpy as np

import graphwright as gw
from graphwright.rules import specialize_reduce


def test_the_scalar_factor_of_a_long_product_is_found_without_building_k_products(monkeypatch):
    built = []
    real = specialize_reduce.ew

    class CountingElemwise:  # the rule module's view of the elemwise functions, counting its products
        def __getattr__(self, name):
            return getattr(real, name)

        @staticmethod
        def mul(*args):
            built.append(len(args))
            return real.mul(*args)

    monkeypatch.setattr(specialize_reduce, "ew", CountingElemwise())
    xs = [gw.vector(f"x{k}") for k in range(300)]
    s = gw.scalar("s")
    prod = xs[0]
    for x in xs[1:]:
        prod = prod * x
    graph, trace = gw.rewrite(gw.sum(prod * s), "fast_run")
    assert "sum_of_scalar_mul" in {step.rule.name for step in trace.steps}
    assert len(built) <= 4 and sum(built) <= 2 * len(xs)
    values = [np.linspace(0.9, 1.1, 3)] * len(xs)
    f = gw.function(xs + [s], graph.outputs[0])
    np.testing.assert_allclose(f(*values, np.float64(2.0)), 2.0 * np.prod(values, axis=0).sum(), rtol=1e-12)
