"""Build one ahead-of-time module (``aot.py``): run as ``python -m graphwright.backends.numba_backend.aot_build
<cache folder> <key> <lock fd>`` by :func:`graphwright.backends.numba_backend.aot.request_build`.

The process re-creates the graph's body from the cache: the module file under ``<cache>/numba`` (written by
the JIT compile), the kernels injected into it (each from its own file, recursively) and its array constants
(``gwaot_<key>.npz``); it compiles the body with Numba's JIT for C-contiguous inputs of the declared dtypes
(normally a disk-cache hit) to learn the return type, then exports the body with ``numba.pycc`` under that
signature, into a temporary folder, and renames the module into place. A build that fails leaves
``gwaot_<key>.failed`` (the traceback), so it is not tried again. Output goes to ``<cache>/numba-aot/build.log``.

Two things differ from pycc's defaults: the body is compiled with ``error_model="numpy"`` as the JIT does (a
float division by zero gives inf, not ZeroDivisionError), and the module's ``numba_unpickle`` (which pycc
calls on every call for each array returned, to get the array type: about a microsecond each) keeps what it
unpickled, as Numba's JIT runtime does.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

__all__ = ["main", "build"]

# Replaces pycc's numba_unpickle (renamed away with -D when the mixins compile; this file undoes that name).
# The pickled data are constants of the shared object, so their address identifies them; the result is a new
# reference, like the one it replaces.
MEMO_UNPICKLE_C = r"""
#include <Python.h>
#undef numba_unpickle

#define GW_MEMO 256
static const char *gw_memo_key[GW_MEMO];
static PyObject *gw_memo_value[GW_MEMO];

__attribute__((visibility("hidden"))) PyObject *
numba_unpickle(const char *data, int n, const char *hashed)
{
    static PyObject *loads = NULL;
    PyObject *buf, *obj;
    int i;
    for (i = 0; i < GW_MEMO && gw_memo_key[i] != NULL; i++) {
        if (gw_memo_key[i] == data) {
            Py_INCREF(gw_memo_value[i]);
            return gw_memo_value[i];
        }
    }
    if (loads == NULL) {
        PyObject *mod = PyImport_ImportModule("pickle");
        if (mod == NULL)
            return NULL;
        loads = PyObject_GetAttrString(mod, "loads");
        Py_DECREF(mod);
        if (loads == NULL)
            return NULL;
    }
    buf = PyBytes_FromStringAndSize(data, n);
    if (buf == NULL)
        return NULL;
    obj = PyObject_CallFunctionObjArgs(loads, buf, NULL);
    Py_DECREF(buf);
    if (obj != NULL && i < GW_MEMO) {
        Py_INCREF(obj);
        gw_memo_value[i] = obj;
        gw_memo_key[i] = data;
    }
    return obj;
}
"""


def main(argv: list[str]) -> int:
    """Build entry ``argv[1]`` of cache folder ``argv[0]``, holding the lock passed as descriptor ``argv[2]``."""
    root, key, lock_fd = argv[0], argv[1], int(argv[2])
    from graphwright.backends.numba_backend.aot import entry_paths
    from graphwright.config import config

    _background()
    config.cache_dir = root
    start = time.perf_counter()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} building gwaot_{key}", flush=True)
    try:
        path = build(key)
        print(f"  built {path.name} in {time.perf_counter() - start:.1f} s", flush=True)
        return 0
    except Exception:
        text = traceback.format_exc()
        entry_paths(key)["failed"].write_text(text)
        print(f"  failed after {time.perf_counter() - start:.1f} s:\n{text}", flush=True)
        return 1
    finally:
        os.close(lock_fd)


def _background() -> None:
    """Run only on otherwise idle CPUs (Linux's SCHED_IDLE), else at the lowest priority: a build must not
    slow the process that asked for it (a BLAS product whose threads wait for a busy core slows down many
    times over, not by the share of the core the build takes)."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(19)
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def build(key: str) -> Path:
    """Compile entry ``key`` (its sidecar written by ``request_build``) and put the module in place."""
    from graphwright.backends.numba_backend.aot import _import, entry_paths

    paths = entry_paths(key)
    sidecar = json.loads(paths["json"].read_text())
    function, signature = _body(sidecar, paths["npz"])
    for stale in paths["so"].parent.glob(".build-*"):  # left by a build that was killed (one runs at a time)
        shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(dir=paths["so"].parent, prefix=".build-"))
    try:
        built = _compile_extension(f"gwaot_{key}", function, signature, folder)
        _import(built, f"gwaot_{key}")  # it loads (here, where Numba is imported anyway)
        os.replace(built, paths["so"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return paths["so"]


def _body(sidecar: dict, constants_file: Path):
    """The body's Python function, with its globals restored, and its full signature (from the JIT)."""
    import numba
    import numpy as np

    from graphwright.backends.disk_cache import cache_root
    from graphwright.backends.numba_backend.kernels import _load
    from graphwright.backends.numba_backend.packed_inputs import Layout

    folder = cache_root() / "numba"
    module = _load(folder / sidecar["module"])
    for name, tree in sidecar["inject"].items():
        module.__dict__[name] = _kernel(tree, folder)
    if sidecar["constants"]:
        with np.load(constants_file) as data:
            module.__dict__.update({name: data[name] for name in sidecar["constants"]})
    args = tuple(numba.types.Array(numba.from_dtype(np.dtype(d)), n, "C") for d, n in sidecar["inputs"])
    if sidecar.get("packed"):  # the body takes its many scalar inputs packed (packed_inputs.py)
        args = Layout.from_records(sidecar["packed"]).signature(args)
    jitted = numba.njit(module.graphwright_body, error_model="numpy", cache=True)
    jitted.compile(args)
    return module.graphwright_body, jitted.overloads[args].signature


def _kernel(tree: dict, folder: Path):
    """The njit kernel of file ``tree["file"]``, with the kernels it calls injected (as ``kernels._kernel``)."""
    import numba

    from graphwright.backends.numba_backend.kernels import _load

    module = _load(folder / tree["file"])
    for name, sub in tree["inject"].items():
        module.__dict__[name] = _kernel(sub, folder)
    return numba.njit(module.kernel, cache=True, error_model="numpy")


def _compile_extension(name: str, function, signature, folder: Path) -> Path:
    """``numba.pycc``: export ``function`` as ``body`` of extension module ``name``, built in ``folder``."""
    import numba

    warnings.filterwarnings("ignore", category=numba.NumbaPendingDeprecationWarning)
    warnings.filterwarnings("ignore", category=numba.NumbaPerformanceWarning)
    import numba.pycc.compiler as pycc_compiler
    from numba.pycc import CC

    class NumpyErrorFlags(pycc_compiler.Flags):  # the error model of the JIT compile (pycc has no option)
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.error_model = "numpy"

    memo = folder / "gw_memo_unpickle.c"
    memo.write_text(MEMO_UNPICKLE_C)

    class GraphwrightCC(CC):
        _mixin_sources = [*CC._mixin_sources, str(memo)]

        def _get_extra_cflags(self):
            return [*super()._get_extra_cflags(), "-Dnumba_unpickle=_gw_pycc_numba_unpickle"]

    cc = GraphwrightCC(name)
    cc.output_dir = str(folder)
    cc.target_cpu = "host"  # as the JIT; the key includes the CPU model
    cc.export("body", signature)(function)
    saved, pycc_compiler.Flags = pycc_compiler.Flags, NumpyErrorFlags
    try:
        cc.compile()
    finally:
        pycc_compiler.Flags = saved
    return folder / cc.output_file


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
