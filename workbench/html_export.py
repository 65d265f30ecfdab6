"""Export a session as one standalone HTML page: graphs, every rewrite step's diff, edits, bench and numerics."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from graphwright import viz

__all__ = ["session_to_html", "session_html", "session_page"]

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.gw-pair { display: flex; gap: 1em; flex-wrap: wrap; align-items: flex-start; }
.gw-pair > figure { margin: 0; flex: 1 1 45%; overflow: auto; border: 1px solid #eee; padding: .5em; }
figure svg { max-width: 100%; height: auto; }
details.gw-step { margin: .3em 0; border: 1px solid #eee; padding: .2em .6em; }
details.gw-step summary { cursor: pointer; }
pre { background: #f7f7f7; padding: .5em; overflow: auto; }
table { border-collapse: collapse; font-size: .9em; } td, th { border: 1px solid #ccc; padding: 2px 6px; }
tr.gw-first-nonfinite { background: #fdd; } tr.gw-nonfinite { background: #fee; }
.gw-note { color: #666; font-style: italic; }
"""


def _svg(render: Any) -> str:
    """The inline SVG from ``render()``, or a note when graphviz fails (the page is still written)."""
    try:
        return render()
    except viz.GraphvizError as exc:
        return f"<p class='gw-note'>drawing failed: {html.escape(str(exc))}</p>"


# Above this many nodes a step is drawn as the neighbourhood of the replaced node: a whole-graph drawing per step
# made a 105-step, 286-node session take 150 s and 61 MB.
FOCUS_ABOVE = 80
FOCUS_RADIUS = 3


def _focus(session: Any, step: Any) -> str | None:
    """The id of the node a big graph's step drawing centres on (None: draw the whole graph)."""
    if max(step.before.node_count, step.after.node_count) <= FOCUS_ABOVE:
        return None
    ids = session.ids_at(step.index)
    for var, graph in ((step.replacement, step.after), (step.replaced, step.before)):
        if var in ids and ids.find(ids.of(var), graph) is not None:
            return ids.of(var)
    return None


def _step_section(session: Any, steps: list[Any], max_diffs: int) -> list[str]:
    out = [f"<h2>Rewrite steps ({len(steps)})</h2>"]
    if not steps:
        return out + ["<p class='gw-note'>no rewrite steps</p>"]
    for k, step in enumerate(steps):
        summary = (f"<summary>#{step.index} [{html.escape(step.phase)}] <b>{html.escape(step.rule)}</b>: "
                   f"{html.escape(str(step).split(': ', 1)[-1])}</summary>")
        body = f"<p>identity: <code>{html.escape(step.identity)}</code></p>"
        if k < max_diffs:
            diff = viz.graph_diff(step.before, step.after, step.changes)
            focus = _focus(session, step)
            svg = _svg(lambda s=step, f=focus: viz.to_svg(viz.diff_dot(s.before, s.after, changes=s.changes,
                                                                       ids=session.ids_at(s.index), focus=f,
                                                                       radius=FOCUS_RADIUS)))
            note = (f"<figcaption>the neighbourhood of the change (radius {FOCUS_RADIUS}; the graph has "
                    f"{step.before.node_count} nodes)</figcaption>" if focus else "")
            body += f"<pre>{html.escape(diff.text())}</pre><figure class='gw-diff'>{svg}{note}</figure>"
        out.append(f"<details class='gw-step gw-{html.escape(step.kind)}' id='step-{step.index}'>{summary}{body}"
                   "</details>")
    if len(steps) > max_diffs:
        out.append(f"<p class='gw-note gw-diffs-left-out'>diffs are drawn for the first {max_diffs} steps; "
                   f"{len(steps) - max_diffs} step(s) are listed without a drawing</p>")
    return out


def _edits_section(steps: list[Any]) -> list[str]:
    edits = [s for s in steps if s.kind == "edit"]
    out = ["<h2>Substitutions</h2>"]
    if not edits:
        return out + ["<p class='gw-note'>no substitutions</p>"]
    items = "".join(f"<li>step #{s.index}: <code>{html.escape(s.identity)}</code></li>" for s in edits)
    return out + [f"<ol class='gw-edits'>{items}</ol>"]


def session_page(session: Any, *, bench: Any = None, numerics: Any = None, max_diffs: int = 200) -> str:
    """The standalone HTML text of a session (see :func:`session_to_html`).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> page = session_page(Session(gw.log(1 + gw.vector("x")), name="f", phases="stabilize"))
    >>> page.startswith("<!DOCTYPE html>"), page.count("<svg") >= 3, "log1p" in page
    (True, True, True)
    """
    bench = bench if bench is not None else getattr(session, "last_bench", None)
    numerics = numerics if numerics is not None else getattr(session, "last_numerics", None)
    name = html.escape(session.name)
    before = _svg(lambda: viz.graph_svg(session.original, ids=session.ids_at(-1), title="before"))
    after = _svg(lambda: viz.graph_svg(session.graph, ids=session.ids, title="after"))
    parts = [f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Graphwright session {name}"
             f"</title><style>{_CSS}</style></head><body>",
             f"<h1>Graphwright session <code>{name}</code></h1>",
             f"<p class='gw-summary'>{html.escape(repr(session))}; phases: {html.escape(', '.join(session.phases))}"
             "</p>",
             "<h2>Graph before and after</h2>",
             f"<div class='gw-pair'><figure class='gw-before'>{before}</figure>"
             f"<figure class='gw-after'>{after}</figure></div>"]
    parts += _step_section(session, list(session.steps), max_diffs)
    parts += _edits_section(list(session.steps))
    if bench is not None:
        parts += ["<h2>Compile and time</h2>", bench.html(), f"<figure>{bench.bar_svg()}</figure>"]
    if numerics is not None:
        parts += ["<h2>Numerics</h2>", numerics.html()]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def session_to_html(session: Any, path: str | Path, *, bench: Any = None, numerics: Any = None,
                    max_diffs: int = 200) -> Path:
    """Write one standalone HTML page of ``session`` (inline SVG, no external resources) to ``path``.

    The page holds the graph before and after rewriting, every step (rule or edit) with its diff drawing (the
    first ``max_diffs`` steps; the page says how many were left out), the substitutions, and the compile
    table and numerics report when given (or when the session has ``last_bench`` / ``last_numerics``).

    Examples
    --------
    >>> import tempfile, graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> s = Session(gw.log(1 + gw.vector("x")), phases="stabilize")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = session_to_html(s, Path(d) / "session.html")
    ...     out.name, "<svg" in out.read_text()
    ('session.html', True)
    """
    path = Path(path)
    path.write_text(session_page(session, bench=bench, numerics=numerics, max_diffs=max_diffs), encoding="utf-8")
    return path


session_html = session_to_html  # the name Session.to_html uses
