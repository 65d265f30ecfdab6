"""Many scalar inputs of a whole-graph Numba body passed packed: one 1-d array per dtype instead of one 0-d array
each.

Numba passes an array as seven machine values (meminfo, parent, size, item size, data, shape, strides), and
LLVM's instruction selection and several of its optimisation passes take time quadratic in the number of
values of a call or a function signature: a body of 300 0-d array parameters spent 9 s in LLVM, one of 1,000
over a minute, where one 1-d array of the same values takes a second. So a graph with more than
:data:`PACK_SCALARS` 0-d inputs (none written in place) gets a body whose parameters are its other inputs, in
order, and then one array ``gw_packed_<dtype>`` per dtype of the packed scalars. In the body, a read
``i5[()]`` becomes ``gw_packed_float64[3]`` and any other use of ``i5`` a 0-d view of that element.
:class:`PackedBody` keeps the calling convention of an unpacked body (one argument per graph input): it packs
the scalars on each call (about 0.1 us per scalar, less than Numba's dispatch of as many arrays) and
translates the eager compile's signature.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["PACK_SCALARS", "Layout", "packed_layout", "pack_body", "PackedBody"]

PACK_SCALARS = 32  # a body with more 0-d inputs than this takes them packed


@dataclass(frozen=True)
class Layout:
    """Which graph inputs a body takes as they are (``kept``, positions in order) and which packed
    (``groups``: per dtype, the positions of its scalars, in the order of the packed array)."""

    kept: tuple[int, ...]
    groups: tuple[tuple[str, tuple[int, ...]], ...]

    def params(self) -> list[str]:
        """The body's parameter names."""
        return [f"i{k}" for k in self.kept] + [f"gw_packed_{dtype}" for dtype, _ in self.groups]

    def signature(self, types: Sequence) -> tuple:
        """The body's Numba signature, from the Numba types of the graph's inputs (one per input)."""
        import numba

        return tuple(types[k] for k in self.kept) + tuple(
            numba.types.Array(numba.from_dtype(np.dtype(dtype)), 1, "C") for dtype, _ in self.groups)

    def records(self) -> dict:
        """The layout as JSON-able data (an ahead-of-time sidecar); ``Layout.from_records`` reads it back."""
        return {"kept": list(self.kept), "groups": [[dtype, list(ks)] for dtype, ks in self.groups]}

    @classmethod
    def from_records(cls, records: dict) -> Layout:
        return cls(tuple(records["kept"]), tuple((dtype, tuple(ks)) for dtype, ks in records["groups"]))


def packed_layout(inputs: Sequence[tuple[str, int]], written: set[int] = frozenset()) -> Layout | None:
    """The layout of a body of inputs ``(dtype, ndim)``, or None when it has at most PACK_SCALARS 0-d inputs
    that are not ``written`` (positions an in-place node writes into: those stay the caller's buffers).

    Examples
    --------
    >>> layout = packed_layout([("float64", 1)] + [("float64", 0)] * 40 + [("int64", 0)])
    >>> layout.kept, [(d, len(ks)) for d, ks in layout.groups]
    ((0,), [('float64', 40), ('int64', 1)])
    >>> packed_layout([("float64", 0)] * 3) is None
    True
    """
    scalars = [k for k, (_, ndim) in enumerate(inputs) if ndim == 0 and k not in written]
    if len(scalars) <= PACK_SCALARS:
        return None
    by_dtype: dict[str, list[int]] = {}
    for k in scalars:
        by_dtype.setdefault(np.dtype(inputs[k][0]).name, []).append(k)
    packed = set(scalars)
    return Layout(tuple(k for k in range(len(inputs)) if k not in packed),
                  tuple((dtype, tuple(ks)) for dtype, ks in sorted(by_dtype.items())))


class _Unpack(ast.NodeTransformer):
    """Reads ``i<k>[()]`` of packed inputs become element reads of their packed array; other uses are
    recorded (they get a 0-d view)."""

    def __init__(self, where: dict[str, tuple[str, int]]):
        self.where, self.viewed = where, set()

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        target = node.value
        if (isinstance(target, ast.Name) and target.id in self.where and isinstance(node.slice, ast.Tuple)
                and not node.slice.elts and isinstance(node.ctx, ast.Load)):
            array, index = self.where[target.id]
            return ast.copy_location(ast.Subscript(ast.Name(array, ast.Load()), ast.Constant(index), ast.Load()), node)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in self.where:
            self.viewed.add(node.id)
        return node


def pack_body(body: ast.FunctionDef, layout: Layout) -> ast.FunctionDef:
    """``body`` (``def graphwright_body(i0, ...)``) taking its inputs as ``layout`` says."""
    where = {f"i{k}": (f"gw_packed_{dtype}", j) for dtype, ks in layout.groups for j, k in enumerate(ks)}
    unpack = _Unpack(where)
    statements = [unpack.visit(stmt) for stmt in body.body]
    views = [ast.parse(f"{name} = {where[name][0]}[{where[name][1]}:{where[name][1] + 1}].reshape(())").body[0]
             for name in sorted(unpack.viewed, key=lambda n: int(n[1:]))]
    body.args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in layout.params()], kwonlyargs=[],
                              kw_defaults=[], defaults=[])
    body.body = views + statements
    return body


class PackedBody:
    """A compiled packed body called as an unpacked one: ``body(i0, i1, ...)`` with one value per graph
    input (C-contiguous arrays of the declared dtypes, as a generated function passes them)."""

    def __init__(self, compiled: Callable, layout: Layout):
        self.compiled, self.layout = compiled, layout
        self._kept = operator.itemgetter(*layout.kept) if layout.kept else (lambda args: ())
        if len(layout.kept) == 1:
            single = self._kept
            self._kept = lambda args: (single(args),)
        self._groups = [(operator.itemgetter(*ks) if len(ks) > 1 else (lambda args, k=ks[0]: (args[k],)),
                         np.dtype(dtype)) for dtype, ks in layout.groups]

    def __call__(self, *args):
        packed = [np.array(take(args), dtype) for take, dtype in self._groups]
        return self.compiled(*self._kept(args), *packed)

    def compile(self, signature: Sequence) -> None:
        """Compile for ``signature``: the Numba types of the graph's inputs, one per input."""
        self.compiled.compile(self.layout.signature(signature))

    def __getattr__(self, name: str):  # stats, overloads ... of the compiled body
        return getattr(self.compiled, name)
