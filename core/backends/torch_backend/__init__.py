"""The PyTorch backend: the whole graph as one generated function of eager torch ops, optionally compiled
with ``torch.compile``.

Options (``gw.function(..., backend="torch", backend_options={...})``):

- ``device``: where inputs, constants and intermediates live (``"cpu"`` by default, e.g. ``"cuda"``);
  results always come back as NumPy arrays.
- ``compile``: wrap the generated function in ``torch.compile`` (compiled on the first call; a shape read as
  Python ints, e.g. for a reshape to a computed shape, splits the traced graph there). Its default compiler,
  inductor, needs a C++ compiler and takes seconds to a minute per graph; errors surface on the first call
  as ``GraphRuntimeError``.
- ``compile_options``: keyword arguments for ``torch.compile`` (``{"mode": "reduce-overhead"}``,
  ``{"backend": "aot_eager"}``: no C++ compiler needed ...).

Each node calls the kernel ``impl_for`` gives (see :mod:`~graphwright.backends.torch_backend.kernels`);
constants become tensors on the device once, when compiling. An op without a kernel is refused at compile
time with :class:`~graphwright.backends.registry.UnsupportedOpError`.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable

from graphwright.backends.codegen import GeneratedFunction, generate_jitted
from graphwright.backends.disk_cache import cache_root
from graphwright.backends.explain import explained
from graphwright.backends.torch_backend.cache import inductor_cache_dir
from graphwright.graph.graph import Graph

__all__ = ["NAME", "REQUIRES", "OPTIONS", "compile_graph", "impl_for"]

NAME = "torch"
REQUIRES = "torch"
OPTIONS = ("device", "compile", "compile_options")


def impl_for(node, device=None) -> Callable:
    """The torch function computing ``node`` (on ``device``, the CPU by default).

    Examples
    --------
    >>> import torch, graphwright as gw
    >>> x = gw.vector("x")
    >>> impl_for(gw.softmax(x).owner)(torch.tensor([0.0, 0.0], dtype=torch.float64))
    tensor([0.5000, 0.5000], dtype=torch.float64)
    """
    from graphwright.backends.torch_backend.kernels import impl_for as kernel_for

    return kernel_for(node, device)


def compile_graph(graph: Graph, *, trust_input: bool, return_list: bool, **options) -> GeneratedFunction:
    """Generate one function computing ``graph`` with torch (see the module docstring for ``options``).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> f = gw.function([x], gw.exp(x).sum(), backend="torch")
    >>> f(np.zeros(3))
    array(3.)
    >>> "graphwright_body" in f.source
    True
    """
    import torch

    from graphwright.backends.torch_backend.convert import as_tensor, device_of, input_converter, to_output

    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"unknown option(s) for the torch backend: {', '.join(unknown)}; the options are "
                        f"{', '.join(OPTIONS)}")
    device = device_of(options.get("device"))
    compile_options = dict(options.get("compile_options") or {})
    if options.get("compile"):
        def jit(fn):
            folder = cache_root() / "torch"
            with warnings.catch_warnings(), inductor_cache_dir(folder):  # importing inductor warns about
                # torch's own use of torch.jit, and writes its default cache folder into os.environ
                warnings.filterwarnings("ignore", message=".*torch.jit.script_method. is deprecated",
                                        category=DeprecationWarning)
                compiled = torch.compile(fn, **compile_options)

            def call(*args):  # inductor compiles on the first call of each shape: its caches in our folder
                with inductor_cache_dir(folder):
                    return compiled(*args)

            return call
    else:
        if compile_options:
            raise TypeError("compile_options are for torch.compile: pass compile=True as well")

        def jit(fn):
            return fn

    converted: dict[int, object] = {}

    def to_constant(data):  # once per constant array, on the device
        if id(data) not in converted:
            converted[id(data)] = as_tensor(data, device)
        return converted[id(data)]

    def explained_jit(fn):  # errors name the failing op and shapes, as the NumPy backend's (explain.py)
        return explained(jit(fn), graph, NAME, to_numpy=_as_numpy)

    return generate_jitted(graph, functools.partial(impl_for, device=device), jit=explained_jit,
                           to_output=to_output, trust_input=trust_input, return_list=return_list, backend=NAME,
                           to_input=input_converter(device), to_constant=to_constant)


def _as_numpy(value):
    """A body argument (a tensor on any device) as a NumPy array."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else value
