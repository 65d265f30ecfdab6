"""Small helpers shared by the workbench widgets and the magics: buttons, HTML boxes, drawings that survive a
missing graphviz, the notebook namespace and the progress of a backend bench."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from graphwright import viz

__all__ = ["button", "html_box", "pre", "try_svg", "close_tree", "user_namespace", "BenchProgress", "ProgressLine"]


def button(label: str, css: str, tooltip: str = "", style: str = "") -> w.Button:
    """An ipywidgets Button sized to its label, with CSS class ``css``.

    Examples
    --------
    >>> b = button("Go", "gw-go", "start", "primary")
    >>> b.description, b.button_style, "gw-go" in b._dom_classes
    ('Go', 'primary', True)
    """
    layout = w.Layout(width="auto", flex="0 0 auto")  # in a crowded row it would shrink to "ne..."
    b = w.Button(description=label, tooltip=tooltip, button_style=style, layout=layout)
    b.add_class(css)
    return b


def html_box(css: str, value: str = "") -> w.HTML:
    """An ipywidgets HTML box with CSS class ``css``.

    Examples
    --------
    >>> box = html_box("gw-note", "<i>hi</i>")
    >>> box.value, box._dom_classes
    ('<i>hi</i>', ('gw-note',))
    """
    out = w.HTML(value)
    out.add_class(css)
    return out


def pre(text: str, css: str = "gw-pre") -> str:
    """``text`` escaped in a ``<pre>`` with a CSS class.

    Examples
    --------
    >>> pre("a < b")
    "<pre class='gw-pre'>a &lt; b</pre>"
    """
    return f"<pre class='{css}'>{html.escape(text)}</pre>"


def try_svg(render: Callable[[], str]) -> tuple[str, str]:
    """``(render(), "")``, or ``("", message)`` when graphviz is missing or fails (the widgets then show text).

    Examples
    --------
    >>> try_svg(lambda: "<svg/>")
    ('<svg/>', '')
    >>> try_svg(lambda: viz.to_svg("digraph { a -> }"))[1][:26]
    "drawing failed: graphviz's"
    """
    try:
        return render(), ""
    except viz.GraphvizError as exc:
        return "", f"drawing failed: {exc}"


def close_tree(widget: w.Widget) -> None:
    """Close ``widget`` and every widget in its ``children``, recursively.

    Examples
    --------
    >>> box = w.VBox([w.Label("a"), w.HBox([w.Label("b")])])
    >>> inner = box.children[1].children[0]
    >>> close_tree(box)
    >>> box.comm is None, inner.comm is None
    (True, True)
    """
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()


def user_namespace(shell: Any = None) -> dict[str, Any]:
    """Where typed expressions and ``%%graph`` cells run: the notebook's namespace (``shell.user_ns`` of ``shell``,
    default the running IPython) with ``gw`` and ``np`` added when missing; outside IPython a new dict with both.

    Examples
    --------
    >>> ns = user_namespace()
    >>> ns["gw"].__name__, ns["np"].__name__
    ('graphwright', 'numpy')
    """
    import numpy as np

    import graphwright as gw

    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython comes with ipywidgets
            get_ipython = None
        shell = get_ipython() if get_ipython is not None else None
    names: dict[str, Any] = shell.user_ns if shell is not None else {}
    names.setdefault("gw", gw)
    names.setdefault("np", np)
    return names


class BenchProgress:
    """Turn ``bench_backends``' ``progress(backend, fraction)`` calls into a status line and counts.

    ``bench_backends`` runs NumPy first (the reference), then the other backends in order; each backend's share
    of the fraction is half compile (and first call), half timed calls. ``show(text, fraction, done)`` is called
    on every update: ``text`` says "compiling <backend>…" while a backend compiles, then "timing <backend>";
    ``done`` counts the finished backends among ``backends``.

    Examples
    --------
    >>> seen = []
    >>> progress = BenchProgress(["numpy", "numba"], lambda text, fraction, done: seen.append((text, done)))
    >>> progress("numpy", 0.0); progress("numpy", 0.25); progress("numba", 0.5); progress("numba", 1.0)
    >>> seen
    [('compiling numpy…', 0), ('timing numpy', 0), ('compiling numba…', 1), ('done: 2 backend(s)', 2)]
    """

    def __init__(self, backends: Sequence[str], show: Callable[[str, float, int], None]) -> None:
        self.backends = list(backends)
        self.order = ["numpy"] + [b for b in self.backends if b != "numpy"]
        self.show = show
        self.text = ""
        self.history: list[str] = []

    def __call__(self, backend: str, fraction: float) -> None:
        n = len(self.order)
        i = self.order.index(backend) if backend in self.order else n - 1
        share = min(max(fraction * n - i, 0.0), 1.0)  # how far this backend is: 0 start, .5 compiled, 1 timed
        finished = self.order[:i] + ([backend] if share >= 1.0 - 1e-9 else [])
        done = len([b for b in finished if b in self.backends])
        reference = "" if backend in self.backends else " (the reference)"
        if fraction >= 1.0 - 1e-9:
            text = f"done: {done} backend(s)"
        elif share < 0.5 - 1e-9:
            text = f"compiling {backend}{reference}…"
        else:
            text = f"timing {backend}{reference}"
        if text != self.text:
            self.history.append(text)
        self.text = text
        self.show(text, min(max(fraction, 0.0), 1.0), done)


class ProgressLine(w.HBox):
    """A progress bar and a status line (CSS class ``gw-progress-line``), e.g. for ``%gw_compile``; pass
    :meth:`update` as the ``show`` of a :class:`BenchProgress`.

    Examples
    --------
    >>> line = ProgressLine("compile")
    >>> BenchProgress(["numpy"], line.update)("numpy", 0.0)
    >>> line.label.value, line.bar.value
    ('compiling numpy…', 0.0)
    >>> line._repr_mimebundle_()["text/plain"]
    'compile: compiling numpy…'
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.bar = w.FloatProgress(value=0.0, min=0.0, max=1.0, description=title)
        self.label = w.Label("starting")
        self.history: list[str] = []
        super().__init__([self.bar, self.label])
        self.add_class("gw-progress-line")

    def update(self, text: str, fraction: float, done: int = 0) -> None:
        """Show ``text`` and move the bar to ``fraction`` (``done``, the finished count, is not shown)."""
        if not self.history or self.history[-1] != text:
            self.history.append(text)
        self.label.value, self.bar.value = text, fraction

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = dict(super()._repr_mimebundle_(**kwargs) or {})
        data["text/plain"] = f"{self.title}: {self.label.value}"
        return data
