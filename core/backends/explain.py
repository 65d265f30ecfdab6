"""Readable runtime errors for backends that compile a whole graph into one function (Numba, torch).

Inside ``njit`` code an exception can only carry a fixed message (``add: dimension 0 does not match``,
``total size of new array must be unchanged``), torch's messages name no op, and the whole graph is one
function, so the failing op and the shapes it saw are unknown. When the compiled body raises,
:func:`explained` runs the same graph on the NumPy reference with the same inputs (copies of them): where that
fails too, its error (which names the op, its input dtypes and shapes, and NumPy's reason, exactly as the NumPy
backend does) is raised instead, labelled with the backend. Otherwise the backend's own error stands. Nothing
is paid until a call fails.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphwright.backends.codegen import GraphRuntimeError, generate
from graphwright.graph.graph import Graph

__all__ = ["explained"]


def explained(body: Callable, graph: Graph, backend: str, to_numpy: Callable | None = None) -> Callable:
    """``body`` (a compiled function of ``graph``'s inputs), whose exceptions become the NumPy reference's
    error for the same inputs when the reference fails too. ``to_numpy`` converts the body's arguments (e.g.
    tensors) back to NumPy values, if they are not already.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x, y = gw.vector("x"), gw.vector("y")
    >>> def body(a, b):
    ...     raise ValueError("dimension 0 does not match")
    >>> explained(body, gw.Graph([x, y], [x + y]), "numba")(np.ones(3), np.ones(4))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphwright.backends.codegen.GraphRuntimeError: add failed on the numba backend with inputs float64[3], ...
    """
    reference: list[Callable] = []  # compiled on the first failure

    def explain(exc: Exception, args: tuple) -> None:
        if not isinstance(exc, GraphRuntimeError):
            values = args if to_numpy is None else [to_numpy(a) for a in args]
            _raise_reference_error(graph, backend, reference, values)

    run = _calling(body, explain, len(graph.inputs), backend)
    run.__wrapped__ = body
    if hasattr(body, "stats"):  # a Numba dispatcher's compile statistics (live counters), for the workbench
        run.stats = body.stats
    return run


def _calling(body: Callable, explain: Callable, arity: int, backend: str) -> Callable:
    """``run(i0, ...)`` calling ``body`` and, when it raises, ``explain(exc, args)``: generated with a fixed
    parameter list, so a call costs about 0.1 us more than the body's (``*args`` past 256 inputs, which keeps
    the generated source short)."""
    params = ", ".join(f"i{k}" for k in range(arity)) if arity <= 256 else "*args"
    packed = "args" if arity > 256 else f"({params}{',' if arity else ''})"
    source = (f"def graphwright_explained({params}):\n    try:\n        return _body({params})\n"
              f"    except Exception as exc:\n        _explain(exc, {packed})\n        raise\n")
    namespace = {"_body": body, "_explain": explain}
    exec(compile(source, f"<graphwright-{backend}-explained>", "exec"), namespace)  # noqa: S102 - generated
    return namespace["graphwright_explained"]


def _raise_reference_error(graph: Graph, backend: str, reference: list, args) -> None:
    from graphwright.backends import numpy_ref

    if not reference:
        reference.append(generate(graph, numpy_ref.impl_for, trust_input=True, return_list=True,
                                  backend=backend).fn)
    copies = [np.array(a) if isinstance(a, np.ndarray) else a for a in args]  # an input the body may overwrite
    try:
        with np.errstate(all="ignore"):
            reference[0](*copies)
    except GraphRuntimeError:
        raise  # the op, its input shapes and NumPy's reason
    except Exception:  # noqa: BLE001 - not an op's error: the backend's own error stands
        return
