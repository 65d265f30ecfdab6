"""Rules on long variadic nodes cost linear work in the node's arity (issue 14).

The work is counted, not timed: the number of source lines the rule modules execute (a loop iteration of a
comprehension is one line event), and the number of rule applications of a whole rewrite. A rule that compares
every operand with every other one makes the count grow 100x when the arity grows 10x; a linear one about 10x.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import graphwright as gw
from graphwright.rewrite.rule import Rule
from graphwright.rules import broadcast, canonicalize, stabilize_taylor
from graphwright.tensor import elemwise as ew

RULE_DIR = str(Path(canonicalize.__file__).parent)


def _lines_run(fn, *args) -> tuple[object, int]:
    """``fn(*args)`` and the number of line events it executed in core/rules and core/tensor/type.py."""
    count = [0]

    def tracer(frame, event, arg):
        name = frame.f_code.co_filename
        if not (name.startswith(RULE_DIR) or name.endswith("tensor/type.py")):
            return None
        if event == "line":
            count[0] += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = fn(*args)
    finally:
        sys.settrace(previous)
    return result, count[0]


def _growth(build, rule_fn, small: int = 40, large: int = 400) -> float:
    """How much the traced work of ``rule_fn`` on ``build(k)`` grows from ``small`` to ``large`` operands."""
    counts = []
    for k in (small, large):
        var = build(k)
        _, lines = _lines_run(rule_fn, var, None)
        counts.append(lines)
    return counts[1] / counts[0]


def _sum_of_functions(k: int) -> gw.Variable:
    """``sin(x0) + x0 + sin(x1) + x1 + ...``, one flat add of 2k terms where no term cancels a Taylor term."""
    xs = [gw.vector(f"x{j}") for j in range(k)]
    return ew.elemwise("add", *[t for x in xs for t in (gw.sin(x), x)])


def test_taylor_remainder_is_linear_in_a_long_sum():
    assert stabilize_taylor._taylor_remainder.fn(_sum_of_functions(40), None) is None  # nothing cancels
    assert _growth(_sum_of_functions, stabilize_taylor._taylor_remainder.fn) <= 12


def _long_quotient(k: int) -> gw.Variable:
    """``(x * a0 * ... * a_k) / (x * b0 * ... * b_k)``: one common factor among 2k distinct ones."""
    x = gw.vector("x")
    top = ew.mul(x, *[gw.vector(f"a{j}") for j in range(k)])
    return top / ew.mul(x, *[gw.vector(f"b{j}") for j in range(k)])


def test_mul_div_cancel_is_linear():
    x, a, b = gw.vector("x"), gw.vector("a"), gw.vector("b")
    assert canonicalize.mul_div_cancel.fn(ew.mul(x, a, x, b) / ew.mul(b, x, a), None) is x
    assert _growth(_long_quotient, canonicalize.mul_div_cancel.fn) <= 12


def test_mul_div_cancel_cancels_repeated_factors_once_each():
    x, y = gw.vector("x"), gw.vector("y")
    new = canonicalize.mul_div_cancel.fn(ew.mul(x, x, y) / ew.mul(x, y, y), None)
    assert str(new) == str(x / y)


def _many_length_one_constants(k: int) -> gw.Variable:
    """``mul([2.], [3.], ..., x0, x1, ...)``: k length-1 constants, then k full-shape operands."""
    constants = [gw.constant(np.array([2.0 + j])) for j in range(k)]
    return ew.elemwise("mul", *constants, *[gw.vector(f"x{j}", shape=(3,)) for j in range(k)])


def test_elemwise_scalar_constant_is_linear():
    var = _many_length_one_constants(3)
    new = broadcast.elemwise_scalar_constant.fn(var, None)
    assert all(c.type.ndim == 0 for c in new.owner.inputs[:3])
    assert _growth(_many_length_one_constants, broadcast.elemwise_scalar_constant.fn) <= 12


def test_elemwise_scalar_constant_needs_another_full_operand():
    c = gw.constant(np.array([2.0]))
    var = ew.elemwise("mul", gw.scalar("s"), c)  # the constant alone gives the output its rank: stays
    assert broadcast.elemwise_scalar_constant.fn(var, None) is None


def test_broadcast_shapes_is_linear_in_the_operand_count():
    from graphwright.tensor.type import broadcast_shapes

    def shapes(k):
        return [(None, 3)] * k + [(1, 3)] * k

    counts = [_lines_run(broadcast_shapes, shapes(k), "add")[1] for k in (40, 400)]
    assert broadcast_shapes(shapes(2), "add") == (None, 3)
    assert counts[1] / counts[0] <= 12


def _motif_cost(n: int) -> tuple[list[gw.Variable], gw.Variable]:
    """The sum of n gradient-friendly motifs (log1p, exp, tanh, a product) over 4 inputs."""
    xs = [gw.vector(f"x{j}") for j in range(4)]
    terms = []
    for j in range(n):
        a, b = xs[j % 4], xs[(j + 1) % 4]
        terms.append([gw.log1p(gw.exp(a * (j + 1))), gw.tanh(a) * b, gw.exp(b) - 1 - b][j % 3] * (0.5 + j))
    return xs, gw.sum(ew.elemwise("add", *terms))


@pytest.fixture
def count_rule_applications(monkeypatch):
    """A counter of every rule application (``Rule.apply``), tried or fired."""
    calls = [0]
    original = Rule.apply

    def counted(self, *args, **kw):
        calls[0] += 1
        return original(self, *args, **kw)

    monkeypatch.setattr(Rule, "apply", counted)
    return calls


def test_gradient_rewrite_tries_rules_linearly(count_rule_applications):
    tries, nodes = [], []
    for n in (30, 300):
        xs, cost = _motif_cost(n)
        graph = gw.Graph(xs, [cost, *gw.grad(cost, xs)])
        nodes.append(graph.node_count)
        count_rule_applications[0] = 0
        gw.rewrite(graph, phases="fast_run")
        tries.append(count_rule_applications[0])
    assert tries[1] / tries[0] <= 1.2 * nodes[1] / nodes[0]
