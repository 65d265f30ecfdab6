"""The key of a graph's ahead-of-time module (``aot.py``), computed without importing Numba.

The key is a SHA-256 of a structural description of the rewritten graph and of everything else the compiled
body depends on: per node in topological order, the op (its class and parameters, recursively: the inner graph
of a ``Composite`` is described node by node, not by its abbreviated ``repr``), its inputs by position and the
types of its outputs; constants by dtype, shape and a SHA-256 of their bytes; the inputs' types; and the
environment: graphwright's version, a hash of the source files of the Numba backend and of the code
generator (so that changed code never loads a stale module), the Numba, llvmlite, NumPy and Python versions,
the platform and the CPU model (the modules are compiled for the host CPU). An op parameter that cannot be
described the same way in every process (an object whose only description is its address) makes the graph
unkeyable: it then has no ahead-of-time module.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

from graphwright.graph.basic import Constant, Variable
from graphwright.graph.graph import Graph, toposort

__all__ = ["graph_key", "environment"]

_PRIMITIVES = (bool, int, float, complex, str, bytes, type(None))


class Unkeyable(Exception):
    """A graph holds a value without a description that is the same in every process."""


def graph_key(graph: Graph) -> str | None:
    """The key of ``graph``'s compiled body (32 hex digits), or None when it cannot be described.

    Examples
    --------
    >>> import graphwright as gw
    >>> x, y = gw.vector("x"), gw.vector("y")
    >>> a, b = graph_key(gw.Graph([x], [gw.exp(x)])), graph_key(gw.Graph([x], [gw.exp(x) + 1.0]))
    >>> len(a), a == graph_key(gw.Graph([y], [gw.exp(y)])), a == b
    (32, True, False)
    """
    try:
        text = _Describer().graph(graph.inputs, graph.outputs, positional=True)
    except Unkeyable:
        return None
    return hashlib.sha256((environment() + "\n" + text).encode()).hexdigest()[:32]


class _Describer:
    """Text descriptions of graphs and op parameters; equal text means the same compiled code."""

    def __init__(self):
        self.memo: dict[int, str] = {}

    def graph(self, inputs, outputs, positional: bool = False) -> str:
        names = {id(v): f"in{k}:{self.value(v.type)}" for k, v in enumerate(inputs)} if positional else {}
        lines = [f"inputs {[names[id(v)] for v in inputs]}"] if positional else []
        for i, node in enumerate(toposort(outputs)):
            refs = [self.ref(v, names) for v in node.inputs]
            outs = [self.value(o.type) for o in node.outputs]
            lines.append(f"{i}: {self.value(node.op)}({', '.join(refs)}) -> {', '.join(outs)}")
            names.update((id(o), f"n{i}.{k}") for k, o in enumerate(node.outputs))
        lines.append(f"outputs {[self.ref(v, names) for v in outputs]}")
        return "\n".join(lines)

    def ref(self, v: Variable, names: dict) -> str:
        if id(v) in names:
            return names[id(v)]
        if isinstance(v, Constant):
            return f"const:{self.value(v.type)}:{self.value(np.asarray(v.data))}"
        if v.owner is None:  # a free variable of an inner graph (a Composite's placeholder)
            return f"free:{v.name}:{self.value(v.type)}"
        raise Unkeyable(f"{v} is not computed by the graph")  # pragma: no cover - Graph() checks this

    def value(self, obj) -> str:
        if isinstance(obj, _PRIMITIVES):
            return f"{type(obj).__name__}:{obj!r}"
        if isinstance(obj, np.ndarray | np.generic):
            data = np.ascontiguousarray(obj)
            return f"array:{data.dtype.str}{list(data.shape)}:{hashlib.sha256(data.tobytes()).hexdigest()}"
        if isinstance(obj, np.dtype):
            return f"dtype:{obj.str}"
        if isinstance(obj, tuple | list) and obj and all(isinstance(v, Variable) for v in obj):
            return "graph{" + self.graph([], list(obj)) + "}"
        if isinstance(obj, tuple | list):
            return f"{type(obj).__name__}[" + ", ".join(self.value(v) for v in obj) + "]"
        if isinstance(obj, dict):
            return "dict{" + ", ".join(sorted(f"{self.value(k)}: {self.value(v)}" for k, v in obj.items())) + "}"
        if isinstance(obj, set | frozenset):
            return "set{" + ", ".join(sorted(self.value(v) for v in obj)) + "}"
        if isinstance(obj, Variable):
            return self.value((obj,))
        if id(obj) not in self.memo:
            self.memo[id(obj)] = self.composite(obj)
        return self.memo[id(obj)]

    def composite(self, obj) -> str:
        """A dataclass (ops, types), a class, or a function: by name and, recursively, by contents."""
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            fields = [f"{f.name}={self.value(getattr(obj, f.name))}" for f in dataclasses.fields(obj) if f.compare]
            return f"{_qualified(type(obj))}(" + ", ".join(fields) + ")"
        if isinstance(obj, type) or isinstance(obj, np.ufunc):
            return f"class:{_qualified(obj)}"
        if callable(obj) and hasattr(obj, "__qualname__"):
            cells = [c.cell_contents for c in (getattr(obj, "__closure__", None) or ())]
            return f"function:{_qualified(obj)}{self.value(list(cells)) if cells else ''}"
        raise Unkeyable(f"cannot describe {type(obj).__name__} {obj!r}")


def _qualified(obj) -> str:
    return f"{getattr(obj, '__module__', None) or ''}.{getattr(obj, '__qualname__', obj.__name__)}"


@functools.lru_cache(maxsize=1)
def environment() -> str:
    """What the compiled code depends on besides the graph (computed once per process; no Numba import).

    Examples
    --------
    >>> "numba" in environment() and "python" in environment()
    True
    """
    from graphwright import __version__

    here = Path(__file__).resolve().parent
    code = hashlib.sha256()
    for path in sorted(here.glob("*.py")) + [here.parent / "codegen.py", here.parent / "memory_plan.py"]:
        code.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    parts = [f"graphwright {__version__} {code.hexdigest()}", f"numba {_package_version('numba')}",
             f"llvmlite {_package_version('llvmlite')}", f"numpy {np.__version__}", f"python {sys.version}",
             f"platform {sys.platform} {os.uname().machine if hasattr(os, 'uname') else ''}", f"cpu {_cpu()}"]
    return "\n".join(parts)


def _package_version(name: str) -> str:
    """A package's ``_version.py`` text (hashed), found without importing the package."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return "missing"
    version_file = Path(spec.origin).parent / "_version.py"
    text = version_file.read_bytes() if version_file.is_file() else spec.origin.encode()
    return hashlib.sha256(text).hexdigest()[:16]


def _cpu() -> str:
    """The host CPU's model and feature flags (Linux), else the machine name."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            head = f.read(16384)
    except OSError:
        import platform

        return platform.processor() or platform.machine()
    wanted = ("model name", "flags", "vendor_id", "cpu family", "model\t", "Features", "CPU part")
    lines = []
    for line in head.splitlines():
        if not line.strip():
            break  # the first processor's block
        if line.startswith(wanted):
            lines.append(" ".join(line.split()))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
