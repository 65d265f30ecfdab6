"""JAX's persistent compilation cache, kept under ``<cache_root()>/jax``.

XLA executables are cached by JAX itself, keyed by a hash of the lowered program (debug locations stripped,
so the generated body's per-process file name does not matter), the jaxlib version, the platform and the
compile options. Graphwright points that cache at its own folder (following ``gw.config.cache_dir``, re-read
on every compile) for its own compiles only: JAX's options are set in a scope around the calls of
graphwright's jitted functions (:func:`use_cache_dir`), never process-wide. Its entries are kept by
:class:`EntryStore`, because JAX's own file store writes a file in place (a concurrent reader may load half an
entry) and, when an entry fails to load, warns on every run and never replaces it. A JAX cache folder the user
configured (``jax_compilation_cache_dir``) is left alone, and serves graphwright's compiles too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import jax

__all__ = ["EntryStore", "use_cache_dir"]

_lock = threading.Lock()
_ours: set[str] = set()  # graphwright's cache folders (JAX's cache points at one only inside use_cache_dir's scope)
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


class _ScopedStore:
    """JAX's one cache object of the process, serving whichever folder ``jax_compilation_cache_dir`` names for
    the compile under way: graphwright's folders (set only inside :func:`use_cache_dir`'s scope) through an
    :class:`EntryStore`, any other folder (one the user configured) through JAX's own file store."""

    def __init__(self) -> None:
        self._stores: dict[str, object] = {}

    def _store(self):
        path = jax.config.jax_compilation_cache_dir
        with _lock:
            if path not in self._stores:
                self._stores[path] = EntryStore(path) if path in _ours else _jax_cache_module().get_file_cache(
                    path)[0]
            return self._stores[path]

    def get(self, key: str) -> bytes | None:
        return self._store().get(key)

    def put(self, key: str, value: bytes) -> None:
        self._store().put(key, value)


def _install_store() -> bool:
    """Make :class:`_ScopedStore` JAX's cache object (once); False when JAX's internals are not as expected."""
    cc = _jax_cache_module()
    if not (hasattr(cc, "_cache") and hasattr(cc, "_cache_initialized_mutex")):
        return False
    if not isinstance(cc._cache, _ScopedStore):
        cc.reset_cache()
        with cc._cache_initialized_mutex:
            cc._cache = _ScopedStore()
            cc._cache_initialized = True
    return True


@contextlib.contextmanager
def _scope(path: str) -> Iterator[None]:
    from jax._src import config as jax_config  # the options' context managers (thread-local, for this block)

    with jax_config.compilation_cache_dir(path), jax_config.persistent_cache_min_compile_time_secs(0.0):
        yield


def use_cache_dir(path: str | os.PathLike) -> Callable[[], contextlib.AbstractContextManager]:
    """The scope in which graphwright calls its jitted functions (they compile on their first call): there, and
    only there, JAX's persistent compilation cache points at ``path`` and caches every executable, however
    fast it compiled. JAX's options are set for that block and thread only (JAX's options are context
    managers), so ``jax.jit`` calls of the user's own code are not cached in graphwright's folder, and the
    user's ``jax_compilation_cache_dir`` keeps working for them. Returns a no-op scope when the user set
    ``jax_compilation_cache_dir`` (graphwright's compiles then go to the user's folder), turned the cache off
    (``jax_enable_compilation_cache``), or files cannot be written to ``path`` (it warns, once per folder).

    Examples
    --------
    >>> import tempfile, jax
    >>> scope = use_cache_dir(tempfile.mkdtemp())
    >>> with scope():
    ...     inside = jax.config.jax_compilation_cache_dir is not None
    >>> inside, jax.config.jax_compilation_cache_dir is None
    (True, True)
    """
    from graphwright.backends.disk_cache import unusable, warn_unusable

    path = str(path)
    if jax.config.jax_compilation_cache_dir is not None or not jax.config.jax_enable_compilation_cache:
        return contextlib.nullcontext  # the user's own JAX cache folder, or no cache
    problem = unusable(Path(path))
    if problem is not None:  # unwritable: compile without the persistent cache
        warn_unusable(path, problem)
        return contextlib.nullcontext
    with _lock:
        _ours.add(path)
    if not _install_store():  # pragma: no cover - a JAX whose cache module changed: no persistent cache
        return contextlib.nullcontext
    return lambda: _scope(path)
