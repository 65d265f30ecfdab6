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
from graphwright.backends.output_copies import output_copies, output_source
from graphwright.backends.wide_inputs import signature
from graphwright.graph.basic import Apply, Constant, InputError, Variable
from graphwright.graph.destroy import InPlace
from graphwright.graph.graph import Graph

__all__ = ["GeneratedFunction", "generate", "generate_jitted", "emit_nodes", "GraphRuntimeError",
           "coerce_input", "shares_caller_memory", "outer_function", "body_source_of"]

_counter = count()


class GraphRuntimeError(RuntimeError):
    """An op failed while running a compiled graph; the message names the op and its input shapes."""


@dataclass
class GeneratedFunction:
    fn: Callable
    source: str
    namespace: dict
    plan: list[PlanStep]
    body: Callable | None = None  # the compiled body the function calls (generate_jitted)


def _describe_value(value) -> str:
    arr = np.asarray(value) if not hasattr(value, "shape") else value
    return f"{getattr(arr, 'dtype', type(value).__name__)}{list(np.shape(arr))}"


def input_label(position: int, var: Variable) -> str:
    """``input 0 (x)``: how errors name input ``position`` of a compiled function."""
    return f"input {position} ({var.name})" if var.name else f"input {position}"


def coerce_input(position: int, var: Variable, value):
    """``value`` converted by the type of input ``var`` (``Type.filter``), or an InputError naming the input and
    the expected and received types.

    Examples
    --------
    >>> import graphwright as gw
    >>> coerce_input(0, gw.vector("x"), [1, 2])
    array([1., 2.])
    """
    return var.type.filter(value, name=input_label(position, var))


def check_shape(position: int, var: Variable, array: np.ndarray) -> None:
    """Raise InputError naming input ``position`` unless ``array`` has the rank and static lengths of ``var``."""
    var.type.check_shape(array, input_label(position, var))


@dataclass
class EmittedNodes:
    """One line per node (``v<i>_<k> = _f<i>(...)``), the node of each line, the memory plan, and the names
    holding the graph outputs (``c_out<k>`` for constant outputs)."""

    lines: list[str]
    line_nodes: dict[int, Apply]
    plan: list[PlanStep]
    outputs: list[str]


def emit_nodes(graph: Graph, impl_for: Callable[[Apply], Callable], ns: dict, *, free_dead: bool = True,
               to_constant: Callable | None = None) -> EmittedNodes:
    """The body lines computing ``graph``; implementations and constants go into ``ns`` (``_f<i>``,
    ``c<i>_<j>``; a constant's data, converted by ``to_constant`` if given). With ``free_dead``, each line
    releases the intermediates it used for the last time."""
    names: dict[int, str] = {}
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
                ns[names[id(inp)]] = to_constant(inp.data) if to_constant else inp.data
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
        lines.append(f"{target} = _f{i}({args})" + (f"; del {', '.join(dead)}" if dead and free_dead else ""))
    outputs = []
    for k, out in enumerate(graph.outputs):
        if id(out) not in names:
            names[id(out)] = f"c_out{k}"
            ns[f"c_out{k}"] = to_constant(out.data) if to_constant else out.data
        outputs.append(names[id(out)])
    return EmittedNodes(lines, line_nodes, plan, outputs)


def shares_caller_memory(graph: Graph, out: Variable) -> bool:
    """Whether output ``out`` may be the caller's input, a constant, or a view of either (backends copy it)."""
    return isinstance(out, Constant) or out in graph.inputs or out.owner.op.returns_view


def generate(graph: Graph, impl_for: Callable[[Apply], Callable], *, trust_input: bool,
             return_list: bool, backend: str) -> GeneratedFunction:
    """Generate ``def graphwright_fn(<inputs>)`` computing ``graph.outputs`` (the NumPy backend's form: one
    Python function, input checks, one line per node)."""
    ns: dict = {"_np": np, "_ndarray": np.ndarray, "_coerce": coerce_input, "_check_shape": check_shape}
    emitted = emit_nodes(graph, impl_for, ns)
    # never hand out the caller's buffer, a constant, a view, or an output listed twice
    results = [output_source(out, expr, copy, k, ns) for k, (out, expr, copy)
               in enumerate(zip(graph.outputs, emitted.outputs, output_copies(graph), strict=True))]
    return _assemble(graph, ns, emitted, results, trust_input, return_list, backend)


def generate_jitted(graph: Graph, impl_for: Callable[[Apply], Callable], *, jit: Callable[[Callable], Callable],
                    to_output: Callable, trust_input: bool, return_list: bool, backend: str,
                    free_dead: bool = True, namespace: dict | None = None,
                    to_input: Callable | None = None, to_constant: Callable | None = None,
                    compile_body: Callable[[str, dict], Callable] | None = None) -> GeneratedFunction:
    """Generate a body function of the nodes (``graphwright_body``) that ``jit`` compiles as a whole, and a Python
    function around it that checks the inputs (NumPy arrays), converts each with ``to_input(array)`` if given,
    and converts each output with ``to_output(value, copy)`` (``copy``: the output may share memory with an
    input or a constant). The body's names: inputs ``i<k>``, constants ``c<i>_<j>`` (their NumPy data, or
    ``to_constant(data)``, converted once here), node kernels ``_f<i>`` (what ``impl_for`` returned).
    ``compile_body(source, namespace)``, if given, replaces ``exec`` + ``jit`` (e.g. to cache it on disk)."""
    ns: dict = dict(namespace or {})
    emitted = emit_nodes(graph, impl_for, ns, free_dead=free_dead, to_constant=to_constant)
    body_source = body_source_of(graph, emitted)
    if compile_body is not None:
        body = compile_body(body_source, ns)
    else:
        filename = f"<graphwright-{backend}-body-{next(_counter)}>"
        linecache.cache[filename] = (len(body_source), None, body_source.splitlines(True), filename)
        exec(compile(body_source, filename, "exec"), ns)  # noqa: S102 - our own generated code
        body = jit(ns["graphwright_body"])
    fn, outer_source = outer_function(graph, body, to_output=to_output, trust_input=trust_input,
                                      return_list=return_list, backend=backend, to_input=to_input)
    return GeneratedFunction(fn, outer_source + "\n" + body_source, ns, emitted.plan, body)


