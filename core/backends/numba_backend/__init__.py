"""The Numba backend: the whole graph as one ``numba.njit`` function calling one compiled kernel per node.

Elementwise ops and composites become explicit loop nests over the broadcast shape (one loop per fused group);
other ops have kernels written for Numba. An op without one is refused at compile time
(:class:`graphwright.backends.registry.UnsupportedOpError`).
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np

from graphwright.backends.codegen import GeneratedFunction, generate, generate_jitted
from graphwright.backends.explain import explained
from graphwright.backends.numba_backend import aot
from graphwright.backends.numba_backend.aot import wait_for_builds
from graphwright.backends.numba_backend.aot_key import graph_key
from graphwright.backends.numba_backend.cache_guard import njit_cached, warn_unusable
from graphwright.backends.numba_backend.kernels import cached_module, ensure_kernel_files, impl_for
from graphwright.backends.numba_backend.one_module import can_inline, module_text
from graphwright.backends.numba_backend.packed_inputs import Layout, PackedBody, packed_layout
from graphwright.config import config
from graphwright.graph.graph import Graph

__all__ = ["NAME", "REQUIRES", "compile_graph", "impl_for", "wait_for_builds"]

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

    With both (the default), a graph whose ahead-of-time module was built (``aot.py``,
    ``gw.config.numba_aot``) is loaded from it without starting Numba.
    """
    mode = config.numba_aot if one_function and eager else "off"
    if mode not in ("auto", "eager", "off"):
        raise ValueError(f"gw.config.numba_aot must be 'auto', 'eager' or 'off', got {mode!r}")
    key = graph_key(graph) if mode != "off" else None
    loaded = aot.load(key) if key is not None else None
    if loaded is not None:
        fallback = aot.LazyBody(lambda: _jitted(graph, trust_input=True, return_list=return_list,
                                                one_function=True, eager=False)[0].body)
        return aot.aot_function(graph, explained(loaded[0], graph, NAME), loaded[1], to_output=_to_output,
                                trust_input=trust_input, return_list=return_list, fallback=fallback)
    generated, parts = _jitted(graph, trust_input=trust_input, return_list=return_list, one_function=one_function,
                               eager=eager)
    if key is not None and parts is not None and (mode == "eager" or parts.pop("cache_hit")):
        constants = parts.pop("constants")
        try:
            aot.request_build(key, {**parts, "inputs": [[v.type.dtype, v.type.ndim] for v in graph.inputs],
                                    "constants": sorted(constants), "plan": aot.plan_records(generated.plan)},
                              constants)
        except OSError as exc:  # the cache folder is unwritable or was cleared meanwhile: no module this time
            warn_unusable(aot.aot_dir(), exc)
    return generated


def _jitted(graph: Graph, *, trust_input: bool, return_list: bool, one_function: bool, eager: bool
            ) -> tuple[GeneratedFunction, dict | None]:
    """The function compiled with Numba's JIT, and (one_function) what an ahead-of-time build of its body
    needs, with ``cache_hit``: whether Numba loaded the body from its disk cache."""
    import numba

    # Products read C- and F-ordered operands in place; any other layout Numba copies, with this warning,
    # which is about code users write, not ours.
    warnings.filterwarnings("ignore", message=r"np\.dot\(\) is faster on contiguous arrays",
                            category=numba.NumbaPerformanceWarning)
    if not one_function:
        return generate(graph, impl_for, trust_input=trust_input, return_list=return_list, backend=NAME), None

    signature = tuple(numba.types.Array(numba.from_dtype(np.dtype(v.type.dtype)), v.type.ndim, "C")
                      for v in graph.inputs)
    parts: dict = {}

    layout = packed_layout([(v.type.dtype, v.type.ndim) for v in graph.inputs], aot.destroyed_inputs(graph))

    def compile_body(source: str, namespace: dict):
        compiled, found = _cached_body(source, namespace, layout)
        if eager:
            compiled.compile(signature)
        if found is not None:
            parts.update(found, source=source, cache_hit=sum(compiled.stats.cache_hits.values()) > 0)
        return explained(compiled, graph, NAME)  # its errors name the failing op and shapes (explain.py)

    generated = generate_jitted(graph, impl_for, jit=None, to_output=_to_output, trust_input=trust_input,
                                return_list=return_list, backend=NAME, free_dead=False, compile_body=compile_body)
    return generated, parts or None


def _cached_body(source: str, namespace: dict, layout: Layout | None = None):
    """The njit body and, inlined into it, the kernels it calls (one_module.py), cached on disk: the module
    text holds every kernel's source and a digest of each constant, so its hash identifies the compiled code.
    A body calling an object-mode kernel is compiled without inlining or caching.

    Returns the body and, when it is cached, what rebuilds it in another process: the module's file name,
    the kernels injected into it (``{name: {"file", "inject"}}``, recursively) and its constants."""
    import numba

    used = {k: v for k, v in namespace.items() if k.startswith(("_f", "c"))}
    kernels = {k: v for k, v in used.items() if k.startswith("_f")}
    if not all(can_inline(k) for k in kernels.values()):  # an object-mode kernel: not cacheable
        scope = dict(used)
        exec(compile(source, "<graphwright-numba-body>", "exec"), scope)  # noqa: S102 - generated code
        return numba.njit(scope["graphwright_body"], error_model="numpy"), None
    header, text, injected = module_text(source, kernels, layout)
    header.insert(0, "# graphwright: one compiled function for a whole graph")
    constants = {k: v for k, v in used.items() if k not in kernels}
    for name, value in sorted(constants.items()):
        data = np.ascontiguousarray(value)
        digest = hashlib.sha256(data.tobytes()).hexdigest()[:24]
        header.append(f"# {name}: constant {data.dtype}{list(data.shape)} sha256 {digest}")
    module = cached_module("\n".join(header) + "\n\n\n" + text, numba.__version__)
    module.__dict__.update(injected)
    module.__dict__.update(constants)
    compiled = njit_cached(module.graphwright_body, module, error_model="numpy")
    if layout is not None:  # many scalar inputs, taken packed (packed_inputs.py)
        compiled = PackedBody(compiled, layout)
    if not getattr(module, "gw_on_disk", True) or not all(getattr(k, "gw_on_disk", True) for k in kernels.values()):
        return compiled, None  # compiled without the disk cache (cache_guard.py): nothing to rebuild from
    folder = Path(module.__file__).parent
    if not all(ensure_kernel_files(v, folder) for v in injected.values()):  # made for another folder
        return compiled, None  # a kernel's file cannot be written: no ahead-of-time build
    rebuild = {"module": Path(module.__file__).name, "inject": {k: _kernel_tree(v) for k, v in injected.items()},
               "constants": {k: np.asarray(v) for k, v in constants.items()},
               "packed": layout.records() if layout is not None else None}
    return compiled, rebuild


def _kernel_tree(kernel) -> dict:
    """A generated kernel's file and, recursively, those of the kernels injected into it."""
    names = kernel.gw_parts[1]
    return {"file": kernel.gw_kernel_file,
            "inject": {k: _kernel_tree(v) for k, v in names if hasattr(v, "gw_kernel_file")}}
