"""Random graphs drawn from every op of the library (a Hypothesis strategy), for "rewriting preserves values".

The op catalogue is the op table of ``test_op_table.py``: every Op class of ``graphwright.tensor.*`` and every
row of ``SCALAR_OPS`` has cases there (``test_every_op_and_row_is_exercised`` enforces it), so a new op is
drawn here as soon as the table tests it; ``test_random_graphs.py`` checks that the catalogue still covers
every op. A graph is a chain of cases, each drawn op first (every row and op class has the same weight),
mostly among the cases that can take one of the latest results. Each
input of a case is a fresh graph input drawn inside the input's domain, or an earlier result with the same
runtime shape and dtype: inside the domain, or well outside it for float inputs (``log(log_softmax(x))`` is
NaN as written, and a rewrite must keep it so).

Rewriting changes rounding in the last bits, which ops that jump (floor, comparisons, argmax, integer casts)
would amplify into different answers. Every value therefore carries an ``exact`` flag (inputs, constants and
results of ops that only move, select or round exact values), and a jumping op only ever gets exact operands.
Results whose magnitude exceeds ``BOUND`` pass through ``tanh``; non-finite results are never used as operands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from test_op_table import (
    ALL_CASES,
    KNOWN_CORE_BUGS,
    Case,
    _as_list,
    _build_inputs,
    _missing,
    declared_shape,
    valid_values,
)
from test_op_table import draw as draw_value

import graphwright as gw
from graphwright.graph import toposort
from graphwright.graph.basic import Constant, Op, Variable
from graphwright.rewrite.pattern import PNode
from graphwright.rewrite.phases import all_rules
from graphwright.tensor.assume import Assume
from graphwright.tensor.blockwise import Blockwise
from graphwright.tensor.composite import Composite
from graphwright.tensor.composite_reduce import CompositeReduce
from graphwright.tensor.creation import Alloc, ARange, Eye
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.grad_control import GradControl
from graphwright.tensor.indexing import Subtensor
from graphwright.tensor.join import Join, Split
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.reduce_special import Argmax, Argmin
from graphwright.tensor.scalar_grads import DERIVATIVES
from graphwright.tensor.scalar_ops import SCALAR_OPS
from graphwright.tensor.shape import DimShuffle, MakeVector, Reshape, Shape

BOUND = 1e3
MAX_STEPS = 6
FAR = 1e-3  # an out-of-domain operand keeps at least this (relative) distance from the domain's ends

# Ops whose outputs are exact when their inputs are: they move, select or compare values, never round them.
MOVING_OPS = (DimShuffle, Reshape, Join, Split, Subtensor, MakeVector, Shape, Alloc, ARange, Eye, GradControl,
              Assume, Argmax, Argmin)
_NO_DERIVATIVE = (DERIVATIVES["floor"], DERIVATIVES["lt"])  # "zero almost everywhere" and "no gradient"
# Rows that jump: a zero or no derivative, the casts to integers and bool, and mod (piecewise).
_CASTS = {name for name in SCALAR_OPS if name.startswith("cast_")}
JUMPING_ROWS = frozenset({name for name, fn in DERIVATIVES.items() if fn in _NO_DERIVATIVE} | {"mod"}
                         | (_CASTS - {"cast_float32", "cast_float64"}))
# Rows whose result is exact when their operands are (they select or convert, never round an operation).
SELECTING_ROWS = frozenset({"neg", "abs", "maximum", "minimum", "switch", "clip"} | _CASTS)


def _usable(case: Case, mode: str) -> bool:
    return not (case.xfail or _missing(case, mode) or any(known(case) for known, _, _ in KNOWN_CORE_BUGS))


def op_key(case: Case) -> str:
    """What a case exercises: its scalar row, or the op named by the start of its id (``log_softmax``)."""
    return case.scalar_op or case.id.split("-")[0]


# op key -> the usable (case, mode) pairs; drawing the key first gives every op the same weight
CATALOGUE: dict[str, list[tuple[Case, str]]] = {}
for _case in ALL_CASES:
    for _mode in _case.modes:
        if _usable(_case, _mode):
            CATALOGUE.setdefault(op_key(_case), []).append((_case, _mode))
OP_KEYS = sorted(CATALOGUE)
# (runtime shape, dtype) of an input -> op key -> the cases with such an input (to chain onto a result)
SPEC_INDEX: dict[tuple, dict[str, list[tuple[Case, str]]]] = {}
for _key, _cases in CATALOGUE.items():
    for _case, _mode in _cases:
        for _spec in dict.fromkeys((spec.shape, spec.dtype) for spec in _case.inputs if spec.special is None):
            SPEC_INDEX.setdefault(_spec, {}).setdefault(_key, []).append((_case, _mode))


def _key_classes() -> dict[str, set]:
    """Op key -> the op classes (and elementwise rows) its first case builds."""
    out: dict[str, set] = {}
    for key, cases in CATALOGUE.items():
        case, mode = cases[0]
        try:
            outs = [o for o in _as_list(case.build(*_build_inputs(case, mode)[0])) if isinstance(o, Variable)]
        except Exception:  # noqa: BLE001 - a case that must raise builds nothing
            continue
        out[key] = {n.op.scalar_op.name if type(n.op) is Elemwise else type(n.op) for n in toposort(outs)}
    return out


def _pattern_edges(pattern, edges: dict) -> None:
    for child in getattr(pattern, "children", ()):
        if isinstance(child, PNode):
            edges.setdefault(child.op, set()).add(pattern.op)
            _pattern_edges(child, edges)


def _rule_parents() -> dict:
    """Child op (row name or class) -> the ops some pattern rule expects right above it."""
    edges: dict = {}
    for rule in all_rules().values():
        if rule.pattern is not None:
            _pattern_edges(rule.pattern, edges)
    return edges


KEY_CLASSES = _key_classes()
RULE_PARENTS = _rule_parents()


def _related(a, b) -> bool:
    """The same op, or op classes one of which subclasses the other."""
    return a == b or (isinstance(a, type) and isinstance(b, type) and (issubclass(a, b) or issubclass(b, a)))


# op keys whose ops (or their subclasses and bases) sit below another op in some rule pattern
RULE_CHILD_KEYS = sorted(key for key, made in KEY_CLASSES.items()
                         if any(_related(m, child) for m in made for child in RULE_PARENTS))


def near_rule_keys(var: Variable) -> set[str]:
    """Op keys of the parents that rule patterns put above ``var``'s op, or above a subclass or base class of
    it: chaining those onto ``var`` builds the graphs (and near misses: ``log(log_softmax(x))``) rules see."""
    op = var.owner.op if var.owner is not None else None
    if op is None:
        return set()
    mine = op.scalar_op.name if type(op) is Elemwise else type(op)
    parents = set()
    for child, above in RULE_PARENTS.items():
        parents |= above if _related(mine, child) else set()
    return {key for key, made in KEY_CLASSES.items() if made & parents}


def _inner_ops(op: Op) -> list[Op]:
    """The ops inside an op that holds a graph (a composite, a blockwise core op), else ``[op]``."""
    if isinstance(op, Composite):
        return [n.op for n in toposort(list(op.inner_outputs))]
    if isinstance(op, CompositeReduce):
        return _inner_ops(op.composite) + [op.reduce_op]
    if isinstance(op, Blockwise):
        return _inner_ops(op.core_op)
    return [op]


def jumps(op: Op) -> bool:
    """Does ``op`` (or an op inside it) turn a last-bit change of a float input into a different answer?"""
    return any((type(o) is Elemwise and o.scalar_op.name in JUMPING_ROWS) or type(o) in (Argmax, Argmin)
               for o in _inner_ops(op))


def keeps_exact(op: Op, node) -> bool:
    """Are the outputs of ``node`` exact whenever its inputs are (no rounding of float values)?"""
    if all(v.type.dtype[0] in "biu" for v in (*node.inputs, *node.outputs)):
        return True  # integer arithmetic: deterministic
    for o in _inner_ops(op):
        if type(o) is Elemwise:
            if o.scalar_op.name not in JUMPING_ROWS | SELECTING_ROWS:
                return False
        elif type(o) is Reduce:
            if o.kind not in ("max", "min", "all", "any"):
                return False
        elif not isinstance(o, MOVING_OPS):
            return False
    return True


@dataclass
class Entry:
    var: Variable
    value: np.ndarray
    exact: bool
    text: str


@dataclass
class RandomGraph:
    inputs: list = field(default_factory=list)
    values: list = field(default_factory=list)
    pool: list[Entry] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    outputs: list[Variable] = field(default_factory=list)

    def describe(self) -> str:
        ins = ", ".join(f"{v.name}: {v.type.short()} = {a!r}" for v, a in zip(self.inputs, self.values,
                                                                               strict=True))
        return f"inputs {ins}\nsteps:\n  " + "\n  ".join(self.steps) + f"\noutputs {self.outputs}"


def _far_from(values: np.ndarray, domain: tuple) -> bool:
    ends = [e for e in domain if math.isfinite(e)]
    return all(bool(np.all(np.abs(values - e) >= FAR * max(1.0, abs(e)))) for e in ends)


def _fits(entry: Entry, spec, outside_ok: bool) -> bool:
    """May ``entry`` stand for a case input described by ``spec``?"""
    value = entry.value
    if value.shape != spec.shape or value.dtype.name != spec.dtype or spec.special is not None:
        return False
    if value.dtype.kind == "f":
        if not np.all(np.isfinite(value)):
            return False
        lo, hi = spec.domain
        inside = bool(np.all((value > lo) & (value < hi)))
        return _far_from(value, spec.domain) and (inside or outside_ok)
    allowed = valid_values(spec.domain, spec.dtype)
    return entry.exact and allowed is not None and bool(np.all(np.isin(value, allowed)))


def _exactness(outs: list[Variable], known: dict[Variable, bool]) -> dict[Variable, bool] | None:
    """Exact flags of every variable below ``outs``; None when a jumping op would get an inexact operand."""
    flags = dict(known)
    for node in toposort(outs):
        ins = [flags.get(v, v.owner is None or isinstance(v, Constant)) for v in node.inputs]
        if jumps(node.op) and not all(ins):
            return None
        for o in node.outputs:
            flags[o] = all(ins) and keeps_exact(node.op, node)
    return flags


def _operands(draw, g: RandomGraph, case: Case, mode: str, chain: tuple | None, reuse: bool):
    """Symbols and (for fresh ones) values for the inputs of ``case``: earlier results or fresh inputs.

    ``chain`` is ``(entry, outside_ok)``: the earlier result the case was chosen for, used at the first input
    it fits."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    forced, outside_ok = chain if chain is not None else (None, draw(st.booleans()))
    symbols, fresh = [], []
    for spec in case.inputs:
        if reuse and forced is not None and _fits(forced, spec, outside_ok):
            symbols.append(forced.var)
            forced = None
            continue
        candidates = [e for e in g.pool if _fits(e, spec, outside_ok)] if reuse else []
        if candidates and draw(st.integers(0, 2)):
            symbols.append(draw(st.sampled_from(candidates)).var)
            continue
        var = gw.tensor(f"x{len(g.inputs) + len(fresh)}", dtype=spec.dtype, shape=declared_shape(spec, mode))
        symbols.append(var)
        fresh.append((var, draw_value(spec, rng)))
    return symbols, fresh


