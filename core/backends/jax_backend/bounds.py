"""Checked integer indices and scoped x64 mode for the JAX backend.

JAX clamps an out-of-range index when it reads and drops an out-of-range write, where NumPy raises. Under
``jax.jit`` an index may be traced, so it cannot be checked while tracing: instead each traced index registers
a check (whether some entry is out of range, and the first such entry) with the collector of the function
being traced, :func:`with_index_checks` returns their summary as one extra output of the jitted function, and the
Python wrapper raises after the call, with NumPy's message naming the op, the index, the axis and its length.
It costs one comparison per index entry and one small extra output per call.

The graph's default dtypes are float64 and int64, so the backend traces and calls its functions inside
:func:`x64_scope` (JAX's x64 mode for this thread, for the duration of the call), never switching x64 on for
the whole process: the user's own JAX code keeps its default dtypes.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from graphwright.backends.codegen import GraphRuntimeError

__all__ = ["x64_scope", "describe", "check_index", "collecting", "register", "with_index_checks", "IndexCheck"]


def x64_scope():
    """A context manager enabling JAX's x64 mode in this thread only (``jax.enable_x64(True)``; the older
    spelling ``jax.experimental.enable_x64()`` where that is what this JAX has).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> with x64_scope():
    ...     print(jnp.ones(1).dtype)
    float64
    """
    scope = getattr(jax, "enable_x64", None)
    if scope is not None:
        return scope(True)
    from jax.experimental import enable_x64  # pragma: no cover - JAX before 0.6

    return enable_x64()  # pragma: no cover


@dataclass(frozen=True)
class IndexCheck:
    """One traced index: where it is used (the op and its inputs), the axis it indexes and that axis's length
    (static under jit); ``bad`` (traced bool) says whether some entry is out of range, ``first`` (traced int)
    is the first such entry."""

    where: str
    axis: int
    length: int
    bad: object
    first: object


_ACTIVE: contextvars.ContextVar[list[IndexCheck] | None] = contextvars.ContextVar("graphwright_jax_index_checks",
                                                                                  default=None)


def describe(node, args) -> str:
    """``<op> failed on the jax backend with inputs <dtypes and shapes> (static types ...)``, the start of
    the backend's error messages.

    Examples
    --------
    >>> import graphwright as gw
    >>> x, i = gw.vector("x"), gw.scalar("i", dtype="int64")
    >>> describe(x[i].owner, (np.ones(3), np.int64(5)))
    'subtensor{i} failed on the jax backend with inputs float64[3], int64[] (static types float64[?], int64[])'
    """
    shapes = ", ".join(f"{getattr(a, 'dtype', type(a).__name__)}{list(np.shape(a))}" for a in args)
    static = ", ".join(v.type.short() for v in node.inputs)
    return f"{node.op.short_name()} failed on the jax backend with inputs {shapes} (static types {static})"


def register(check: IndexCheck) -> None:
    """File ``check`` with the function being traced; refuses (GraphRuntimeError) when no graphwright function
    is being traced, since the index could then not be checked.

    Examples
    --------
    >>> register(IndexCheck("take", 0, 3, False, 0))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphwright.backends.codegen.GraphRuntimeError: take: a traced index can only be checked inside a function ...
    """
    found = _ACTIVE.get()
    if found is None:
        raise GraphRuntimeError(f"{check.where}: a traced index can only be checked inside a function compiled "
                                "by graphwright's jax backend")
    found.append(check)


def check_index(index, length: int, axis: int, where: str):
    """``index`` (a traced integer scalar or array indexing an axis of ``length``), unchanged, after filing
    the check that every entry lies in ``[-length, length)``.

    Examples
    --------
    >>> with x64_scope():
    ...     _, found = collecting(lambda i: check_index(i, 3, 0, "take"), jnp.asarray([0, -3, 4]))
    >>> [(c.where, c.axis, c.length, bool(c.bad), int(c.first)) for c in found]
    [('take', 0, 3, True, 4)]
    """
    flat = jnp.reshape(index, (-1,)).astype(jnp.int64)
    if flat.shape[0] == 0:
        return index
    out = (flat < -length) | (flat >= length)
    register(IndexCheck(where, axis, length, jnp.any(out), flat[jnp.argmax(out)]))
    return index


def collecting(fn: Callable, *args) -> tuple[object, list[IndexCheck]]:
    """``fn(*args)`` and the index checks its tracing filed.

    Examples
    --------
    >>> collecting(lambda v: v * 2, 3)
    (6, [])
    """
    found: list[IndexCheck] = []
    token = _ACTIVE.set(found)
    try:
        result = fn(*args)
    finally:
        _ACTIVE.reset(token)
    return result, found


def with_index_checks(body: Callable) -> tuple[Callable, Callable]:
    """``(traced, raise_if_bad)``: ``traced(*args)`` is ``(body(*args), report)`` for ``jax.jit``, where
    ``report`` sums up the index checks (None when there are none: one int64 array of three, the position
    of the first failed check or -1, its index, and which trace filed the checks), and
    ``raise_if_bad(report)``, called on the result of the jitted function, raises GraphRuntimeError (from
    an IndexError) for the first failed check.

    Examples
    --------
    >>> import numpy as np
    >>> def body(x, i):
    ...     return x[check_index(i, x.shape[0], 0, "take")]
    >>> traced, raise_if_bad = with_index_checks(body)
    >>> with x64_scope():
    ...     out, report = jax.jit(traced)(np.arange(3.0), 5)
    >>> raise_if_bad(report)
    Traceback (most recent call last):
    ...
    graphwright.backends.codegen.GraphRuntimeError: take: IndexError: index 5 is out of bounds for axis 0 with size 3
    """
    layouts: list[tuple[tuple[str, int, int], ...]] = []  # the static part of the checks of each trace

    def traced(*args):
        outs, found = collecting(body, *args)
        if not found:
            return outs, None
        layout = tuple((c.where, c.axis, c.length) for c in found)
        if layout not in layouts:
            layouts.append(layout)
        bad = jnp.stack([c.bad for c in found])
        k = jnp.argmax(bad)
        failed = jnp.where(bad[k], k, -1).astype(jnp.int64)
        report = jnp.stack([failed, jnp.stack([c.first for c in found])[k], jnp.int64(layouts.index(layout))])
        return outs, report  # one small array: the first failed check (-1: none), its index, the layout

    def raise_if_bad(report) -> None:
        failed, value, layout = np.asarray(report).tolist()
        if failed < 0:
            return
        where, axis, length = layouts[layout][failed]
        error = IndexError(f"index {value} is out of bounds for axis {axis} with size {length}")
        raise GraphRuntimeError(f"{where}: IndexError: {error}") from error

    return traced, raise_if_bad
