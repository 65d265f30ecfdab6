"""The JAX backend: the whole rewritten graph as one function compiled by ``jax.jit``.

Every node becomes one call of a kernel (see :mod:`.kernels`, :mod:`.indexing`, and :mod:`.scalar` for
Elemwise and Composite, which is inlined). A kernel whose inputs are all concrete while tracing (constants,
shapes of traced arrays, static inputs) runs the NumPy reference instead, so shape arithmetic stays concrete
and follows NumPy exactly; the values that decide output shapes are arranged to be concrete by
:mod:`.analysis`. Float64 and int64 are enabled while graphwright traces and calls its functions (JAX's
x64 mode, scoped to those calls: :func:`.bounds.x64_scope`). Outputs come back as NumPy arrays. Integer
indices are checked as NumPy checks them (:mod:`.bounds`).

Known differences from the NumPy backend: XLA on CPU flushes subnormal floats to zero, and the runtime
broadcasting checks run once per input shape (when tracing), not per call.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np
from jax.core import Tracer

from graphwright.backends import numpy_ref
from graphwright.backends.codegen import GeneratedFunction, GraphRuntimeError, generate_jitted
from graphwright.backends.disk_cache import cache_root
from graphwright.backends.dispatch import KernelContext, build
from graphwright.backends.jax_backend import indexing, kernels, scalar  # noqa: F401 - they file the kernels
from graphwright.backends.jax_backend.analysis import ConcretePlan, plan_concrete
from graphwright.backends.jax_backend.bounds import with_index_checks, x64_scope
from graphwright.backends.jax_backend.cache import use_cache_dir
from graphwright.graph.basic import Apply
from graphwright.graph.destroy import plain_node
from graphwright.graph.graph import Graph
from graphwright.tensor.creation import Alloc, Eye
from graphwright.tensor.shape import Shape

__all__ = ["NAME", "REQUIRES", "impl_for", "compile_graph"]

NAME = "jax"
REQUIRES = "jax"

# Creation ops whose NumPy result could be a large constant baked into the program: staged unless the value is
# needed while tracing.
_STAGED = (Alloc, Eye)


def impl_for(node: Apply, plan: ConcretePlan | None = None) -> Callable:
    """The callable computing ``node`` while ``jax.jit`` traces: NumPy (the reference) when every input is
    concrete, else JAX; results in the graph's output dtypes. Raises UnsupportedOpError for an op without
    a JAX kernel. ``plan`` marks the nodes whose values must stay concrete.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> kernel = impl_for(gw.exp(x).owner)
    >>> kernel(np.zeros(2))  # concrete inputs: the NumPy reference
    array([1., 1.])
    """
    plain = plain_node(node)
    traced = build(NAME, plain, KernelContext(NAME, kernel_for=impl_for))
    reference = numpy_ref.impl_for(plain)
    concrete = plan is not None and plan.is_concrete(node) and type(plain.op) is not Shape
    staged = type(plain.op) in _STAGED and not concrete
    dtypes = [np.dtype(v.type.dtype) for v in plain.outputs]
    single = len(dtypes) == 1

    def kernel(*args):
        try:
            if not staged and not any(isinstance(a, Tracer) for a in args):
                with np.errstate(all="ignore"):
                    return reference(*args)
            if concrete:  # pragma: no cover - analysis.plan_concrete makes every input of such a node concrete
                raise TypeError("a value that decides a shape was traced")
            out = traced(*args)
            if single:
                return out if out.dtype == dtypes[0] else out.astype(dtypes[0])
            return tuple(o if o.dtype == d else o.astype(d) for o, d in zip(out, dtypes, strict=True))
        except GraphRuntimeError:
            raise
        except Exception as exc:
            shapes = ", ".join(f"{getattr(a, 'dtype', type(a).__name__)}{list(np.shape(a))}" for a in args)
            raise GraphRuntimeError(f"{plain.op.short_name()} failed on the jax backend with inputs {shapes} "
                                    f"(static types {', '.join(v.type.short() for v in plain.inputs)}): "
                                    f"{type(exc).__name__}: {exc}") from exc

    kernel.__name__ = f"jax_{type(plain.op).__name__}"
    return kernel


class _Static:
    """A NumPy value passed to ``jax.jit`` as a static argument (hashable by its bytes, dtype and shape)."""

    __slots__ = ("value", "_key")

    def __init__(self, value) -> None:
        array = np.array(value)
        array.flags.writeable = False
        self.value = array
        self._key = (array.dtype.str, array.shape, array.tobytes())

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Static) and self._key == other._key


def _jit(static: tuple[int, ...], compiler_options: dict | None, cache_scope: Callable
         ) -> Callable[[Callable], Callable]:
    """``jax.jit`` of the body, with the inputs at positions ``static`` wrapped as static arguments, traced
    and called in JAX's x64 mode and ``cache_scope()`` (for the call only); an index found out of range raises
    after the call."""

    def jit(body: Callable) -> Callable:
        traced, raise_if_bad = with_index_checks(body)
        if not static:
            jitted = jax.jit(traced, compiler_options=compiler_options)

            def call(*args):
                with x64_scope(), cache_scope():
                    outs, report = jitted(*args)
                if report is not None:
                    raise_if_bad(report)
                return outs

            return call

        def unwrapped(*args):
            return traced(*(a.value if isinstance(a, _Static) else a for a in args))

        jitted_static = jax.jit(unwrapped, static_argnums=static, compiler_options=compiler_options)

        def call_static(*args):
            with x64_scope(), cache_scope():
                outs, report = jitted_static(*(_Static(a) if k in static else a for k, a in enumerate(args)))
            if report is not None:
                raise_if_bad(report)
            return outs

        return call_static

    return jit


def _to_output(value, copy: bool) -> np.ndarray:
    return np.array(value)  # a fresh, writeable NumPy array (JAX arrays are read-only)


def compile_graph(graph: Graph, *, trust_input: bool, return_list: bool,
                  compiler_options: dict | None = None) -> GeneratedFunction:
    """Compile ``graph`` into one ``jax.jit`` function (traced and compiled on the first call of each input
    shape); raises UnsupportedOpError at once for an op the backend cannot run.

    ``compiler_options`` (``backend_options={"compiler_options": {...}}`` in ``gw.function``) go to XLA, e.g.
    ``{"xla_backend_optimization_level": 0}`` to compile faster and run slower.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> f = gw.function([x], gw.cumsum(x * 2), backend="jax")
    >>> f(np.array([1.0, 2.0, 3.0]))
    array([ 2.,  6., 12.])
    """
    cache_scope = use_cache_dir(cache_root() / "jax")  # XLA executables: JAX's persistent cache, our folder
    plan = plan_concrete(graph, NAME)
    jit = _jit(tuple(sorted(plan.static_inputs)), compiler_options, cache_scope)
    return generate_jitted(graph, lambda node: impl_for(node, plan), jit=jit, to_output=_to_output,
                           trust_input=trust_input, return_list=return_list, backend=NAME, free_dead=False)
