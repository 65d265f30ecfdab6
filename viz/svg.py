"""DOT -> inline SVG through graphviz's ``dot`` program, with a small in-memory cache of recent drawings."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Sequence

from graphwright.graph.basic import Variable
from graphwright.graph.graph import Graph

__all__ = ["GraphvizError", "to_svg", "graph_svg", "clear_svg_cache"]

_CACHE_SIZE = 32
_cache: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()
_PROLOG = re.compile(r"\A\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?", re.S)


class GraphvizError(RuntimeError):
    """Graphviz's ``dot`` is missing, failed on the DOT text, or took too long.

    Examples
    --------
    >>> try:
    ...     to_svg("digraph { a -> }")
    ... except GraphvizError as err:
    ...     print(str(err)[:48])
    graphviz's `dot` failed with exit status 1: Erro
    """


def clear_svg_cache() -> None:
    """Forget every cached drawing.

    Examples
    --------
    >>> clear_svg_cache()
    """
    with _lock:
        _cache.clear()


def _strip_prolog(svg: str) -> str:
    svg = _PROLOG.sub("", svg, count=1)
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def to_svg(dot: str, *, timeout: float = 60) -> str:
    """Lay out DOT text with ``dot -Tsvg`` and return SVG ready to inline in HTML (no XML prolog or doctype).

    Results are cached by DOT text (the last 32 drawings).

    Parameters
    ----------
    dot : the DOT text, e.g. from :func:`graphwright.viz.to_dot`.
    timeout : seconds to wait for graphviz before giving up.

    Raises
    ------
    GraphvizError
        When ``dot`` is not on PATH, exits with an error (its stderr is in the message) or passes ``timeout``.

    Examples
    --------
    >>> svg = to_svg('digraph { a -> b }')
    >>> svg.startswith("<svg"), "<title>a&#45;&gt;b</title>" in svg
    (True, True)
    """
    with _lock:
        cached = _cache.get(dot)
        if cached is not None:
            _cache.move_to_end(dot)
            return cached
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizError("graphviz's `dot` was not found on PATH; install it: apt-get install graphviz")
    try:
        proc = subprocess.run([exe, "-Tsvg"], input=dot.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        nodes = dot.count('class="gw-node')
        raise GraphvizError(f"graphviz's `dot` did not finish within {timeout:g} s ({nodes} nodes); draw fewer "
                            "nodes (max_nodes=, focus=) or raise timeout=") from exc
    except OSError as exc:
        raise GraphvizError(f"graphviz's `dot` ({exe}) could not be run: {exc}") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip() or "(no message)"
        raise GraphvizError(f"graphviz's `dot` failed with exit status {proc.returncode}: {err}")
    svg = _strip_prolog(proc.stdout.decode("utf-8", "replace"))
    with _lock:
        _cache[dot] = svg
        _cache.move_to_end(dot)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return svg


def graph_svg(graph: Graph | Variable | Sequence[Variable], *, timeout: float = 60, **to_dot_kwargs) -> str:
    """``to_svg(to_dot(graph, **to_dot_kwargs))``: the SVG drawing of a graph.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> svg = graph_svg(gw.exp(x) + 1, title="demo")
    >>> '<g id="n0" class="node gw&#45;node gw&#45;input">' in svg
    True
    """
    from graphwright.viz.dot import to_dot

    return to_svg(to_dot(graph, **to_dot_kwargs), timeout=timeout)