def _build(draw, g: RandomGraph, case: Case, mode: str, chain: tuple | None):
    """The case applied to operands from the pool (falling back to fresh inputs), with exact flags."""
    known = {e.var: e.exact for e in g.pool}
    for reuse in (True, False):
        symbols, fresh = _operands(draw, g, case, mode, chain, reuse)
        try:
            outs = [o for o in _as_list(case.build(*symbols)) if isinstance(o, Variable)]
        except Exception:  # noqa: BLE001 - a case that refuses these operands (dtype, static shape)
            continue
        flags = _exactness(outs, known | {v: True for v, _ in fresh})
        if outs and flags is not None:
            return symbols, fresh, outs, flags
    return None


def _evaluate(g: RandomGraph, fresh: list, outs: list[Variable]) -> list[np.ndarray] | None:
    inputs, values = g.inputs + [v for v, _ in fresh], g.values + [a for _, a in fresh]
    try:
        with np.errstate(all="ignore"):
            return [np.asarray(a) for a in gw.function(inputs, outs, rewrites=None, backend="numpy")(*values)]
    except Exception:  # noqa: BLE001 - the case raises at run time on these operands (an index, a size)
        return None


def _bounded(g: RandomGraph, fresh: list, var: Variable, value: np.ndarray) -> tuple[Variable, np.ndarray]:
    """``tanh(var)`` when ``var`` holds finite values larger than BOUND in magnitude."""
    if value.dtype.kind != "f" or not np.all(np.isfinite(value)) or np.all(np.abs(value) <= BOUND):
        return var, value
    squashed = gw.tanh(var)
    got = _evaluate(g, fresh, [squashed])
    return (squashed, got[0]) if got is not None else (var, value)


