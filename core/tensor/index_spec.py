"""Static descriptions of NumPy indices, shared by the read (Subtensor) and write (IncSubtensor) ops.

A *spec* is a hashable tuple with one entry per index entry, Ellipsis expanded and every dimension of the
indexed tensor covered (missing trailing dimensions become full slices):

- ``("int",)``: a 0-d integer (one part);
- ``("slice", has_start, has_stop, has_step)``: one part per bound that is present;
- ``("newaxis",)``: ``None``;
- ``("array", ndim)``: an integer index array of rank ``ndim`` (one part);
- ``("bool", ndim)``: a boolean mask over ``ndim`` dimensions (one part);
- ``("ellipsis",)``: kept only where it covers no dimension but separates advanced indices, because NumPy
  then moves the advanced dimensions to the front.

The *parts* are the symbolic pieces (0-d ints, index arrays, masks), in order, as extra inputs of the ops.
The symbolic output shapes (``infer_shape``) live in :mod:`graphwright.tensor.index_shape`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from graphwright.graph.basic import GraphError, Variable
from graphwright.tensor import shape as _shape
from graphwright.tensor.type import INT_DTYPES, broadcast_shapes
from graphwright.tensor.variable import TensorVariable, as_tensor, constant

__all__ = ["IndexingError", "FULL", "normalize_index", "check_parts", "static_out_shape", "build_index",
           "index_text", "placeholder_text", "has_advanced", "n_parts", "shape_parts"]

FULL = ("slice", False, False, False)
_ADVANCED = ("array", "bool")


class IndexingError(GraphError, IndexError):
    """An index does not fit the tensor it indexes (a GraphError that is also an IndexError)."""


def _label(x: Variable) -> str:
    return f"{x} (static shape {x.type.shape})"


def has_advanced(spec: tuple) -> bool:
    return any(e[0] in _ADVANCED for e in spec)


def n_parts(spec: tuple) -> int:
    return sum(sum(e[1:]) if e[0] == "slice" else e[0] in ("int", "array", "bool") for e in spec)


def shape_parts(spec: tuple, offset: int) -> tuple[int, ...]:
    """Positions (among a node's inputs, its parts starting at ``offset``) of the slice bounds and boolean
    masks of ``spec``: the parts whose values decide the shape of the result.

    Examples
    --------
    >>> shape_parts((("int",), ("slice", True, False, True)), 1)
    (2, 3)
    """
    found, position = [], offset
    for e in spec:
        kind = e[0]
        count = sum(e[1:]) if kind == "slice" else int(kind in ("int", "array", "bool"))
        if kind in ("slice", "bool"):
            found += range(position, position + count)
        position += count
    return tuple(found)


def _consumed(entry: tuple) -> int:
    return {"int": 1, "slice": 1, "array": 1, "bool": entry[-1]}.get(entry[0], 0)


# --- user index -> (spec, parts) -------------------------------------------------------------------------
def _as_part(value: Any) -> TensorVariable:
    if isinstance(value, Variable):
        return as_tensor(value)
    if isinstance(value, list | tuple) and any(isinstance(v, Variable) for v in _shape_flat(value)):
        return as_tensor(list(value))
    array = np.asarray(value)
    if array.dtype.kind not in "biu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise IndexingError(f"getitem: only integers, slices, None, Ellipsis and integer or boolean arrays "
                            f"are valid indices, got {value!r}")
    return constant(array.astype("int64") if array.dtype.kind == "f" else array)


def _shape_flat(seq):
    for v in seq:
        yield from (_shape_flat(v) if isinstance(v, list | tuple) else (v,))


def _entry(item: Any) -> tuple[tuple, list]:
    """One index entry as (spec entry, parts); an Ellipsis comes back as ``("ellipsis",)``."""
    if item is None:
        return ("newaxis",), []
    if item is Ellipsis:
        return ("ellipsis",), []
    if isinstance(item, slice):
        bounds = [b for b in (item.start, item.stop, item.step)]
        parts = [_as_part(b) for b in bounds if b is not None]
        return ("slice", *(b is not None for b in bounds)), parts
    part = _as_part(item)
    if part.type.dtype == "bool":
        return ("bool", part.type.ndim), [part]
    return (("int",) if part.type.ndim == 0 else ("array", part.type.ndim)), [part]


def normalize_index(x: TensorVariable, index: Any) -> tuple[tuple, list[TensorVariable]]:
    """Turn a user index (anything ``x[...]`` accepts) into a canonical spec and its symbolic parts."""
    items = index if isinstance(index, tuple) else (index,)
    entries, parts = [], []
    for item in items:
        entry, p = _entry(item)
        entries.append(entry)
        parts += p
    n_ell = sum(e[0] == "ellipsis" for e in entries)
    if n_ell > 1:
        raise IndexingError(f"getitem: an index can only have a single ellipsis ('...'), got {n_ell}")
    used = sum(_consumed(e) for e in entries)
    if used > x.type.ndim:
        raise IndexingError(f"getitem: too many indices for {_label(x)}: it has ndim {x.type.ndim} but "
                            f"{used} dimension(s) were indexed")
    arrays = has_advanced(tuple(entries))

    def is_adv(entry: tuple) -> bool:
        return entry[0] in _ADVANCED or (entry[0] == "int" and arrays)

    spec: list[tuple] = []
    for k, e in enumerate(entries):
        if e[0] != "ellipsis":
            spec.append(e)
            continue
        fill = x.type.ndim - used
        separates = any(map(is_adv, entries[:k])) and any(map(is_adv, entries[k:]))
        spec += [FULL] * fill if fill or not separates else [e]
    spec += [FULL] * (x.type.ndim - sum(_consumed(e) for e in spec))
    return tuple(spec), parts


# --- validation and static shapes ---------------------------------------------------------------------------
def check_parts(spec: tuple, x: TensorVariable, parts: list[TensorVariable], op_name: str) -> None:
    """Check the number, rank and dtype of the parts and that the spec covers every dimension of ``x``."""
    if sum(_consumed(e) for e in spec) != x.type.ndim:
        raise IndexingError(f"{op_name}: the index covers {sum(_consumed(e) for e in spec)} dimension(s) but "
                            f"{_label(x)} has ndim {x.type.ndim}")
    if len(parts) != n_parts(spec):
        raise IndexingError(f"{op_name}: the index needs {n_parts(spec)} input(s), got {len(parts)}")
    it = iter(parts)
    for e in spec:
        kind = e[0]
        for _ in range(sum(e[1:]) if kind == "slice" else kind in ("int", "array", "bool")):
            p = next(it)
            what = {"int": "an integer index", "slice": "a slice bound", "array": "an index array",
                    "bool": "a boolean mask"}[kind]
            ndim = 0 if kind in ("int", "slice") else e[1]
            ok = p.type.dtype == "bool" if kind == "bool" else p.type.dtype in INT_DTYPES
            if not ok or p.type.ndim != ndim:
                raise IndexingError(f"{op_name}: {what} must be a {ndim}-d "
                                    f"{'bool' if kind == 'bool' else 'integer'} tensor, got {p} of type "
                                    f"{p.type.short()}")


@lru_cache(maxsize=1024)
def plan(spec: tuple) -> tuple[tuple, tuple]:
    """Output layout: (entries, advanced). Entries are ``("slice", x_dim, part indices)``, ``("newaxis",)``
    or ``("adv",)`` (the broadcast advanced block); advanced is ``(kind, part, x_dims)`` per advanced index.
    """
    adv_present = has_advanced(spec)
    out: list[tuple] = []
    adv: list[tuple] = []
    positions: list[int] = []
    x_dim = part = 0
    insert_at = 0
    for k, e in enumerate(spec):
        kind = e[0]
        if kind == "slice":
            idx = []
            for has in e[1:]:
                idx.append(part if has else None)
                part += has
            out.append(("slice", x_dim, tuple(idx)))
        elif kind == "newaxis":
            out.append(("newaxis",))
        elif kind in ("int", "array", "bool"):
            if kind != "int" or adv_present:
                if not positions:
                    insert_at = len(out)
                positions.append(k)
                adv.append((kind, part, tuple(range(x_dim, x_dim + _consumed(e)))))
            part += 1
        x_dim += _consumed(e)
    if adv:
        contiguous = positions == list(range(positions[0], positions[-1] + 1))
        out.insert(insert_at if contiguous else 0, ("adv",))
    return tuple(out), tuple(adv)


def _static_int(v: Variable) -> int | None:
    value = _shape.static_value(v)
    return None if value is None else int(value)


def _check_entries(spec: tuple, x: TensorVariable, parts: list, op_name: str) -> None:
    """Raise for constant indices out of range of a static length, zero steps and mismatched masks."""
    x_dim = part = 0
    for e in spec:
        kind = e[0]
        if kind in ("int", "array"):
            value, n = _shape.static_value(parts[part]), x.type.shape[x_dim]
            flat = np.reshape(value, -1) if value is not None and n is not None else np.zeros(0, np.int64)
            bad = flat[(flat >= n) | (flat < -n)] if flat.size else flat
            if bad.size:
                raise IndexingError(f"{op_name}: index {int(bad[0])} is out of bounds for dimension {x_dim} "
                                    f"(length {n}) of {_label(x)}")
        elif kind == "bool":
            mask = parts[part]
            for j in range(e[1]):
                n, m = x.type.shape[x_dim + j], mask.type.shape[j]
                if n is not None and m is not None and n != m:
                    raise IndexingError(f"{op_name}: the boolean mask of static shape {mask.type.shape} does "
                                        f"not match dimension {x_dim + j} (length {n}) of {_label(x)}")
        elif kind == "slice" and e[3] and _static_int(parts[part + e[1] + e[2]]) == 0:
            raise IndexingError(f"{op_name}: slice step cannot be zero (dimension {x_dim} of {_label(x)})")
        part += n_parts((e,))
        x_dim += _consumed(e)


def _adv_static_shape(kind: str, part: TensorVariable) -> tuple:
    if kind == "int":
        return ()
    if kind == "array":
        return part.type.shape
    value = _shape.static_value(part)
    return (None if value is None else int(np.count_nonzero(value)),)


def static_out_shape(spec: tuple, x: TensorVariable, parts: list[TensorVariable], op_name: str) -> tuple:
    """The static shape of ``x[index]``, raising for out-of-range constant indices and mismatched masks."""
    _check_entries(spec, x, parts, op_name)
    out, adv = plan(spec)
    adv_shape: tuple = ()
    if adv:
        shapes = [_adv_static_shape(k, parts[p]) for k, p, _ in adv]
        try:
            adv_shape = broadcast_shapes(shapes, op_name)
        except GraphError:
            raise IndexingError(f"{op_name}: index arrays of static shapes {', '.join(map(str, shapes))} cannot "
                                f"be broadcast together (indexing {_label(x)})") from None
    shape: list[int | None] = []
    for entry in out:
        if entry[0] == "newaxis":
            shape.append(1)
        elif entry[0] == "adv":
            shape += adv_shape
        else:
            n = x.type.shape[entry[1]]
            start, stop, step = (None if i is None else _static_int(parts[i]) for i in entry[2])
            known = all(i is None or _static_int(parts[i]) is not None for i in entry[2])
            if known and n is not None:
                shape.append(len(range(*slice(start, stop, step).indices(n))))
            else:  # x[:] and x[::-1] keep the length
                shape.append(n if entry[2][:2] == (None, None) and known and step in (None, 1, -1) else None)
    return tuple(shape)


# --- runtime ------------------------------------------------------------------------------------------------
def build_index(spec: tuple, values: tuple) -> tuple:
    """The NumPy index tuple for ``spec`` from the runtime values of its parts."""
    index: list = []
    it = iter(values)
    for e in spec:
        kind = e[0]
        if kind == "int":
            index.append(int(next(it)))
        elif kind == "slice":
            index.append(slice(*(int(next(it)) if has else None for has in e[1:])))
        elif kind == "newaxis":
            index.append(None)
        elif kind == "ellipsis":
            index.append(Ellipsis)
        else:
            index.append(next(it))
    return tuple(index)


# --- text -----------------------------------------------------------------------------------------------
def _trimmed(spec: tuple) -> tuple:
    end = len(spec)
    while end and spec[end - 1] == FULL:
        end -= 1
    return spec[:end]


def index_text(spec: tuple, args: list[str]) -> str:
    """NumPy syntax for the index, ``1:3, ::-1``, from the printed parts (trailing ``:`` dropped)."""
    from graphwright.printing import unwrap_parens

    it = iter(unwrap_parens(a) for a in args)
    pieces = []
    for e in _trimmed(spec):
        kind = e[0]
        if kind == "slice":
            start, stop, step = (next(it) if has else "" for has in e[1:])
            pieces.append(f"{start}:{stop}" + (f":{step}" if e[3] else ""))
        else:
            pieces.append({"newaxis": "None", "ellipsis": "..."}.get(kind) or next(it))
    if not pieces:
        return "..." if not spec else ":"
    return ", ".join(pieces)


def placeholder_text(spec: tuple) -> str:
    """The index with placeholders for the parts (``start:stop, i``), for op names."""
    names = {"int": "i", "newaxis": "None", "ellipsis": "...", "array": "idx", "bool": "mask"}
    pieces = []
    for e in _trimmed(spec):
        if e[0] == "slice":
            names3 = ("start", "stop", "step")
            start, stop, step = (n if has else "" for n, has in zip(names3, e[1:], strict=True))
            pieces.append(f"{start}:{stop}" + (f":{step}" if e[3] else ""))
        else:
            pieces.append(names[e[0]])
    return ", ".join(pieces) if pieces else ("..." if not spec else ":")

