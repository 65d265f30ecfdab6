"""Turn a Graph into one generated Python function: input checks, one line per node, readable errors.

Every backend uses this: it supplies, for each node, the callable that computes it (``impl_for``), and the
generated source is what ``Function.source`` shows.
"""

from __future__ import annotations

import linecache
import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

import numpy as np

from graphwright.backends.memory_plan import PlanStep
from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.destroy import InPlace
from graphwright.graph.graph import Graph
from graphwright.tensor.type import TensorType

__all__ = ["GeneratedFunction", "generate", "InputError", "GraphRuntimeError", "coerce_input"]

_counter = count()


class InputError(TypeError):
    """A value passed to a compiled function does not fit the input's dtype or shape."""


class GraphRuntimeError(RuntimeError):
    """An op failed while running a compiled graph; the message names the op and its input shapes."""


@dataclass
class GeneratedFunction:
    fn: Callable
    source: str
    namespace: dict
    plan: list[PlanStep]


def _describe_value(value) -> str:
    arr = np.asarray(value) if not hasattr(value, "shape") else value
    return f"{getattr(arr, 'dtype', type(value).__name__)}{list(np.shape(arr))}"


def coerce_input(position: int, var: Variable, value) -> np.ndarray:
    """Convert ``value`` for input ``var`` or raise InputError naming the input, expected and received types.

    NumPy arrays must cast safely (no silent loss); Python scalars and lists may cast within the same kind.
    """
    ttype: TensorType = var.type
    label = f"input {position} ({var.name or 'unnamed'})" if var.name else f"input {position}"
    target = np.dtype(ttype.dtype)
    if isinstance(value, np.ndarray | np.generic):
        if value.dtype != target and not np.can_cast(value.dtype, target, "safe"):
            raise InputError(f"{label} expects dtype {ttype.dtype}, got an array of dtype {value.dtype} that does "
                             f"not cast safely; convert it with .astype('{ttype.dtype}')")
        array = np.asarray(value, dtype=target)
    else:
        try:
            raw = np.asarray(value)
        except Exception as exc:
            raise InputError(f"{label} expects a {ttype.short()} array, got {type(value).__name__}: {exc}") from None
        if raw.dtype.kind not in "biuf":
            raise InputError(f"{label} expects dtype {ttype.dtype}, got {type(value).__name__} of dtype {raw.dtype}")
        if raw.dtype != target and not np.can_cast(raw.dtype, target, "same_kind") and not (
            raw.dtype.kind in "biu" and target.kind == "f"
        ):
            raise InputError(f"{label} expects dtype {ttype.dtype}, got {type(value).__name__} of dtype "
                             f"{raw.dtype}")
        array = raw.astype(target, copy=False)
    check_shape(position, var, array)
    return array


def check_shape(position: int, var: Variable, array: np.ndarray) -> None:
    ttype: TensorType = var.type
    label = f"input {position} ({var.name})" if var.name else f"input {position}"
    if array.ndim != ttype.ndim:
        raise InputError(f"{label} expects {ttype.ndim} dimension(s) ({ttype.short()}), got an array of shape "
                         f"{array.shape}")
    for dim, (want, got) in enumerate(zip(ttype.shape, array.shape, strict=True)):
        if want is not None and want != got:
            raise InputError(f"{label} expects shape {ttype.short()}, got an array of shape {array.shape} "
                             f"(dimension {dim} must have length {want})")


