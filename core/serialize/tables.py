"""Node tables: the list of nodes (graph inputs, constants, applications) that every JSON document holds.

An entry has an ``id``, a ``kind`` (``input``, ``constant``, ``placeholder`` or ``apply``) and a ``label``;
leaves carry their ``type`` (``{"dtype": ..., "shape": [...]}``, ``null`` for an unknown length), constants
their exact bytes (``data``: base64 of the little-endian C-order array, so ``-0.0`` and NaN payloads survive),
placeholders (the canonical inner inputs of a Composite) their ``index``, and applications their ``op``, their
``inputs`` (the edges: one variable reference per input, in order) and their ``outputs`` (one type each). A
variable reference is the id of its node, followed by ``:k`` for output ``k > 0``. Entries come in dependency
order: inputs first, then each node after the constants it uses first, the order of
:func:`graphwright.viz.ids.drawable`, so default ids (``n0``, ``n1``, ...) are those a fresh node-id table gives.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from graphwright.graph.basic import Apply, Constant, Op, Variable
from graphwright.graph.graph import toposort
from graphwright.printing import short_str
from graphwright.serialize.values import (
    SerializeError,
    build_op,
    decode_value,
    encode_value,
    op_class_name,
    op_classes,
    op_fields,
)
from graphwright.tensor.composite import placeholder
from graphwright.tensor.type import TensorType, intern_constant

__all__ = ["NodeTable", "NodeDecoder", "encode_type", "decode_type"]

Labeler = Callable[[Apply | Variable], str]


def encode_type(var: Variable) -> dict[str, Any]:
    """``{"dtype": ..., "shape": [...]}`` of a tensor variable."""
    if not isinstance(var.type, TensorType):
        raise SerializeError(f"cannot write {short_str(var)} of type {var.type!r}: only tensor types have a JSON form")
    return {"dtype": var.type.dtype, "shape": list(var.type.shape)}


def decode_type(data: Any, where: str) -> TensorType:
    """The TensorType that :func:`encode_type` wrote."""
    shape = data.get("shape") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("dtype"), str) or not isinstance(shape, list):
        raise SerializeError(f"{where}: {data!r:.200} is not a tensor type (an object with a string dtype and a "
                             "list shape)")
    try:
        return TensorType(data["dtype"], tuple(shape))
    except (TypeError, ValueError) as exc:
        raise SerializeError(f"{where}: {data!r:.200} is not a tensor type ({exc})") from exc


def _name(entry: dict, node_id: str) -> str | None:
    """The stored ``name`` of a leaf entry: a string or null."""
    name = entry.get("name")
    if name is not None and not isinstance(name, str):
        raise SerializeError(f"node {node_id}: name {name!r:.100} is not a string or null")
    return name


def _names(entry: dict, node_id: str, count: int) -> list[str | None]:
    """The stored ``names`` of an apply entry's outputs: a list of strings or nulls, one per output."""
    names = entry.get("names", [None] * count)
    if not isinstance(names, list) or len(names) != count or any(n is not None and not isinstance(n, str)
                                                                 for n in names):
        raise SerializeError(f"node {node_id}: names {names!r:.100} is not a list of {count} strings or nulls")
    return names


def default_label(obj: Apply | Variable) -> str:
    """The op's short name for a node, the name for an input, the printed value for a constant."""
    if isinstance(obj, Apply):
        return obj.op.short_name()
    return short_str(obj) if isinstance(obj, Constant) else (obj.name or "")


def _is_placeholder(var: Variable) -> bool:
    name = var.name or ""
    return (isinstance(var.type, TensorType) and name[:1] == "i" and name[1:].isdigit() and var.type.ndim == 0
            and placeholder(int(name[1:]), var.type.dtype) is var)


def _constant_data(entry: dict, node_id: str, ttype: TensorType) -> np.ndarray:
    """The array of a constant entry: its base64 ``data`` must fill its (fully known) type exactly."""
    data = entry.get("data")
    if None in ttype.shape or not isinstance(data, str):
        raise SerializeError(f"constant {node_id}: needs a known shape and base64 data, got {ttype.short()} and "
                             f"{type(data).__name__}")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError as exc:
        raise SerializeError(f"constant {node_id}: data is not base64 ({exc})") from exc
    dtype = np.dtype(ttype.dtype).newbyteorder("<")
    if len(raw) != dtype.itemsize * int(np.prod(ttype.shape, dtype=np.int64)):
        raise SerializeError(f"constant {node_id}: {len(raw)} bytes do not fill {ttype.short()}")
    return np.frombuffer(raw, dtype=dtype).astype(ttype.dtype).reshape(ttype.shape)


