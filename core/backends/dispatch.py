"""Which kernel computes a node, on every backend: one registration form, one table, one lookup rule.

A backend files a *kernel factory* for op classes with ``@kernel(backend, OpClass, ...)``. The factory has one
signature on every backend, ``factory(node, ctx) -> callable``: ``node`` is the Apply to compute and ``ctx`` a
:class:`KernelContext` (the backend, its device, the kernel of another node); the callable it returns takes
the node's input values and returns its output value (a tuple for several outputs).

The lookup rule (:func:`lookup`) is the same everywhere: **the exact class of the node's op** (of the plain op
for an ``InPlace`` node); a subclass never inherits its base's kernel, so each registration names every class
it serves (as rule dispatch and pattern matching do). There is no ``subclasses=True``: the completeness test
(``tests/backends/test_dispatch_completeness.py``) lists every op class of the library per backend, so a new
op without an entry fails it instead of silently running a base class's kernel.

Each entry says how the backend runs the op:

- ``"native"``: a kernel of the backend's own (its ``note`` says where a native factory falls back for some
  forms, e.g. Numba's object mode for advanced indexing with several index arrays);
- ``"fallback"``: the op runs through another implementation (the NumPy backend's ``perform``, the NumPy
  reference while tracing), named in ``note``;
- ``"refused"``: :func:`refuse` files the reason; compiling such a node raises
  :class:`~graphwright.backends.registry.UnsupportedOpError` with it, as for an op with no entry at all.

An op class with no entry is refused, except on a backend that files a *default* (:func:`default`): the NumPy
backend runs the ``perform`` of ops defined outside the library (the way to add an op of one's own). The
library's op classes all have entries of their own on every backend (the completeness test checks it).

A factory gets the plain node (no ``InPlace`` wrapper) unless it was filed with ``in_place=True``: then it
receives the node as it is in the graph and may write into the buffers the ``InPlace`` node may overwrite.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphwright.backends.registry import KERNEL_MODULES, UnsupportedOpError
from graphwright.graph.basic import Apply
from graphwright.graph.destroy import InPlace, plain_node, plain_op

__all__ = ["KernelContext", "Entry", "Factory", "HOW", "kernel", "refuse", "default", "lookup", "build", "table"]

HOW = ("native", "fallback", "refused")


@dataclass(frozen=True)
class KernelContext:
    """What a kernel factory may need besides the node: the ``backend``, its ``device`` (torch), and
    ``kernel_for(node)``, the backend's kernel of another node (for ops holding an op, e.g. Blockwise)."""

    backend: str
    device: Any = None
    kernel_for: Callable[[Apply], Callable] | None = None


Factory = Callable[[Apply, KernelContext], Callable]


@dataclass(frozen=True)
class Entry:
    """One row of the table: how ``backend`` runs ``op_class`` (``how`` in :data:`HOW`)."""

    backend: str
    op_class: type
    factory: Factory | None
    how: str
    in_place: bool = False
    note: str = ""


_TABLE: dict[tuple[str, type], Entry] = {}
_DEFAULTS: dict[str, Entry] = {}  # backend -> the entry of op classes it has no entry for (the NumPy backend)
_LOADED: set[str] = set()


def _file(entry: Entry) -> None:
    if entry.backend not in KERNEL_MODULES:
        raise ValueError(f"kernel: unknown backend {entry.backend!r}; the backends are {', '.join(KERNEL_MODULES)}")
    if entry.how not in HOW:
        raise ValueError(f"kernel: how must be one of {HOW}, got {entry.how!r} for {entry.op_class.__name__}")
    key = (entry.backend, entry.op_class)
    if key in _TABLE and _TABLE[key].factory is not entry.factory:
        raise ValueError(f"kernel: {entry.op_class.__name__} already has a {entry.backend} kernel "
                         f"({_TABLE[key].factory!r}); one entry per (backend, op class)")
    _TABLE[key] = entry


def kernel(backend: str, *op_classes: type, in_place: bool = False, how: str = "native", note: str = ""
           ) -> Callable[[Factory], Factory]:
    """Decorator: file ``factory(node, ctx) -> callable`` as ``backend``'s kernel of each of ``op_classes``
    (exact classes). ``in_place``: it takes ``InPlace`` nodes as they are; ``how`` and ``note``: see the
    module docstring.

    Examples
    --------
    >>> import graphwright as gw
    >>> entry = lookup("numpy", gw.cumsum(gw.vector("x")).owner)
    >>> entry.how, entry.op_class.__name__
    ('fallback', 'CumOp')
    """

    def decorate(factory: Factory) -> Factory:
        for cls in op_classes:
            _file(Entry(backend, cls, factory, how, in_place, note))
        return factory

    return decorate


def refuse(backend: str, *op_classes: type, why: str) -> None:
    """File that ``backend`` cannot run ``op_classes``, and why (compiling such a node raises
    UnsupportedOpError with ``why``)."""
    for cls in op_classes:
        _file(Entry(backend, cls, None, "refused", note=why))


def default(backend: str, factory: Factory, *, note: str) -> None:
    """File ``factory`` for the op classes ``backend`` has no entry of (``how="fallback"``); only the NumPy
    backend has one (an op's own ``perform``), so that ops defined outside the library run there."""
    _DEFAULTS[backend] = Entry(backend, object, factory, "fallback", note=note)


def _load(backend: str) -> None:
    if backend not in _LOADED:
        for module in KERNEL_MODULES[backend]:
            importlib.import_module(module)
        _LOADED.add(backend)


def lookup(backend: str, node: Apply) -> Entry:
    """The entry of ``node``'s op on ``backend``: the exact class of its (plain) op; UnsupportedOpError,
    naming the op and the backend, when it has none or is refused."""
    _load(backend)
    entry = _TABLE.get((backend, type(plain_op(node)))) or _DEFAULTS.get(backend)
    if entry is None:
        raise UnsupportedOpError(backend, node, f"the {backend} backend has no kernel for this op class")
    if entry.factory is None:
        raise UnsupportedOpError(backend, node, entry.note)
    return entry


def build(backend: str, node: Apply, ctx: KernelContext | None = None) -> Callable:
    """The callable computing ``node`` on ``backend``: :func:`lookup`, then the factory on the node (the
    plain node unless the entry takes ``InPlace`` nodes).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> build("numpy", gw.exp(x).owner)(np.zeros(2))
    array([1., 1.])
    """
    entry = lookup(backend, node)
    if isinstance(node.op, InPlace) and not entry.in_place:
        node = plain_node(node)
    return entry.factory(node, ctx if ctx is not None else KernelContext(backend))


def table(backend: str) -> dict[type, Entry]:
    """Every entry of ``backend`` (op class -> Entry), its kernel modules imported first.

    Examples
    --------
    >>> from graphwright.tensor.elemwise import Elemwise
    >>> table("numpy")[Elemwise].how
    'native'
    """
    _load(backend)
    return {cls: e for (b, cls), e in _TABLE.items() if b == backend}
