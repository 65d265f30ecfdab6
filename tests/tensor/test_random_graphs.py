"""Hypothesis: random small graphs of elementwise ops and reductions evaluate like the same NumPy expression,
and random graphs of every op of the library keep their values through the checked rewrite pipeline.

A ``@st.composite`` strategy builds a graphwright expression and a NumPy computation side by side from
rows of ``SCALAR_OPS``. Values stay inside each row's ``domain``: an operand of a restricted input is
squashed into it first (``lo + (hi - lo) * (0.05 + 0.9 * sigmoid(x))`` for a bounded domain,
``lo + 0.1 + abs(x)`` / ``hi - 0.1 - abs(x)`` for a half-line), and intermediate values whose magnitude
exceeds ``BOUND`` pass through ``tanh``. Discontinuous ops (floor, comparisons, int_div, casts to ints...)
are applied only to "exact" operands (inputs, constants and results of other discontinuous ops), which both
sides hold bit for bit, so that rounding differences cannot flip them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.special as sps
from every_op_graphs import CATALOGUE, RandomGraph, every_op_graphs  # this folder is on sys.path (pytest)
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphwright as gw
from graphwright.rewrite.check import rounding_spread, values_agree
from graphwright.tensor.elemwise import elemwise
from graphwright.tensor.scalar_ops import SCALAR_OPS

BOUND = 1e3  # intermediate magnitudes above this are squashed with tanh (keeps float32 comparisons sane)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.data_too_large])
TOLERANCES = {"float64": (1e-9, 1e-12), "float32": (2e-4, 2e-5)}

# The NumPy/SciPy mirror of the rows drawn here: this file's own dictionary (the plain ufuncs, mostly; the
# op table checks every row against independent formulas).
def _weak(fn: Callable, *args):
    """``fn`` with Python numbers as NumPy 2 "weak" operands (NEP 50), as graphwright treats them: SciPy's
    binary ufuncs pick a float64 loop for a Python float beside a float32 array."""
    arrays = [np.asarray(a) for a in args if not isinstance(a, float | int)]
    dtype = np.result_type(*arrays) if arrays else None
    return fn(*(np.asarray(a, dtype) if isinstance(a, float | int) and dtype is not None else a for a in args))


CONTINUOUS: dict[str, Callable] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "true_div": np.true_divide, "pow": np.power,
    "neg": np.negative, "abs": np.absolute, "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log,
    "log2": np.log2, "log10": np.log10, "log1p": np.log1p, "log1mexp": lambda x: np.log(-np.expm1(x)),
    "sqrt": np.sqrt, "sqr": np.square, "reciprocal": lambda x: 1 / x, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "arctan2": np.arctan2,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "arcsinh": np.arcsinh, "arccosh": np.arccosh,
    "arctanh": np.arctanh, "sigmoid": sps.expit, "softplus": lambda x: np.logaddexp(0, x), "erf": sps.erf,
    "erfc": sps.erfc, "erfcx": sps.erfcx, "erfinv": sps.erfinv, "gammaln": sps.gammaln, "digamma": sps.psi,
    "logit": sps.logit, "xlogy": lambda a, b: _weak(sps.xlogy, a, b),
    "hypot": np.hypot, "logaddexp": np.logaddexp, "maximum": np.maximum, "minimum": np.minimum,
    "clip": np.clip, "cast_float32": lambda x: x.astype("float32"), "cast_float64": lambda x: x.astype("float64"),
}
# Applied to exact operands only; their results are exact again.
DISCONTINUOUS: dict[str, Callable] = {
    "int_div": np.floor_divide, "mod": np.mod, "sign": np.sign, "floor": np.floor, "ceil": np.ceil,
    "round": np.round, "cast_int64": lambda x: x.astype("int64"),
}
COMPARISONS: dict[str, Callable] = {
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal, "eq": np.equal,
    "neq": np.not_equal, "isnan": np.isnan, "isinf": np.isinf, "cast_bool": lambda x: x.astype("bool"),
}
# Rows these graphs do not draw: bitwise ops, the narrow integer casts, the unsigned casts (negative floats
# wrap) and the complex casts (no continuous row takes their results): the op table and the every-op graphs
# (whose cases include the unsigned and complex dtypes) test them.
NOT_DRAWN = {"and", "or", "xor", "not", "cast_int8", "cast_int16", "cast_int32", "cast_uint8", "cast_uint16",
             "cast_uint32", "cast_uint64", "cast_complex64", "cast_complex128"}


def _logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) shifted by the maximum. (scipy.special.logsumexp gives shape (1,) for a 0-d input
    with keepdims=True, where NumPy reductions give ())."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    s = np.sum(np.exp(x - m), axis=axis, keepdims=keepdims)
    return np.log(s) + (m if keepdims else np.squeeze(m, axis=tuple(range(x.ndim)) if axis is None else axis))


REDUCTIONS: dict[str, Callable] = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
                                   "prod": np.prod, "logsumexp": _logsumexp}


@dataclass
class Node:
    var: object  # the graphwright variable
    val: np.ndarray  # its value, computed with NumPy
    text: str  # the NumPy expression, for failure reports
    exact: bool  # both sides hold this value bit for bit


@dataclass
class Case:
    inputs: list
    values: list
    outputs: list[Node]

    def describe(self) -> str:
        ins = ", ".join(f"{v.name}: {v.type.short()} = {a!r}" for v, a in zip(self.inputs, self.values,
                                                                               strict=True))
        outs = "; ".join(f"{n.var} <-> {n.text}" for n in self.outputs)
        return f"inputs {ins}\noutputs {outs}"


def _float_rule_operands(name: str, vals: list) -> list:
    """NumPy computes float ops of int8/bool in float16; graphwright (like np.exp, widened) in float32."""
    if SCALAR_OPS[name].dtype_rule != "float":
        return vals
    arrays = [np.asarray(v) for v in vals if isinstance(v, np.ndarray | np.generic)]
    target = np.exp.resolve_dtypes((np.result_type(*arrays), None))[-1]
    target = np.float32 if target == np.float16 else target
    return [v.astype(target) if isinstance(v, np.ndarray | np.generic) and v.dtype.kind in "biu" else v
            for v in vals]


def _compatible(nodes: list[Node]) -> bool:
    """Runtime shapes broadcast, and every broadcast runtime length 1 is a static 1 (graphwright's rule)."""
    shapes = [n.val.shape for n in nodes]
    try:
        out = np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    for n in nodes:
        static = n.var.type.shape
        offset = len(out) - len(static)
        for d, (rt, st_len) in enumerate(zip(n.val.shape, static, strict=True)):
            if rt == 1 and out[offset + d] != 1 and st_len != 1:
                return False
    return True


def _apply(name: str, fn: Callable, operands: list, exact: bool) -> Node:
    args = [o.var if isinstance(o, Node) else o for o in operands]
    vals = [o.val if isinstance(o, Node) else o for o in operands]
    var = gw.cast(args[0], name[5:]) if name.startswith("cast_") else elemwise(name, *args)
    with np.errstate(all="ignore"):
        val = np.asarray(fn(*_float_rule_operands(name, vals)))
    texts = ", ".join(o.text if isinstance(o, Node) else repr(o) for o in operands)
    return Node(var, val, f"{name}({texts})", exact)


def _bounded(node: Node) -> Node:
    """Squash large magnitudes with tanh so that later ops stay well conditioned."""
    if node.val.dtype.kind == "b" or (np.all(np.isfinite(node.val)) and np.all(np.abs(node.val) <= BOUND)):
        return node
    return _apply("tanh", np.tanh, [node], False)


def _into_domain(node: Node, domain: tuple) -> Node:
    lo, hi = domain
    if math.isinf(lo) and math.isinf(hi):
        return node
    if math.isfinite(lo) and math.isfinite(hi):
        s = _apply("sigmoid", sps.expit, [node], False)
        s = _apply("mul", np.multiply, [s, 0.9 * (hi - lo)], False)
        return _apply("add", np.add, [s, lo + 0.05 * (hi - lo)], False)
    a = _apply("abs", np.absolute, [node], False)
    if math.isfinite(lo):
        return _apply("add", np.add, [a, lo + 0.1], False)
    return _apply("sub", np.subtract, [hi - 0.1, a], False)


def _constant_in(draw, domain: tuple) -> float:
    lo, hi = domain
    lo = max(lo, -3.0) if math.isinf(lo) else lo
    hi = min(hi, 3.0) if math.isinf(hi) else hi
    margin = 0.05 * (hi - lo)
    return draw(st.sampled_from(sorted({round(lo + margin, 2), round(hi - margin, 2), round((lo + hi) / 2, 2),
                                        round(lo + 0.3 * (hi - lo), 2)})))


def numeric(n: Node) -> bool:
    return n.val.dtype.kind in "fi"


def _pick(draw, pool: list[Node], ok: Callable[[Node], bool], partners: list[Node]) -> Node | None:
    candidates = [n for n in pool if ok(n) and _compatible(partners + [n])]
    return draw(st.sampled_from(candidates)) if candidates else None


@st.composite
def graphs(draw, with_reductions: bool = False) -> Case:
    dtype = draw(st.sampled_from(["float64", "float32"]))
    base = draw(st.sampled_from([(), (4,), (3, 4), (2, 3, 4)]))
    inputs, values, pool = [], [], []
    for i in range(draw(st.integers(1, 3))):
        rank = draw(st.integers(0, len(base)))
        shape = tuple(1 if draw(st.booleans()) and draw(st.booleans()) else n for n in base[len(base) - rank:])
        static = tuple(1 if n == 1 else draw(st.sampled_from([n, None])) for n in shape)
        elements = st.floats(-3, 3, width=32 if dtype == "float32" else 64, allow_subnormal=False)
        value = draw(hnp.arrays(dtype, shape, elements=elements))
        var = gw.tensor(f"x{i}", dtype=dtype, shape=static)
        inputs.append(var)
        values.append(value)
        pool.append(Node(var, value, f"x{i}", True))

    kinds = ["continuous"] * 6 + ["discrete", "switch"]
    if with_reductions and any(hasattr(gw, name) for name in REDUCTIONS):  # while reduce.py is written
        kinds += ["reduce"] * 3
    for _ in range(draw(st.integers(2, 8))):
        kind = draw(st.sampled_from(kinds))
        if kind == "continuous":
            name = draw(st.sampled_from(sorted(CONTINUOUS)))
            row = SCALAR_OPS[name]
            nin = 2 if row.nin == -1 else row.nin
            domains = row.domain or ((-math.inf, math.inf),) * nin
            first = draw(st.sampled_from([n for n in pool if numeric(n)]))
            chosen = [first]
            operands: list = [_into_domain(first, domains[0])]
            for dom in domains[1:nin]:
                other = _pick(draw, pool, numeric, chosen) if draw(st.booleans()) else None
                chosen += [other] if other is not None else []
                operands.append(_constant_in(draw, dom) if other is None else _into_domain(other, dom))
            node = _apply(name, CONTINUOUS[name], operands, False)
        elif kind == "discrete":
            name = draw(st.sampled_from(sorted(DISCONTINUOUS) + sorted(COMPARISONS)))
            fn = DISCONTINUOUS.get(name) or COMPARISONS[name]
            row = SCALAR_OPS[name]
            kinds_ok = "f" if name == "round" else "fi"  # np.round keeps ints, gw.round does not (op table)
            first = draw(st.sampled_from([n for n in pool if n.exact and n.val.dtype.kind in kinds_ok]
                                         or [pool[0]]))
            operands = [first]
            for dom in row.domain[1:row.nin]:
                unrestricted = dom == (-math.inf, math.inf)
                other = _pick(draw, pool, lambda n, _u=unrestricted: _u and n.exact and numeric(n), [first])
                operands.append(_constant_in(draw, dom) if other is None else other)
            node = _apply(name, fn, operands, True)
        elif kind == "switch":
            cond = _pick(draw, pool, lambda n: n.val.dtype.kind == "b", [])
            if cond is None:  # make one from an exact operand
                src = draw(st.sampled_from([n for n in pool if n.exact]))
                cond = _apply("gt", np.greater, [src, 0.0], True)
            a = _pick(draw, pool, numeric, [cond])
            b = _pick(draw, pool, numeric, [cond] + ([a] if a is not None else []))
            branches = [a if a is not None else -1.5, b if b is not None else 0.5]
            if not any(isinstance(x, Node) for x in branches):
                continue
            node = _apply("switch", np.where, [cond, *branches], False)
        else:
            name = draw(st.sampled_from(sorted(n for n in REDUCTIONS if hasattr(gw, n))))
            x = draw(st.sampled_from([n for n in pool if numeric(n)]))
            if name == "logsumexp" and x.val.dtype.kind != "f":
                continue
            nd = x.val.ndim
            axis = draw(st.one_of(
                st.none(),
                st.integers(-nd, nd - 1) if nd else st.none(),
                st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)
                if nd else st.none()))
            keepdims = draw(st.booleans())
            var = getattr(gw, name)(x.var, axis=axis, keepdims=keepdims)
            with np.errstate(all="ignore"):
                val = np.asarray(REDUCTIONS[name](x.val, axis=axis, keepdims=keepdims))
            node = Node(var, val, f"{name}({x.text}, axis={axis}, keepdims={keepdims})",
                        x.exact and name in ("max", "min"))
        pool.append(_bounded(node))
    last = pool[-1]
    others = pool[len(inputs):-1]
    outputs = [last] + ([draw(st.sampled_from(others))] if others and draw(st.booleans()) else [])
    return Case(inputs, values, outputs)


