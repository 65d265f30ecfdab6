"""RewriteStepper: step through a session's rewrites and edits, the graph before and after each step side by side
(or the diff on one graph), filters, jump to a rule and "why did rule R not fire here"."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from graphwright import viz
from graphwright.workbench.graph_view import GraphView, merge_mimebundle
from graphwright.workbench.step_drawing import step_styles, step_svg
from graphwright.workbench.widget_util import button, try_svg

__all__ = ["RewriteStepper", "step_styles", "step_svg"]

_ALL = "(all)"
_CACHE_SIZE = 96
_BEFORE_HEAD = "<b>before</b> <small>(red: removed, orange: rewired)</small>"
_AFTER_HEAD = "<b>after</b> <small>(green: added, orange: rewired)</small>"
_UNION_HEAD = ("<b>diff on one graph</b> <small>(the after graph with the removed nodes: green added, red dashed "
               "removed, orange rewired)</small>")


class RewriteStepper(w.VBox):
    """Step through ``session.steps``: prev/next, a slider, a step list, phase and rule filters, jump to a rule,
    the graph before and after the step side by side (or the diff on one graph), a text diff, and "why did rule
    R not fire here".

    Parameters
    ----------
    session : a :class:`~graphwright.workbench.session.Session`.
    height : the height of the graph views.

    Notes
    -----
    CSS classes for browser tests: ``gw-step-prev``, ``gw-step-next``, ``gw-step-label``, ``gw-step-slider``,
    ``gw-step-list``, ``gw-step-before`` and ``gw-step-after`` (the side-by-side GraphViews), ``gw-step-union``
    (the "diff on one graph" toggle), ``gw-step-diff`` (its GraphView), ``gw-step-difftext``, ``gw-why-rule``,
    ``gw-why-button``, ``gw-why-text``. Node ids are the session's, the same in every view and step.

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
        self._cache: dict[tuple[Any, str], Any] = {}
        self._last_view: GraphView | None = None
        self.phase_filter = w.Dropdown(description="phase", layout=w.Layout(width="220px"))
        self.rule_filter = w.Dropdown(description="rule", layout=w.Layout(width="260px"))
        self.jump = w.Dropdown(description="jump to", layout=w.Layout(width="260px"))
        self.union = w.ToggleButton(description="diff on one graph", layout=w.Layout(width="auto"),
                                    tooltip="draw the after graph with the removed nodes, instead of side by side")
        self.union.add_class("gw-step-union")
        self.prev_button = button("\u25c0 prev", "gw-step-prev", "previous step")
        self.next_button = button("next \u25b6", "gw-step-next", "next step")
        self.slider = w.IntSlider(min=0, max=0, readout=False, continuous_update=False)
        self.slider.add_class("gw-step-slider")
        self.label = w.HTML()
        self.label.add_class("gw-step-label")
        self.step_list = w.Select(rows=6, layout=w.Layout(width="100%"))
        self.step_list.add_class("gw-step-list")
        self.before_view, self.after_view, self.diff_view = (
            _view(height, css, width) for css, width in
            (("gw-step-before", "50%"), ("gw-step-after", "50%"), ("gw-step-diff", "100%")))
        self.diff_text = w.HTML()
        self.diff_text.add_class("gw-step-difftext")
        self.why_rule = w.Combobox(placeholder="rule name", ensure_option=False, layout=w.Layout(width="260px"))
        self.why_rule.add_class("gw-why-rule")
        self.why_button = button("Why not here?", "gw-why-button", "why did this rule not fire at the selection")
        self.why_text = w.HTML()
        self.why_text.add_class("gw-why-text")
        super().__init__(self._layout())
        self.add_class("gw-stepper")
        self._wire()
        self.refresh()

    def _layout(self) -> list[w.Widget]:
        half = w.Layout(width="50%")
        self.pair = w.VBox([w.HBox([w.HTML(_BEFORE_HEAD, layout=half), w.HTML(_AFTER_HEAD, layout=half)]),
                            w.HBox([self.before_view, self.after_view], layout=w.Layout(width="100%"))])
        self.union_box = w.VBox([w.HTML(_UNION_HEAD), self.diff_view], layout=w.Layout(display="none"))
        return [w.HBox([self.phase_filter, self.rule_filter, self.jump, self.union]),
                w.HBox([self.prev_button, self.slider, self.next_button, self.label]),
                self.step_list, self.pair, self.union_box, self.diff_text,
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
        self.union.observe(lambda _: self._render(), names="value")
        for view in (self.before_view, self.after_view, self.diff_view):
            view.observe(lambda ch, view=view: self._picked(view, ch["new"]), names="selected")
        self.why_rule.options = sorted(_all_rule_names())

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
        """Rebuild the filter options and the step list from the session (after an edit or undo).

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> s = Session(gw.log(1 + gw.vector("x")) * 2, phases="stabilize")
        >>> stepper = RewriteStepper(s)
        >>> s.substitute(s.graph.outputs[0], "2 * gw.log1p(x)").ok
        True
        >>> stepper.refresh()
        >>> stepper.phase_filter.options
        ('(all)', 'stabilize', 'edit')
        """
        steps = self.session.steps
        self._busy = True
        try:
            _set_options(self.phase_filter, [_ALL] + list(dict.fromkeys(s.phase for s in steps)))
            _set_options(self.rule_filter, [_ALL] + sorted({s.rule for s in steps}))
        finally:
            self._busy = False
        live = set(steps)
        self._cache = {k: v for k, v in self._cache.items() if k[0] in live}
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
        """Show the ``position``-th visible step (clamped); returns it (None when no step is visible).

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> stepper = RewriteStepper(Session(gw.log(1 + gw.exp(gw.vector("x"))) * 1, phases="stabilize"))
        >>> stepper.go(1).rule, stepper.go(99).rule, stepper.position
        ('softplus', 'softplus', 1)
        """
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
        """Show the next visible step (stays on the last one).

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> stepper = RewriteStepper(Session(gw.log(1 + gw.exp(gw.vector("x"))) * 1, phases="stabilize"))
        >>> stepper.next().rule, stepper.next().rule, stepper.position
        ('softplus', 'softplus', 1)
        """
        return self.go(self.position + 1)

    def prev(self) -> Any:
        """Show the previous visible step (stays on the first one).

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> stepper = RewriteStepper(Session(gw.log(1 + gw.exp(gw.vector("x"))) * 1, phases="stabilize"))
        >>> stepper.go(1).rule, stepper.prev().rule, stepper.prev().rule
        ('softplus', 'mul_one', 'mul_one')
        """
        return self.go(self.position - 1)

    def jump_to_rule(self, rule: str | None) -> Any:
        """Show the next visible step of ``rule`` after the current one (wrapping around).

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> stepper = RewriteStepper(Session(gw.log(1 + gw.exp(gw.vector("x"))) * 1, phases="stabilize"))
        >>> stepper.jump_to_rule("softplus").index, stepper.jump_to_rule("mul_one").index
        (1, 0)
        """
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
    def _drawing(self, step: Any, kind: str) -> Callable[[], str]:
        """A renderer of one view of ``step`` ("before", "after", "union"), cached per step."""
        def render() -> str:
            key = (step, kind)
            if key not in self._cache:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = step_svg(self.session, step, kind)
            return self._cache[key]

        return render

    def _render(self) -> None:
        step, steps, union = self.current, self.visible, self.union.value
        self.pair.layout.display = "none" if union else ""
        self.union_box.layout.display = "" if union else "none"
        if step is None:
            what = "no rewrite steps" if not self.session.steps else "no step matches the filters"
            self.label.value = f"<span class='gw-step-label-text'>{what}</span>"
            for view in (self.before_view, self.after_view, self.diff_view):
                view.show(self.session.graph, ids=self.session.ids)
            self.diff_text.value = ""
            return
        self.label.value = (f"<span class='gw-step-label-text'>step {self.position + 1} / {len(steps)}: "
                            f"#{step.index} [{html.escape(step.phase)}] <b>{html.escape(step.rule)}</b> "
                            f"&mdash; {html.escape(step.identity)}</span>")
        text = viz.graph_diff(step.before, step.after, step.changes).text()
        if union:
            self.diff_view.draw(self._drawing(step, "union"), text=f"{step}\n{text}",
                                status=f"#{step.index} {step.rule}: diff on one graph")
        else:
            self.before_view.draw(self._drawing(step, "before"), text=viz.tree_text(step.before, color=False),
                                  status=f"before: {step.before.node_count} nodes")
            self.after_view.draw(self._drawing(step, "after"), text=viz.tree_text(step.after, color=False),
                                 status=f"after: {step.after.node_count} nodes")
        self.diff_text.value = f"<pre class='gw-diff-pre'>{html.escape(str(step))}\n{html.escape(text)}</pre>"

    # --- why not -------------------------------------------------------------------------------------------
    def why_not(self, rule: str | None = None, node_id: str | None = None) -> str:
        """Why ``rule`` (default: the rule box) did not fire at ``node_id`` (default: the node last selected in a
        view; a node of the before view is looked up in the graph before the step); also shown under the views.

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> x = gw.vector("x")
        >>> s = Session(gw.log(2 + gw.exp(x)) * 1, phases="stabilize")
        >>> stepper = RewriteStepper(s)
        >>> print(stepper.why_not("softplus", s.ids.of(gw.log(2 + gw.exp(x)))))
        softplus does not match log(2 + exp(x)): 1 at 2: the constant is 2.0, not 1.0
        """
        rule = rule or self.why_rule.value.strip()
        view = self._last_view
        if node_id is None:
            view = view or next((v for v in (self.after_view, self.before_view, self.diff_view) if v.selected),
                                self.after_view)
            node_id = view.selected
        step = self.current
        if not rule or not node_id:
            answer = "select a node in one of the views and type a rule name"
        else:
            at = None if step is None else step.index - (view is self.before_view)
            try:
                answer = self.session.why_not(rule, node_id, at=at)
            except (KeyError, ValueError, IndexError) as exc:
                answer = f"{type(exc).__name__}: {exc.args[0] if exc.args else exc}"
        self.why_text.value = f"<pre class='gw-why-pre'>{html.escape(answer)}</pre>"
        return answer

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        step = self.current
        text = "\n".join(str(s) for s in self.session.steps) or "no rewrite steps"
        page, svg = f"<pre>{html.escape(text)}</pre>", ""
        if step is not None:
            svg = try_svg(self._drawing(step, "union"))[0]
            before, after = (try_svg(self._drawing(step, kind))[0] for kind in ("before", "after"))
            page += (f"<p>step #{step.index}: {html.escape(str(step))}</p><div style='display:flex;gap:1em'>"
                     f"<figure>{before}</figure><figure>{after}</figure></div>")
        extra = {"image/svg+xml": svg, "text/plain": text, "text/html": page}
        return merge_mimebundle(super()._repr_mimebundle_(**kwargs), extra)


def _view(height: str, css: str, width: str) -> GraphView:
    view = GraphView(height=height, layout=w.Layout(width=width))
    view.add_class(css)
    return view


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
