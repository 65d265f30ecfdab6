"""What a drawing shows: the drawn objects and edges of a graph (plus extra nodes), and which of them stay visible."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.graph import Graph
from graphwright.viz.ids import NodeIds, drawable

__all__ = ["Edge", "Scene", "build_scene", "visible_ids"]


@dataclass(frozen=True)
class Edge:
    """``var`` (drawn as node ``src``) feeds input ``pos`` of node ``dst``; ``old`` marks an edge of a node's
    earlier version (a rewired node's input that the new version no longer has)."""

    src: str
    dst: str
    pos: int
    var: Variable
    old: bool = False


@dataclass
class Scene:
    """Drawn objects by id (main graph first; on an id clash the main graph's object wins), their edges, the
    output markers per id and the ids of objects that come only from the extra graph."""

    objects: dict[str, Apply | Variable] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    extra_only: set[str] = field(default_factory=set)
    roots: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    def preds(self) -> dict[str, list[str]]:
        """For each id, the ids feeding it (in input order, repeats dropped)."""
        result: dict[str, list[str]] = {k: [] for k in self.objects}
        for e in self.edges:
            if e.src not in result[e.dst]:
                result[e.dst].append(e.src)
        return result

    def succs(self) -> dict[str, list[str]]:
        """For each id, the ids it feeds (repeats dropped)."""
        result: dict[str, list[str]] = {k: [] for k in self.objects}
        for e in self.edges:
            if e.dst not in result[e.src]:
                result[e.src].append(e.dst)
        return result


def _add_graph(scene: Scene, graph: Graph, ids: NodeIds, *, extra: bool) -> None:
    main_edges = {(e.src, e.dst, e.pos) for e in scene.edges} if extra else set()
    for obj in drawable(graph):
        nid = ids.of(obj)
        clash = nid in scene.objects and scene.objects[nid] is not obj
        if nid not in scene.objects:
            scene.objects[nid] = obj
            if extra:
                scene.extra_only.add(nid)
        if not isinstance(obj, Apply):
            continue
        for pos, v in enumerate(obj.inputs):
            key = (ids.of(v), nid, pos)
            if not extra or key not in main_edges:
                scene.edges.append(Edge(key[0], nid, pos, v, old=clash))


def build_scene(graph: Graph, ids: NodeIds, extra: Graph | None = None) -> Scene:
    """Collect the objects and edges to draw for ``graph`` and, after it, the nodes of ``extra`` it lacks.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> s = build_scene(gw.Graph([x], [gw.exp(x) * 2]), NodeIds())
    >>> list(s.objects), [(e.src, e.dst, e.pos) for e in s.edges], s.outputs
    (['n0', 'n1', 'n2', 'n3'], [('n0', 'n1', 0), ('n1', 'n3', 0), ('n2', 'n3', 1)], {'n3': ['out 0']})
    """
    scene = Scene()
    _add_graph(scene, graph, ids, extra=False)
    scene.inputs = [ids.of(v) for v in graph.inputs]
    for k, out in enumerate(graph.outputs):
        nid = ids.of(out)
        many = out.owner is not None and len(out.owner.outputs) > 1
        mark = f"out {k}" + (f" (.{out.index})" if many else "") + (f": {out.name}" if out.name else "")
        scene.outputs.setdefault(nid, []).append(mark)
        if nid not in scene.roots:
            scene.roots.append(nid)
    if extra is not None:
        _add_graph(scene, extra, ids, extra=True)
        scene.inputs += [i for i in (ids.of(v) for v in extra.inputs) if i not in scene.inputs]
        scene.roots += [i for i in (ids.of(v) for v in extra.outputs) if i not in scene.roots]
    return scene


def _bfs(starts: Iterable[str], links: dict[str, list[str]], limit: int | None) -> dict[str, int]:
    dist: dict[str, int] = {}
    queue: deque[str] = deque()
    for s in starts:
        if s not in dist:
            dist[s] = 0
            queue.append(s)
    while queue:
        cur = queue.popleft()
        if limit is not None and dist[cur] >= limit:
            continue
        for nxt in links[cur]:
            if nxt not in dist:
                dist[nxt] = dist[cur] + 1
                queue.append(nxt)
    return dist


def _is_small_constant(obj: Apply | Variable) -> bool:
    return isinstance(obj, Constant) and getattr(obj.type, "ndim", 1) == 0


def visible_ids(scene: Scene, *, focus: str | None = None, radius: int = 2, max_nodes: int = 300) -> set[str]:
    """The ids to draw: everything when it fits in ``max_nodes``; else those closest to the outputs (breadth
    first); with ``focus``, its ancestors and descendants within ``radius`` steps (nearest first).

    A kept node's scalar constants are kept with it, so the result may pass ``max_nodes`` by a node's arity.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> y = x
    >>> for _ in range(10):
    ...     y = gw.exp(y)
    >>> s = build_scene(gw.Graph([x], [y]), NodeIds())
    >>> sorted(visible_ids(s, max_nodes=3), key=lambda i: int(i[1:]))
    ['n8', 'n9', 'n10']
    """
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    if focus is None and len(scene.objects) <= max_nodes:
        return set(scene.objects)
    preds = scene.preds()
    if focus is None:
        dist = _bfs(scene.roots, preds, None)
    else:
        if focus not in scene.objects:
            raise ValueError(f"focus {focus!r} is not the id of a node of this graph (ids are like "
                             f"{next(iter(scene.objects), 'n0')!r})")
        up, down = _bfs([focus], preds, radius), _bfs([focus], scene.succs(), radius)
        dist = {k: min(up.get(k, radius + 1), down.get(k, radius + 1)) for k in up.keys() | down.keys()}
    order = {k: i for i, k in enumerate(scene.objects)}
    ranked = sorted(dist, key=lambda k: (dist[k], -order[k]))
    keep: set[str] = set()
    for nid in ranked:
        if len(keep) >= max_nodes:
            break
        keep.add(nid)
        keep.update(p for p in preds[nid] if _is_small_constant(scene.objects[p]))
    return keep
