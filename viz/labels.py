"""Text of the drawn graph: DOT string escaping, node labels (fused composites included) and hover tooltips."""

from __future__ import annotations

from collections.abc import Mapping

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.printing import short_str

__all__ = ["dot_quote", "clip", "type_text", "op_label", "fused_parts", "var_label", "node_tooltip", "var_tooltip"]

_LABEL_CHARS = 48
_TOOLTIP_CHARS = 300
_EXPR_DEPTH = 4
_FUSED_NAMES = 6


def dot_quote(text: str, *, tooltip: bool = False) -> str:
    r"""``text`` as a quoted DOT string that graphviz shows exactly as given (newlines become line breaks).

    Backslashes and quotes are escaped; ``&`` is written as ``&amp;`` because graphviz decodes HTML entities
    in labels and tooltips; other control characters are dropped. Tooltips go through graphviz's escape
    processing twice, so ``tooltip=True`` doubles the escaping of backslashes.

    Examples
    --------
    >>> print(dot_quote('a"b\\c & <d>'))
    "a\"b\\c &amp; <d>"
    >>> print(dot_quote("two\nlines"))
    "two\nlines"
    >>> print(dot_quote("a\\N", tooltip=True))
    "a\\\\N"
    """
    backslash = "\\" * (4 if tooltip else 2)
    out = []
    for ch in text:
        if ch == "\\":
            out.append(backslash)
        elif ch == '"':
            out.append('\\"')
        elif ch == "&":
            out.append("&amp;")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append(" ")
        elif ch >= " " and ch != "\x7f":
            out.append(ch)
    return '"' + "".join(out) + '"'


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``…`` when cut.

    Examples
    --------
    >>> clip("abcdef", 4)
    'abc…'
    """
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def type_text(var: Variable) -> str:
    """The dtype and static shape of a variable, ``float64[3,?]``.

    Examples
    --------
    >>> import graphwright as gw
    >>> type_text(gw.matrix("m"))
    'float64[?,?]'
    """
    return var.type.short() if hasattr(var.type, "short") else str(var.type)


def fused_parts(op: object) -> tuple[list[str], int] | None:
    """For a Composite or CompositeReduce op: the scalar op names in order (each once) and the inner op count.

    Returns None for any other op.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x = gw.vector("x")
    >>> fused_parts(composite_of([gw.exp(x) * 2 + gw.exp(x)], [x]))
    (['exp', 'mul', 'add'], 3)
    """
    from graphwright.tensor.composite import Composite
    from graphwright.tensor.composite_reduce import CompositeReduce

    reduce_name = None
    if isinstance(op, CompositeReduce):
        reduce_name, op = op.reduce_op.short_name(), op.composite
    if not isinstance(op, Composite):
        return None
    names = [n.op.short_name() for graph in op.inner_graphs() for n in graph.nodes]
    if reduce_name is not None:
        names.append(reduce_name)
    return list(dict.fromkeys(names)), len(names)


def op_label(node: Apply) -> str:
    """The label of a drawn node: the op's short name, or ``fused: exp∘mul∘add`` plus the op count for a fusion.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> op_label(gw.sum(x, axis=0).owner)
    'sum{axis=(0,)}'
    """
    parts = fused_parts(node.op)
    if parts is None:
        return clip(node.op.short_name(), _LABEL_CHARS)
    names, count = parts
    shown = "\u2218".join(names[:_FUSED_NAMES]) + ("\u2218…" if len(names) > _FUSED_NAMES else "")
    return f"fused: {shown}\n{count} op{'s' if count != 1 else ''}"


def var_label(var: Variable) -> str:
    """The label of an input (name and type) or a constant (its value, or its type when large).

    Examples
    --------
    >>> import graphwright as gw
    >>> var_label(gw.vector("x")), var_label(gw.constant(2.0))
    ('x\\nfloat64[?]', '2')
    """
    if isinstance(var, Constant):
        return clip(short_str(var), _LABEL_CHARS)
    return f"{clip(var.name, _LABEL_CHARS)}\n{type_text(var)}" if var.name else type_text(var)


def _expr(var: Variable) -> str:
    return clip(short_str(var, max_depth=_EXPR_DEPTH), _TOOLTIP_CHARS)


def _stats_lines(var: Variable, stats: Mapping[Variable, str] | None) -> list[str]:
    text = stats.get(var) if stats else None
    return [text] if text else []


def node_tooltip(node: Apply, node_id: str, stats: Mapping[Variable, str] | None = None) -> str:
    """Hover text of a node: op, id, each output's dtype/shape and expression, and its ``stats`` text.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> y = gw.exp(x)
    >>> print(node_tooltip(y.owner, "n1", {y: "min 1, max 3"}))
    exp [n1]
    float64[?] = exp(x)
    min 1, max 3
    """
    lines = [f"{clip(node.op.short_name(), _TOOLTIP_CHARS)} [{node_id}]"]
    many = len(node.outputs) > 1
    for k, out in enumerate(node.outputs):
        lines.append(f"{'out ' + str(k) + ': ' if many else ''}{type_text(out)} = {_expr(out)}")
        lines.extend(_stats_lines(out, stats))
    return "\n".join(lines)


def var_tooltip(var: Variable, node_id: str, stats: Mapping[Variable, str] | None = None) -> str:
    """Hover text of a graph input or constant: kind, id, dtype/shape, value or name, and its ``stats`` text.

    Examples
    --------
    >>> import graphwright as gw
    >>> print(var_tooltip(gw.vector("x"), "n0"))
    input x [n0]
    float64[?]
    """
    kind = "constant" if isinstance(var, Constant) else "input"
    lines = [f"{kind} {_expr(var)} [{node_id}]", type_text(var)]
    lines.extend(_stats_lines(var, stats))
    return "\n".join(lines)