def _check(case: Case) -> None:
    note(case.describe())
    before = [v.copy() for v in case.values]
    got = gw.function(case.inputs, [n.var for n in case.outputs])(*case.values)
    for value, copy in zip(case.values, before, strict=True):
        np.testing.assert_array_equal(value, copy, err_msg="an input was modified in place")
    for g, node in zip(got, case.outputs, strict=True):
        expected = node.val
        assert isinstance(g, np.ndarray)
        assert g.dtype == expected.dtype, f"dtype {g.dtype}, NumPy gives {expected.dtype} for {node.text}"
        assert node.var.type.dtype == expected.dtype.name
        assert g.shape == expected.shape, f"shape {g.shape}, NumPy gives {expected.shape} for {node.text}"
        static = node.var.type.shape
        assert len(static) == g.ndim and all(s is None or s == n for s, n in zip(static, g.shape, strict=True))
        if g.dtype.kind == "f":
            # a float32 input means float32 intermediates, whatever the output dtype (casts up do not add digits)
            low = "float32" if any(v.type.dtype == "float32" for v in case.inputs) else g.dtype.name
            rtol, atol = TOLERANCES[low]
            np.testing.assert_allclose(g, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=node.text)
        else:
            np.testing.assert_array_equal(g, expected, err_msg=node.text)


