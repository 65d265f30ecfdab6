"""Graph -> Graphviz DOT text: ids and classes for the browser, labels, tooltips, diff styles, clusters, elision."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.graph import Graph
from graphwright.viz.composite_dot import expanded_cluster, is_fused
from graphwright.viz.ids import NodeIds
from graphwright.viz.labels import dot_quote, node_tooltip, op_label, type_text, var_label, var_tooltip
from graphwright.viz.scene import Edge, Scene, build_scene, visible_ids

__all__ = ["to_dot", "as_graph", "STYLES", "HIDDEN_ID"]

HIDDEN_ID = "gw_hidden"

# node id -> style name: border and fill of the drawn node (diff colours and the selection)
STYLES: dict[str, dict[str, str]] = {
    "added": {"color": "#2b8a3e", "fillcolor": "#d3f9d8", "penwidth": "2.5"},
    "removed": {"color": "#c92a2a", "fillcolor": "#fff5f5", "fontcolor": "#868e96", "penwidth": "2",
                "style": "dashed"},
    "rewired": {"color": "#e8590c", "fillcolor": "#fff4e6", "penwidth": "2.5"},
    "selected": {"color": "#1971c2", "penwidth": "4"},
}

_KIND_ATTRS: dict[str, dict[str, str]] = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f8f9fa"},
    "composite": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f3f0ff"},
    "input": {"shape": "ellipse", "style": "filled", "fillcolor": "#fff3bf"},
    "constant": {"shape": "box", "style": "filled", "fillcolor": "#f1f3f5", "fontsize": "9", "height": "0.25"},
    "scalar": {"shape": "plaintext", "fontsize": "9", "height": "0.2", "width": "0.2", "margin": "0.02"},
}
_HEADER = ('  graph [rankdir=TB, nodesep=0.3, ranksep=0.35, fontname="Helvetica", bgcolor="white"];\n'
           '  node [fontname="Helvetica", fontsize=11, height=0.3, margin="0.12,0.04"];\n'
           '  edge [color="#868e96", arrowsize=0.6, fontname="Helvetica", fontsize=8, fontcolor="#868e96"];')
# Above this many drawn nodes, dot's network-simplex passes are capped. A 286-node gradient graph with long
# skip edges took 8 s to lay out; with the cap 0.9 s, and the drawing is about as compact.
LAYOUT_CAP_NODES = 60
_LAYOUT_CAP = "  graph [nslimit=2, nslimit1=2];"


def as_graph(graph: Graph | Variable | Sequence[Variable]) -> Graph:
    """A Graph from a Graph, one output variable or a sequence of them.

    Examples
    --------
    >>> import graphwright as gw
    >>> as_graph(gw.exp(gw.vector("x")))
    Graph(1 inputs, 1 outputs, 1 nodes)
    """
    if isinstance(graph, Graph):
        return graph
    if isinstance(graph, Variable):
        return Graph(None, [graph])
    if isinstance(graph, Sequence) and not isinstance(graph, str) and all(isinstance(v, Variable) for v in graph):
        return Graph(None, list(graph))
    raise TypeError(f"expected a Graph, a Variable or a sequence of Variables, got {type(graph).__name__}: "
                    f"{graph!r:.80}")


def _attrs(items: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={dot_quote(v, tooltip=k == 'tooltip')}" for k, v in items.items())


def _style_names(styles: Mapping[str, str] | None, nid: str) -> list[str]:
    text = styles.get(nid, "") if styles else ""
    names = text.replace(",", " ").split()
    for name in names:
        if name not in STYLES:
            raise ValueError(f"unknown style {name!r} for node {nid!r}; use one of {', '.join(STYLES)}")
    return names


def _apply_styles(attrs: dict[str, str], names: list[str]) -> None:
    for name in names:
        for key, value in STYLES[name].items():
            attrs[key] = f"{attrs[key]},{value}" if key == "style" and attrs.get(key) else value


def _kind(obj: Apply | Variable) -> str:
    if isinstance(obj, Apply):
        return "composite" if is_fused(obj) else "op"
    return "constant" if isinstance(obj, Constant) else "input"


def _node_attrs(nid: str, obj: Apply | Variable, scene: Scene, styles: Mapping[str, str] | None,
                stats: Mapping[Variable, str] | None) -> dict[str, str]:
    kind = _kind(obj)
    scalar = kind == "constant" and getattr(obj.type, "ndim", 1) == 0
    attrs = {"id": nid, "class": ""}
    attrs.update(_KIND_ATTRS["scalar" if scalar else kind])
    if isinstance(obj, Apply):
        label, tooltip = op_label(obj), node_tooltip(obj, nid, stats)
    else:
        label, tooltip = var_label(obj), var_tooltip(obj, nid, stats)
    classes = ["gw-node", f"gw-{kind}"]
    marks = scene.outputs.get(nid)
    if marks:
        classes.append("gw-output")
        label += "\n" + ", ".join(marks)
        attrs["peripheries"] = "2"
        if scalar:
            attrs.update(shape="box", style="rounded")
    names = _style_names(styles, nid)
    classes += [f"gw-{n}" for n in names]
    _apply_styles(attrs, names)
    attrs.update(label=label, tooltip=tooltip)
    attrs["class"] = " ".join(classes)
    return attrs


def _edge_line(edge: Edge, src: str, dst: str, scene: Scene, removed: set[str], edge_labels: bool) -> str:
    var = edge.var
    head = scene.objects.get(edge.dst)
    attrs = {"id": f"e_{edge.src}_{edge.dst}_{edge.pos}", "class": "gw-edge"}
    where = f"input {edge.pos} of {head.op.short_name()}" if isinstance(head, Apply) else f"input {edge.pos}"
    attrs["tooltip"] = f"{type_text(var)} ({where})"
    if isinstance(head, Apply) and len(head.inputs) > 1:
        attrs["headlabel"] = str(edge.pos)
    if var.owner is not None and len(var.owner.outputs) > 1:
        attrs["taillabel"] = f".{var.index}"
    if edge_labels:
        attrs["label"] = type_text(var)
    if edge.old or edge.dst in removed:
        attrs.update({"class": "gw-edge gw-removed", "style": "dashed", "color": STYLES["removed"]["color"]})
    return f"  {dot_quote(src)} -> {dot_quote(dst)} [{_attrs(attrs)}];"


def _hidden_lines(scene: Scene, keep: set[str], ports: dict[str, list[str]]) -> list[str]:
    hidden = len(scene.objects) - len(keep)
    if hidden <= 0:
        return []
    label = f"{hidden} node{'s' if hidden != 1 else ''} hidden"
    attrs = {"id": HIDDEN_ID, "class": "gw-node gw-hidden", "label": label, "shape": "note", "style": "dashed",
             "color": "#adb5bd", "fontcolor": "#868e96", "tooltip": f"{label}: pass focus= or a larger max_nodes"}
    lines = [f"  {dot_quote(HIDDEN_ID)} [{_attrs(attrs)}];"]
    targets: list[str] = []
    for e in scene.edges:
        if e.dst in keep and e.src not in keep and not e.old:
            head = ports[e.dst][e.pos] if e.dst in ports else e.dst
            if head not in targets:
                targets.append(head)
    lines += [f'  {dot_quote(HIDDEN_ID)} -> {dot_quote(t)} [class="gw-edge gw-hidden", style=dashed, '
              f'color="#adb5bd", tooltip="hidden inputs"];' for t in targets]
    return lines


def to_dot(graph: Graph | Variable | Sequence[Variable], *, ids: NodeIds | None = None,
           styles: Mapping[str, str] | None = None, extra: Graph | None = None, expand: Collection[str] = (),
           focus: str | None = None, radius: int = 2, max_nodes: int = 300,
           stats: Mapping[Variable, str] | None = None, title: str | None = None,
           edge_labels: bool = False) -> str:
    """The DOT text of a graph, inputs at the top and outputs at the bottom.

    Every drawn node has ``id=<node id>`` (from ``ids``) and ``class="gw-node gw-<kind>"`` (kind: op, input,
    constant, composite, hidden; plus ``gw-output`` and the style names), which graphviz copies onto the SVG
    ``<g>`` of the node. Hovering shows op, dtype/shape, the expression and the ``stats`` text.

    Parameters
    ----------
    graph : a Graph, an output variable or a sequence of them.
    ids : the node id table (a fresh one by default); share it to keep ids stable across drawings.
    styles : node id -> "added", "removed", "rewired" or "selected" (several may be given, space-separated).
    extra : a second graph whose nodes missing from ``graph`` are drawn too (the removed nodes of a diff).
    expand : ids of fused (Composite) nodes to draw as a cluster showing their scalar inner graph.
    focus, radius : draw only the ancestors and descendants of node ``focus`` within ``radius`` steps.
    max_nodes : past this many drawn nodes, keep those nearest the outputs (or ``focus``) and draw one
        ``"N nodes hidden"`` node (id ``gw_hidden``) feeding the kept nodes that lost inputs.
    stats : extra hover text per variable (value statistics).
    title : a caption above the drawing.
    edge_labels : also write dtype/shape on the edges (they are always in the edge tooltips).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> dot = to_dot(gw.exp(x) + 1)
    >>> print(next(line for line in dot.splitlines() if line.startswith('  "n0"'))[:42])
      "n0" [id="n0", class="gw-node gw-input",
    >>> '"n1" -> "n3"' in dot, 'class="gw-node gw-op gw-output"' in dot
    (True, True)
    """
    g = as_graph(graph)
    ids = NodeIds() if ids is None else ids
    scene = build_scene(g, ids, extra)
    keep = visible_ids(scene, focus=focus, radius=radius, max_nodes=max_nodes)
    expand = set(expand)
    removed = {nid for nid in scene.objects if "removed" in _style_names(styles, nid)}
    lines = ["digraph graphwright {", _HEADER]
    if len(keep) > LAYOUT_CAP_NODES:
        lines.append(_LAYOUT_CAP)
    if title:
        lines.append(f"  graph [label={dot_quote(title)}, labelloc=t, fontsize=14];")
    ports_in: dict[str, list[str]] = {}
    ports_out: dict[str, list[str]] = {}
    for nid, obj in scene.objects.items():
        if nid not in keep:
            continue
        attrs = _node_attrs(nid, obj, scene, styles, stats)
        if nid in expand and isinstance(obj, Apply) and is_fused(obj):
            body, ports_in[nid], ports_out[nid] = expanded_cluster(nid, obj, attrs)
            lines += body
        else:
            lines.append(f"  {dot_quote(nid)} [{_attrs(attrs)}];")
    tops = [i for i in scene.inputs if i in keep]
    if tops:
        lines.append("  { rank=min; " + " ".join(dot_quote(i) for i in tops) + " }")
    for e in scene.edges:
        if e.src in keep and e.dst in keep:
            src_ports, dst_ports = ports_out.get(e.src), ports_in.get(e.dst)
            src = src_ports[e.var.index] if src_ports else e.src
            dst = dst_ports[e.pos] if dst_ports else e.dst
            lines.append(_edge_line(e, src, dst, scene, removed, edge_labels))
    lines += _hidden_lines(scene, keep, ports_in)
    lines.append("}")
    return "\n".join(lines) + "\n"