def _pick_case(draw, g: RandomGraph) -> tuple[Case, str, tuple | None]:
    """Mostly a case that can take one of the latest results (so that cases chain into deep graphs), else a
    case of a drawn op."""
    recent = [e for e in reversed(g.pool[-4:]) if e.value.dtype.kind != "f" or np.all(np.isfinite(e.value))]
    if recent and draw(st.integers(0, 3)) != 3:
        entry = draw(st.sampled_from(recent))
        by_key = SPEC_INDEX.get((entry.value.shape, entry.value.dtype.name), {})
        near = sorted(near_rule_keys(entry.var) & set(by_key)) if draw(st.integers(0, 3)) != 3 else []
        outside_ok = bool(near) or draw(st.booleans())  # near a rule: try the near misses too
        key = draw(st.sampled_from(near or sorted(by_key))) if by_key else None
        options = [(c, m) for c, m in by_key.get(key, ()) if any(_fits(entry, spec, outside_ok) for spec in c.inputs)]
        if options:
            case, mode = draw(st.sampled_from(options))
            return case, mode, (entry, outside_ok)
    keys = RULE_CHILD_KEYS if draw(st.booleans()) else OP_KEYS
    case, mode = draw(st.sampled_from(CATALOGUE[draw(st.sampled_from(keys))]))
    return case, mode, None


