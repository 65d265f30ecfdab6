"""Inductor's on-disk caches, kept under ``<cache_root()>/torch`` (``compile=True`` only: eager mode compiles
nothing), for graphwright's own calls only.

``torch.compile``'s default compiler, inductor, caches what it generates and builds under
``$TORCHINDUCTOR_CACHE_DIR``, which it reads at every use: the FX graph cache (``fxgraph/``: a traced graph's
generated code, keyed by a hash of the graph, its inputs' properties, the configuration and the torch version),
the AOT autograd cache (``aotautograd/``), the generated modules (``<xx>/<hash>.py``), C++ kernels and their
shared libraries (``<xx>/<hash>.so``), locks. Python files and cache entries are written to a temporary file
and renamed into place; C++ libraries are built in place under a file lock (``locks/<hash>.lock``) that loaders
take too, so concurrent processes are safe.

That variable is the only way to point inductor at a folder, and it is process-wide, so graphwright sets it
only while one of its compiled functions runs (:func:`inductor_cache_dir`: inductor compiles lazily, on the
first call of each input shape) and restores it afterwards, also undoing inductor's own write of its default
folder during the call: the user's own ``torch.compile`` calls and ``os.environ`` are as they were. (While
the call runs, another thread reading the variable sees graphwright's folder.)

Inductor trusts those files once they exist: a cache entry that fails to unpickle is skipped with a logged
warning (and compiled again), but a truncated generated module fails the compile with an error, and a
truncated shared library kills the process (SIGBUS) when loaded. So the first time a process uses a folder,
:func:`discard_corrupt` deletes what is damaged; inductor then rebuilds it. Precompiled C++ headers are not
moved: inductor keeps them in its default folder (``/tmp/torchinductor_<user>/precompiled_headers``), shared
by every graph.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["inductor_cache_dir", "discard_corrupt"]

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_VARIABLE = "TORCHINDUCTOR_CACHE_DIR"
_checked: dict[str, bool] = {}  # folders checked in this process (damaged files discarded): whether usable


def _prepare(folder: Path) -> bool:
    """Whether inductor can write in ``folder`` (else a warning, once); its damaged files are discarded."""
    from graphwright.backends.disk_cache import unusable, warn_unusable

    problem = unusable(folder)
    if problem is not None:
        warn_unusable(folder, problem)
        return False
    discard_corrupt(folder)
    return True


@contextlib.contextmanager
def inductor_cache_dir(path: str | os.PathLike) -> Iterator[bool]:
    """Point inductor's caches at ``path`` for the duration of the ``with`` block, unless the user set
    ``TORCHINDUCTOR_CACHE_DIR`` to a folder of their own (inductor's default folder, which inductor writes
    there itself on first use, is not theirs) or ``path`` cannot be written (a warning, once); damaged files
    there are discarded the first time. Yields whether graphwright's folder is in use; ``os.environ`` is as
    it was afterwards.

    Examples
    --------
    >>> import os, tempfile
    >>> before = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    >>> with inductor_cache_dir(tempfile.mkdtemp()) as ours:
    ...     print(ours)
    True
    >>> os.environ.get("TORCHINDUCTOR_CACHE_DIR") == before
    True
    """
    current = os.environ.get(_VARIABLE)  # read first: importing inductor writes its default folder there
    try:
        from torch._inductor.runtime.cache_dir_utils import default_cache_dir

        path = os.path.abspath(path)
        if current is not None and os.path.abspath(current) not in (path, os.path.abspath(default_cache_dir())):
            yield False  # the user's own folder
            return
        with _lock:
            if path not in _checked:
                _checked[path] = _prepare(Path(path))
        if not _checked[path]:
            yield False  # unwritable: inductor keeps its own folder
            return
        os.environ[_VARIABLE] = path
        yield True
    finally:
        if current is None:
            os.environ.pop(_VARIABLE, None)
        else:
            os.environ[_VARIABLE] = current


def _complete_elf(path: Path) -> bool:
    """Whether a shared library is whole: an ELF file long enough for its section headers (written last)."""
    with open(path, "rb") as f:
        head = f.read(64)
    if head[:4] != b"\x7fELF" or len(head) < 64:
        return False
    order = "<" if head[5] == 1 else ">"
    wide = head[4] == 2  # 64-bit: 8-byte offsets, so the fields sit further on
    (shoff,) = struct.unpack(order + ("Q" if wide else "I"), head[40:48] if wide else head[32:36])
    shentsize, shnum = struct.unpack(order + "HH", head[58:62] if wide else head[46:50])
    return path.stat().st_size >= shoff + shentsize * shnum


def _complete_pickle(path: Path) -> bool:
    """Whether a cache entry looks whole: a pickle (protocol 2+) opens with PROTO and ends with STOP."""
    size = path.stat().st_size
    if size < 3:
        return False
    with open(path, "rb") as f:
        first = f.read(1)
        f.seek(size - 1)
        return first == b"\x80" and f.read(1) == b"."


def _module_matches_name(path: Path) -> bool:
    """Whether a generated module still hashes to its file name (inductor names them by their content)."""
    from torch._inductor.codecache import code_hash

    return code_hash(path.read_text(errors="replace").strip()) == path.stem


def _remove(path: Path, lock_dir: Path | None = None, check=None) -> None:
    from graphwright.backends.disk_cache import discard, locked

    if lock_dir is None:
        discard(path)
    else:  # a library may be being built: hold its build lock, then look again
        with locked(lock_dir / path.name.split(".")[0]):
            if path.exists() and not check(path):
                discard(path)
    _log.debug("discarded the damaged inductor cache file %s", path)


def discard_corrupt(root: Path) -> None:
    """Delete the files under inductor's cache folder ``root`` that are damaged (truncated or overwritten):
    cache entries that are not whole pickles, generated modules whose content does not match their name, and
    (on Linux) shared libraries cut short. Inductor rebuilds each when next needed."""
    if not root.is_dir():
        return
    for sub in ("fxgraph", "aotautograd"):
        for path in (root / sub).rglob("*"):
            try:
                if not path.name.startswith(".") and path.is_file() and not _complete_pickle(path):
                    _remove(path)
            except OSError:
                continue
    for folder in root.iterdir():
        if len(folder.name) != 2 or not folder.is_dir():  # generated files live in <first 2 hash letters>/
            continue
        for path in folder.iterdir():
            try:
                if path.suffix == ".py" and not _module_matches_name(path):
                    _remove(path)
                elif path.suffix == ".so" and sys.platform.startswith("linux") and not _complete_elf(path):
                    _remove(path, root / "locks", _complete_elf)
            except OSError:
                continue
