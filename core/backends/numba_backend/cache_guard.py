"""Compiling with Numba when the disk cache cannot be used: the cache folder is unwritable, or another process
cleared it (``gw.clear_cache()``) while this one compiled.

The Numba backend writes each generated module to ``<cache>/numba`` and lets Numba cache its machine code
next to it. When writing or reading there fails with an OSError, compiling goes on without the disk cache:
the module is made in memory (:func:`in_memory_module`) and compiled without ``cache=True``, and Numba's own
cache reads and writes that fail are skipped (:func:`njit_cached`). Each cache folder gives one
:class:`CacheUnavailableWarning` per process; results are the same, only the next process compiles again.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path

from graphwright.backends.disk_cache import CacheUnavailableWarning, warn_unusable

__all__ = ["CacheUnavailableWarning", "warn_unusable", "in_memory_module", "njit_cached"]


def in_memory_module(name: str, text: str) -> types.ModuleType:
    """The module of source ``text``, made without a file (its functions cannot be cached on disk:
    ``gw_on_disk`` is False).

    Examples
    --------
    >>> in_memory_module("gwk_demo", "def kernel(x):\\n    return x + 1\\n").kernel(1)
    2
    """
    module = types.ModuleType(name)
    module.gw_on_disk = False
    exec(compile(text, f"<graphwright-numba {name}>", "exec"), module.__dict__)  # noqa: S102 - generated code
    return module


class _TolerantCache:
    """Numba's cache of one function, whose failing disk reads and writes (OSError) are skipped with a warning:
    a failed read is a miss, a failed write leaves the code compiled in memory only."""

    def __init__(self, inner, folder: str) -> None:
        self._inner, self._folder = inner, folder

    def load_overload(self, sig, target_context):
        try:
            return self._inner.load_overload(sig, target_context)
        except OSError as exc:
            warn_unusable(self._folder, exc)
            return None

    def save_overload(self, sig, data) -> None:
        try:
            self._inner.save_overload(sig, data)
        except OSError as exc:
            warn_unusable(self._folder, exc)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def njit_cached(fn: Callable, module: types.ModuleType, **options) -> Callable:
    """``numba.njit(fn, cache=True, **options)`` for a function of a module on disk (failures of Numba's cache
    then only warn), else ``numba.njit(fn, **options)``.

    Examples
    --------
    >>> kernel = njit_cached(in_memory_module("gwk_demo2", "def kernel(x):\\n    return x * 2\\n").kernel,
    ...                      in_memory_module("gwk_demo2", ""))
    >>> kernel(3)
    6
    """
    import numba

    if not getattr(module, "gw_on_disk", True):
        return numba.njit(fn, **options)
    folder = str(Path(getattr(module, "__file__", "")).parent)
    try:
        dispatcher = numba.njit(fn, cache=True, **options)
    except (OSError, RuntimeError) as exc:  # no cache locator: the file or its folder is gone or unwritable
        warn_unusable(folder, exc)
        return numba.njit(fn, **options)
    dispatcher._cache = _TolerantCache(dispatcher._cache, folder)
    return dispatcher