def _step(draw, g: RandomGraph) -> None:
    """Apply one drawn case to the graph (or leave the graph alone when the case cannot apply)."""
    case, mode, chain = _pick_case(draw, g)
    built = _build(draw, g, case, mode, chain)
    if built is None:
        return
    symbols, fresh, outs, flags = built
    values = _evaluate(g, fresh, outs)
    if values is None:
        return
    used = set(toposort_inputs(outs))
    fresh = [(v, a) for v, a in fresh if v in used]
    names = ", ".join(str(s) for s in symbols)
    for var, value in zip(outs, values, strict=True):
        var, value = _bounded(g, fresh, var, value)
        g.pool.append(Entry(var, value, flags.get(var, False), f"{case.id}[{mode}]({names})"))
    g.inputs += [v for v, _ in fresh]
    g.values += [a for _, a in fresh]
    g.steps.append(f"{case.id} [{mode}] on {names} -> {', '.join(str(o) for o in outs)}")


def toposort_inputs(outs: list[Variable]) -> list[Variable]:
    """The graph inputs (not constants) that ``outs`` depend on."""
    free = [v for node in toposort(outs) for v in node.inputs if v.owner is None and not isinstance(v, Constant)]
    return free + [v for v in outs if v.owner is None and not isinstance(v, Constant)]


@st.composite
def every_op_graphs(draw, max_steps: int = MAX_STEPS) -> RandomGraph:
    """A random graph of 1 to ``max_steps`` op-table cases (see the module docstring), with input values."""
    g = RandomGraph()
    for _ in range(draw(st.integers(1, max_steps))):
        _step(draw, g)
    computed = [e for e in g.pool if e.var.owner is not None]
    if not computed:
        return g
    used = {v for e in computed for node in toposort([e.var]) for v in node.inputs}
    sinks = [e.var for e in computed if e.var not in used]  # the results nothing later consumes
    g.outputs = sinks[-3:]
    return g
