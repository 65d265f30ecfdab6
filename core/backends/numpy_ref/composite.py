"""NumPy implementation of Composite: one generated Python function that runs the inner graph on arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphwright.backends.numpy_ref.elemwise import (
    check_runtime_broadcast,
    elemwise_impl,
    shapes_to_check,
    written_into_buffer,
)
from graphwright.backends.numpy_ref.program_parts import Statement, program_source
from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.destroy import InPlace, plain_node
from graphwright.graph.inner import Instruction
from graphwright.tensor.composite import Composite, broadcast_output


def _ufunc_of(inner: Apply, fn: Callable) -> np.ufunc | None:
    """The NumPy ufunc that ``fn`` (the impl of an inner elementwise node) is, if it is exactly one."""
    ufunc = written_into_buffer(fn)
    return ufunc if ufunc is not None and ufunc.nin == len(inner.inputs) else None


class _Program:
    """The statements of a composite's generated function (one per instruction of its inner graph's
    program), its names and namespace."""

    def __init__(self, op: Composite, destroyed: set[int]):
        self.op = op
        (self.graph,) = op.inner_graphs()
        self.names: dict[Variable, str] = {p: f"i{k}" for k, p in enumerate(self.graph.placeholders)}
        self.namespace: dict = {"_ndarray": np.ndarray, "_bshape": np.broadcast_shapes, "_shape": np.shape}
        self.steps = self.graph.program.instructions
        self.placeholders = set(self.graph.placeholders)
        self.temporaries: set[Variable] = {self.graph.placeholders[k] for k in destroyed}
        self.body: list[Statement] = []

    def name_of(self, v: Variable) -> str:
        """The local name of a variable; a 0-d constant of the inner graph becomes a global of the namespace."""
        if v not in self.names:
            self.names[v] = f"c{len(self.namespace)}"
            self.namespace[self.names[v]] = v.data
        return self.names[v]

    def add_node(self, step: Instruction) -> None:
        """The statement computing one instruction (writing into a dying temporary's buffer when it can: one
        the instruction reads for the last time, never a returned one)."""
        k, inner = step.position, step.node
        args = [self.name_of(v) for v in inner.inputs]
        reads = tuple(dict.fromkeys(self.names[v] for v in inner.inputs if not isinstance(v, Constant)))
        namespace, fn = self.namespace, f"f{k}"
        is_composite = isinstance(inner.op, Composite)
        namespace[fn] = composite_impl(inner) if is_composite else elemwise_impl(inner)
        outs = [f"t{k}_{j}" for j in range(len(inner.outputs))]
        self.names.update(zip(inner.outputs, outs, strict=True))
        call = f"{fn}({', '.join(args)})"
        ufunc = None if is_composite else _ufunc_of(inner, namespace[fn])
        dying = [v for v in step.last_reads if v in self.temporaries and v.type.dtype == inner.outputs[0].type.dtype]
        if ufunc is not None and dying:
            buf = self.names[dying[0]]
            namespace[f"u{k}"] = ufunc
            shapes = ", ".join(f"_shape({a})" for a in args)
            writeable = f" and {buf}.flags.writeable" if dying[0] in self.placeholders else ""
            call = (f"u{k}({', '.join(args)}, out={buf}) if {buf}.__class__ is _ndarray{writeable} and "
                    f"{buf}.shape == _bshape({shapes}) else {call}")
        self.temporaries.update(inner.outputs)
        label = "composite" if is_composite else inner.op.short_name()
        text = f"{', '.join(outs)}{',' if len(outs) > 1 else ''} = {call}  # {label}"
        self.body.append(Statement(text, reads, tuple(outs)))

    def results(self) -> list[str]:
        """The names returned; outputs that miss some inputs are broadcast to the composite's shape (and never
        alias one) by statements added to the body."""
        op, outputs = self.op, self.graph.outputs
        results = [self.name_of(v) for v in outputs]
        partial = op.partial_outputs
        if partial:
            self.namespace["_broadcast_output"] = broadcast_output
            inputs = [f"i{k}" for k in range(len(self.graph.placeholders))]
            shapes = ", ".join(f"_shape({i})" for i in inputs)
            self.body.append(Statement(f"shape = _bshape({shapes})", tuple(inputs), ("shape",)))
            for k in partial:
                local = () if isinstance(outputs[k], Constant) else (results[k],)  # a global
                self.body.append(Statement(f"{results[k]}_b = _broadcast_output({results[k]}, shape)",
                                           local + ("shape",), (f"{results[k]}_b",)))
                results[k] = f"{results[k]}_b"
        return results


def composite_source(node: Apply) -> tuple[str, dict]:
    """The source of ``def composite(i0, i1, ...)`` computing the node's outputs, and its namespace.

    A temporary that dies at an instruction is reused as that instruction's output buffer when the
    instruction is a plain ufunc and the shapes and dtypes match at run time (``out=``): one allocation less.
    Inputs an ``InPlace`` node may overwrite count as such temporaries. A long program is cut into part
    functions of bounded size (:func:`~graphwright.backends.numpy_ref.program_parts.program_source`).
    """
    destroyed = set(node.op.destroy_map.values()) if isinstance(node.op, InPlace) else set()
    program = _Program(plain_node(node).op, destroyed)
    for step in program.steps:
        program.add_node(step)
    results = program.results()
    params = [f"i{k}" for k in range(len(program.graph.placeholders))]
    return program_source("composite", params, program.body, results), program.namespace


def composite_impl(node: Apply) -> Callable:
    """The callable computing a Composite node (or an ``InPlace`` one, reusing the inputs it may overwrite)."""
    source, namespace = composite_source(node)
    exec(compile(source, "<composite>", "exec"), namespace)  # noqa: S102 - our own generated code
    run = namespace["composite"]
    run.writes_in_place = isinstance(node.op, InPlace)  # into the inputs it may overwrite, when shapes match
    shapes = shapes_to_check(node)
    if shapes is None:
        return run

    def checked(*xs):
        try:
            check_runtime_broadcast("composite", xs, shapes)
        except ValueError as exc:  # the (long) composite name only when there is an error to report
            raise ValueError(str(exc).replace("composite", plain_node(node).op.short_name(), 1)) from None
        return run(*xs)

    checked.writes_in_place = run.writes_in_place
    return checked


def composite_reduce_impl(node: Apply) -> Callable:
    """The callable computing a CompositeReduce node: the composite's fast path (with its run-time broadcast
    check), then the reduction; the full-size temporary is unavoidable on NumPy."""
    node = plain_node(node)
    comp, red = node.op.unfused(node)
    run, reduce = composite_impl(comp), red.op.perform

    def composite_reduce(*xs):
        return reduce(run(*xs))

    return composite_reduce