class NodeTable:
    """Writes nodes into a list of entries, each once, ancestors first; :meth:`ref` names a variable.

    Parameters
    ----------
    node_id : the id of a node or leaf (default ``n<k>`` in order of entry); ids must be unique.
    label : the display label of a node or leaf (default :func:`default_label`).
    inner : a table of an op's inner graph: its free variables must be canonical placeholders.
    ops : a shared memo of op -> JSON form.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> table = NodeTable()
    >>> table.ref(gw.exp(x) + 1), [e["kind"] for e in table.entries]
    ('n3', ['input', 'apply', 'constant', 'apply'])
    """

    def __init__(self, node_id: Callable[[Apply | Variable], str] | None = None, label: Labeler | None = None,
                 inner: bool = False, ops: dict[Op, dict] | None = None):
        self.entries: list[dict[str, Any]] = []
        self._ids: dict[Apply | Variable, str] = {}
        self._used: set[str] = set()
        self._node_id, self._label, self._inner = node_id, label or default_label, inner
        self._ops: dict[Op, dict] = {} if ops is None else ops

    def _new_id(self, obj: Apply | Variable) -> str:
        found = self._node_id(obj) if self._node_id is not None else f"n{len(self.entries)}"
        if found in self._used:
            raise SerializeError(f"node id {found!r} is given to two nodes ({default_label(obj)} and another)")
        self._used.add(found)
        self._ids[obj] = found
        return found

    def ref(self, var: Variable) -> str:
        """The reference of ``var``, writing it (and whatever it depends on) first if it is new."""
        owner = var.owner
        if owner is None:
            found = self._ids.get(var)
            return found if found is not None else self._add_leaf(var)
        if owner not in self._ids:
            for node in toposort([var], inside=lambda n: n not in self._ids):
                self._add_node(node)
        base = self._ids[owner]
        return base if var.index == 0 else f"{base}:{var.index}"

    def ref_again(self, var: Variable) -> str:
        """Write the node (or leaf) of ``var`` once more, as a new entry: a second id for the same object, which
        :meth:`ref` gives from now on (a trace's history keeps two of its nodes apart this way)."""
        self._ids.pop(var.owner if var.owner is not None else var)
        return self.ref(var)

    def _add_leaf(self, var: Variable) -> str:
        entry: dict[str, Any] = {"id": self._new_id(var), "kind": "input", "label": self._label(var),
                                 "name": var.name, "type": encode_type(var)}
        if isinstance(var, Constant):
            array = np.ascontiguousarray(var.data, dtype=np.dtype(var.type.dtype).newbyteorder("<"))
            entry["kind"], entry["data"] = "constant", base64.b64encode(array.tobytes()).decode("ascii")
        elif _is_placeholder(var):
            entry["kind"], entry["index"] = "placeholder", int(var.name[1:])
        elif self._inner:
            raise SerializeError(f"an inner graph uses {short_str(var)}, which is not a placeholder: inner graphs "
                                 "must be closed")
        self.entries.append(entry)
        return entry["id"]

    def _add_node(self, node: Apply) -> None:
        inputs = [self.ref(v) for v in node.inputs]
        entry: dict[str, Any] = {"id": self._new_id(node), "kind": "apply", "label": self._label(node),
                                 "op": self.encode_op(node.op), "inputs": inputs,
                                 "outputs": [encode_type(v) for v in node.outputs]}
        if any(v.name for v in node.outputs):
            entry["names"] = [v.name for v in node.outputs]
        self.entries.append(entry)

    def encode_op(self, op: Op) -> dict[str, Any]:
        """``{"class": ..., "fields": {...}}``, plus ``inner`` (a node table) for ops holding a graph."""
        found = self._ops.get(op)
        if found is not None:
            return found
        name = op_class_name(type(op))
        inner = NodeTable(inner=True, ops=self._ops)
        fields = {key: encode_value(value, f"{name}.{key}", self.encode_op, inner.ref)
                  for key, value in op_fields(op).items()}
        found = {"class": name, "fields": fields}
        if inner.entries:
            found["inner"] = inner.entries
        self._ops[op] = found
        return found