def body_source_of(graph: Graph, emitted: EmittedNodes) -> str:
    """``def graphwright_body(i0, ...)``: the emitted lines, returning the tuple of the graph's outputs."""
    params = ", ".join(f"i{i}" for i in range(len(graph.inputs)))
    lines = [f"def graphwright_body({params}):"] + ["    " + ln for ln in emitted.lines]
    lines.append(f"    return ({', '.join(emitted.outputs)},)")
    return "\n".join(lines) + "\n"


def outer_function(graph: Graph, body: Callable, *, to_output: Callable, trust_input: bool, return_list: bool,
                   backend: str, to_input: Callable | None = None, guards: list[str] | None = None,
                   fallback: Callable | None = None) -> tuple[Callable, str]:
    """The Python function ``graphwright_fn`` around a compiled ``body`` of the graph's inputs, and its source.

    It checks the inputs (unless ``trust_input``), converts each with ``to_input`` if given, calls ``body``
    and converts each output with ``to_output(value, copy)`` (``copy``: the output may share memory with an
    input or a constant); an exception of the body becomes a GraphRuntimeError naming the backend. With
    ``guards`` (one condition per input, on ``i<k>``; names ``_dt<k>`` and ``_ndarray`` are defined), the body
    is called only when they all hold, and ``fallback`` otherwise.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> fn, source = outer_function(gw.Graph([x], [x * 2.0]), lambda i0: (i0 * 2.0,), to_output=lambda v, c: v,
    ...                             trust_input=False, return_list=False, backend="demo")
    >>> fn(np.ones(2))
    array([2., 2.])
    """
    outer_ns: dict = {"_np": np, "_ndarray": np.ndarray, "_coerce": coerce_input, "_check_shape": check_shape,
                      "_body": body, "_out": to_output, "_in": to_input, "_slow": fallback}
    for i, v in enumerate(graph.inputs):
        outer_ns[f"_in{i}"] = v
        if v.type.is_tensor:
            outer_ns[f"_dt{i}"] = np.dtype(v.type.dtype)

    def fail(exc: Exception) -> None:
        if isinstance(exc, InputError | GraphRuntimeError):
            return
        raise GraphRuntimeError(f"the graph failed on the {backend} backend: {type(exc).__name__}: {exc}") from exc

    outer_ns["_fail"] = fail
    params, head = signature(graph.inputs, trust_input, outer_ns, coerce_input, check_shape)
    results = [f"_out(outs[{k}], {copy})" for k, copy in enumerate(output_copies(graph))]
    names = ", ".join(f"i{i}" for i in range(len(graph.inputs)))
    call_args = ", ".join(f"_in(i{i})" for i in range(len(graph.inputs))) if to_input is not None else names
    call = f"_body({call_args})"
    if guards:
        call = f"{call} if {' and '.join(guards)} else _slow({call_args})"
    ret = f"return [{', '.join(results)}]" if return_list else f"return {results[0]}"
    outer = ([f"def graphwright_fn({params}):"] + ["    " + ln for ln in head]
             + ["    try:", f"        outs = {call}", "    except Exception as exc:", "        _fail(exc)",
                "        raise", "    " + ret])
    outer_source = "\n".join(outer) + "\n"
    outer_file = f"<graphwright-{backend}-{next(_counter)}>"
    linecache.cache[outer_file] = (len(outer_source), None, outer_source.splitlines(True), outer_file)
    exec(compile(outer_source, outer_file, "exec"), outer_ns)  # noqa: S102 - our own generated code
    return outer_ns["graphwright_fn"], outer_source


def _last_uses(graph: Graph) -> dict[int, int]:
    last: dict[int, int] = {}
    for i, node in enumerate(graph.toposort):
        for v in node.inputs:
            last[id(v)] = i
    return last


def _assemble(graph, ns, emitted: EmittedNodes, results, trust_input, return_list, backend) -> GeneratedFunction:
    lines, line_nodes = emitted.lines, emitted.line_nodes
    for i, v in enumerate(graph.inputs):
        if v.type.is_tensor:
            ns[f"_dt{i}"] = np.dtype(v.type.dtype)
    params, head = signature(graph.inputs, trust_input, ns, coerce_input, check_shape)
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
    return GeneratedFunction(ns["graphwright_fn"], source, ns, emitted.plan)


def _arg_names(source: str, lineno: int) -> list[str]:
    line = source.splitlines()[lineno - 1]
    call = line.split(";")[0]
    inside = call[call.index("(") + 1: call.rindex(")")]
    return [a.strip() for a in inside.split(",") if a.strip()]
