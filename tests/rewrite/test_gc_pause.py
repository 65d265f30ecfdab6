"""A rewrite runs no automatic full garbage collection (issue 14): each would traverse the whole heap."""

from __future__ import annotations

import gc

import pytest

import graphwright as gw
from graphwright.rewrite import Rule, RuleSet


@pytest.fixture
def eager_collector():
    """Thresholds that would make CPython run a full collection often; restored afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(10, 1, 1)
    yield
    gc.set_threshold(*before)


def test_a_rewrite_suspends_full_collections_only(eager_collector):
    seen = []

    def probe(var, ctx):
        seen.append(gc.get_threshold())

    gw.rewrite(gw.exp(gw.vector("x")) + 1, rules=RuleSet("custom", [Rule("threshold_probe", fn=probe)]))
    assert seen and all(t[:2] == (10, 1) and t[2] > 1_000_000 for t in seen)  # young collections still run
    assert gc.get_threshold() == (10, 1, 1)


def test_the_thresholds_come_back_after_a_failing_rule(eager_collector):
    seen = []

    def broken(var, ctx):
        seen.append(gc.get_threshold())
        raise ValueError("boom")

    rules = RuleSet("custom", [Rule("broken_probe", fn=broken)])
    gw.rewrite(gw.exp(gw.vector("x")), rules=rules)
    assert seen and all(t[2] > 1 for t in seen)
    assert gc.get_threshold() == (10, 1, 1)
