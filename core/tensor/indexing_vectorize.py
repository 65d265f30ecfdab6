"""Vectorize rules of Subtensor and IncSubtensor (see :meth:`graphwright.graph.basic.Op.vectorize`).

With unbatched index parts the batch dimensions of ``x`` get full slices in front of the index. NumPy puts
the advanced-index block in front of the result when advanced indices are separated (by a slice, ``None`` or
``...``); the leading slices then land behind it, so the result is transposed back (and, for IncSubtensor,
the batched ``y`` transposed to that layout).

Subtensor also takes batched integer indices (every batch dimension of ``x`` becomes an ``arange`` index
array, broadcast with the batched indices) and a batched boolean mask that is the only advanced index and
comes first (the batch joins the mask; the flat result is reshaped per batch element, and the reshape fails,
like the loop, when the elements select different counts). Batched slice bounds, other batched masks and
batched indices of IncSubtensor return None: the caller falls back to Blockwise.
"""

from __future__ import annotations

from graphwright.graph.basic import Apply
from graphwright.tensor import index_spec as _spec
from graphwright.tensor.shape import dimshuffle, reshape, shape_tuple
from graphwright.tensor.variable import TensorVariable, constant

__all__ = ["vectorize_subtensor", "vectorize_inc_subtensor"]


def _entry_parts(spec: tuple) -> list[tuple[tuple, list[int]]]:
    """Each spec entry with the positions of its parts."""
    out, part = [], 0
    for e in spec:
        n = _spec.n_parts((e,))
        out.append((e, list(range(part, part + n))))
        part += n
    return out


def _adv_ndim(spec: tuple) -> int:
    """The rank of the broadcast advanced-index block (0 without one; a mask counts as a vector)."""
    return max([e[1] if e[0] == "array" else int(e[0] == "bool") for e in spec], default=0)


def _labels(spec: tuple, adv_block: list, n_lead: int) -> list:
    """The dimensions of ``x[spec]`` labelled: the advanced block by ``adv_block``, the other (slice and newaxis)
    dimensions ``("b", m)`` for the first ``n_lead`` of them, ``("o", m - n_lead)`` after."""
    out, m = [], 0
    for entry in _spec.plan(spec)[0]:
        if entry[0] == "adv":
            out += adv_block
        else:
            out.append(("b", m) if m < n_lead else ("o", m - n_lead))
            m += 1
    return out


def _core_labels(spec: tuple) -> list:
    """The labels of one batch element's result ``x[spec]``."""
    return _labels(spec, [("a", j) for j in range(_adv_ndim(spec))], 0)


def _to_layout(v: TensorVariable, have: list, want: list) -> TensorVariable:
    """Permute the dimensions of ``v`` (labelled ``have``) into the order ``want``."""
    return dimshuffle(v, [have.index(label) for label in want])


def _batched_slice(node: Apply, inputs: list, batch_ndims: list) -> list:
    """Unbatched index parts: full slices for the batch dimensions of ``x``."""
    spec, nb = node.op.spec, batch_ndims[0]
    new_spec = (_spec.FULL,) * nb + spec
    out = type(node.op)(new_spec)(inputs[0], *inputs[1:])
    have = _labels(new_spec, [("a", j) for j in range(_adv_ndim(spec))], nb)
    return [_to_layout(out, have, [("b", d) for d in range(nb)] + _core_labels(spec))]


def _batched_arrays(node: Apply, inputs: list, batch_ndims: list) -> list:
    """Batched integer indices: each batch dimension of ``x`` is indexed by an arange (0 where it has static
    length 1), broadcast with the batched indices; every index is then advanced, the batch leads the block."""
    from graphwright.tensor.creation import arange

    spec, x, nb_x = node.op.spec, inputs[0], batch_ndims[0]
    top, core_nd = max(batch_ndims), _adv_ndim(spec)
    full_nd = top + core_nd
    entries: list[tuple] = []
    parts: list = []
    for j in range(nb_x):
        if x.type.shape[j] == 1:
            entries.append(("int",))
            parts.append(constant(0, "int64"))
            continue
        d = top - nb_x + j
        entries.append(("array", full_nd))
        parts.append(dimshuffle(arange(0, shape_tuple(x)[j], 1, "int64"), ["x"] * d + [0] + ["x"] * (full_nd - d - 1)))
    for e, idx in _entry_parts(spec):
        for p in idx:
            v, nb = inputs[1 + p], batch_ndims[1 + p]
            if nb:
                core = v.type.ndim - nb
                order = ["x"] * (top - nb) + list(range(nb)) + ["x"] * (core_nd - core) + list(range(nb, nb + core))
                v = dimshuffle(v, order)
            parts.append(v)
        batched = any(batch_ndims[1 + p] for p in idx)
        entries.append(("array", full_nd) if batched else e)
    out = type(node.op)(tuple(entries))(x, *parts)
    have = _labels(tuple(entries), [("b", d) for d in range(top)] + [("a", j) for j in range(core_nd)], 0)
    return [_to_layout(out, have, [("b", d) for d in range(top)] + _core_labels(spec))]


