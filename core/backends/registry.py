"""The backends ``gw.function`` can compile to, which of them are installed, and the error for an op a backend
lacks.

A backend is a module with ``NAME``, ``REQUIRES`` (the package it needs) and
``compile_graph(graph, *, trust_input, return_list, **options) -> GeneratedFunction``; its kernels are filed
in :mod:`graphwright.backends.dispatch` by the modules listed in ``KERNEL_MODULES``. Its ``impl_for(node)``
raises :class:`UnsupportedOpError` at compile time for an op it cannot run, never a wrong answer later.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from graphwright.graph.basic import Apply

__all__ = ["BACKENDS", "KERNEL_MODULES", "UnsupportedOpError", "backend_module", "available_backends",
           "default_backend", "missing_reason"]

# name -> (module, the package it needs)
_MODULES: dict[str, tuple[str, str | None]] = {
    "numpy": ("graphwright.backends.numpy_ref", None),
    "numba": ("graphwright.backends.numba_backend", "numba"),
    "jax": ("graphwright.backends.jax_backend", "jax"),
    "torch": ("graphwright.backends.torch_backend", "torch"),
}
BACKENDS: tuple[str, ...] = tuple(_MODULES)
# name -> the modules whose import files the backend's kernels (``@kernel(name, OpClass)``, dispatch.py)
_NUMBA = "graphwright.backends.numba_backend."
KERNEL_MODULES: dict[str, tuple[str, ...]] = {
    "numpy": ("graphwright.backends.numpy_ref",),
    "numba": tuple(_NUMBA + m for m in ("axis_ops", "blockwise", "elementwise", "linalg", "reduce_fusion",
                                        "structural")),
    "jax": ("graphwright.backends.jax_backend",),
    "torch": ("graphwright.backends.torch_backend.kernels",),
}


class UnsupportedOpError(NotImplementedError):
    """A backend has no implementation of an op (raised when compiling, naming the op and the backend)."""

    def __init__(self, backend: str, node: Apply, why: str = ""):
        self.backend = backend
        self.op = node.op
        types = ", ".join(v.type.short() for v in node.inputs)
        super().__init__(f"the {backend} backend cannot run {node.op.short_name()} ({type(node.op).__name__}) on "
                         f"inputs {types}{': ' + why if why else ''}; use backend='numpy' or another backend")


def missing_reason(name: str) -> str | None:
    """Why backend ``name`` cannot be used here (unknown, or its package is not installed), or None."""
    if name not in _MODULES:
        return f"unknown backend {name!r}; the backends are {', '.join(BACKENDS)}"
    package = _MODULES[name][1]
    if package is not None and importlib.util.find_spec(package) is None:
        return f"the {name} backend needs the {package!r} package, which is not installed (pip install {package})"
    return None


def available_backends() -> list[str]:
    """The backends whose packages are installed.

    Examples
    --------
    >>> "numpy" in available_backends()
    True
    """
    return [name for name in BACKENDS if missing_reason(name) is None]


def default_backend() -> str:
    """``gw.config.backend`` if set, else "numba" when Numba is installed, else "numpy"."""
    from graphwright.config import config

    if config.backend is not None:
        return config.backend
    return "numba" if missing_reason("numba") is None else "numpy"


def backend_module(name: str) -> ModuleType:
    """The module of backend ``name``; ValueError when it is unknown or its package is missing."""
    why = missing_reason(name)
    if why is not None:
        raise ValueError(why)
    return importlib.import_module(_MODULES[name][0])
