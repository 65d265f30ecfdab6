"""Hand edits of a graph: parse a replacement expression and check that it may replace a node (type and values)."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import graphwright as gw
from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph, free_inputs
from graphwright.printing import short_str
from graphwright.rewrite.check import sample_inputs, values_agree
from graphwright.rewrite.engine import type_problem
from graphwright.viz.ids import NodeIds
from graphwright.workbench.metrics import max_errors

__all__ = ["SubstitutionError", "SubstitutionReport", "parse_replacement", "check_substitution"]

# the only builtins a replacement expression may call
_SAFE_BUILTINS = {name: getattr(builtins, name) for name in (
    "abs", "min", "max", "float", "int", "bool", "len", "range", "tuple", "list", "round", "sum", "pow")}
# (kind, length) of the input sets a substitution is checked on
_CASES = (("random", 3), ("random", 1), ("random", 8), ("edge", 3), ("edge", 8))


class SubstitutionError(ValueError):
    """A replacement could not be parsed or built, or a target is not part of the graph."""


@dataclass(eq=False)
class SubstitutionReport:
    """The verdict on replacing ``target`` by ``replacement``: ``ok``, why (``message``) and the value checks.

    ``cases`` lists ``(input set, max abs error)`` for every input set that was evaluated; ``replacement`` is
    None when the expression could not be parsed.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> report = check_substitution(Graph([x], [gw.log(1 + x)]), gw.log(1 + x), "gw.log1p(x)")
    >>> report.ok, [case for case, error in report.cases]
    (True, ['random, length 3', 'random, length 1', 'random, length 8', 'edge, length 3', 'edge, length 8'])
    """

    ok: bool
    message: str
    target: Variable
    replacement: Variable | None
    cases: list[tuple[str, float]] = field(default_factory=list)

    def text(self) -> str:
        """The message and one line per input set.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> print(check_substitution(Graph([x], [gw.exp(x)]), gw.exp(x), "i0 + 1").text())
        refused: replacing exp(x) by x + 1 changes values (random, length 3): at index (0,) old=..., new=...
          random, length 3: max abs error ...
        """
        lines = [("accepted: " if self.ok else "refused: ") + self.message]
        lines += [f"  {case}: max abs error {err:.3g}" for case, err in self.cases]
        return "\n".join(lines)

    def __bool__(self) -> bool:
        return self.ok


def _node_lookup(graph: Graph, ids: Any) -> Callable[[str], Variable]:
    def node(node_id: str) -> Variable:
        if not isinstance(node_id, str):
            raise SubstitutionError(f"node() takes one node id string such as 'n7', got {type(node_id).__name__}")
        if ids is None:
            raise SubstitutionError(f"node({node_id!r}) needs node ids: pass the session's NodeIds as ids= (a "
                                    f"Session does this)")
        found = ids.find(node_id, graph)
        if found is None:
            raise SubstitutionError(f"node({node_id!r}): no node with id {node_id!r} in the graph being edited")
        return found.outputs[0] if isinstance(found, Apply) else found

    return node


def _namespace(target: Variable, graph: Graph, extra: Mapping[str, Any] | None, ids: Any) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for v in list(graph.inputs) + list(graph.variables):
        if v.name and v.name.isidentifier() and v.name not in names:
            names[v.name] = v
    if extra:
        names.update(extra)
    names.update({"gw": gw, "np": np, "old": target, "node": _node_lookup(graph, ids)})
    if target.owner is not None:
        names.update({f"i{k}": v for k, v in enumerate(target.owner.inputs)})
    return names


def _check_names(text: str, tree: ast.AST, names: Mapping[str, Any]) -> None:
    nodes = list(ast.walk(tree))
    local = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}  # comprehensions
    local |= {a.arg for n in nodes if isinstance(n, ast.Lambda) for a in n.args.args}
    private = [n.attr for n in nodes if isinstance(n, ast.Attribute) and n.attr.startswith("_")]
    if private:
        raise SubstitutionError(f"replacement {text!r} uses private attribute(s) {', '.join(private)}")
    unknown: list[str] = []
    for n in nodes:
        if isinstance(n, ast.Name) and n.id not in names and n.id not in _SAFE_BUILTINS and n.id not in local:
            if n.id not in unknown:
                unknown.append(n.id)
    if unknown:
        known = ", ".join(sorted(n for n in names if n not in ("gw", "np", "node")))
        raise SubstitutionError(f"replacement {text!r}: unknown name(s) {', '.join(unknown)}; "
                                f"the names in scope are gw, np, node(id), {known}")


def parse_replacement(text: str, target: Variable, graph: Graph, *, namespace: Mapping[str, Any] | None = None,
                      ids: NodeIds | None = None) -> Variable:
    """Build the replacement expression ``text`` for ``target`` in ``graph``.

    Names in scope: ``gw``, ``np``, every named variable of the graph, the target's inputs as ``i0, i1, ...``,
    ``old`` for the target itself, ``namespace``, and ``node("n7")``: the variable (first output) of the node
    of ``graph`` with that id in ``ids`` (a :class:`~graphwright.viz.NodeIds`), which reaches unnamed
    intermediate nodes too. A syntax error, an unknown name or id (or ``node`` without ``ids``) or an
    expression that does not build gives a :class:`SubstitutionError` naming the text or the id.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> e = gw.exp(x) * gw.exp(x)
    >>> parse_replacement("gw.exp(2 * x)", e, Graph([x], [e]))
    exp(2 * x)
    >>> parse_replacement("gw.sqrt(i0) + old", e, Graph([x], [e]))
    sqrt(exp(x)) + (exp(x) * exp(x))
    >>> parse_replacement("exp(y)", e, Graph([x], [e]))
    Traceback (most recent call last):
    ...
    graphwright.workbench.substitute.SubstitutionError: replacement 'exp(y)': unknown name(s) exp, y; ...
    >>> from graphwright.viz import NodeIds
    >>> ids = NodeIds()
    >>> ids.assign(Graph([x], [e]))
    >>> ids.of(gw.exp(x))
    'n1'
    >>> parse_replacement("gw.exp(node('n1') + node('n1'))", e, Graph([x], [e]), ids=ids)
    exp(exp(x) + exp(x))
    """
    if not isinstance(text, str):
        raise SubstitutionError(f"a replacement expression must be a string, got {type(text).__name__}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SubstitutionError(f"replacement {text!r} is not a valid expression: {exc.msg}") from None
    names = _namespace(target, graph, namespace, ids)
    _check_names(text, tree, names)
    try:
        value = eval(compile(tree, "<replacement>", "eval"), {**names, "__builtins__": _SAFE_BUILTINS})
    except SubstitutionError:
        raise
    except Exception as exc:
        raise SubstitutionError(f"replacement {text!r} could not be built: {type(exc).__name__}: {exc}") from None
    if isinstance(value, Variable):
        return value
    try:
        return gw.as_tensor(value)
    except Exception:
        raise SubstitutionError(f"replacement {text!r} gives a {type(value).__name__}, not a graph expression") \
            from None


def _disagreement(case: str, target: Variable, repl: Variable, inputs, values, before, after) -> str | None:
    what = f"replacing {short_str(target)} by {short_str(repl)}"
    if np.shape(before) != np.shape(after):
        return f"{what} changes the shape ({case}): {np.shape(after)} instead of {np.shape(before)}"
    ok = values_agree(before, after, target.type.dtype)
    if np.all(ok):
        return None
    bad = tuple(int(i) for i in np.argwhere(~np.broadcast_to(ok, np.shape(ok)))[0])
    shown = ", ".join(f"{v.name or f'input {k}'}={np.asarray(x).ravel()[:4]}"
                      for k, (v, x) in enumerate(zip(inputs, values, strict=True)))
    return (f"{what} changes values ({case}): at index {bad} old={np.asarray(before)[bad].item()!r}, "
            f"new={np.asarray(after)[bad].item()!r} (inputs {shown})")


def _check_values(graph: Graph, target: Variable, repl: Variable, seed: int) -> SubstitutionReport:
    inputs = list(graph.inputs)
    try:
        f_old = gw.function(inputs, [target], backend="numpy", rewrites=None)
        f_new = gw.function(inputs, [repl], backend="numpy", rewrites=None)
    except Exception as exc:
        return SubstitutionReport(False, f"cannot evaluate {short_str(repl)}: {exc}", target, repl)
    rng = np.random.default_rng(seed)
    cases: list[tuple[str, float]] = []
    last_error = None
    for kind, length in _CASES:
        case = f"{kind}, length {length}"
        values = sample_inputs(inputs, rng, kind, length)
        with np.errstate(all="ignore"):
            try:
                (before,) = f_old(*values)
            except Exception as exc:
                last_error = exc  # these lengths do not fit the graph: try others
                continue
            try:
                (after,) = f_new(*values)
            except Exception as exc:
                return SubstitutionReport(False, f"{short_str(repl)} fails on inputs where {short_str(target)} "
                                          f"works ({case}): {exc}", target, repl, cases)
        problem = _disagreement(case, target, repl, inputs, values, before, after)
        shape_differs = problem is not None and "shape" in problem
        cases.append((case, float("inf") if shape_differs
                      else max_errors(after, before, skip_infinite_reference=True)[0]))
        if problem:
            return SubstitutionReport(False, problem, target, repl, cases)
    if not cases:
        return SubstitutionReport(False, f"cannot check values: {short_str(target)} fails on every input set "
                                  f"tried (last error: {last_error})", target, repl)
    return SubstitutionReport(True, f"{short_str(target)} -> {short_str(repl)}: same type, and the values agree "
                              f"on {len(cases)} input sets", target, repl, cases)


def check_substitution(graph: Graph, target: Variable, replacement: Variable | str, *,
                       namespace: Mapping[str, Any] | None = None, seed: int = 0,
                       ids: NodeIds | None = None) -> SubstitutionReport:
    """May ``replacement`` replace ``target`` in ``graph``? Checks type, static shape, inputs and values.

    The dtype must stay and the static shape may only get more specific (as for rewrite rules); the
    replacement may only use the graph's inputs; and target and replacement must agree numerically on random
    inputs of several lengths and on edge-case inputs. A string is parsed with :func:`parse_replacement`
    (with ``namespace`` and ``ids``, for ``node("n7")``).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> g = Graph([x], [gw.log1p(x) * 2])
    >>> check_substitution(g, gw.log1p(x), "gw.log(1 + x)").ok
    True
    >>> print(check_substitution(g, gw.log1p(x), "gw.log(x)").message)
    replacing log1p(x) by log(x) changes values (random, length 3): at index (0,) old=0.1727..., new=-1.668...
    """
    if not isinstance(target, Variable):
        raise SubstitutionError(f"the target must be a Variable, got {type(target).__name__}")
    if target not in set(graph.variables) and target not in set(graph.inputs):
        raise SubstitutionError(f"the target {short_str(target)} is not a variable of the graph")
    if isinstance(replacement, str):
        try:
            replacement = parse_replacement(replacement, target, graph, namespace=namespace, ids=ids)
        except SubstitutionError as exc:
            return SubstitutionReport(False, str(exc), target, None)
    if not isinstance(replacement, Variable):
        raise SubstitutionError(f"the replacement must be a Variable or a string, got {type(replacement).__name__}")
    old, new = short_str(target), short_str(replacement)
    if replacement is target:
        return SubstitutionReport(False, f"the replacement {new} is the target itself: nothing to change",
                                  target, replacement)
    problem = type_problem(target, replacement)
    if problem:
        new_t = getattr(replacement.type, "short", lambda: str(replacement.type))()
        return SubstitutionReport(False, f"cannot replace {old} ({target.type.short()}) by {new} ({new_t}): "
                                  f"{problem}", target, replacement)
    known = set(graph.inputs)
    foreign = [v for v in free_inputs([replacement]) if v not in known]
    if foreign:
        return SubstitutionReport(False, f"cannot replace {old} by {new}: it uses {', '.join(map(short_str, foreign))}"
                                  f", which {'is' if len(foreign) == 1 else 'are'} not among the graph inputs "
                                  f"({', '.join(map(short_str, graph.inputs))})", target, replacement)
    return _check_values(graph, target, replacement, seed)