def _batched_mask(node: Apply, inputs: list, batch_ndims: list) -> list:
    """A batched leading mask, the only advanced index: the batch joins the mask, then the flat selection is
    reshaped to (batch, count, rest). The count is the largest per element: the reshape fails (as the loop
    would) unless every element selects as many."""
    from graphwright.tensor.join import batch_lengths, broadcast_to_batch, concatenate
    from graphwright.tensor.reduce import max as max_
    from graphwright.tensor.reduce import sum as sum_

    spec = node.op.spec
    x, mask = inputs[0], inputs[1]
    batch = batch_lengths([x, mask], batch_ndims[:2])
    top, k = len(batch), spec[0][1]
    x = broadcast_to_batch(x, batch_ndims[0], batch)
    mask = broadcast_to_batch(mask, batch_ndims[1], batch)
    out = type(node.op)((("bool", top + k),) + spec[1:])(x, mask, *inputs[2:])
    counts = sum_(mask, axis=tuple(range(top, top + k)), dtype="int64")
    count = max_(concatenate([reshape(counts, (-1,)), constant([0], "int64")]))
    return [reshape(out, (*batch, count, *shape_tuple(out)[1:]))]


def vectorize_subtensor(node: Apply, inputs: list, batch_ndims: list) -> list | None:
    """The batched form of ``x[index]``, or None where Blockwise must do it."""
    spec = node.op.spec
    if not any(batch_ndims[1:]):
        return _batched_slice(node, inputs, batch_ndims)
    kinds = {}
    for e, idx in _entry_parts(spec):
        for p in idx:
            kinds[p] = e[0]
    batched = {kinds[p] for p in range(len(kinds)) if batch_ndims[1 + p]}
    if batched <= {"int", "array"}:
        return _batched_arrays(node, inputs, batch_ndims)
    advanced = [e for e in spec if e[0] in ("int", "array", "bool")]
    if (batched == {"bool"} and spec[0][0] == "bool" and spec[0][1] and len(advanced) == 1
            and not any(batch_ndims[2:])):
        return _batched_mask(node, inputs, batch_ndims)
    return None


def vectorize_inc_subtensor(node: Apply, inputs: list, batch_ndims: list) -> list | None:
    """The batched form of ``set/inc_subtensor(x[index], y)`` for unbatched index parts, else None.

    ``x`` is given the full batch (the output has it), the batch gets full slices in front of the index, and a
    batched ``y`` is laid out like the indexed region (its batch behind the advanced block when NumPy moves
    that to the front)."""
    from graphwright.tensor.join import batch_lengths, broadcast_to_batch

    if any(batch_ndims[2:]):
        return None
    op, (x, y, *parts), (nb_x, nb_y) = node.op, inputs, batch_ndims[:2]
    batch = batch_lengths([x, y], [nb_x, nb_y])
    top = len(batch)
    new_spec = (_spec.FULL,) * top + op.spec
    have = _labels(new_spec, [("a", j) for j in range(_adv_ndim(op.spec))], top)
    core = _core_labels(op.spec)
    want = [("b", d) for d in range(top)] + core
    if nb_y or have != want:
        y_core = y.type.ndim - nb_y
        order = ["x"] * (top - nb_y) + list(range(nb_y)) + ["x"] * (len(core) - y_core)
        y = _to_layout(dimshuffle(y, order + list(range(nb_y, nb_y + y_core))), want, have)
    return [type(op)(new_spec, op.mode)(broadcast_to_batch(x, nb_x, batch), y, *parts)]
