"""RewriteStepper: step through a session's rewrites and edits with a coloured diff, filters and "why not here"."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from graphwright import viz
from graphwright.workbench.graph_view import GraphView, merge_mimebundle, strip_svg_prolog

__all__ = ["RewriteStepper", "step_svgs"]

_ALL = "(all)"
_CACHE_SIZE = 64


def step_svgs(session: Any, step: Any) -> tuple[str, str, str]:
    """The diff SVG, the after SVG (added/rewired nodes coloured) and the text diff of one step of ``session``.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> s = Session(gw.log(1 + gw.vector("x")), phases="stabilize")
    >>> diff_svg, after_svg, text = step_svgs(s, s.steps[0])
    >>> "gw&#45;added" in diff_svg, "gw&#45;added" in after_svg  # graphviz writes "-" as &#45; in SVG
    (True, True)
    """
    diff = viz.graph_diff(step.before, step.after, step.changes)
    styles = {session.ids.of(n): "added" for n in diff.added}
    styles.update({session.ids.of(new): "rewired" for new in diff.rewired.values()})
    diff_svg = viz.to_svg(viz.diff_dot(step.before, step.after, changes=step.changes, ids=session.ids))
    after_svg = viz.to_svg(viz.to_dot(step.after, ids=session.ids, styles=styles))
    return diff_svg, after_svg, diff.text()


def _button(label: str, css: str, tooltip: str = "") -> w.Button:
    b = w.Button(description=label, tooltip=tooltip, layout=w.Layout(width="auto"))
    b.add_class(css)
    return b


class RewriteStepper(w.VBox):
    """Step through ``session.steps``: prev/next, a slider, a step list, phase and rule filters, jump to a rule,
    the diff and the after graph side by side, a text diff, and "why did rule R not fire here".

    Parameters
    ----------
    session : a :class:`~graphwright.workbench.session.Session`.
    height : the height of the two graph views.

    Notes
    -----
    CSS classes for browser tests: ``gw-step-prev``, ``gw-step-next``, ``gw-step-label``, ``gw-step-slider``,
    ``gw-step-list``, ``gw-step-diff`` and ``gw-step-after`` (the two GraphViews), ``gw-step-difftext``,
    ``gw-why-rule``, ``gw-why-button``, ``gw-why-text``.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> s = Session(gw.log(1 + gw.exp(gw.vector("x"))) * 1, phases="stabilize")
    >>> stepper = RewriteStepper(s)
    >>> stepper.current.rule, stepper.next().rule, stepper.next().rule
    ('mul_one', 'softplus', 'softplus')
    >>> stepper.set_filters(phase="canonicalize")
    >>> [step.rule for step in stepper.visible]
    ['mul_one']
    """

    def __init__(self, session: Any, *, height: str = "420px") -> None:
        self.session = session
        self.position = 0
        self._busy = False
        self._cache: dict[Any, tuple[str, str, str]] = {}
        self._last_view: GraphView | None = None
        self.phase_filter = w.Dropdown(description="phase", layout=w.Layout(width="220px"))
        self.rule_filter = w.Dropdown(description="rule", layout=w.Layout(width="260px"))
        self.jump = w.Dropdown(description="jump to", layout=w.Layout(width="260px"))
        self.prev_button = _button("\u25c0 prev", "gw-step-prev", "previous step")
        self.next_button = _button("next \u25b6", "gw-step-next", "next step")
        self.slider = w.IntSlider(min=0, max=0, readout=False, continuous_update=False)
        self.slider.add_class("gw-step-slider")
        self.label = w.HTML()
        self.label.add_class("gw-step-label")
        self.step_list = w.Select(rows=6, layout=w.Layout(width="100%"))
        self.step_list.add_class("gw-step-list")
        self.diff_view = GraphView(height=height, layout=w.Layout(width="50%"))
        self.diff_view.add_class("gw-step-diff")
        self.after_view = GraphView(height=height, layout=w.Layout(width="50%"))
        self.after_view.add_class("gw-step-after")
        self.diff_text = w.HTML()
        self.diff_text.add_class("gw-step-difftext")
        self.why_rule = w.Combobox(placeholder="rule name", ensure_option=False, layout=w.Layout(width="260px"))
        self.why_rule.add_class("gw-why-rule")
        self.why_button = _button("Why not here?", "gw-why-button", "why did this rule not fire at the selection")
        self.why_text = w.HTML()
        self.why_text.add_class("gw-why-text")
        super().__init__(self._layout())
        self.add_class("gw-stepper")
        self._wire()
        self.refresh()

    def _layout(self) -> list[w.Widget]:
        views = w.HBox([self.diff_view, self.after_view], layout=w.Layout(width="100%"))
        heads = w.HBox([w.HTML("<b>diff</b> (green added, red removed, orange rewired)", layout=w.Layout(width="50%")),
                        w.HTML("<b>after</b>", layout=w.Layout(width="50%"))])
        return [w.HBox([self.phase_filter, self.rule_filter, self.jump]),
                w.HBox([self.prev_button, self.slider, self.next_button, self.label]),
                self.step_list, heads, views, self.diff_text,
                w.HBox([self.why_rule, self.why_button]), self.why_text]

    def _wire(self) -> None:
        self.prev_button.on_click(lambda _: self.prev())
        self.next_button.on_click(lambda _: self.next())
        self.why_button.on_click(lambda _: self.why_not())
        self.slider.observe(lambda ch: self._moved(ch["new"]), names="value")
        self.step_list.observe(lambda ch: self._moved(ch["new"]), names="value")
        self.phase_filter.observe(lambda _: self._filtered(), names="value")
        self.rule_filter.observe(lambda _: self._filtered(), names="value")
        self.jump.observe(lambda ch: self.jump_to_rule(ch["new"]), names="value")
        for view in (self.diff_view, self.after_view):
            view.observe(lambda ch, view=view: self._picked(view, ch["new"]), names="selected")
        rules = sorted(_all_rule_names())
        self.why_rule.options = rules

    # --- state ---------------------------------------------------------------------------------------------
    @property
    def visible(self) -> list[Any]:
        """The steps that pass the phase and rule filters."""
        phase = None if self.phase_filter.value in (None, _ALL) else self.phase_filter.value
        rule = None if self.rule_filter.value in (None, _ALL) else self.rule_filter.value
        return self.session.rewrite_steps(phase=phase, rule=rule)

    @property
    def current(self) -> Any:
        """The StepView shown, or None when no step passes the filters."""
        steps = self.visible
        return steps[min(self.position, len(steps) - 1)] if steps else None

    def refresh(self) -> None:
        """Rebuild the filter options and the step list from the session (after an edit or undo)."""
        steps = self.session.steps
        self._busy = True
        try:
            _set_options(self.phase_filter, [_ALL] + list(dict.fromkeys(s.phase for s in steps)))
            _set_options(self.rule_filter, [_ALL] + sorted({s.rule for s in steps}))
        finally:
            self._busy = False
        live = set(steps)
        self._cache = {k: v for k, v in self._cache.items() if k in live}
        self._filtered(keep=True)

    def set_filters(self, phase: str | None = None, rule: str | None = None) -> None:
        """Show only the steps of ``phase`` and ``rule`` (None: any)."""
        self._busy = True
        try:
            self.phase_filter.value = phase if phase in self.phase_filter.options else _ALL
            self.rule_filter.value = rule if rule in self.rule_filter.options else _ALL
        finally:
            self._busy = False
        self._filtered()

    def _filtered(self, keep: bool = False) -> None:
        if self._busy:
            return
        steps = self.visible
        self._busy = True
        try:
            _set_options(self.jump, [("\u2014", None)] + sorted({s.rule for s in steps}))
            self.jump.value = None
            self.step_list.options = [(_step_line(s), k) for k, s in enumerate(steps)]
            self.slider.max = max(len(steps) - 1, 0)
        finally:
            self._busy = False
        self.go(min(self.position, max(len(steps) - 1, 0)) if keep else 0)

    def go(self, position: int) -> Any:
        """Show the ``position``-th visible step (clamped); returns it (None when no step is visible)."""
        steps = self.visible
        self.position = max(0, min(position, len(steps) - 1)) if steps else 0
        self._busy = True
        try:
            self.slider.value = self.position
            self.step_list.value = self.position if steps else None
        finally:
            self._busy = False
        self._render()
        return self.current

    def next(self) -> Any:
        """Show the next visible step (stays on the last one)."""
        return self.go(self.position + 1)

    def prev(self) -> Any:
        """Show the previous visible step (stays on the first one)."""
        return self.go(self.position - 1)

    def jump_to_rule(self, rule: str | None) -> Any:
        """Show the next visible step of ``rule`` after the current one (wrapping around)."""
        if self._busy or not rule:
            return self.current
        steps = self.visible
        order = list(range(self.position + 1, len(steps))) + list(range(0, self.position + 1))
        found = next((k for k in order if steps[k].rule == rule), None)
        result = self.go(found) if found is not None else self.current
        self._busy = True
        try:
            self.jump.value = None
        finally:
            self._busy = False
        return result

    def _moved(self, value: Any) -> None:
        if not self._busy and value is not None:
            self.go(int(value))

    def _picked(self, view: GraphView, node_id: str) -> None:
        if node_id:
            self._last_view = view

    # --- drawing -------------------------------------------------------------------------------------------
    def _render(self) -> None:
        step, steps = self.current, self.visible
        if step is None:
            what = "no rewrite steps" if not self.session.steps else "no step matches the filters"
            self.label.value = f"<span class='gw-step-label-text'>{what}</span>"
            self.diff_view.show(self.session.graph, ids=self.session.ids)
            self.after_view.show(self.session.graph, ids=self.session.ids)
            self.diff_text.value = ""
            return
        if step not in self._cache:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[step] = step_svgs(self.session, step)
        diff_svg, after_svg, text = self._cache[step]
        self.label.value = (f"<span class='gw-step-label-text'>step {self.position + 1} / {len(steps)}: "
                            f"#{step.index} [{html.escape(step.phase)}] <b>{html.escape(step.rule)}</b> "
                            f"&mdash; {html.escape(step.identity)}</span>")
        self.diff_view.svg, self.diff_view.text = diff_svg, f"{step}\n{text}"
        self.diff_view.status = f"#{step.index} {step.rule}: diff"
        self.after_view.svg, self.after_view.text = after_svg, viz.tree_text(step.after, color=False)
        self.after_view.status = f"after: {step.after.node_count} nodes"
        self.diff_text.value = f"<pre class='gw-diff-pre'>{html.escape(str(step))}\n{html.escape(text)}</pre>"

    # --- why not -------------------------------------------------------------------------------------------
    def why_not(self, rule: str | None = None, node_id: str | None = None) -> str:
        """Why ``rule`` (default: the rule box) did not fire at ``node_id`` (default: the node selected in a view);
        the answer is also shown under the views."""
        rule = rule or self.why_rule.value.strip()
        if node_id is None:
            view = self._last_view or (self.after_view if self.after_view.selected else self.diff_view)
            node_id = view.selected
        step = self.current
        if not rule or not node_id:
            answer = "select a node in one of the views and type a rule name"
        else:
            try:
                answer = self.session.why_not(rule, node_id, at=None if step is None else step.index)
            except (KeyError, ValueError, IndexError) as exc:
                answer = f"{type(exc).__name__}: {exc.args[0] if exc.args else exc}"
        self.why_text.value = f"<pre class='gw-why-pre'>{html.escape(answer)}</pre>"
        return answer

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        step = self.current
        text = "\n".join(str(s) for s in self.session.steps) or "no rewrite steps"
        svg = strip_svg_prolog(self.diff_view.svg)
        extra = {"image/svg+xml": svg, "text/plain": text,
                 "text/html": f"<pre>{html.escape(text)}</pre>" + (svg if step else "")}
        return merge_mimebundle(super()._repr_mimebundle_(**kwargs), extra)


def _set_options(dropdown: w.Dropdown, options: list[Any]) -> None:
    old = dropdown.value
    dropdown.options = options
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    dropdown.value = old if old in values else values[0]


def _step_line(step: Any, limit: int = 110) -> str:
    text = str(step)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _all_rule_names() -> list[str]:
    from graphwright.rewrite.phases import all_rules

    return list(all_rules())
