"""A single backend name given as a str is one backend everywhere ``backends=`` is accepted, never its letters."""

import pytest

from graphwright.rewrite import Rule, RuleSet, function_rule, graph_rule, register, unregister


def _none(var, ctx):
    """leaves the graph alone"""


def test_a_str_names_one_backend_in_every_constructor():
    assert Rule("t_s_rule", fn=_none, backends="numba").backends == {"numba"}
    assert function_rule("t_s_fn", backends="numba")(_none).backends == {"numba"}
    assert graph_rule("t_s_graph", backends="jax")(lambda outputs, ctx: []).backends == {"jax"}
    rs = RuleSet("t_s_set", [Rule("t_s_in_set", fn=_none)], backends="jax")
    assert rs["t_s_in_set"].backends == {"jax"}
    registered = register("specialize", RuleSet("t_s_phase", [Rule("t_s_in_phase", fn=_none)]), backends="torch")
    try:
        assert registered["t_s_in_phase"].backends == {"torch"}
    finally:
        unregister("specialize", registered)


def test_an_unknown_str_backend_is_named_whole():
    with pytest.raises(ValueError, match=r"unknown backend\(s\) 'numab' in backends="):
        function_rule("t_s_typo", backends="numab")(_none)
    with pytest.raises(ValueError, match=r"unknown backend\(s\) 'cuda' in backends="):
        RuleSet("t_s_typo_set", [Rule("t_s_typo_rule", fn=_none)], backends="cuda")
