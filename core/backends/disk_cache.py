"""The on-disk compile cache: where it lives, atomic writes, locks across processes, and clearing it.

Generated sources are stored under names derived from a hash of their text and of the library versions, so
an entry never needs invalidating: a changed graph, backend or version gives another name. Files are written
once, atomically (a temporary file renamed into place), so a concurrent reader sees a whole file or none; a
file that cannot be loaded is deleted and rebuilt by the caller.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

__all__ = ["cache_root", "clear_cache", "write_once", "locked", "content_key", "discard", "CacheUnavailableWarning",
           "warn_unusable", "unusable"]


class CacheUnavailableWarning(UserWarning):
    """The compile cache folder could not be used; graphwright compiles without it."""


_warned: set[str] = set()


def warn_unusable(folder: Path | str, exc: BaseException) -> None:
    """Warn, once per ``folder`` in this process, that the cache there failed with ``exc`` (compiling goes on
    without it).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     for _ in range(2):
    ...         warn_unusable("/nowhere/doctest", PermissionError("read-only"))
    >>> [w.category.__name__ for w in caught]
    ['CacheUnavailableWarning']
    """
    if str(folder) in _warned:
        return
    _warned.add(str(folder))
    warnings.warn(f"the compile cache folder {folder} cannot be used ({type(exc).__name__}: {exc}); graphwright "
                  "compiles without it (set gw.config.cache_dir or GRAPHWRIGHT_CACHE_DIR to a writable folder to "
                  "keep compiled code between processes)", CacheUnavailableWarning, stacklevel=4)


def unusable(folder: Path) -> OSError | None:
    """Why files cannot be written in ``folder`` (made if missing), or None when they can.

    Examples
    --------
    >>> import tempfile
    >>> unusable(Path(tempfile.mkdtemp())) is None
    True
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        return exc
    return None


def cache_root() -> Path:
    """The cache folder: ``gw.config.cache_dir``, else ``$GRAPHWRIGHT_CACHE_DIR``, else the per-user cache
    (``$XDG_CACHE_HOME/graphwright`` or ``~/.cache/graphwright``)."""
    from graphwright.config import config

    if config.cache_dir is not None:
        return Path(config.cache_dir)
    if os.environ.get("GRAPHWRIGHT_CACHE_DIR"):
        return Path(os.environ["GRAPHWRIGHT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "graphwright"


def content_key(*parts: str) -> str:
    """A short hash of ``parts`` and of the versions of graphwright, NumPy and the Python that runs.

    Examples
    --------
    >>> len(content_key("def kernel(x):\\n    return x\\n"))
    24
    """
    import sys

    import numpy as np

    from graphwright import __version__

    digest = hashlib.sha256()
    for p in (__version__, np.__version__, sys.version, *parts):
        digest.update(p.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def write_once(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless the file exists, atomically (concurrent writers are harmless)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        if not path.exists():
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path.lock`` (other processes wait): for read-modify-write of an entry."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def discard(path: Path) -> None:
    """Remove a corrupt entry (and Numba's compiled files for it) so that it is rebuilt."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    pycache = path.parent / "__pycache__"
    if pycache.is_dir():
        for f in pycache.glob(path.stem + ".*"):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()


def clear_cache() -> None:
    """Delete every cached compiled artefact (``gw.clear_cache()``); they are rebuilt when needed.

    Examples
    --------
    >>> import graphwright as gw
    >>> gw.clear_cache()
    """
    root = cache_root()
    if root.is_dir():
        shutil.rmtree(root, ignore_errors=True)
