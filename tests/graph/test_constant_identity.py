"""Constant identity (issue 14, items 2 and 7): bit patterns, names, weak interning; internal errors are raised.

Constants are hash-consed on their bit pattern and their name (see ``graphwright.tensor.type.intern_constant``).
"""

import gc
import weakref

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import Graph
from graphwright.graph.destroy import AliasTracker
from graphwright.tensor import elemwise as ew

BIG = 1000  # well past the 64 sampled elements of the hash


def _with(value, index: int, size: int = BIG) -> np.ndarray:
    data = np.zeros(size)
    data[index] = value
    return data


@pytest.mark.parametrize("index", [1, 2, 63, 500, BIG - 2])  # unsampled positions, and a few sampled ones
def test_large_constants_differing_by_the_sign_of_a_zero_are_distinct(index):
    plus, minus = gw.constant(_with(0.0, index)), gw.constant(_with(-0.0, index))
    assert plus is not minus
    assert np.signbit(minus.data[index]) and not np.signbit(plus.data[index])
    x = gw.vector("x")
    f = gw.function([x], [x / plus[index], x / minus[index]])
    got_plus, got_minus = f(np.ones(2))
    np.testing.assert_array_equal(got_plus, [np.inf, np.inf])
    np.testing.assert_array_equal(got_minus, [-np.inf, -np.inf])


def test_the_issue_example_divides_by_minus_zero():
    c = np.zeros(100)
    c[1] = -0.0
    x = gw.vector("x")
    gw.constant(np.zeros(100))  # an equal-looking constant interned first
    np.testing.assert_array_equal(gw.function([x], x / gw.constant(c)[1])(np.ones(1)), [-np.inf])


def test_nan_payloads_are_told_apart_and_equal_nans_shared():
    quiet = np.full(BIG, np.nan)
    other = quiet.copy()
    other.view(np.uint64)[BIG - 3] ^= 1  # another NaN payload at an unsampled position
    assert np.isnan(other[BIG - 3])
    assert gw.constant(quiet) is not gw.constant(other)
    assert gw.constant(quiet) is gw.constant(quiet.copy())
    assert gw.constant(np.nan) is gw.constant(float("nan"))


def test_memory_order_does_not_change_identity():
    data = np.arange(12.0).reshape(3, 4)
    assert gw.constant(np.asfortranarray(data)) is gw.constant(data)
    assert gw.constant(data.T) is not gw.constant(data)


def test_a_constant_created_with_a_new_name_shows_its_own_name():
    lr = gw.constant(0.9, name="lr")
    momentum = gw.constant(0.9, name="momentum")
    assert (lr.name, momentum.name) == ("lr", "momentum")
    assert gw.constant(0.9, name="lr") is lr  # the same named constant is one object: graphs hash-cons
    assert gw.constant(0.9).name is None  # an unnamed one is not renamed by the named ones
    x = gw.vector("x")
    assert (x * momentum) is (x * momentum)
    assert (x * momentum).owner.inputs[1].name == "momentum"
    assert (x * lr).owner.inputs[1].name == "lr"
    v = np.array([1.0, 2.0])
    np.testing.assert_allclose(gw.function([x], x * momentum - x * lr)(v), [0.0, 0.0])


def test_names_do_not_leak_between_large_constants():
    data = np.linspace(0, 1, BIG)
    w = gw.constant(data, name="weights")
    b = gw.constant(data.copy(), name="bias")
    assert (w.name, b.name) == ("weights", "bias")
    assert gw.constant(data) is not w and gw.constant(data).name is None


def test_weak_scalar_constants_are_freed_when_unreferenced():
    x = gw.vector("x")
    value = 98765.4321  # a value no other test uses
    y = x * value
    ref = weakref.ref(y.owner.inputs[1])
    assert (x * value).owner.inputs[1] is ref()  # cached while held
    del y
    gc.collect()
    assert ref() is None, "the weak-scalar cache keeps a constant nobody uses alive"
    assert not any(k[2] == value for k in ew._WEAK_CONSTANTS.keys())


def test_interned_constants_are_freed_when_unreferenced():
    c = gw.constant(np.full(BIG, 3.25), name="freed")
    ref = weakref.ref(c)
    del c
    gc.collect()
    assert ref() is None


def test_alias_tracker_out_of_order_is_a_clear_error():
    x = gw.vector("x")
    y = gw.exp(x)
    z = gw.log(y)
    graph = Graph([x], [z])
    tracker = AliasTracker(graph)
    with pytest.raises(ValueError, match="topological order.*is node 1, the next one to add is node 0"):
        tracker.add(z.owner, {})
    other = gw.sin(x).owner
    with pytest.raises(ValueError, match="is not a node of the tracked graph"):
        tracker.add(other, {})
    tracker.add(y.owner, {})
    tracker.add(z.owner, {})  # in order: fine


def test_constants_differing_anywhere_hash_apart():
    """One-hot vectors differ outside any bounded sample: hashing a sample put them all in one bucket and made
    interning n of them quadratic (1,000 of length 1,000: 21 s). Every byte is hashed now."""
    n = 1000
    keep = []
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1.0
        keep.append(gw.constant(e))
    assert len({id(c) for c in keep}) == n
    assert len({hash(c._key) for c in keep}) == n
    big = np.zeros(10_000)  # above the digest threshold
    flipped = big.copy()
    flipped[7_777] = -0.0
    assert hash(gw.constant(big)._key) != hash(gw.constant(flipped)._key)
