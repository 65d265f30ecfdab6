"""Backend-aware rewriting: rules and phase registrations tagged ``backends=`` run only for those backends."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.registry import BACKENDS, missing_reason
from graphwright.rewrite import Rule, RuleSet, function_rule, graph_rule, register, runs_on, unregister

x = gw.vector("x")


@function_rule("t_exp_to_exp2", roots=("exp",), backends=("numba", "jax"))
def exp_to_exp2(var, ctx):
    """exp(x) = exp2(x * log2(e)) (pretend it pays off on Numba and JAX)"""
    return gw.exp2(var.owner.inputs[0] * np.log2(np.e))


@function_rule("t_sees_backend", roots=("log",))
def sees_backend(var, ctx):
    """log(x) is left alone; records the backend it saw"""
    SEEN.append(ctx.backend)


SEEN: list = []


def run(out, *rules, **kw):
    return gw.rewrite(out, rules=RuleSet("custom", rules), **kw)


@pytest.mark.parametrize(("backend", "fires"), [("numba", True), ("jax", True), ("numpy", False),
                                                ("torch", False), (None, False)])
def test_a_tagged_rule_runs_only_for_its_backends(backend, fires):
    g, trace = run(gw.exp(x), exp_to_exp2, backend=backend)
    assert (g.outputs[0] is not gw.exp(x)) == fires and len(trace) == int(fires)
    assert trace.backend == backend


def test_rules_see_the_backend_and_neutral_rules_run_everywhere():
    SEEN.clear()
    for backend in (None, "numpy", "jax"):
        run(gw.log(x), sees_backend, backend=backend)
    assert SEEN == [None, "numpy", "jax"]


def test_a_rule_tagged_for_every_backend_runs_without_one():
    everywhere = Rule("t_all", fn=exp_to_exp2.fn, roots=("exp",), backends=BACKENDS)
    assert runs_on(everywhere, None) and len(run(gw.exp(x), everywhere)[1]) == 1
    assert not runs_on(exp_to_exp2, None) and runs_on(exp_to_exp2, "jax")


def test_unknown_backends_are_errors_naming_them():
    with pytest.raises(ValueError, match=r"rule 't_typo': unknown backend\(s\) 'numab'"):
        function_rule("t_typo", backends=("numab",))(exp_to_exp2.fn)
    with pytest.raises(ValueError, match=r"rewrite: unknown backend 'cuda'"):
        gw.rewrite(gw.exp(x), backend="cuda")


def test_rule_sets_tag_and_narrow_their_rules():
    neutral = Rule("t_neutral", fn=exp_to_exp2.fn, roots=("exp",))
    rs = RuleSet("t_set", [neutral, exp_to_exp2], backends=("jax", "torch"))
    assert rs["t_neutral"].backends == {"jax", "torch"} and rs["t_exp_to_exp2"].backends == {"jax"}
    assert [r.name for r in rs.for_backend("torch")] == ["t_neutral"]
    with pytest.raises(ValueError, match="t_exp_to_exp2.*none of which rule set 't_set'"):
        RuleSet("t_set", [exp_to_exp2], backends=("torch",))

    @graph_rule("t_graph_jax", backends=("jax",))
    def nothing(outputs, ctx):
        """leaves the graph alone"""
        return []

    assert nothing.backends == {"jax"} and nothing.is_graph_rule


@pytest.fixture
def numpy_only_phase_rule():
    rule = Rule("t_numpy_exp", fn=exp_to_exp2.fn, roots=("exp",))
    registered = register("specialize", RuleSet("t_numpy_only", [rule]), backends=("numpy",))
    yield registered
    unregister("specialize", registered)


def test_compile_rewrites_for_its_backend(numpy_only_phase_rule):
    assert numpy_only_phase_rule["t_numpy_exp"].backends == {"numpy"}
    out = gw.exp(x) * 2.0
    f = gw.function([x], out, backend="numpy")
    assert f.trace.backend == "numpy" and f.trace.steps_of("t_numpy_exp")
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), 2 * np.exp([0.0, 1.0]))
    _, neutral = gw.rewrite(out)  # backend-neutral: the numpy-only registration does not run
    assert neutral.backend is None and not neutral.steps_of("t_numpy_exp")


@pytest.mark.skipif(missing_reason("numba") is not None, reason="numba is not installed")
def test_the_compile_cache_key_follows_the_backend_rewrite(numpy_only_phase_rule):
    """The Numba cache is keyed by the rewritten graph: a rule that runs for one backend only changes the
    graph, and so the key, of that backend alone."""
    from graphwright.backends.numba_backend.aot_key import graph_key

    out = gw.exp(x) * 2.0
    on_numba, on_numpy = gw.function([x], out, backend="numba"), gw.function([x], out, backend="numpy")
    assert on_numba.trace.backend == "numba" and not on_numba.trace.steps_of("t_numpy_exp")
    assert graph_key(on_numba.graph) != graph_key(on_numpy.graph)
    assert graph_key(on_numba.graph) == graph_key(gw.rewrite(gw.Graph([x], [out]), backend="numba")[0])
