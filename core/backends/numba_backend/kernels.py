"""Helpers of the Numba kernels (generated source compiled with Numba, cached on disk), and ``impl_for``: the
njit kernel of a node, filed with ``@kernel("numba", OpClass)`` in :mod:`graphwright.backends.dispatch`."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from graphwright.backends.disk_cache import cache_root, content_key, discard, write_once
from graphwright.backends.numba_backend.cache_guard import in_memory_module, njit_cached, warn_unusable
from graphwright.graph.basic import Apply
from graphwright.graph.destroy import plain_node

__all__ = ["impl_for", "njit_source", "python_kernel", "cached_module",
           "ensure_kernel_files",
           "kernel_global", "broadcast_lengths", "tuple_source", "permuted"]

def tuple_source(items) -> str:
    """Python source of a tuple of the given item sources (``(a, )``, ``()``)."""
    return "(" + "".join(f"{i}, " for i in items) + ")"


def permuted(name: str, perm) -> str:
    """Source of a view of array ``name`` with its axes in order ``perm``. Numba compiles
    ``x.transpose(axes)`` very slowly (seconds), so a general permutation is an ``as_strided`` view (every
    kernel file imports it); the identity is the array itself and a reversal is ``.T``."""
    perm = [int(p) for p in perm]
    if perm == sorted(perm):
        return name
    if perm == sorted(perm, reverse=True):
        return f"{name}.T"
    shape = tuple_source([f"{name}.shape[{p}]" for p in perm])
    strides = tuple_source([f"{name}.strides[{p}]" for p in perm])
    return f"as_strided({name}, shape={shape}, strides={strides})"


def broadcast_lengths(operands: list[str], pads: list[int], statics: list[tuple], nb: int, label: str) -> list[str]:
    """Source lines defining ``n0 .. n<nb-1>``, the lengths of the ``nb`` leading dimensions shared by
    ``operands`` (operand ``k`` lacks the first ``pads[k]`` of them; its static lengths are ``statics[k]``,
    padded): a static length 1 broadcasts, every other length must agree (a ValueError naming ``label``)."""
    lines = []
    for d in range(nb):
        sources = [k for k in range(len(operands)) if d >= pads[k] and statics[k][d] != 1]
        if not sources:
            lines.append(f"    n{d} = 1")
            continue
        first = sources[0]
        lines.append(f"    n{d} = {operands[first]}.shape[{d - pads[first]}]")
        if len(sources) > 5:  # one raise site for all: each costs Numba a cleanup path per live array
            lengths = ", ".join(f"{operands[k]}.shape[{d - pads[k]}]" for k in sources[1:])
            lines += [f"    for length in ({lengths}, ):", f"        if length != n{d}:",
                      f"            raise ValueError('{label}: dimension {d} does not match')"]
            continue
        for k in sources[1:]:
            lines += [f"    if {operands[k]}.shape[{d - pads[k]}] != n{d}:",
                      f"        raise ValueError('{label}: dimension {d} does not match')"]
    return lines


def njit_source(source: str, **names) -> Callable:
    """Compile the generated ``def kernel(...)`` in ``source`` with Numba, cached on disk.

    ``names`` are the kernel's globals besides ``np`` and ``math``: NumPy or Python scalars (written into the
    file as literals), functions of graphwright's modules (imported by name) and other kernels made by this
    function. The file (``<cache>/numba/gwk_<hash>.py``) is self-describing, so its hash identifies the
    compiled code, which Numba caches next to it (``cache=True``): a new process loads it instead of
    compiling. In one process, the same source gives the same kernel.
    """
    return _kernel(source, tuple(sorted(names.items(), key=lambda kv: kv[0])))


def kernel_global(name: str, value) -> tuple[str, object | None]:
    """A line defining a kernel's global ``name``, and the object to inject when it cannot be written as text."""
    if hasattr(value, "gw_kernel_file"):  # another generated kernel: injected, its file named for the hash
        return f"# {name}: kernel of {value.gw_kernel_file}", value
    if callable(value):
        module, qualname = getattr(value, "__module__", ""), getattr(value, "__qualname__", "")
        if module.startswith("graphwright.") and "<" not in qualname:
            return f"from {module} import {qualname} as {name}", None
        raise TypeError(f"kernel global {name}={value!r} is not importable by name")
    scalar = np.asarray(value)
    if scalar.ndim != 0 or scalar.dtype.kind not in "biufc":
        raise TypeError(f"kernel global {name}={value!r} is not a number")
    if scalar.dtype.kind == "b":
        return f"{name} = np.bool_({bool(scalar)})", None
    if scalar.dtype.kind == "c":  # the parts' reprs (nan and inf spelled for float())
        real, imag = (f"float('{p}')" for p in (scalar.real.item(), scalar.imag.item()))
        return f"{name} = np.{scalar.dtype.name}(complex({real}, {imag}))", None
    text = repr(scalar.item()) if np.isfinite(scalar) or scalar.dtype.kind != "f" else f"float('{scalar.item()}')"
    return f"{name} = np.{scalar.dtype.name}({text})", None