@SETTINGS
@given(graphs())
def test_random_elemwise_graphs_match_numpy(case: Case) -> None:
    _check(case)


@SETTINGS
@given(graphs(with_reductions=True))
def test_random_graphs_with_reductions_match_numpy(case: Case) -> None:
    _check(case)


def test_every_row_is_drawn_or_listed() -> None:
    drawn = set(CONTINUOUS) | set(DISCONTINUOUS) | set(COMPARISONS) | {"switch"}
    assert not drawn - set(SCALAR_OPS), f"unknown rows: {sorted(drawn - set(SCALAR_OPS))}"
    left = set(SCALAR_OPS) - drawn - NOT_DRAWN
    assert not left, f"rows neither drawn nor listed in NOT_DRAWN: {sorted(left)}"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.filter_too_much])
@given(graphs(with_reductions=True))
def test_random_graphs_keep_their_values_through_the_checked_pipeline(case: Case) -> None:
    """Every step of the full rewrite pipeline is verified numerically (check=True), then the result is
    compared with NumPy."""
    graph, _ = gw.rewrite(gw.Graph(case.inputs, [n.var for n in case.outputs]), check=True)
    rewritten = [Node(var, n.val, n.text, n.exact) for var, n in zip(graph.outputs, case.outputs, strict=True)]
    _check(Case(case.inputs, case.values, rewritten))


