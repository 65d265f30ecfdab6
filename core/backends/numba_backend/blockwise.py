"""Numba kernel for Blockwise: a loop over the batch dimensions calling the core op's own Numba kernel.

Batch dimensions broadcast only where their static length is 1 (as everywhere in the graph). The core
result of the first slice gives the core output shapes, so an empty batch is refused at run time.
"""

from __future__ import annotations

from collections.abc import Callable

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.numba_backend.kernels import broadcast_lengths, impl_for, njit_source
from graphwright.graph.basic import Apply
from graphwright.tensor.blockwise import Blockwise, core_placeholders

__all__: list[str] = []


@kernel("numba", Blockwise)
def _blockwise(node: Apply, ctx: KernelContext) -> Callable:
    op = node.op
    core_node = op.core_op.make_node(*core_placeholders(op.short_name(), list(node.inputs), op.core_ndims_in))
    core = impl_for(core_node)  # UnsupportedOpError when the core op has no kernel
    nb = node.outputs[0].type.ndim - op.core_ndims_out[0]
    n_in, n_out = len(node.inputs), len(node.outputs)
    pads = [nb - (x.type.ndim - nd) for x, nd in zip(node.inputs, op.core_ndims_in, strict=True)]
    statics = [(1,) * p + x.type.shape[: x.type.ndim - nd]
               for x, p, nd in zip(node.inputs, pads, op.core_ndims_in, strict=True)]
    lines = [f"def kernel({', '.join(f'x{k}' for k in range(n_in))}):"]
    lines += broadcast_lengths([f"x{k}" for k in range(n_in)], pads, statics, nb, "blockwise batch")
    total = " * ".join(f"n{d}" for d in range(nb)) or "1"
    lines += [f"    if {total} == 0:", "        raise ValueError('blockwise: an empty batch (no slice gives the core "
              "output shapes)')"]

    def call(index: list[str]) -> str:
        args = []
        for k in range(n_in):
            idx = ["0" if statics[k][d] == 1 else index[d] for d in range(pads[k], nb)]
            core_nd = op.core_ndims_in[k]
            if not idx:
                args.append(f"x{k}")
            elif core_nd == 0:
                args.append(f"np.asarray(x{k}[{', '.join(idx)}])")
            else:
                args.append(f"x{k}[{', '.join(idx + [':'] * core_nd)}]")
        return f"_core({', '.join(args)})"

    def result(k: int) -> str:
        return f"r[{k}]" if n_out > 1 else "r"

    lines.append(f"    r = {call(['0'] * nb)}")
    shape = "".join(f"n{d}, " for d in range(nb))
    for k in range(n_out):
        lines.append(f"    out{k} = np.empty(({shape}) + {result(k)}.shape, {result(k)}.dtype)")
    indent = "    "
    for d in range(nb):
        lines.append(f"{indent}for j{d} in range(n{d}):")
        indent += "    "
    index = [f"j{d}" for d in range(nb)]
    lines.append(f"{indent}r = {call(index)}")
    for k in range(n_out):
        core_nd = op.core_ndims_out[k]
        target = ", ".join(index + [":"] * core_nd)
        value = f"{result(k)}[()]" if core_nd == 0 else result(k)
        lines.append(f"{indent}out{k}[{target}] = {value}")
    lines.append(f"    return {', '.join(f'out{k}' for k in range(n_out))}")
    return njit_source("\n".join(lines) + "\n", _core=core)
