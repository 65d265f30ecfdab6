"""``gw.function``: compile a graph into a callable ``Function`` on a backend (the NumPy reference for now)."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from graphwright.backends.codegen import InputError
from graphwright.backends.memory_plan import MemoryPlan
from graphwright.backends.registry import (
    BACKENDS,
    UnsupportedOpError,
    backend_module,
    default_backend,
    missing_reason,
)
from graphwright.graph.basic import Constant, GraphError, Variable
from graphwright.graph.destroy import InPlace, destroy_problems, plain_op
from graphwright.graph.graph import Graph
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["function", "Function", "eval_variable", "BACKENDS", "UnsupportedOpWarning", "UnsupportedTypeError"]


class UnsupportedOpWarning(UserWarning):
    """The default backend could not run an op, so the function runs on the NumPy backend."""



class Function:
    """A compiled graph. Call it with positional values in input order, or with keywords by input name.

    Attributes
    ----------
    inputs, outputs : the variables it was built from.
    graph : the Graph that runs (after rewriting).
    trace : the rewrite Trace (None when ``rewrites=None``).
    backend : the backend that runs it.
    fallback : when the default backend refused an op and the NumPy backend runs the function instead, the
        refusal (None otherwise).
    source : the generated Python source.
    memory_plan : where each step writes its output (a new buffer, or a dead input's) and what it frees.
    mutable : the inputs the function may overwrite (those marked ``mutable``).
    fn : the raw generated function (positional arguments only; the fastest way to call).
    """

    def __init__(self, graph: Graph, backend: str, trust_input: bool, return_list: bool, trace=None,
                 mutable: Sequence[Variable] = (), explicit: bool = True, options: dict | None = None):
        self.trace = trace
        self.mutable = tuple(mutable)
        graph, dropped = _safe_inplace(graph, self.mutable)
        self.graph = graph
        self.inputs = graph.inputs
        self.outputs = graph.outputs
        self.trust_input = trust_input
        self.fallback: UnsupportedOpError | None = None
        try:
            refuse_unsupported_types(graph, backend)
            generated = backend_module(backend).compile_graph(graph, trust_input=trust_input,
                                                              return_list=return_list, **(options or {}))
        except UnsupportedOpError as exc:
            if explicit:
                raise
            warnings.warn(f"{exc}: compiled with the numpy backend instead", UnsupportedOpWarning, stacklevel=3)
            self.fallback, backend = exc, "numpy"
            generated = backend_module(backend).compile_graph(graph, trust_input=trust_input,
                                                              return_list=return_list)
        self.backend = backend
        self.fn = generated.fn
        self.source = generated.source
        self.memory_plan = MemoryPlan(generated.plan, dropped)
        self._names = {v.name: i for i, v in enumerate(self.inputs) if v.name}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            args = self._merge_keywords(args, kwargs)
        elif len(args) != len(self.inputs):
            raise TypeError(f"this function takes {len(self.inputs)} input(s) "
                            f"({', '.join(_label(v) for v in self.inputs)}), got {len(args)}")
        return self.fn(*args)

    def _merge_keywords(self, args: tuple, kwargs: dict) -> tuple:
        values: list[Any] = list(args) + [_MISSING] * (len(self.inputs) - len(args))
        if len(args) > len(self.inputs):
            raise TypeError(f"this function takes {len(self.inputs)} input(s), got {len(args)} positional")
        for key, value in kwargs.items():
            if key not in self._names:
                known = ", ".join(sorted(self._names)) or "none (the inputs have no names)"
                raise TypeError(f"unknown keyword argument {key!r}; the named inputs are: {known}")
            pos = self._names[key]
            if values[pos] is not _MISSING:
                raise TypeError(f"input {key!r} was given twice")
            values[pos] = value
        missing = [_label(v) for v, a in zip(self.inputs, values, strict=True) if a is _MISSING]
        if missing:
            raise TypeError(f"missing value(s) for input(s): {', '.join(missing)}")
        return tuple(values)

    def __repr__(self) -> str:
        ins = ", ".join(_label(v) for v in self.inputs)
        return f"<Function({ins}) on {self.backend}: {self.graph.node_count} nodes>"


_MISSING = object()


def _safe_inplace(graph: Graph, mutable: Sequence[Variable]) -> tuple[Graph, list[str]]:
    """The graph, or, when some of its in-place permissions would overwrite a value still needed (a graph
    compiled as written after an edit), the graph without any, and the reasons."""
    if not any(isinstance(n.op, InPlace) for n in graph.toposort):
        return graph, []
    problems = destroy_problems(graph, mutable)
    if not problems:
        return graph, []
    plain: dict[Variable, Variable] = {}
    for node in graph.toposort:
        inputs = [plain.get(v, v) for v in node.inputs]
        if isinstance(node.op, InPlace) or any(a is not b for a, b in zip(inputs, node.inputs, strict=True)):
            op = plain_op(node)
            plain.update(zip(node.outputs, op.make_node(*inputs).outputs, strict=True))
    return Graph(graph.inputs, [plain.get(v, v) for v in graph.outputs]), problems


def _label(v: Variable) -> str:
    return v.name or str(v)


class UnsupportedTypeError(UnsupportedOpError):
    """A backend cannot carry a value of some type in the graph (e.g. a random generator on JAX)."""

    def __init__(self, backend: str, var: Variable, why: str):
        self.backend, self.op, self.variable = backend, None, var
        NotImplementedError.__init__(self, f"the {backend} backend cannot compile a graph holding {var}: {why}; "
                                           "use backend='numpy'")


def refuse_unsupported_types(graph: Graph, backend: str) -> None:
    """Raise UnsupportedTypeError naming the first variable whose type ``backend`` cannot carry
    (``Type.problem_on``); one pass over the inputs and the node outputs.

    Examples
    --------
    >>> import graphwright as gw
    >>> rng = gw.rng_var("rng")
    >>> refuse_unsupported_types(gw.Graph([rng], [rng]), "numpy")
    >>> refuse_unsupported_types(gw.Graph([rng], [rng]), "jax")
    Traceback (most recent call last):
    ...
    graphwright.backends.compile.UnsupportedTypeError: the jax backend cannot compile a graph holding rng: values \
of type rng are not supported on the jax backend (supported on: numpy); use backend='numpy'
    """
    checked: set = set()
    variables = [*graph.inputs, *(o for node in graph.toposort for o in node.outputs)]
    for var in variables:
        if var.type in checked:
            continue
        why = var.type.problem_on(backend)
        if why is not None:
            raise UnsupportedTypeError(backend, var, why)
        checked.add(var.type)


def function(inputs: Sequence[Variable], outputs: Variable | Sequence[Variable], *, backend: str | None = None,
             trust_input: bool = False, rewrites: str | Sequence[str] | None = "fast_run",
             mutable: Sequence[Variable] = (), backend_options: dict | None = None) -> Function:
    """Compile ``outputs`` as a function of ``inputs``.

    Parameters
    ----------
    inputs : the graph inputs, in call order.
    outputs : one variable (the call returns an array) or a list (the call returns a list).
    backend : ``"numpy"`` (the reference), ``"numba"``, ``"jax"`` or ``"torch"``; by default ``gw.config.backend``,
        else numba when it is installed (an op it cannot run then falls back to numpy with a warning; a backend
        asked for by name raises ``UnsupportedOpError`` instead).
    trust_input : skip the dtype and shape checks of the inputs (faster; wrong inputs give wrong errors).
    rewrites : a query ("fast_run", "stabilize" ...), a list of phases, or None to run the graph as written.
        The rewrite is for ``backend``: rules tagged for other backends do not run (``Function.trace.backend``).
    mutable : inputs whose arrays the function may overwrite to save memory (by default it never touches
        the caller's arrays); see ``Function.memory_plan``.
    backend_options : backend-specific settings (e.g. ``{"compile": True}`` for torch.compile).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> f = gw.function([x], gw.exp(x).sum())
    >>> float(f(np.zeros(3)))
    3.0
    """
    explicit = backend is not None
    backend = backend if explicit else default_backend()
    why = missing_reason(backend)
    if why is not None:
        raise ValueError(why)
    inputs = list(inputs)
    for i, v in enumerate(inputs):
        if not isinstance(v, Variable):
            raise TypeError(f"input {i} must be a symbolic variable, got {type(v).__name__}")
        if isinstance(v, Constant) or v.owner is not None:
            raise GraphError(f"input {i} ({v}) must be a free variable, not a constant or computed value")
    return_list = not isinstance(outputs, Variable)
    outs = [o if isinstance(o, Variable) else as_tensor(o) for o in ([outputs] if not return_list else outputs)]
    if not outs and not return_list:  # pragma: no cover
        raise GraphError("function needs at least one output")
    graph = Graph(inputs, outs)
    mutable = list(mutable)
    known_inputs = {id(v) for v in inputs}
    strangers = [v for v in mutable if id(v) not in known_inputs]
    if strangers:
        raise ValueError(f"mutable= names {', '.join(map(str, strangers))}, which are not inputs of the function")
    trace = None
    if rewrites is not None:
        from graphwright.rewrite.engine import rewrite

        graph, trace = rewrite(graph, phases=rewrites, mutable=mutable, backend=backend)
    return Function(graph, backend, trust_input, return_list, trace, mutable, explicit, backend_options)


_EVAL_CACHE: OrderedDict = OrderedDict()
_EVAL_CACHE_SIZE = 64


def eval_variable(var: TensorVariable, inputs: dict) -> np.ndarray:
    """Evaluate ``var`` with ``inputs`` (a dict from input variables to values), caching the compiled function."""
    for k in inputs:
        if not isinstance(k, Variable):
            raise TypeError(f"eval() keys must be input variables, got {type(k).__name__} {k!r}")
    keys = tuple(inputs)
    cache_key = (id(var), *map(id, keys))
    entry = _EVAL_CACHE.get(cache_key)
    if entry is None or entry[0] is not var or any(a is not b for a, b in zip(entry[1], keys, strict=True)):
        try:
            fn = function(list(keys), var, backend="numpy")  # inspection: no compile wait
        except GraphError as exc:
            raise GraphError(f"cannot evaluate {var}: {exc}") from None
        entry = (var, keys, fn)
        _EVAL_CACHE[cache_key] = entry
        if len(_EVAL_CACHE) > _EVAL_CACHE_SIZE:
            _EVAL_CACHE.popitem(last=False)
    return entry[2](*inputs.values())


__all__ += ["InputError"]
