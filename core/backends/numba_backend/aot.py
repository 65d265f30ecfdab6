"""The Numba backend's ahead-of-time tier: a graph's compiled body as an extension module that a new process
loads without importing Numba.

Starting Numba in a new process costs 0.35 s or more (importing it and initialising its compiler target)
before its disk cache can hand back any compiled code. So a graph reused across processes is also compiled,
in a background process at idle priority (``aot_build.py``, with ``numba.pycc``), into
``<cache>/numba-aot/gwaot_<key>.so``, next to ``gwaot_<key>.json`` (what the Python wrapper needs: the body's
source and the memory plan). The key (``aot_key.py``) is a structural hash of the rewritten graph and of the
versions and sources it depends on, computed without Numba; when the module exists, ``compile_graph`` loads it
and wraps it in the same Python function as a jitted body (``codegen.outer_function``). Numba is only imported
when an input has a layout the module was not compiled for (not C-contiguous or not aligned: pycc's wrapper
checks nothing and would misread it, or crash on another dtype, so the Python wrapper checks), and then the
jitted body runs.

``gw.config.numba_aot`` selects when modules are built: "auto" (when a graph is loaded from Numba's disk cache,
i.e. in a new process, which keeps a test suite compiling hundreds of one-off graphs from building any),
"eager" (right after the first compile) or "off" (neither built nor loaded). One build runs at a time (a lock
file): a request while one runs is skipped. :func:`wait_for_builds` waits for it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from graphwright.backends.codegen import GeneratedFunction, outer_function
from graphwright.backends.disk_cache import cache_root, write_once
from graphwright.backends.memory_plan import PlanStep
from graphwright.backends.numba_backend.packed_inputs import Layout, PackedBody
from graphwright.graph.destroy import InPlace
from graphwright.graph.graph import Graph

__all__ = ["FORMAT", "aot_dir", "entry_paths", "load", "aot_function", "request_build", "wait_for_builds",
           "LazyBody", "plan_records", "destroyed_inputs"]

FORMAT = 1  # of the JSON sidecar
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
_LOG_LIMIT = 1 << 20
_CHILDREN: list[subprocess.Popen] = []  # builds this process started (kept to be reaped)


def aot_dir() -> Path:
    """The folder of the ahead-of-time modules: ``<cache>/numba-aot``."""
    return cache_root() / "numba-aot"


def entry_paths(key: str) -> dict[str, Path]:
    """The files of one entry: the module (``so``), its sidecar (``json``), constants (``npz``) and, after a
    failed build, its log (``failed``).

    Examples
    --------
    >>> sorted(entry_paths("0" * 32))
    ['failed', 'json', 'npz', 'so']
    """
    base = aot_dir() / f"gwaot_{key}"
    return {"so": Path(str(base) + EXT_SUFFIX), "json": base.with_suffix(".json"),
            "npz": base.with_suffix(".npz"), "failed": base.with_suffix(".failed")}


def load(key: str) -> tuple[Callable, dict] | None:
    """The body function of entry ``key`` and its sidecar, or None when there is no built module. An entry
    that does not load is deleted (the caller then compiles with Numba's JIT)."""
    paths = entry_paths(key)
    if not paths["so"].exists():
        return None
    try:
        sidecar = json.loads(paths["json"].read_text())
        if sidecar.get("format") != FORMAT or sidecar.get("key") != key:
            raise ImportError(f"{paths['json']} is not an entry of this version")
        body = _import(paths["so"], f"gwaot_{key}").body
        if sidecar.get("packed"):  # its many scalar inputs packed (packed_inputs.py)
            body = PackedBody(body, Layout.from_records(sidecar["packed"]))
        return body, sidecar
    except Exception:  # damaged or foreign: discarded, rebuilt on a later request
        for path in paths.values():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return None


def _import(path: Path, name: str):
    if name in sys.modules:
        return sys.modules[name]
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[name] = module
    return module


class LazyBody:
    """A body compiled on first call by ``make()`` (the jitted body, for inputs the module cannot take)."""

    def __init__(self, make: Callable[[], Callable]):
        self.make, self.body = make, None

    def __call__(self, *args):
        if self.body is None:
            self.body = self.make()
        return self.body(*args)


def aot_function(graph: Graph, body: Callable, sidecar: dict, *, to_output: Callable, trust_input: bool,
                 return_list: bool, fallback: Callable) -> GeneratedFunction:
    """The generated function of ``graph`` around a loaded module's ``body``; inputs it cannot take (another
    layout; with ``trust_input``, also another type, dtype or rank) go to ``fallback``."""
    guards = []
    destroyed = destroyed_inputs(graph)
    for k, v in enumerate(graph.inputs):
        need = 0x101 | (0x400 if k in destroyed else 0)  # C-contiguous and aligned (and writeable)
        flags = f"i{k}.flags.num & {need} == {need}"
        guards.append(flags if not trust_input else
                      f"i{k}.__class__ is _ndarray and i{k}.dtype is _dt{k} and i{k}.ndim == {v.type.ndim} and "
                      + flags)
    fn, outer_source = outer_function(graph, body, to_output=to_output, trust_input=trust_input,
                                      return_list=return_list, backend="numba", guards=guards, fallback=fallback)
    plan = [PlanStep(s["step"], s["op"], tuple(s["outputs"]), tuple(tuple(r) for r in s["reuses"]),
                     s["allocates"], tuple(s["frees"])) for s in sidecar["plan"]]
    return GeneratedFunction(fn, outer_source + "\n" + sidecar["source"], {}, plan, body)


def destroyed_inputs(graph: Graph) -> set[int]:
    """Positions of the inputs that an in-place node writes into (the caller marked them mutable)."""
    positions = {id(v): k for k, v in enumerate(graph.inputs)}
    return {positions[id(node.inputs[i])] for node in graph.toposort if isinstance(node.op, InPlace)
            for i in node.op.destroy_map.values() if id(node.inputs[i]) in positions}


def request_build(key: str, sidecar: dict, constants: dict[str, np.ndarray]) -> bool:
    """Start building entry ``key`` in a background process, unless it exists, failed before, or another
    build holds the lock (skipped). Returns whether a build started.

    ``sidecar``: the module file of the body (under ``<cache>/numba``), the kernels to inject into it, the
    input dtypes and ranks, the body source and the memory plan; ``constants``: the body's array globals.
    """
    paths = entry_paths(key)
    if paths["so"].exists() or paths["failed"].exists() or os.name != "posix":
        return False
    import fcntl

    paths["so"].parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(aot_dir() / "build.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        if paths["so"].exists():  # built while this process compiled
            return False
        if constants:
            _write_npz(paths["npz"], constants)
        write_once(paths["json"], json.dumps({"format": FORMAT, "key": key, **sidecar}, indent=1))
        _CHILDREN.append(_spawn(key, fd))  # the child inherits the locked descriptor: the lock is its now
        return True
    finally:
        os.close(fd)


def _spawn(key: str, fd: int) -> subprocess.Popen:
    log_path = aot_dir() / "build.log"
    if log_path.exists() and log_path.stat().st_size > _LOG_LIMIT:
        log_path.unlink()
    with open(log_path, "ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own module, run by this interpreter
            [sys.executable, "-m", "graphwright.backends.numba_backend.aot_build", str(cache_root()), key,
             str(fd)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, pass_fds=(fd,),
            start_new_session=True)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def wait_for_builds(timeout: float = 600.0) -> bool:
    """Wait until no ahead-of-time build runs on the current cache folder (any process's); True if none
    runs now, False when ``timeout`` seconds passed first.

    Examples
    --------
    >>> import tempfile, graphwright as gw
    >>> saved, gw.config.cache_dir = gw.config.cache_dir, tempfile.mkdtemp()
    >>> wait_for_builds(timeout=1.0)
    True
    >>> gw.config.cache_dir = saved
    """
    deadline = time.monotonic() + timeout
    for proc in list(_CHILDREN):
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(max(deadline - time.monotonic(), 0.0))
        if proc.returncode is not None:
            _CHILDREN.remove(proc)
    lock = aot_dir() / "build.lock"
    if os.name != "posix" or not lock.exists():
        return True
    import fcntl

    while True:
        with open(lock, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True  # closing the file releases it
            except BlockingIOError:
                pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def plan_records(plan: list[PlanStep]) -> list[dict]:
    """The memory plan as JSON-able records (read back by :func:`aot_function`)."""
    return [dataclasses.asdict(step) for step in plan]
