"""``gw.config``: process-wide settings (the default backend, the compile cache folder)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["config", "Config"]


@dataclass
class Config:
    """Settings read when a function is compiled.

    Attributes
    ----------
    backend : the backend ``gw.function`` uses when it is given none; None means "numba" when Numba is
        installed, else "numpy".
    cache_dir : where compiled artefacts are cached on disk; None means ``$GRAPHWRIGHT_CACHE_DIR``, else
        ``$XDG_CACHE_HOME/graphwright`` or ``~/.cache/graphwright``. ``gw.clear_cache()`` empties it.
    numba_aot : the Numba backend's ahead-of-time tier, an extension module per graph that a new process
        loads without importing Numba (see ``graphwright.backends.numba_backend.aot``): "auto" (built in a
        background process when a graph is loaded from Numba's disk cache, i.e. reused by a new process),
        "eager" (built right after the first compile), or "off" (neither built nor loaded).

    Examples
    --------
    >>> import graphwright as gw
    >>> saved, gw.config.backend = gw.config.backend, "numpy"
    >>> gw.function([], gw.constant(1.0)).backend
    'numpy'
    >>> gw.config.backend = saved
    """

    backend: str | None = None
    cache_dir: str | None = None
    numba_aot: str = "auto"


config = Config()