# ---------------------------------------------------------------------------------------------------------
# Every op of the library (tests/tensor/every_op_graphs.py draws them from the op table)
# ---------------------------------------------------------------------------------------------------------


def test_every_op_and_row_can_be_drawn() -> None:
    """The every-op graphs draw from every Op class of graphwright.tensor.* and every row of SCALAR_OPS."""
    from test_op_table import _as_list, _build_inputs, _tensor_op_classes

    op_types, rows = set(), set()
    for cases in CATALOGUE.values():
        for case, mode in cases:
            try:
                outs = _as_list(case.build(*_build_inputs(case, mode)[0]))
            except (TypeError, OverflowError, ValueError):
                continue
            for node in gw.graph.toposort([o for o in outs if isinstance(o, gw.Variable)]):
                op_types.add(type(node.op))
                rows.add(node.op.scalar_op.name if hasattr(node.op, "scalar_op") else None)
    missing = [name for name, cls in _tensor_op_classes().items() if not any(issubclass(t, cls) for t in op_types)]
    assert not missing, f"Op classes the random graphs never draw: {missing}"
    assert not set(SCALAR_OPS) - rows, f"rows the random graphs never draw: {sorted(set(SCALAR_OPS) - rows)}"


def _compare_rewritten(g: RandomGraph, naive: list, got: list) -> None:
    for k, (before, after, var) in enumerate(zip(naive, got, g.outputs, strict=True)):
        where = f"output {k} ({var})"
        before, after = np.asarray(before), np.asarray(after)
        assert after.dtype == before.dtype and after.shape == before.shape, (
            f"{where}: rewritten {after.dtype}{after.shape}, as written {before.dtype}{before.shape}")
        agree = values_agree(before, after, before.dtype.name)
        if not np.all(agree):  # where the graph as written loses digits a stabilised form may differ
            spread = rounding_spread(g.inputs, [var], g.values, np.random.default_rng(k))[0]
            agree = values_agree(before, after, before.dtype.name, spread)
        bad = np.argwhere(~np.broadcast_to(agree, before.shape))
        assert not bad.size, (f"{where}: at {tuple(bad[0])} the graph as written gives "
                              f"{before[tuple(bad[0])]}, the rewritten one {after[tuple(bad[0])]}")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.filter_too_much,
                                                                 HealthCheck.data_too_large])
@given(every_op_graphs())
def test_random_graphs_of_every_op_keep_their_values_through_checked_rewriting(g: RandomGraph) -> None:
    """Every step of the full pipeline is checked numerically (check=True: close values, and a NaN that the
    rewritten node itself makes out of valid operands is kept); then the rewritten and compiled graphs must
    give what the graph as written gives on the drawn inputs (within its own rounding error)."""
    if not g.outputs:
        return
    note(g.describe())
    with np.errstate(all="ignore"):
        naive = gw.function(g.inputs, g.outputs, rewrites=None, backend="numpy")(*g.values)
        graph, _ = gw.rewrite(gw.Graph(g.inputs, g.outputs), check=True)
        note(f"rewritten: {graph.outputs}")
        got = gw.function(g.inputs, list(graph.outputs), rewrites=None, backend="numpy")(*g.values)
        compiled = gw.function(g.inputs, g.outputs, backend="numpy")(*g.values)
    _compare_rewritten(g, naive, got)
    _compare_rewritten(g, naive, compiled)
