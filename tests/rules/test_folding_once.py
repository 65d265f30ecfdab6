"""Constant folding runs a multi-output node's ``perform`` once per node, not once per output (issue 14, item 7)."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.rules.folding import fold
from graphwright.tensor.join import Split


@pytest.fixture
def perform_calls(monkeypatch):
    calls = []
    original = Split.perform

    def counting(self, *inputs):
        calls.append(self)
        return original(self, *inputs)

    monkeypatch.setattr(Split, "perform", counting)
    return calls


@pytest.mark.parametrize("pieces", [2, 3, 6])
def test_folding_every_output_of_a_split_performs_once(perform_calls, pieces):
    outs = gw.split(gw.constant(np.arange(6.0 * pieces) + pieces), [6] * pieces)  # values no other test folds
    graph, trace = gw.rewrite(gw.Graph([], [o * 2.0 for o in outs]))
    assert len(perform_calls) == 1, f"Split.perform ran {len(perform_calls)} times for {pieces} outputs"
    assert len(trace.steps_of("constant_folding")) >= pieces
    values = gw.function([], graph.outputs)()
    for k, v in enumerate(values):
        np.testing.assert_array_equal(v, 2.0 * (np.arange(6.0) + 6 * k + pieces))


def test_fold_of_each_output_reuses_the_node_result(perform_calls):
    outs = gw.split(gw.constant(np.arange(10.0) - 7.5), [4, 6])
    a, b = fold(outs[0]), fold(outs[1])
    again = fold(outs[0])
    assert len(perform_calls) == 1
    np.testing.assert_array_equal(a.data, np.arange(4.0) - 7.5)
    np.testing.assert_array_equal(b.data, np.arange(4.0, 10.0) - 7.5)
    assert again is a  # interned: the same constant


def test_a_failing_multi_output_perform_is_not_retried(monkeypatch):
    calls = []

    def failing(self, *inputs):
        calls.append(self)
        raise ValueError("no")

    monkeypatch.setattr(Split, "perform", failing)
    outs = gw.split(gw.constant(np.arange(9.0) + 0.125), [4, 5])
    assert fold(outs[0]) is None and fold(outs[1]) is None
    assert len(calls) == 1
