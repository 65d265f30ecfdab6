"""A workbench session: a graph, every rewrite step and user edit in order, stable node ids, substitution, undo."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import graphwright as gw
from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph
from graphwright.printing import short_str
from graphwright.rewrite.phases import resolve_phases
from graphwright.workbench.session_listeners import ChangeListeners
from graphwright.workbench.step_ids import GraphIds, HistoryIds
from graphwright.workbench.steps import StepView, edit_step, filter_steps, steps_from_trace, why_not_text
from graphwright.workbench.substitute import SubstitutionError, SubstitutionReport, check_substitution

__all__ = ["Session"]


class Session(ChangeListeners):
    """A graph under study: its rewrite history (rule steps and user edits), node ids, edits and undo.

    Parameters
    ----------
    outputs : a Variable, a list of them, or a Graph.
    inputs : the graph inputs; by default the free variables the outputs depend on.
    name : shown in summaries and widgets.
    phases : the rewrite phases to run (a query such as "fast_run" or phase names).
    backends : backends for :meth:`compile`; by default every available one.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> s = Session(gw.log(1 + gw.exp(x)) * 1, name="demo", phases="stabilize")
    >>> s
    Session('demo': 1 input, 4 -> 1 nodes, 2 steps)
    >>> for step in s.steps:
    ...     print(step)
    0. [canonicalize] mul_one: log(1 + exp(x)) * 1 -> log(1 + exp(x))
    1. [stabilize] softplus: log(1 + exp(x)) -> softplus(x)
    """

    def __init__(self, outputs: Variable | Sequence[Variable] | Graph, *,
                 inputs: Sequence[Variable] | None = None, name: str = "graph",
                 phases: str | Sequence[str] = "fast_run", backends: Sequence[str] | None = None):
        if isinstance(outputs, Graph):
            inputs = outputs.inputs if inputs is None else inputs
            outputs = list(outputs.outputs)
        original = Graph(None if inputs is None else list(inputs), outputs)
        self._set_up(name, original, resolve_phases(phases), backends, None)

    def _set_up(self, name: str, original: Graph, phases: tuple[str, ...], backends: Sequence[str] | None,
                steps: list[StepView] | None) -> None:
        """Set every attribute; ``steps`` None: run the phases on ``original`` (else a history read back)."""
        self.name, self.original, self.phases = name, original, phases
        self.inputs: list[Variable] = list(self.original.inputs)
        self.backends: list[str] = list(backends) if backends is not None else list(gw.available_backends())
        self._undo: list[tuple[list[StepView], Graph, HistoryIds]] = []  # (steps, graph, ids) before each edit
        self.last_bench = None  # the latest compile() table and numerics() report (of the current graph)
        self.last_numerics = None
        self._listeners: list[Callable[[Session], Any]] = []
        self.steps: list[StepView] = self._run(self.original, self.phases, start=0) if steps is None else steps
        self._history = HistoryIds(self.original, self.steps)

    # --- history -------------------------------------------------------------------------------------------
    def _run(self, graph: Graph, phases: Sequence[str], start: int) -> list[StepView]:
        if not phases:
            return []
        _, trace = gw.rewrite(graph, phases=phases)
        return steps_from_trace(trace, start=start)

    @property
    def graph(self) -> Graph:
        """The current graph: the end of the history."""
        return self.steps[-1].after if self.steps else self.original

    def _position(self, at: int | None) -> int:
        if at is None:
            return len(self.steps) - 1
        if not isinstance(at, int) or not -1 <= at < len(self.steps):
            raise IndexError(f"step position {at!r} is out of range: the session has {len(self.steps)} steps "
                             f"(positions -1 .. {len(self.steps) - 1}; -1 is the original graph)")
        return at

    def graph_at(self, k: int | None = None) -> Graph:
        """The graph after step ``k`` (``-1``: the original graph; None: the current graph).

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> s = Session(gw.log(1 + gw.exp(x)), phases="stabilize")
        >>> s.graph_at(-1).outputs[0], s.graph_at(0).outputs[0]
        (log(1 + exp(x)), softplus(x))
        """
        k = self._position(k)
        return self.steps[k].after if k >= 0 else self.original

    def rewrite_steps(self, phase: str | None = None, rule: str | None = None) -> list[StepView]:
        """The steps of a phase (or "edit") and/or of a rule; all steps when both are None.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> s = Session(gw.log(1 + gw.exp(x)) * 1, phases="stabilize")
        >>> [step.rule for step in s.rewrite_steps(phase="canonicalize")]
        ['mul_one']
        """
        return filter_steps(self.steps, phase=phase, rule=rule)

    # --- nodes ---------------------------------------------------------------------------------------------
    @property
    def ids(self) -> GraphIds:
        """The node ids of the current graph (a :class:`~graphwright.viz.NodeIds`); see :meth:`ids_at`."""
        return self._history.at(len(self.steps) - 1)

    def ids_at(self, k: int | None = None) -> GraphIds:
        """The node ids of the graph after step ``k`` (``-1``: the original; None: the current graph).

        Ids are per graph and unique in each; a node that a step rebuilt keeps its id, created nodes get new
        ones, and the ids do not depend on the order the steps are looked at in. The nodes that step ``k``
        removed keep the ids they had before it, so one table draws a step's before and after graphs.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> s = Session(gw.log(1 + gw.exp(x)) * 2, phases="stabilize")
        >>> ids = s.ids_at(0)
        >>> ids.of(s.graph_at(-1).outputs[0]) == ids.of(s.graph_at(0).outputs[0])  # the mul node, rewired
        True
        """
        return self._history.at(self._position(k))

    def node(self, node_id: str, at: int | None = None) -> Apply | Variable:
        """The node (an Apply, or an input/constant Variable) with id ``node_id`` in the graph at step ``at``.

        An id that no node of that graph has names the node last looked up with it (in any graph of the
        history), if any.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> s = Session(gw.exp(x) + 1, phases="canonicalize")
        >>> s.node(s.ids.of(x)) is x
        True
        """
        found = self._history.find(node_id, self._position(at))
        if found is None:
            raise KeyError(f"no node with id {node_id!r} in session {self.name!r}")
        return found

    def _aliases(self, node_id: str, rule_name: str | None = None) -> set[Apply]:
        """Every Apply looked up so far with ``node_id`` (a node and its rebuilt forms); with ``rule_name``,
        also those of the graphs before the steps of that rule (where it may have fired)."""
        before = [s.index - 1 for s in self.steps if s.kind == "rule" and s.rule == rule_name]
        return self._history.carriers(node_id, before)

    def _target(self, target: Variable | Apply | str, at: int | None) -> Variable:
        obj = self.node(target, at) if isinstance(target, str) else target
        return obj.outputs[0] if isinstance(obj, Apply) else obj

    def why_not(self, rule_name: str, node_id: str, at: int | None = None) -> str:
        """Why rule ``rule_name`` did or did not fire at node ``node_id`` (as it is in the graph at step ``at``).

        Says in which step it fired on this node (or a rebuilt form of it), else the refusal recorded by the
        rewrite (guard, type, ...), else the first mismatch of the rule's pattern against the node.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> s = Session(gw.log(2 + gw.exp(x)), phases="stabilize")
        >>> print(s.why_not("softplus", s.ids.of(gw.log(2 + gw.exp(x)))))
        softplus does not match log(2 + exp(x)): 1 at 2: the constant is 2.0, not 1.0
        """
        pos = self._position(at)
        return why_not_text(self.steps, rule_name, self._target(node_id, pos), self._aliases(node_id, rule_name), pos,
                            self.graph_at(pos), self.phases)

    # --- edits ---------------------------------------------------------------------------------------------
    def _resume_phases(self, pos: int) -> tuple[str, ...]:
        """After an edit of the graph after step ``pos``: the phases from the one running there to the end."""
        rules = [s for s in self.steps[:pos + 1] if s.kind == "rule" and s.phase in self.phases]
        running = rules[-1].phase if rules else None  # no rule step before: every phase
        return self.phases if running is None else self.phases[self.phases.index(running):]

    def substitute(self, target: Variable | Apply | str, replacement: Variable | str, *, at: int | None = None,
                   resume: bool = True) -> SubstitutionReport:
        """Replace ``target`` by ``replacement`` in the graph at step ``at`` (None: the current graph).

        ``target`` is a Variable, an Apply or a node id; ``replacement`` a Variable or an expression string
        (see :func:`~graphwright.workbench.substitute.parse_replacement`). A refused substitution (type, shape,
        foreign inputs or values; see :func:`~graphwright.workbench.substitute.check_substitution`) changes
        nothing. An accepted one drops the history after ``at``, appends the edit as a step (kind "edit") and,
        with ``resume``, runs the phases from the one running at ``at`` (that of the nearest rule step at or
        before ``at``; all phases if none, as for ``at=-1``) to the last, phases that made no steps included.
        Any node of that graph is ``node("n7")`` in an expression. Clears ``last_bench`` and ``last_numerics``
        and calls the :meth:`on_change` callbacks.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> s = Session(gw.exp(x) * gw.exp(x) + gw.log(1 + x), phases="stabilize")
        >>> s.substitute(gw.exp(x) * gw.exp(x), "gw.exp(2 * x)", at=-1).ok
        True
        >>> [(step.kind, step.rule) for step in s.steps]
        [('edit', 'substitute'), ('rule', 'log1p')]
        >>> s.undo()
        >>> [step.rule for step in s.steps]
        ['exp_mul_exp', 'log1p']
        """
        pos = self._position(at)
        before = self.graph_at(pos)
        target_var = self._target(target, pos)
        if target_var not in set(before.variables) and target_var not in set(before.inputs):
            raise SubstitutionError(f"{short_str(target_var)} is not in the graph at step {pos} of session "
                                    f"{self.name!r}")
        report = check_substitution(before, target_var, replacement, ids=self.ids_at(pos))
        if not report.ok:
            return report
        edit = edit_step(before, target_var, report.replacement, index=pos + 1)
        phases = self._resume_phases(pos) if resume else ()
        resumed = self._run(edit.after, phases, start=pos + 2)
        self._undo.append((self.steps, self.graph, self._history))
        self.steps = self.steps[:pos + 1] + [edit] + resumed
        self._history = HistoryIds(self.original, self.steps, reuse=self._history)
        self._changed()
        return report

    def undo(self) -> None:
        """Undo the last substitution: restore the steps (and so the graph) as they were before it.

        Clears the results of :meth:`compile` and :meth:`numerics` and calls the :meth:`on_change` callbacks.

        Examples
        --------
        >>> import graphwright as gw
        >>> s = Session(gw.exp(gw.vector("x")), phases="canonicalize")
        >>> s.undo()
        Traceback (most recent call last):
        ...
        RuntimeError: nothing to undo in session 'graph': no substitution has been made
        """
        if not self._undo:
            raise RuntimeError(f"nothing to undo in session {self.name!r}: no substitution has been made")
        self.steps, graph, self._history = self._undo.pop()
        assert self.graph is graph
        self._changed()

    def _changed(self) -> None:
        """The graph changed: drop results that describe the old one and tell the listeners."""
        self.last_bench = None
        self.last_numerics = None
        self._notify()

    @property
    def can_undo(self) -> bool:
        """Whether there is an edit to undo."""
        return bool(self._undo)

    # --- delegation to the bench, numerics and widget modules ----------------------------------------------
    def compile(self, backends: Sequence[str] | None = None, **kw: Any):
        """Time and check the current graph on ``backends`` (None: the session's); kept as ``last_bench``.

        Other keywords (``values``, ``repeat``, ``progress``) go to :func:`~graphwright.workbench.bench.bench_backends`.

        Examples
        --------
        >>> import graphwright as gw
        >>> s = Session(gw.log(1 + gw.vector("x")), phases="stabilize", backends=["numpy"])
        >>> table = s.compile(repeat=3)
        >>> [(row.backend, row.error) for row in table.rows], s.last_bench is table
        ([('numpy', None)], True)
        """
        from graphwright.workbench.bench import bench_backends

        self.last_bench = bench_backends(self.graph, self.backends if backends is None else backends, **kw)
        return self.last_bench

    def numerics(self, values: Any = None, **kw: Any):
        """Per-node values and errors against mpmath on the current graph; the report is kept as ``last_numerics``.

        ``values``: a dict from input variables or a list in input order (None: small random inputs); other
        keywords (``dps``, ``max_elements``) go to :func:`~graphwright.workbench.numerics.numerics`.

        Examples
        --------
        >>> import numpy as np, graphwright as gw
        >>> s = Session(gw.log(1 + gw.exp(gw.vector("x"))), phases="canonicalize")
        >>> report = s.numerics([np.array([1.0, 800.0])])
        >>> report.first_nonfinite.label, report.first_nonfinite.node_id == s.ids.of(s.graph.toposort[0])
        ('exp', True)
        """
        from graphwright.workbench.numerics import numerics

        self.last_numerics = numerics(self.graph, values, ids=self.ids, **kw)
        return self.last_numerics

    def widget(self):
        """The interactive workbench widget for this session (needs ipywidgets and anywidget).

        Examples
        --------
        >>> import graphwright as gw
        >>> type(Session(gw.exp(gw.vector("x")), phases="canonicalize").widget()).__name__
        'SessionWidget'
        """
        from graphwright.workbench.widgets import SessionWidget

        return SessionWidget(self)

    def to_html(self, path: str | Path) -> Path:
        """Write a standalone HTML page of the session to ``path`` (graphs, step diffs, the latest tables).

        Examples
        --------
        >>> import tempfile, graphwright as gw
        >>> s = Session(gw.log(1 + gw.vector("x")), name="f", phases="stabilize")
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     page = s.to_html(Path(folder) / "f.html")
        ...     page.name, "log1p" in page.read_text()
        ('f.html', True)
        """
        from graphwright.workbench.html_export import session_html

        return session_html(self, path)

    def to_json(self) -> dict[str, Any]:
        """The versioned JSON form (a dict of JSON values); see
        :func:`~graphwright.workbench.session_json.session_to_json`."""
        from graphwright.workbench.session_json import session_to_json

        return session_to_json(self)

    @staticmethod
    def from_json(doc: Any) -> Session:
        """The Session of a JSON form that :meth:`to_json` wrote (the undo stack is not part of it).

        Examples
        --------
        >>> import graphwright as gw
        >>> s = Session(gw.log(1 + gw.vector("x")), name="f", phases="stabilize")
        >>> Session.from_json(s.to_json()).text() == s.text()
        True
        """
        from graphwright.workbench.session_json import session_from_json

        return session_from_json(doc)

    def _repr_mimebundle_(self, include=None, exclude=None) -> Any:
        try:
            return self.widget()._repr_mimebundle_(include=include, exclude=exclude)
        except ImportError:  # no widget stack: a static view
            bundle: dict[str, Any] = {"text/plain": self.text()}
            try:
                from graphwright.viz import graph_svg

                bundle["image/svg+xml"] = graph_svg(self.graph, ids=self.ids, title=self.name)
            except Exception:  # graphviz missing or failing: the text alone
                pass
            return bundle

    # --- text ----------------------------------------------------------------------------------------------
    def text(self) -> str:
        """A summary: name, node counts before and after, and one line per step.

        Examples
        --------
        >>> import graphwright as gw
        >>> print(Session(gw.log(1 + gw.vector("x")), name="f", phases="stabilize").text())
        Session('f': 1 input, 2 -> 1 nodes, 1 step)
          0. [stabilize] log1p: log(1 + x) -> log1p(x)
        """
        return "\n".join([repr(self)] + [f"  {s}" for s in self.steps])

    def __repr__(self) -> str:
        n_in, n_steps = len(self.inputs), len(self.steps)
        edits = sum(s.kind == "edit" for s in self.steps)
        return (f"Session({self.name!r}: {n_in} input{'s' * (n_in != 1)}, {self.original.node_count} -> "
                f"{self.graph.node_count} nodes, {n_steps} step{'s' * (n_steps != 1)}"
                + (f", {edits} edit{'s' * (edits != 1)}" if edits else "") + ")")

