"""DOT for an expanded fused node: a cluster holding the scalar inner graph of a Composite (or CompositeReduce)."""

from __future__ import annotations

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.printing import short_str
from graphwright.viz.labels import clip, dot_quote, fused_parts, op_label

__all__ = ["is_fused", "expanded_cluster"]

_CLUSTER_KEYS = ("id", "class", "label", "tooltip", "style", "color", "fillcolor", "fontcolor", "penwidth")
_INNER = 'fontsize=9, height=0.2, margin="0.06,0.02"'


def is_fused(node: Apply) -> bool:
    """Whether a node is a fused elementwise node (Composite or CompositeReduce).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x = gw.vector("x")
    >>> is_fused(composite_of([gw.exp(x) + 1], [x])(x).owner), is_fused(gw.exp(x).owner)
    (True, False)
    """
    return fused_parts(node.op) is not None


def _q(text: str, tooltip: bool = False) -> str:
    return dot_quote(text, tooltip=tooltip)


def expanded_cluster(nid: str, node: Apply, attrs: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """DOT lines of the cluster drawing fused ``node`` (node id ``nid``, drawn-node ``attrs``) expanded.

    Returns ``(lines, in_ports, out_ports)``: the ids of the inner nodes that the outer input edges
    (by input position) should point to, and those that the outer output edges (by output index) leave from.
    The cluster keeps the node's id and classes (plus ``gw-expanded``); inner node ids are ``<nid>_<k>``.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x = gw.vector("x")
    >>> node = composite_of([gw.exp(x) * 2], [x])(x).owner
    >>> lines, ins, outs = expanded_cluster("n1", node, {"id": "n1", "class": "gw-node gw-composite"})
    >>> lines[0], ins, outs
    ('  subgraph "cluster_n1" {', ['n1_i0'], ['n1_1'])
    """
    from graphwright.tensor.composite_reduce import CompositeReduce

    op = node.op
    comp = op.composite if isinstance(op, CompositeReduce) else op
    cluster = {k: attrs[k] for k in _CLUSTER_KEYS if k in attrs}
    cluster["class"] = cluster.get("class", "gw-node gw-composite") + " gw-expanded"
    cluster.setdefault("label", op_label(node))
    cluster["style"] = ",".join(["rounded", "filled", *(["dashed"] if "dashed" in attrs.get("style", "") else [])])
    lines = [f"  subgraph {_q('cluster_' + nid)} {{"]
    lines += [f"    {k}={_q(v, k == 'tooltip')};" for k, v in cluster.items()]
    src: dict[Variable, str] = {}
    in_ports = []
    (graph,) = comp.inner_graphs()
    for k, v in enumerate(graph.placeholders):
        src[v] = f"{nid}_i{k}"
        in_ports.append(src[v])
        lines.append(f"    {_q(src[v])} [id={_q(src[v])}, class=\"gw-inner gw-inner-input\", label={_q(f'i{k}')}, "
                     f"shape=ellipse, style=filled, fillcolor=\"#fff3bf\", {_INNER}, "
                     f"tooltip={_q(f'input {k} of the fused node: {v.type.short()}', True)}];")
    inner_edges = []
    for j, inner in enumerate(graph.nodes):
        iid = f"{nid}_{j}"
        for pos, v in enumerate(inner.inputs):
            if v not in src:
                src[v] = f"{nid}_c{len(src)}"
                label = clip(short_str(v), 24) if isinstance(v, Constant) else "?"
                lines.append(f"    {_q(src[v])} [id={_q(src[v])}, class=\"gw-inner gw-inner-constant\", "
                             f"label={_q(label)}, shape=plaintext, {_INNER}];")
            head = ' headlabel="' + str(pos) + '",' if len(inner.inputs) > 1 else ""
            inner_edges.append(f"    {_q(src[v])} -> {_q(iid)} [{head} class=\"gw-edge gw-inner\"];")
        expr = clip(short_str(inner.outputs[0], max_depth=4), 200)
        lines.append(f"    {_q(iid)} [id={_q(iid)}, class=\"gw-inner gw-inner-op\", label={_q(op_label(inner))}, "
                     f"shape=box, style=\"rounded,filled\", fillcolor=white, {_INNER}, tooltip={_q(expr, True)}];")
        for out in inner.outputs:
            src[out] = iid
    out_ports = [src[v] for v in graph.outputs]
    if isinstance(op, CompositeReduce):
        rid = f"{nid}_r"
        lines.append(f"    {_q(rid)} [id={_q(rid)}, class=\"gw-inner gw-inner-op\", "
                     f"label={_q(op.reduce_op.short_name())}, shape=box, style=\"rounded,filled\", "
                     f"fillcolor=white, {_INNER}];")
        inner_edges.append(f"    {_q(out_ports[0])} -> {_q(rid)} [class=\"gw-edge gw-inner\"];")
        out_ports = [rid]
    lines += inner_edges
    lines.append("  }")
    return lines, in_ports, out_ports
