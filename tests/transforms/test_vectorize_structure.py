"""Vectorize rules of the structural ops (join, split, make_vector, indexing, eye): batched and unbatched inputs
mixed, several batch ranks, compared with a loop over the batch slices; records which cases need no Blockwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import toposort
from graphwright.tensor.blockwise import Blockwise
from graphwright.tensor.shape import make_vector


@dataclass(frozen=True)
class I:  # noqa: E742 - one input of a case
    shape: tuple = ()
    dtype: str = "float64"
    batch: tuple = ()  # batch shape of the replacement; () = not batched
    value: object = None  # explicit value (batched shape when batched), else drawn
    dyn: bool = False  # batch lengths unknown (None) in the replacement's type


@dataclass(frozen=True)
class V:
    id: str
    build: Callable
    inputs: tuple
    direct: bool = True  # the vectorized graph has no Blockwise


IDX = np.array([0, 3, 1])
J = np.array([2, 0, 2])
MASK45 = np.array([[True, False, True, False, True]] * 2 + [[False] * 5, [True] * 5])
SAME_COUNT = np.stack([np.roll(MASK45, s, axis=1) for s in range(3)])  # 3 masks with equal counts
BASE = np.arange(12.0).reshape(3, 4) - 5.5  # 6 positive entries, also reversed or doubled
X = I((4, 5, 3), batch=(2,))
X2 = I((4, 5, 3), batch=(2, 3))


def _set(v, y, idx=np.s_[1:3]):
    return gw.set_subtensor(v[idx], y)


CASES = [
    # concatenate / stack / split
    V("concat-batched-unbatched", lambda a, b: gw.concatenate([a, b]), (I((2, 3), batch=(4,)), I((1, 3)))),
    V("concat-unbatched-batched-rank2", lambda a, b: gw.concatenate([a, b], axis=1),
      (I((3, 2)), I((3, 1), batch=(2, 4)))),
    V("concat-ranks-broadcast", lambda a, b, c: gw.concatenate([a, b, c], axis=-1),
      (I((2, 3, 1), batch=(2, 1)), I((2, 3, 2), batch=(3,)), I((2, 3, 4)))),
    V("concat-dynamic-batch", lambda a, b: gw.concatenate([a, b]), (I((2,), batch=(4,), dyn=True), I((3,)))),
    V("concat-mixed-dtypes", lambda a, b: gw.concatenate([a, b]), (I((2,), "int8", batch=(3,)), I((3,), "float32"))),
    V("stack-axis-1", lambda a, b: gw.stack([a, b], axis=-1), (I((3, 4)), I((3, 4), batch=(2,)))),
    V("stack-scalars", lambda a, b, c: gw.stack([a, b, c]), (I((), batch=(4,)), I(()), I((), batch=(2, 1)))),
    V("split-axis0", lambda x: gw.split(x, [2, 3]), (I((5, 4), batch=(2, 3)),)),
    V("split-axis-1", lambda x: gw.split(x, [3, 1], axis=-1), (I((2, 3, 4), batch=(2,), dyn=True),)),
    V("split-symbolic-sizes", lambda x, s: gw.split(x, s), (I((4, 3), batch=(2,)), I((2,), "int64", (), [1, 3]))),
    V("split-batched-sizes", lambda x, s: gw.split(x, s),
      (I((4, 3), batch=(2,)), I((2,), "int64", (2,), [[1, 3], [1, 3]])), direct=False),
    # make_vector
    V("make_vector", lambda a, b: make_vector([a, b, 7]),
      (I((), "int64", (4,)), I((), "int8", (2, 1)))),
    V("make_vector-one-batched", lambda a, b: make_vector([a, b], "float64"), (I(()), I((), batch=(3,), dyn=True))),
    # basic indexing of a batched x
    V("getitem-int", lambda v: v[1], (X,)),
    V("getitem-slice", lambda v: v[1:3], (X2,)),
    V("getitem-neg-step", lambda v: v[3:0:-2, -1], (X,)),
    V("getitem-newaxis-ellipsis", lambda v: v[None, ..., 0], (X2,)),
    V("getitem-symbolic-slice", lambda v, i, j: v[i:j, 1], (X, I((), "int64", (), 1), I((), "int64", (), 3))),
    # advanced indexing of a batched x (unbatched indices)
    V("getitem-array", lambda v: v[IDX], (X,)),
    V("getitem-arrays-adjacent", lambda v: v[1:, IDX, J], (I((3, 4, 5), batch=(2,)),)),
    V("getitem-arrays-separated", lambda v, i, j: v[i, :, j], (X2, I((3,), "int64", (), IDX), I((3,), "int64", (), J))),
    V("getitem-int-array-separated", lambda v: v[1, :, [0, 2]], (X,)),
    V("getitem-2d-array-separated", lambda v: v[IDX[:, None], :, J[:2]], (X,)),
    V("getitem-arrays-empty-ellipsis", lambda v: v[IDX, ..., J], (I((4, 3), batch=(2, 3)),)),
    V("getitem-mask", lambda v, m: v[m], (I((4, 5), batch=(3,)), I((4, 5), "bool", (), MASK45))),
    V("getitem-mask-then-slice", lambda v: v[np.array([True, False, True, True]), 1:], (X2,)),
    # batched indices
    V("getitem-batched-array", lambda v, i: v[i], (X, I((3,), "int64", (2,), [IDX, J]))),
    V("getitem-batched-2d-array-only", lambda v, i: v[i], (I((4, 5)), I((2, 3), "int64", (2,), [[IDX, J], [J, IDX]]))),
    V("getitem-batched-int", lambda v, k: v[:, k], (X, I((), "int64", (2,), [1, -2]))),
    V("getitem-batched-array-separated", lambda v, i, j: v[i, :, j],
      (X2, I((3,), "int64", (3,), [IDX, J, IDX]), I((3,), "int64", (), J))),
    V("getitem-batched-array-x-static1", lambda v, i: v[i], (I((4, 5), batch=(1,)), I((3,), "int64", (2,), [IDX, J]))),
    V("getitem-batched-mask", lambda v, m: v[m, 1:], (I((4, 5, 3), batch=(3,)), I((4, 5), "bool", (3,), SAME_COUNT))),
    V("getitem-batched-mask-expr", lambda v: v[v > 0], (I((3, 4), batch=(3,), value=[BASE, BASE[::-1], 2 * BASE]),)),
    V("getitem-batched-array-and-mask", lambda v, i: v[i, MASK45[0]], (X, I((3,), "int64", (2,), [IDX, J]))),
    V("getitem-batched-int-empty-ellipsis", lambda v, k: v[k, ..., J],
      (I((4, 3), batch=(2,)), I((), "int64", (2,), [1, 3]))),
    V("getitem-batched-slice-bound", lambda v, s: v[s:], (X, I((), "int64", (2,), [1, 1])), direct=False),
    V("getitem-batched-mask-not-first", lambda v, m: v[:, m], (I((3, 4, 5)), I((4, 5), "bool", (3,), SAME_COUNT)),
      direct=False),
    # set_subtensor / inc_subtensor
    V("set-x-batched", lambda v, y: _set(v, y), (I((4, 5), batch=(2, 3)), I((2, 5)))),
    V("set-y-batched-broadcast", lambda v, y: _set(v, y), (I((4, 5), batch=(2,)), I((1, 5), batch=(3, 1)))),
    V("set-x-unbatched-y-batched", lambda v, y: _set(v, y), (I((4, 5)), I((5,), batch=(3,), dyn=True))),
    V("set-mask-y-batched", lambda v, m, y: gw.set_subtensor(v[m], y),
      (I((4, 5), batch=(2,)), I((4, 5), "bool", (), MASK45), I((), batch=(2,)))),
    V("inc-separated-y-batched", lambda v, y: gw.inc_subtensor(v[IDX, :, J], y), (X, I((3, 5), batch=(2,)))),
    V("inc-separated-y-unbatched", lambda v, y: gw.inc_subtensor(v[IDX, :, J], y), (X2, I((3, 1)))),
    V("inc-separated-y-only-batched", lambda v, y: gw.inc_subtensor(v[IDX, :, J], y),
      (I((4, 5, 3)), I((5,), batch=(3,)))),
    V("inc-duplicates", lambda v, y: gw.inc_subtensor(v[[0, 0, 2]], y), (I((4, 3), batch=(2,)), I((3, 3), batch=(2,)))),
    V("set-int-neg-step", lambda v, y: gw.set_subtensor(v[1, ::-2], y), (I((3, 5), "int64", (2,)), I((3,), "int8"))),
    V("inc-batched-index", lambda v, i: gw.inc_subtensor(v[i], 1.0),
      (I((4,), batch=(2,)), I((3,), "int64", (2,), [IDX, J])), direct=False),
    # creation
    V("eye-batched-k", lambda k: gw.eye(3, 4, k), (I((), "int64", (3,), [-1, 0, 2]),)),
    V("eye-batched-n", lambda n: gw.eye(n, 3), (I((), "int64", (2,), [3, 3]),), direct=False),
    V("arange-batched", lambda s: gw.arange(s, s + 3), (I((), "int64", (2,), [0, 4]),), direct=False),
]


def _value(spec: I, rng: np.random.Generator) -> np.ndarray:
    shape = spec.batch + spec.shape
    if spec.value is not None:
        return np.asarray(spec.value, dtype=spec.dtype).reshape(shape)
    if spec.dtype == "bool":
        return rng.random(shape) < 0.5
    if np.dtype(spec.dtype).kind in "iu":
        return rng.integers(-3, 4, shape).astype(spec.dtype)
    return rng.normal(size=shape).astype(spec.dtype)


@pytest.mark.parametrize("rewrites", [None, "fast_run"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_vectorized_equals_loop(case: V, rewrites: str | None) -> None:
    rng = np.random.default_rng(0)
    symbols = [gw.tensor(f"in{k}", dtype=s.dtype, shape=s.shape) for k, s in enumerate(case.inputs)]
    values = [_value(s, rng) for s in case.inputs]
    outs = case.build(*symbols)
    outs = list(outs) if isinstance(outs, list | tuple) else [outs]
    replace = {x: gw.tensor(f"b{k}", dtype=s.dtype, shape=tuple(None if s.dyn else n for n in s.batch) + s.shape)
               for k, (x, s) in enumerate(zip(symbols, case.inputs, strict=True)) if s.batch}
    vouts = gw.vectorize_graph(outs, replace)
    got = gw.function([replace.get(x, x) for x in symbols], vouts, rewrites=rewrites)(*values)
    batch = np.broadcast_shapes(*(s.batch for s in case.inputs))
    full = []
    for v, s in zip(values, case.inputs, strict=True):
        v = v.reshape((1,) * (len(batch) - len(s.batch)) + v.shape) if s.batch else v
        full.append(np.broadcast_to(v, batch + s.shape) if s.batch else v)
    f_once = gw.function(symbols, outs, rewrites=None)
    rows = [f_once(*[v[index] if s.batch else v for v, s in zip(full, case.inputs, strict=True)])
            for index in np.ndindex(batch)]
    for i, g in enumerate(got):
        expected = np.stack([np.asarray(r[i]) for r in rows]).reshape(batch + np.shape(rows[0][i]))
        assert np.asarray(g).dtype == expected.dtype
        assert all(s in (None, n) for s, n in zip(vouts[i].type.shape, expected.shape, strict=True)), vouts[i].type
        np.testing.assert_allclose(g, expected, rtol=1e-12)
    blockwise = [n for n in toposort(vouts) if isinstance(n.op, Blockwise)]
    assert (not blockwise) == case.direct, blockwise


def test_batched_mask_with_different_counts_fails_like_the_loop() -> None:
    x, m = gw.matrix("x"), gw.matrix("m", dtype="bool")
    xb, mb = gw.tensor3("xb"), gw.tensor3("mb", dtype="bool")
    out = gw.vectorize_graph(x[m], {x: xb, m: mb})
    f = gw.function([xb, mb], out, rewrites=None)
    masks = np.stack([MASK45, ~MASK45, MASK45])
    with pytest.raises(RuntimeError, match="reshape"):  # the loop fails too: the pieces differ in length
        f(np.ones((3, 4, 5)), masks)
    np.testing.assert_array_equal(f(np.ones((3, 4, 5)), SAME_COUNT), np.ones((3, 11)))
