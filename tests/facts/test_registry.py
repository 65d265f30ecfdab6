"""The fact registry: implications, memoisation per variable, linear cost on deep graphs, bad queries."""

from __future__ import annotations

import sys

import pytest

import graphwright as gw
from graphwright.facts import has, implies, registry, stronger_facts


def test_implications_are_transitive_and_followed_by_queries():
    assert {"positive", "zeros", "identity"} <= stronger_facts("nonnegative")
    assert {"identity", "diagonal", "positive_definite"} <= stronger_facts("symmetric")
    s = gw.assume(gw.matrix("s"), "positive_definite")
    assert has("symmetric", s) and not has("diagonal", s)
    assert has("lower_triangular", gw.eye(4)) and has("nonnegative", gw.zeros((2,)))


def test_an_implication_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        implies("nonnegative", "positive")
    with pytest.raises(ValueError, match="unknown fact"):
        implies("positive", "happy")


def test_answers_are_memoised_per_variable():
    x = gw.vector("x")
    e = gw.exp(x)
    y = e + gw.maximum(x, e)
    assert has("nonnegative", y)
    assert registry._MEMO[y]["nonnegative"] is True
    assert registry._MEMO[e]["nonnegative"] is True  # asked on the way, once: e has two clients
    assert registry._MEMO[x]["nonnegative"] is False


def _chain(depth: int):
    v = gw.exp(gw.vector("x"))
    for k in range(depth):
        v = v + 0.25 if k % 2 else v * 1.5  # one node per step: a chain as deep as it is long
    return v


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_deep_chain_is_decided_without_recursion_in_linear_time(depth, monkeypatch):
    """100k nodes, deeper than any recursion limit; every (fact, variable) is decided a bounded number of
    times (each rule runs at most twice: once to request its inputs' facts, once to decide)."""
    v = _chain(depth)
    calls = [0]
    decide = registry._decide

    def counted(*args):
        calls[0] += 1
        return decide(*args)

    monkeypatch.setattr(registry, "_decide", counted)
    assert depth > sys.getrecursionlimit() or depth == 1_000
    assert has("nonnegative", v)
    assert calls[0] <= 2 * 3 * (depth + 1)  # each node for nonnegative and the facts implying it
    before = calls[0]
    assert has("nonnegative", v) and calls[0] == before  # answered from the memo


def test_bad_queries_name_what_is_wrong():
    with pytest.raises(ValueError, match="unknown fact.*'happy'.*the known facts are .*nonnegative"):
        has("happy", gw.vector("x"))
    with pytest.raises(TypeError, match="give one variable"):
        has("positive", 3.0)
    with pytest.raises(TypeError, match="expected a variable"):
        registry.facts_of("x")
    with pytest.raises(ValueError, match="declare it first"):
        registry.fact_rule("happy", gw.Variable)
