"""The Type protocol (TensorType and RNGType) and a non-tensor value carried through function, grad, vectorize
and the rewrite engine."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.compile import UnsupportedTypeError, refuse_unsupported_types
from graphwright.backends.wide_inputs import WIDE_INPUTS
from graphwright.graph.basic import Apply, GraphError, InputError, Op
from graphwright.rewrite import type_problem
from graphwright.tensor.random_type import RNGType
from graphwright.tensor.type import TensorType


@dataclass(frozen=True)
class PassRNG(Op):
    """Identity on a generator (its output is its input: a 'view', so function() must copy it)."""

    returns_view = True

    def make_node(self, rng):
        if not isinstance(rng.type, RNGType):
            raise GraphError(f"PassRNG needs a generator, got {rng.type.short()}")
        return Apply.create(self, [rng], [rng.type])

    def perform(self, rng):
        return rng


@dataclass(frozen=True)
class ShiftedUniform(Op):
    """A functional draw: ``(rng, loc) -> (next_rng, loc + uniform(shape of loc))``; the input generator is
    never advanced."""

    nout = 2

    def make_node(self, rng, loc):
        loc = gw.as_tensor(loc)
        return Apply.create(self, [rng, loc], [rng.type, loc.type])

    def perform(self, rng, loc):
        next_rng = copy.deepcopy(rng)
        return next_rng, np.asarray(loc + next_rng.random(np.shape(loc)))

    def pullback(self, node, output_grads):
        return [None, output_grads[1]]


def _expected_draw(seed: int, loc: np.ndarray) -> np.ndarray:
    return loc + np.random.default_rng(seed).random(loc.shape)


# (type, a value it accepts, its canonical form, a value it refuses, words the refusal must contain)
PROTOCOL_CASES = [
    (TensorType("float64", (2,)), [1, 2], np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]),
     ["input 0 (x)", "float64[2]", "shape (3,)"]),
    (TensorType("int64", ()), 3, np.array(3), np.float64(1.5), ["input 0 (x)", "int64", "float64"]),
    (RNGType(), np.random.default_rng(1), np.random.default_rng(1), np.random.RandomState(0),
     ["input 0 (x)", "numpy.random.Generator", "RandomState"]),
]


@pytest.mark.parametrize(("ttype", "good", "canonical", "bad", "words"), PROTOCOL_CASES)
def test_filter_accepts_valid_values_and_refuses_others_naming_input_and_types(ttype, good, canonical, bad,
                                                                                words):
    assert ttype.values_equal(ttype.filter(good, name="input 0 (x)"), canonical)
    assert ttype.is_valid(good) and not ttype.is_valid(bad)
    with pytest.raises(InputError) as info:
        ttype.filter(bad, name="input 0 (x)", op="demo_op")
    message = str(info.value)
    assert message.startswith("demo_op: input 0 (x)")
    for word in words:
        assert word in message


@pytest.mark.parametrize(("ttype", "good", "canonical", "bad", "words"), PROTOCOL_CASES)
def test_copy_value_is_equal_and_independent(ttype, good, canonical, bad, words):
    value = ttype.filter(good)
    copied = ttype.copy_value(value)
    assert copied is not value and ttype.values_equal(copied, value)
    if ttype.is_tensor:
        copied[...] = 7
    else:
        copied.random()  # advancing the copy leaves the original where it was
    assert not ttype.values_equal(copied, value)


def test_short_and_tensor_flag_describe_each_type():
    assert (TensorType("float32", (3, None)).short(), RNGType().short()) == ("float32[3,?]", "rng")
    assert TensorType("float64", ()).is_tensor and not RNGType().is_tensor
    assert RNGType() == RNGType() and hash(RNGType()) == hash(RNGType())


REPLACEMENT_CASES = [
    (RNGType(), RNGType(), None),
    (RNGType(), TensorType("float64", ()), "type changes from rng to float64[]"),
    (TensorType("float64", ()), RNGType(), "type changes from float64[] to rng"),
    (TensorType("float64", (None,)), TensorType("float64", (3,)), None),
    (TensorType("float64", (3,)), TensorType("float64", (None,)), "static shape changes from float64[3]"),
    (TensorType("float64", (None,)), TensorType("float32", (None,)), "dtype changes from float64 to float32"),
]


@pytest.mark.parametrize(("old", "new", "problem"), REPLACEMENT_CASES)
def test_replacement_problem_may_replace_and_type_problem_agree(old, new, problem):
    found = old.replacement_problem(new)
    assert found is None if problem is None else found.startswith(problem)
    assert new.may_replace(old) is (problem is None)
    assert type_problem(old.make_variable(name="a"), new.make_variable(name="b")) == found


def test_rng_passed_through_an_identity_op_comes_back_as_a_copy_in_the_same_state():
    rng = gw.rng_var("rng")
    f = gw.function([rng], PassRNG()(rng), backend="numpy")
    given = np.random.default_rng(5)
    returned = f(given)
    assert isinstance(returned, np.random.Generator) and returned is not given
    assert returned.random() == np.random.default_rng(5).random()
    assert given.random() == np.random.default_rng(5).random()  # the caller's generator did not advance


def test_rng_input_listed_as_output_is_copied_too():
    rng, x = gw.rng_var("rng"), gw.vector("x")
    f = gw.function([rng, x], [rng, x * 2.0], backend="numpy")
    given = np.random.default_rng(0)
    out_rng, doubled = f(given, np.ones(2))
    assert out_rng is not given and RNGType().values_equal(out_rng, given)
    np.testing.assert_array_equal(doubled, [2.0, 2.0])


def test_a_draw_with_the_same_generator_state_gives_the_same_values_and_a_next_generator():
    rng, loc = gw.rng_var("rng"), gw.vector("loc")
    next_rng, value = ShiftedUniform()(rng, loc)
    f = gw.function([rng, loc], [next_rng, gw.exp(value).sum()], backend="numpy")
    zeros = np.zeros(4)
    first_next, total = f(np.random.default_rng(3), zeros)
    np.testing.assert_allclose(total, np.exp(_expected_draw(3, zeros)).sum())
    assert f(np.random.default_rng(3), zeros)[1] == total
    advanced = np.random.default_rng(3)
    advanced.random(4)
    assert RNGType().values_equal(first_next, advanced)


@pytest.mark.parametrize("bad", [42, np.random.RandomState(0), np.zeros(2)])
def test_function_refuses_a_non_generator_for_an_rng_input_naming_the_input(bad):
    rng = gw.rng_var("rng")
    f = gw.function([rng], PassRNG()(rng), backend="numpy")
    with pytest.raises(InputError, match=rf"input 0 \(rng\) expects a random generator .*got {type(bad).__name__}"):
        f(bad)


def test_many_inputs_check_an_rng_input_in_the_loop_form():
    scalars = [gw.scalar(f"s{k}") for k in range(WIDE_INPUTS + 4)]
    rng = gw.rng_var("rng")
    f = gw.function([*scalars, rng], [PassRNG()(rng), gw.add(*scalars[:2])], backend="numpy")
    out_rng, total = f(*([1.0] * len(scalars)), np.random.default_rng(0))
    assert isinstance(out_rng, np.random.Generator) and float(total) == 2.0
    with pytest.raises(InputError, match=rf"input {len(scalars)} \(rng\) expects a random generator"):
        f(*([1.0] * len(scalars)), 7)


@pytest.mark.parametrize("backend", ["numba", "jax", "torch"])
def test_other_backends_refuse_rng_values_by_name(backend):
    rng = gw.rng_var("rng")
    with pytest.raises(UnsupportedTypeError, match=rf"the {backend} backend cannot compile a graph holding rng.*"
                                                    "supported on: numpy"):
        refuse_unsupported_types(gw.Graph([rng], [PassRNG()(rng)]), backend)
    if backend in gw.available_backends():
        with pytest.raises(UnsupportedTypeError, match=f"the {backend} backend"):
            gw.function([rng], PassRNG()(rng), backend=backend)


def test_grad_flows_through_the_value_of_a_draw_and_never_to_the_generator():
    rng, loc = gw.rng_var("rng"), gw.vector("loc")
    next_rng, value = ShiftedUniform()(rng, loc)
    cost = gw.sum(value ** 2)
    f = gw.function([rng, loc], gw.grad(cost, loc), backend="numpy")
    loc_value = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(f(np.random.default_rng(9), loc_value), 2 * _expected_draw(9, loc_value))
    with pytest.raises(TypeError, match=r"grad: cannot differentiate with respect to rng \(rng\): it is not a tensor"):
        gw.grad(cost, rng)
    with pytest.raises(TypeError, match=r"grad: the cost .* \(rng\) is not a tensor"):
        gw.grad(next_rng, loc)


def test_vectorize_swaps_a_generator_but_never_batches_one():
    rng, other, loc = gw.rng_var("rng"), gw.rng_var("other"), gw.vector("loc")
    _, value = ShiftedUniform()(rng, loc)
    swapped = gw.vectorize_graph(value, {rng: other})
    assert swapped.owner.inputs[0] is other
    f = gw.function([other, loc], swapped, backend="numpy")
    np.testing.assert_allclose(f(np.random.default_rng(2), np.zeros(3)), _expected_draw(2, np.zeros(3)))
    with pytest.raises(TypeError, match=r"rng \(rng\) is not a tensor, so it is never batched"):
        gw.vectorize_graph(value, {rng: gw.matrix("m")})
    with pytest.raises(TypeError, match=r"other \(rng\) is not a tensor, so it is never batched"):
        gw.vectorize_graph(value, {loc: other})
    with pytest.raises(GraphError, match=r"ShiftedUniform .* has a value of type rng, which is never batched"):
        gw.vectorize_graph(value, {loc: gw.matrix("locs")})


def test_checked_rewrite_of_a_graph_with_an_rng_input_samples_a_generator():
    rng, loc = gw.rng_var("rng"), gw.vector("loc")
    next_rng, value = ShiftedUniform()(rng, loc)
    graph, trace = gw.rewrite(gw.Graph([rng, loc], [next_rng, gw.log(1 + gw.exp(value))]), check=True)
    assert graph.outputs[0] is next_rng and "softplus" in str(graph.outputs[1])
    assert [s.rule for s in trace.steps]
