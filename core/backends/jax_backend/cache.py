"""JAX's persistent compilation cache, kept under ``<cache_root()>/jax``.

XLA executables are cached by JAX itself, keyed by a hash of the lowered program (debug locations stripped,
so the generated body's per-process file name does not matter), the jaxlib version, the platform and the
compile options. Graphwright points that cache at its own folder (following ``gw.config.cache_dir``, re-read
on every compile) and replaces JAX's file store by :class:`EntryStore`, because JAX's own writes a file in
place (a concurrent reader may load half an entry) and, when an entry fails to load, warns on every run and
never replaces it. A JAX cache folder the user configured (``jax_compilation_cache_dir``) is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from pathlib import Path

import jax

__all__ = ["EntryStore", "use_cache_dir"]

_lock = threading.Lock()
_installed: str | None = None  # the folder graphwright pointed JAX at, if any
_MAGIC = b"graphwright-jax-1\0"
_HEADER = len(_MAGIC) + 32  # then the SHA-256 of the entry JAX wrote


def _jax_cache_module():
    from jax._src import compilation_cache  # JAX's cache state lives here (public: set_cache_dir, reset_cache)

    return compilation_cache


class EntryStore:
    """JAX's cache entries as files ``<key>-cache`` (JAX's layout), each behind a header with its SHA-256,
    written atomically (a temporary file renamed into place, so concurrent processes see a whole entry or none)
    and checked when read: an entry that does not match its digest (truncated, overwritten, garbage) is deleted
    and reported missing, so JAX compiles and stores it again without a warning. ``put`` always replaces: JAX
    only calls it after a miss, including one where a stored executable failed to load."""

    def __init__(self, path: str | os.PathLike) -> None:
        self._path = Path(path)
        self._path.mkdir(parents=True, exist_ok=True)

    def _file(self, key: str) -> Path:
        if not key:
            raise ValueError("key cannot be empty")
        return self._path / f"{key}-cache"

    def get(self, key: str) -> bytes | None:
        from graphwright.backends.disk_cache import discard

        path = self._file(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        head, value = data[:_HEADER], data[_HEADER:]
        if head[:len(_MAGIC)] != _MAGIC or head[len(_MAGIC):] != hashlib.sha256(value).digest():
            discard(path)  # truncated, garbage, or not written by graphwright: compiled and stored again
            return None
        return value

    def put(self, key: str, value: bytes) -> None:
        path = self._file(key)
        self._path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._path, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + hashlib.sha256(value).digest() + value)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def use_cache_dir(path: str | os.PathLike) -> bool:
    """Point JAX's persistent compilation cache at ``path`` (every executable cached, however fast it compiled)
    unless the user set ``jax_compilation_cache_dir`` to a folder of their own, or turned the cache off
    (``jax_enable_compilation_cache``), or files cannot be written there (then it warns, once per folder,
    and compiling goes on without the cache). Returns whether graphwright's folder is in use."""
    global _installed
    from graphwright.backends.disk_cache import unusable, warn_unusable

    path = str(path)
    with _lock:
        current = jax.config.jax_compilation_cache_dir
        if current is not None and current != _installed:
            return False  # the user's own JAX cache folder
        if not jax.config.jax_enable_compilation_cache:
            return False
        problem = unusable(Path(path))
        if problem is not None:  # unwritable: compile without the persistent cache
            warn_unusable(path, problem)
            if _installed is not None:  # stop using the folder graphwright pointed JAX at before
                jax.config.update("jax_compilation_cache_dir", None)
                _jax_cache_module().reset_cache()
                _installed = None
            return False
        cc = _jax_cache_module()
        ours = hasattr(cc, "_cache") and hasattr(cc, "_cache_initialized_mutex")  # else JAX's own file store
        if current == path == _installed and (not ours or isinstance(cc._cache, EntryStore)):
            return True  # (else someone reset JAX's cache, which would open its own store: install ours again)
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        cc.reset_cache()
        if ours:
            with cc._cache_initialized_mutex:
                cc._cache = EntryStore(path)
                cc._cache_initialized = True
        _installed = path
        return True
