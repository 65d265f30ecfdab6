"""The Numba backend: the whole graph as one ``numba.njit`` function calling one compiled kernel per node.

Elementwise ops and composites become explicit loop nests over the broadcast shape (one loop per fused group);
other ops have kernels written for Numba. An op without one is refused at compile time
(:class:`graphwright.backends.registry.UnsupportedOpError`).
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from graphwright.backends.codegen import GeneratedFunction, generate, generate_jitted
from graphwright.backends.numba_backend.kernels import cached_module, impl_for
from graphwright.backends.numba_backend.one_module import can_inline, module_text
from graphwright.graph.graph import Graph

__all__ = ["NAME", "REQUIRES", "compile_graph", "impl_for"]

NAME = "numba"
REQUIRES = "numba"


def _to_output(value, copy: bool):
    return np.array(value) if copy else value


def compile_graph(graph: Graph, *, trust_input: bool, return_list: bool, one_function: bool = True,
                  eager: bool = True) -> GeneratedFunction:
    """Compile ``graph`` for Numba.

    Parameters
    ----------
    one_function : the whole graph as one njit function with every kernel's source spliced in (lowest call
        overhead, one compile per graph). False: a Python function calling each node's njit kernel (each
        kernel is compiled and cached on its own and shared between graphs, which pays off when many graphs
        share kernels, as in the op-table tests; about a microsecond per node per call).
    eager : compile for C-contiguous inputs of the declared dtypes and ranks now (one_function only), so the
        first call does not pay it; other layouts compile on first use.
    """
    import numba

    # Products read C- and F-ordered operands in place; any other layout Numba copies, with this warning,
    # which is about code users write, not ours.
    warnings.filterwarnings("ignore", message=r"np\.dot\(\) is faster on contiguous arrays",
                            category=numba.NumbaPerformanceWarning)
    if not one_function:
        return generate(graph, impl_for, trust_input=trust_input, return_list=return_list, backend=NAME)

    signature = tuple(numba.types.Array(numba.from_dtype(np.dtype(v.type.dtype)), v.type.ndim, "C")
                      for v in graph.inputs)

    def compile_body(source: str, namespace: dict):
        compiled = _cached_body(source, namespace)
        if eager:
            compiled.compile(signature)
        return compiled

    return generate_jitted(graph, impl_for, jit=None, to_output=_to_output, trust_input=trust_input,
                           return_list=return_list, backend=NAME, free_dead=False, compile_body=compile_body)


def _cached_body(source: str, namespace: dict):
    """The njit body and, inlined into it, the kernels it calls (one_module.py), cached on disk: the module
    text holds every kernel's source and a digest of each constant, so its hash identifies the compiled code.
    A body calling an object-mode kernel is compiled without inlining or caching."""
    import numba

    used = {k: v for k, v in namespace.items() if k.startswith(("_f", "c"))}
    kernels = {k: v for k, v in used.items() if k.startswith("_f")}
    if not all(can_inline(k) for k in kernels.values()):  # an object-mode kernel: not cacheable
        scope = dict(used)
        exec(compile(source, "<graphwright-numba-body>", "exec"), scope)  # noqa: S102 - generated code
        return numba.njit(scope["graphwright_body"], error_model="numpy")
    header, text, injected = module_text(source, kernels)
    header.insert(0, "# graphwright: one compiled function for a whole graph")
    constants = {k: v for k, v in used.items() if k not in kernels}
    for name, value in sorted(constants.items()):
        data = np.ascontiguousarray(value)
        digest = hashlib.sha256(data.tobytes()).hexdigest()[:24]
        header.append(f"# {name}: constant {data.dtype}{list(data.shape)} sha256 {digest}")
    module = cached_module("\n".join(header) + "\n\n\n" + text, numba.__version__)
    module.__dict__.update(injected)
    module.__dict__.update(constants)
    return numba.njit(module.graphwright_body, error_model="numpy", cache=True)
