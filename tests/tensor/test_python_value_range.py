"""Python ints and floats given for a narrow input must fit its dtype: no silent wraparound, no overflow to inf."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph.basic import InputError
from graphwright.tensor.type import TensorType


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "uint8", "uint16", "uint32"])
def test_every_integer_dtype_takes_its_range_and_refuses_one_past_it(dtype):
    info = np.iinfo(dtype)
    t = TensorType(dtype, (None,))
    assert t.filter([int(info.min), int(info.max)]).tolist() == [info.min, info.max]
    for bad in (int(info.min) - 1, int(info.max) + 1):
        with pytest.raises(InputError, match=rf"n expects dtype {dtype}, got the value {bad}, outside its range"):
            t.filter([0, bad], name="n")


def test_values_past_64_bits_are_refused_not_wrapped():
    assert TensorType("uint64", ()).filter(2**64 - 1) == 2**64 - 1
    for dtype, bad in (("int64", 2**63), ("int64", -(2**63) - 1), ("uint64", 2**64), ("uint64", -1)):
        with pytest.raises(InputError, match=rf"n expects dtype {dtype}"):
            TensorType(dtype, ()).filter(bad, name="n")


def test_a_compiled_function_names_the_input_value_and_dtype():
    n = gw.scalar("n", dtype="int8")
    f = gw.function([n], n + 0, backend="numpy")
    assert int(f(127)) == 127 and int(f(-128)) == -128
    with pytest.raises(InputError, match=r"input 0 \(n\) expects dtype int8, got the value 300"):
        f(300)
    with pytest.raises(InputError, match=r"got the value -129, outside its range \[-128, 127\]"):
        f(-129)


@pytest.mark.parametrize(("dtype", "too_big"), [("float32", 1e300), ("float32", -1e39),
                                                ("float32", [1.0, 3.5e38]), ("complex64", 1e300)])
def test_finite_values_that_overflow_a_float_dtype_are_refused(dtype, too_big):
    with pytest.raises(InputError, match=rf"x expects dtype {dtype}, got the value .*overflows it to infinity"):
        TensorType(dtype, (None,) if isinstance(too_big, list) else ()).filter(too_big, name="x")


def test_infinities_nans_and_large_finite_values_that_fit_pass():
    got = TensorType("float32", (None,)).filter([np.inf, -np.inf, np.nan, 3.4e38, 1e-50])
    assert np.array_equal(got, np.array([np.inf, -np.inf, np.nan, 3.4e38, 0.0], dtype="float32"), equal_nan=True)
    assert TensorType("float32", ()).filter(2**62) == np.float32(2.0**62)
