"""The drawings of one step of a session: the before and after graphs with the step's changes coloured, or the
diff on one graph (what the stepper widget and the HTML export show)."""

from __future__ import annotations

from typing import Any

from graphwright import viz

__all__ = ["step_styles", "step_svg"]


def step_styles(session: Any, step: Any) -> tuple[dict[str, str], dict[str, str], viz.GraphDiff]:
    """The node styles of the before graph (removed, rewired) and of the after graph (added, rewired) of a step,
    under the session's node ids (a rewired node has the same id on both sides), and the diff itself.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> s = Session(gw.log(1 + gw.exp(gw.vector("x"))) * 2, phases="stabilize")
    >>> before, after, diff = step_styles(s, s.steps[0])
    >>> sorted(set(before.values())), sorted(set(after.values())), diff.text().splitlines()[0]
    (['removed', 'rewired'], ['added', 'rewired'], '+ softplus: softplus(x)')
    """
    diff = viz.graph_diff(step.before, step.after, step.changes)
    old_ids, ids = session.ids_at(step.index - 1), session.ids_at(step.index)  # each graph's own ids
    before = {old_ids.of(n): "removed" for n in diff.removed}
    before.update({old_ids.of(old): "rewired" for old in diff.rewired})
    after = {ids.of(n): "added" for n in diff.added}
    after.update({ids.of(new): "rewired" for new in diff.rewired.values()})
    return before, after, diff


def step_svg(session: Any, step: Any, kind: str) -> str:
    """One drawing of a step of ``session``: "before" (removed and rewired nodes coloured), "after" (added and
    rewired coloured) or "union" (the after graph with the removed nodes too, ``viz.diff_dot``).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> s = Session(gw.log(1 + gw.vector("x")), phases="stabilize")
    >>> before, after = step_svg(s, s.steps[0], "before"), step_svg(s, s.steps[0], "after")
    >>> "gw&#45;removed" in before, "gw&#45;added" in after  # graphviz writes "-" as &#45; in SVG
    (True, True)
    """
    if kind == "union":
        return viz.to_svg(viz.diff_dot(step.before, step.after, changes=step.changes,
                                       ids=session.ids_at(step.index)))
    if kind not in ("before", "after"):
        raise ValueError(f"step_svg: kind must be 'before', 'after' or 'union', got {kind!r}")
    before, after, _ = step_styles(session, step)
    graph, styles = (step.before, before) if kind == "before" else (step.after, after)
    return viz.graph_svg(graph, ids=session.ids_at(step.index - (kind == "before")), styles=styles)