@functools.lru_cache(maxsize=4096)
def _kernel(source: str, names: tuple) -> Callable:
    import numba

    header = ["import cmath", "import math", "", "import numpy as np", "from numpy.lib.stride_tricks import as_strided"]
    injected = {}
    for name, value in names:
        line, obj = kernel_global(name, value)
        header.append(line)
        if obj is not None:
            injected[name] = obj
    text = "\n".join(header) + "\n\n\n" + source
    module = cached_module(text, numba.__version__)
    module.__dict__.update(injected)
    kernel = njit_cached(module.kernel, module, error_model="numpy")
    kernel.gw_kernel_file = module.__name__ + ".py"
    kernel.gw_text = text  # to write the file again where it is missing (ensure_kernel_files)
    kernel.gw_on_disk = getattr(module, "gw_on_disk", True) and all(
        getattr(obj, "gw_on_disk", True) for obj in injected.values())
    kernel.gw_parts = (source, names)  # to copy it into a whole-graph module (one_module.py)
    return kernel


def ensure_kernel_files(kernel, folder: Path) -> bool:
    """Write the file of a generated ``kernel``, and of the kernels injected into it, into ``folder`` where
    it is missing (the kernel was made for another cache folder, or this one was cleared since); returns
    whether they are all there.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> kernel = njit_source("def kernel(x):\\n    return x + 1\\n")
    >>> ensure_kernel_files(kernel, folder), (folder / kernel.gw_kernel_file).is_file()
    (True, True)
    """
    try:
        write_once(folder / kernel.gw_kernel_file, kernel.gw_text)
    except OSError:
        return False
    return all(ensure_kernel_files(v, folder) for _, v in kernel.gw_parts[1] if hasattr(v, "gw_kernel_file"))


def cached_module(text: str, *key: str):
    """The module of source ``text``, written once to ``<cache>/numba/gwk_<hash of text and key>.py`` and
    imported; a file that does not load is discarded and written again. When the folder cannot be written or
    read (OSError: unwritable, or cleared by another process meanwhile, twice), the module is made in memory
    instead, with a warning (``cache_guard.py``)."""
    path = cache_root() / "numba" / f"gwk_{content_key(text, *key)}.py"
    failure: OSError | None = None
    for attempt in range(2):
        try:
            write_once(path, text)
            return _load(path)
        except OSError as exc:
            failure = exc
        except Exception:  # a corrupt or foreign file under our name: discarded and written again
            if attempt:
                raise
            with contextlib.suppress(OSError):
                discard(path)
    warn_unusable(path.parent, failure)
    return in_memory_module(path.stem, text)


def _load(path: Path):
    """Import a kernel file as module ``gwk_<hash>`` (registered in sys.modules: Numba's cached code refers to
    its module by name)."""
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not any(callable(v) and getattr(v, "__module__", None) == name for v in vars(module).values()):
        raise ImportError(f"{path} defines no function")
    sys.modules[name] = module
    return module


def python_kernel(node: Apply, why: str) -> Callable:
    """An njit kernel that runs ``node`` with the NumPy backend in Numba's object mode: for the rare forms a
    native kernel does not cover (e.g. advanced indexing with several index arrays or masks). It is slow
    (a Python call per use) but exact; the kernel's ``runs_in_python`` says why it was needed."""
    import numba

    from graphwright.backends.numpy_ref import impl_for as numpy_impl

    numpy_fn = numpy_impl(plain_node(node))
    dtypes = [np.dtype(o.type.dtype) for o in node.outputs]
    single = len(node.outputs) == 1

    def perform(*xs):
        result = numpy_fn(*xs)
        values = (result,) if single else tuple(result)
        outs = tuple(np.ascontiguousarray(np.asarray(v, dtype=d)) for v, d in zip(values, dtypes, strict=True))
        return outs[0] if single else outs

    types = {f"_T{k}": numba.types.Array(numba.from_dtype(d), o.type.ndim, "C")
             for k, (o, d) in enumerate(zip(node.outputs, dtypes, strict=True))}
    args = ", ".join(f"x{k}" for k in range(len(node.inputs)))
    outs = ", ".join(f"o{k}" for k in range(len(node.outputs)))
    declared = ", ".join(f"o{k}=_T{k}" for k in range(len(node.outputs)))
    source = (f"def kernel({args}):\n    with numba.objmode({declared}):\n        {outs} = _perform({args})\n"
              f"    return {outs}\n")
    namespace = {"np": np, "numba": numba, "_perform": perform, **types}
    exec(compile(source, "<graphwright-numba-object-mode>", "exec"), namespace)  # noqa: S102 - generated
    kernel = numba.njit(namespace["kernel"])
    kernel.runs_in_python = why
    return kernel


def impl_for(node: Apply) -> Callable:
    """The njit kernel computing ``node`` (its entry in the dispatch table); UnsupportedOpError (naming the
    op) when there is none."""
    from graphwright.backends.dispatch import KernelContext, build

    return build("numba", node, KernelContext("numba", kernel_for=impl_for))