class NodeDecoder:
    """Rebuilds the nodes of a table, in order, through the ops' ``make_node`` (so hash-consing applies).

    Parameters
    ----------
    entries : the table.
    inputs : existing variables to use for some ``input`` entries (id -> variable); the others become fresh
        variables of their type and name.
    inner : the table of an inner graph (no ``input`` entries).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> table = NodeTable()
    >>> ref = table.ref(gw.exp(x))
    >>> NodeDecoder(table.entries, inputs={"n0": x}).var(ref) is gw.exp(x)
    True
    """

    def __init__(self, entries: Any, inputs: Mapping[str, Variable] | None = None, inner: bool = False,
                 classes: dict[str, type] | None = None):
        if not isinstance(entries, list):
            raise SerializeError(f"a node table must be a list of entries, got {type(entries).__name__}")
        self._classes = op_classes() if classes is None else classes
        self._given, self._inner = dict(inputs or {}), inner
        self.outputs: dict[str, tuple[Variable, ...]] = {}
        self.objects: dict[str, Apply | Variable] = {}
        self.names: dict[Variable, str] = {}  # every stored output name (applied only to nodes made here)
        for entry in entries:
            self._decode_entry(entry)

    def var(self, ref: Any) -> Variable:
        """The variable named by a reference (``n3`` or ``n3:1``)."""
        base, _, index = ref.partition(":") if isinstance(ref, str) else ("", "", "")
        outputs = self.outputs.get(base)
        k = int(index) if index.isdigit() else 0 if not index else -1
        if outputs is None or not 0 <= k < len(outputs):
            raise SerializeError(f"{ref!r} does not name a variable of an earlier entry of the node table")
        return outputs[k]

    def _decode_entry(self, entry: Any) -> None:
        node_id, kind = (entry.get("id"), entry.get("kind")) if isinstance(entry, dict) else (None, None)
        if not isinstance(node_id, str) or node_id in self.outputs:
            raise SerializeError(f"node table entry {entry!r:.200} has a missing or repeated id")
        if kind == "apply":
            node = self._decode_apply(entry, node_id)
            self.objects[node_id], self.outputs[node_id] = node, node.outputs
            return
        var = self._decode_leaf(entry, node_id, kind)
        self.objects[node_id], self.outputs[node_id] = var, (var,)

    def _decode_leaf(self, entry: dict, node_id: str, kind: Any) -> Variable:
        ttype = decode_type(entry.get("type"), f"node {node_id}")
        name = _name(entry, node_id)
        if kind == "constant":
            return intern_constant(_constant_data(entry, node_id, ttype), name)
        if kind == "placeholder" and isinstance(entry.get("index"), int) and ttype.ndim == 0:
            return placeholder(entry["index"], ttype.dtype)
        if kind == "input" and not self._inner:
            given = self._given.get(node_id)
            if given is None:
                return ttype.make_variable(name=name)
            if given.type != ttype:
                raise SerializeError(f"input {node_id} ({name}) has type {ttype.short()} in the JSON but "
                                     f"{given.type.short()} where it is given")
            return given
        raise SerializeError(f"node {node_id}: {kind!r} is not a leaf kind here (input, constant, placeholder)")

    def decode_op(self, data: Any, node_id: str = "?") -> Op:
        """The op that :meth:`NodeTable.encode_op` wrote (``node_id``: the node it is read for, in errors)."""
        if not isinstance(data, dict) or not isinstance(data.get("fields"), dict):
            raise SerializeError(f"node {node_id}: {data!r:.200} is not an op in graphwright's JSON form")
        name = data.get("class")
        inner = NodeDecoder(data["inner"], inner=True, classes=self._classes) if "inner" in data else None
        fields = {key: decode_value(value, f"node {node_id}: {name}.{key}",
                                    lambda body: self.decode_op(body, node_id), inner.var if inner else None)
                  for key, value in data["fields"].items()}
        return build_op(name, fields, self._classes, node_id)

    def _decode_apply(self, entry: dict, node_id: str) -> Apply:
        op = self.decode_op(entry.get("op"), node_id)
        refs, outputs = entry.get("inputs"), entry.get("outputs")
        if not isinstance(refs, list) or not isinstance(outputs, list):
            raise SerializeError(f"node {node_id}: inputs and outputs must be lists, got {refs!r:.100} and "
                                 f"{outputs!r:.100}")
        inputs = [self.var(r) for r in refs]
        existed = Apply.lookup(op, inputs) is not None
        try:
            node = op.make_node(*inputs)
        except Exception as exc:
            raise SerializeError(f"node {node_id}: {op_class_name(type(op))} cannot be applied to "
                                 f"{[v.type.short() for v in inputs]}: {exc}") from exc
        types = [decode_type(t, f"node {node_id}") for t in outputs]
        same_inputs = len(node.inputs) == len(inputs) and all(a is b for a, b in zip(node.inputs, inputs, strict=True))
        if not same_inputs or [v.type for v in node.outputs] != types:
            raise SerializeError(f"node {node_id}: {op.short_name()} on {[v.type.short() for v in inputs]} gives "
                                 f"{[v.type.short() for v in node.outputs]}, the JSON says "
                                 f"{[t.short() for t in types]}")
        names = _names(entry, node_id, len(node.outputs))
        for var, name in zip(node.outputs, names, strict=True):
            if name is not None:
                self.names[var] = name
                if not existed:  # a node only this document made: nobody else sees the name
                    var.name = name
        return node