def generate(graph: Graph, impl_for: Callable[[Apply], Callable], *, trust_input: bool,
             return_list: bool, backend: str) -> GeneratedFunction:
    """Generate ``def graphwright_fn(<inputs>)`` computing ``graph.outputs``."""
    names: dict[int, str] = {}
    ns: dict = {"_np": np, "_ndarray": np.ndarray, "_coerce": coerce_input, "_check_shape": check_shape}
    lines: list[str] = []
    line_nodes: dict[int, Apply] = {}
    plan: list[PlanStep] = []
    for i, v in enumerate(graph.inputs):
        names[id(v)] = f"i{i}"
        ns[f"_in{i}"] = v
    last_use = _last_uses(graph)
    keep = {id(v) for v in graph.outputs}
    for i, node in enumerate(graph.toposort):
        for j, inp in enumerate(node.inputs):
            if id(inp) not in names:
                if not isinstance(inp, Constant):  # pragma: no cover - Graph() checks free inputs
                    raise ValueError(f"{inp} is not computed by the graph")
                names[id(inp)] = f"c{i}_{j}"
                ns[names[id(inp)]] = inp.data
        outs = [f"v{i}_{k}" for k in range(len(node.outputs))]
        for k, o in enumerate(node.outputs):
            names[id(o)] = outs[k]
        impl = ns[f"_f{i}"] = impl_for(node)
        args = ", ".join(names[id(v)] for v in node.inputs)
        target = outs[0] if len(outs) == 1 else ", ".join(outs)
        line_nodes[len(lines)] = node
        dead = sorted({names[id(v)] for v in node.inputs
                       if last_use.get(id(v)) == i and id(v) not in keep and v.owner is not None})
        reuses = tuple((outs[o], names[id(node.inputs[k])]) for o, k in node.op.destroy_map.items()
                       ) if isinstance(node.op, InPlace) else ()
        plan.append(PlanStep(i, node.op.short_name(), tuple(outs), reuses,
                             bool(reuses) and not getattr(impl, "writes_in_place", False), tuple(dead)))
        # free intermediates after their last use, so long graphs do not hold every value at once
        lines.append(f"{target} = _f{i}({args})" + (f"; del {', '.join(dead)}" if dead else ""))
    results = []
    for k, out in enumerate(graph.outputs):
        if id(out) not in names:
            names[id(out)] = f"c_out{k}"
            ns[f"c_out{k}"] = out.data
        expr = names[id(out)]
        if isinstance(out, Constant) or out in graph.inputs or out.owner.op.returns_view:
            expr = f"_np.array({expr})"  # never hand out the caller's buffer, a constant or a view of either
        elif out.type.ndim == 0:
            expr = f"_np.asarray({expr})"
        results.append(expr)
    generated = _assemble(graph, ns, lines, line_nodes, results, trust_input, return_list, backend)
    generated.plan = plan
    return generated


def _last_uses(graph: Graph) -> dict[int, int]:
    last: dict[int, int] = {}
    for i, node in enumerate(graph.toposort):
        for v in node.inputs:
            last[id(v)] = i
    return last


def _input_checks(graph: Graph) -> list[str]:
    checks = []
    for i, v in enumerate(graph.inputs):
        ns_dtype = f"_dt{i}"
        checks.append(f"if {f'i{i}'}.__class__ is not _ndarray or {f'i{i}'}.dtype is not {ns_dtype}: "
                      f"i{i} = _coerce({i}, _in{i}, i{i})")
        conds = [f"i{i}.ndim != {v.type.ndim}"]
        conds += [f"i{i}.shape[{d}] != {s}" for d, s in enumerate(v.type.shape) if s is not None]
        checks.append(f"if {' or '.join(conds)}: _check_shape({i}, _in{i}, i{i})")
    return checks


def _assemble(graph, ns, lines, line_nodes, results, trust_input, return_list, backend) -> GeneratedFunction:
    for i, v in enumerate(graph.inputs):
        ns[f"_dt{i}"] = np.dtype(v.type.dtype)
    params = ", ".join(f"i{i}" for i in range(len(graph.inputs)))
    head = [] if trust_input else _input_checks(graph)
    if return_list:
        ret = f"return [{', '.join(results)}]"
    else:
        ret = f"return {results[0]}"
    body = ["try:"] + ["    " + ln for ln in lines] + ["except Exception as exc:", "    _explain(exc)", "    raise"]
    if not lines:
        body = []
    src_lines = [f"def graphwright_fn({params}):"] + ["    " + ln for ln in head + body + [ret]]
    source = "\n".join(src_lines) + "\n"
    filename = f"<graphwright-{backend}-{next(_counter)}>"
    first_body_line = 2 + len(head) + 1  # def line, checks, "try:" -> first node line (1-based)

    def explain(exc: Exception) -> None:
        tb = sys.exc_info()[2]
        lineno = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == filename:
                lineno = tb.tb_lineno
                frame_locals = tb.tb_frame.f_locals
            tb = tb.tb_next
        node = line_nodes.get(lineno - first_body_line) if lineno is not None else None
        if node is None or isinstance(exc, GraphRuntimeError):
            return
        values = [_describe_value(frame_locals[a]) if a in frame_locals else "?"
                  for a in _arg_names(source, lineno)]
        raise GraphRuntimeError(
            f"{node.op.short_name()} failed on the {backend} backend with inputs {', '.join(values)} "
            f"(static types {', '.join(v.type.short() for v in node.inputs)}): {type(exc).__name__}: {exc}"
        ) from exc

    ns["_explain"] = explain
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(code, ns)
    return GeneratedFunction(ns["graphwright_fn"], source, ns, [])


def _arg_names(source: str, lineno: int) -> list[str]:
    line = source.splitlines()[lineno - 1]
    call = line.split(";")[0]
    inside = call[call.index("(") + 1: call.rindex(")")]
    return [a.strip() for a in inside.split(",") if a.strip()]
