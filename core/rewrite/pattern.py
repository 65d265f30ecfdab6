"""The rule DSL: patterns built with ordinary operators, matched against graph variables.

``x = P.var("x")`` is a pattern variable; ``p.log(1 + x)`` a pattern; Python numbers are literal constants
that match a constant of any shape and dtype whose every element has that value. A repeated variable must
match the same expression. add/mul/maximum/... match commutatively, and the variadic add/mul match any
grouping (``log(1 + x)`` matches ``log(a + 1 + b)`` with ``x = a + b``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphwright.graph.basic import Constant, Op, Variable
from graphwright.tensor import elemwise as _ew
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.scalar_ops import SCALAR_OPS

__all__ = ["Pattern", "PVar", "PLit", "PNode", "PParam", "P", "Bindings", "Mismatch", "match", "build",
           "root_key", "var_root_key"]

_KINDS = (None, "scalar", "integer", "float", "constant", "nonconstant")


class Pattern:
    """Base of pattern expressions; arithmetic operators build elementwise pattern nodes."""

    def __add__(self, o): return PNode("add", (self, _lift(o)))
    def __radd__(self, o): return PNode("add", (_lift(o), self))
    def __sub__(self, o): return PNode("sub", (self, _lift(o)))
    def __rsub__(self, o): return PNode("sub", (_lift(o), self))
    def __mul__(self, o): return PNode("mul", (self, _lift(o)))
    def __rmul__(self, o): return PNode("mul", (_lift(o), self))
    def __truediv__(self, o): return PNode("true_div", (self, _lift(o)))
    def __rtruediv__(self, o): return PNode("true_div", (_lift(o), self))
    def __pow__(self, o): return PNode("pow", (self, _lift(o)))
    def __rpow__(self, o): return PNode("pow", (_lift(o), self))
    def __neg__(self): return PNode("neg", (self,))
    def __abs__(self): return PNode("abs", (self,))


def _lift(value: Any) -> Pattern:
    if isinstance(value, Pattern):
        return value
    if isinstance(value, int | float | bool | np.number):
        return PLit(float(value))
    raise TypeError(f"cannot use {value!r} in a pattern")


@dataclass(frozen=True, eq=False)
class PVar(Pattern):
    """A pattern variable: matches any variable of the given ``kind`` (and passing ``test``, if given)."""

    name: str
    kind: str | None = None
    test: Callable[[Variable], bool] | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"pattern variable {self.name!r}: kind must be one of {_KINDS}, got {self.kind!r}")

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class PLit(Pattern):
    """A literal: matches a constant whose every element equals ``value`` (any shape, any dtype)."""

    value: float

    def __repr__(self) -> str:
        return repr(int(self.value)) if float(self.value).is_integer() else repr(self.value)


@dataclass(frozen=True, eq=False)
class PParam:
    """Binds an op parameter (an axis, a dtype ...) to a name, like a pattern variable for parameters."""

    name: str

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class PNode(Pattern):
    """An op applied to child patterns: ``op`` is a scalar-table name (elementwise) or an Op class.

    An Op class matches nodes of exactly that class, never of a subclass (``LogSoftmax`` subclasses
    ``Softmax`` but computes something else), at the root and in children alike.

    ``params`` constrain (or, with :class:`PParam`, bind) the op's parameters; unlisted ones are free.
    """

    op: str | type
    children: tuple
    params: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        args = [repr(c) for c in self.children] + [f"{k}={v!r}" for k, v in self.params.items()]
        if isinstance(self.op, str):
            infix = SCALAR_OPS[self.op].infix
            if infix and len(self.children) == 2 and not self.params:
                return f"({args[0]} {infix} {args[1]})"
            if self.op == "neg":
                return f"-{args[0]}"
        from graphwright.printing import unwrap_parens

        name = self.op if isinstance(self.op, str) else self.op.__name__.lower()
        return f"{name}({', '.join(unwrap_parens(a) for a in args)})"


class _PatternFactory:
    """``P.var("x")``, ``P.scalar("a")``, ``P.integer("n")``, ``P.constant("c")``, ``P.param("axis")``."""

    @staticmethod
    def var(name: str, kind: str | None = None, test: Callable[[Variable], bool] | None = None) -> PVar:
        return PVar(name, kind, test)

    @staticmethod
    def scalar(name: str) -> PVar:
        return PVar(name, "scalar")

    @staticmethod
    def integer(name: str) -> PVar:
        return PVar(name, "integer")

    @staticmethod
    def constant(name: str) -> PVar:
        return PVar(name, "constant")

    @staticmethod
    def param(name: str) -> PParam:
        return PParam(name)

    @staticmethod
    def op(op: str | type, *children: Any, **params: Any) -> PNode:
        return PNode(op, tuple(_lift(c) for c in children), params)


P = _PatternFactory()


class Bindings(dict):
    """Pattern-variable name -> Variable (and parameter name -> value); attribute access ``b.x`` works."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no binding called {name!r}") from None


@dataclass
class Mismatch:
    """Why a pattern did not match: the sub-pattern, the variable it was tried on, and the reason."""

    pattern: Any
    var: Variable | None
    why: str | Callable[[], str]  # a callable is only called when the reason is read (matching is hot)

    @property
    def reason(self) -> str:
        return self.why if isinstance(self.why, str) else self.why()

    def __str__(self) -> str:
        where = f" at {self.var}" if self.var is not None else ""
        return f"{self.pattern!r}{where}: {self.reason}"


def _kind_ok(kind: str | None, var: Variable) -> str | None:
    t = var.type
    if kind is None:
        return None
    if kind == "scalar" and not all(s == 1 for s in t.shape):
        return f"needs a scalar (all dimensions of length 1), got type {t.short()}"
    if kind == "integer" and t.dtype[0] not in "iub":
        return f"needs an integer dtype, got {t.dtype}"
    if kind == "float" and not t.dtype.startswith("float"):
        return f"needs a float dtype, got {t.dtype}"
    if kind == "constant" and not isinstance(var, Constant):
        return "needs a constant"
    if kind == "nonconstant" and isinstance(var, Constant):
        return "needs a non-constant"
    return None


def constant_value(var: Variable) -> float | None:
    """The single value of a constant whose elements are all equal, else None."""
    if not isinstance(var, Constant):
        return None
    data = np.asarray(var.data)
    if data.size == 0:
        return None
    first = data.reshape(-1)[0]
    if data.size > 1 and not np.all(data == first):
        return None
    if data.dtype.kind == "c":  # a complex value is no real number (1j is not 0), unless it is real
        return float(first.real) if first.imag == 0 else None
    return float(first)


def match(pattern: Pattern, var: Variable, bindings: Bindings | None = None) -> Bindings | Mismatch:
    """Match ``pattern`` at ``var``; returns the bindings, or a Mismatch naming the first failing sub-pattern.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.rewrite import ops
    >>> x = P.var("x")
    >>> a, b = gw.vector("a"), gw.vector("b")
    >>> match(ops.log(1 + x), gw.log(gw.add(a, 1, b)))["x"]
    a + b
    """
    result = _match(pattern, var, Bindings() if bindings is None else Bindings(bindings))
    return result


def _match(pattern: Any, var: Variable, b: Bindings) -> Bindings | Mismatch:
    if isinstance(pattern, PVar):
        bad = _kind_ok(pattern.kind, var)
        if bad:
            return Mismatch(pattern, var, bad)
        if pattern.test is not None and not pattern.test(var):
            return Mismatch(pattern, var, "its test refused this variable")
        if pattern.name in b:
            if b[pattern.name] is not var:
                return Mismatch(pattern, var, f"{pattern.name} is already bound to {b[pattern.name]}")
            return b
        out = Bindings(b)
        out[pattern.name] = var
        return out
    if isinstance(pattern, PLit):
        value = constant_value(var)
        if value is None:
            return Mismatch(pattern, var, "not a constant with all elements equal")
        if value != pattern.value:
            return Mismatch(pattern, var, f"the constant is {value}, not {pattern.value}")
        return b
    return _match_node(pattern, var, b)


def _op_differs(op: Op, want: Any) -> Callable[[], str]:
    return lambda: f"is {op.short_name()}, not {want if isinstance(want, str) else want.__name__}"


def _op_matches(pattern: PNode, op: Op, b: Bindings) -> Bindings | str | Callable[[], str]:
    want = pattern.op
    if want.__class__ is str:
        if op.__class__ is not Elemwise or op.scalar_op.name != want:
            return _op_differs(op, want)
    elif op.__class__ is not want:  # exact class, as rule dispatch (var_root_key): a LogSoftmax is no Softmax
        return _op_differs(op, want)
    if not pattern.params:
        return b
    for key, want in pattern.params.items():
        have = getattr(op, key)
        if isinstance(want, PParam):
            if want.name in b and b[want.name] != have:
                return f"parameter {key}={have!r} differs from the bound {want.name}={b[want.name]!r}"
            b = Bindings(b)
            b[want.name] = have
        elif callable(want) and not isinstance(want, type):
            if not want(have):
                return f"parameter {key}={have!r} refused"
        elif have != want:
            return f"parameter {key}={have!r}, not {want!r}"
    return b


def _match_node(pattern: PNode, var: Variable, b: Bindings) -> Bindings | Mismatch:
    node = var.owner
    if node is None:
        return Mismatch(pattern, var, "is a graph input or constant, not an operation")
    if len(node.outputs) > 1 and pattern.params.get("_output", 0) != var.index:
        return Mismatch(pattern, var, "is another output of a multi-output node")
    ob = _op_matches(pattern, node.op, b)
    if not isinstance(ob, Bindings):
        return Mismatch(pattern, var, ob)
    children, inputs = pattern.children, node.inputs
    row = SCALAR_OPS.get(pattern.op) if isinstance(pattern.op, str) else None
    if row is None or not row.commutative:
        if len(children) != len(inputs):
            return Mismatch(pattern, var, f"has {len(inputs)} inputs, the pattern {len(children)}")
        return _match_seq(children, inputs, ob)
    return _match_commutative(pattern, var, children, inputs, ob, row.associative and row.nin == -1)


def _match_seq(children, inputs, b: Bindings) -> Bindings | Mismatch:
    for child, inp in zip(children, inputs, strict=True):
        b = _match(child, inp, b)
        if isinstance(b, Mismatch):
            return b
    return b


def _assignments(children, inputs, b: Bindings, used: list[bool]):
    """Every way to match ``children`` to distinct ``inputs`` (in any order), as (bindings, chosen indices)
    or Mismatch values. Backtracking: a child that does not match an input cuts that branch at once, so
    ``1 + x`` on an add of n inputs costs n child matches, not n groupings."""
    if not children:
        yield b, []
        return
    for i, inp in enumerate(inputs):
        if used[i]:
            continue
        res = _match(children[0], inp, b)
        if isinstance(res, Mismatch):
            yield res, None
            continue
        used[i] = True
        for deeper, chosen in _assignments(children[1:], inputs, res, used):
            yield deeper, None if chosen is None else [i, *chosen]
        used[i] = False


def _match_commutative(pattern, var, children, inputs, b, variadic) -> Bindings | Mismatch:
    k, n = len(children), len(inputs)
    first: Mismatch | None = None
    if n == k:
        for res, chosen in _assignments(children, inputs, b, [False] * n):
            if chosen is not None:
                return res
            first = first or res
        return first if first is not None else Mismatch(pattern, var, "no input order matched")
    if not variadic or n < k:
        return Mismatch(pattern, var, f"has {n} inputs, the pattern {k}")
    # n > k: one variable child absorbs the inputs left over by the others (x in 1 + x <- a + 1 + b)
    # only unconstrained variables absorb: a grouping built from graph inputs is never a constant, and a
    # tested variable would pay for building every grouping just to refuse it
    absorbers = [i for i, c in enumerate(children) if isinstance(c, PVar) and c.test is None
                 and c.kind in (None, "float", "integer", "nonconstant")]
    for absorber in absorbers:
        others = [c for i, c in enumerate(children) if i != absorber]
        for res, chosen in _assignments(others, inputs, b, [False] * n):
            if chosen is None:
                first = first or res
                continue
            taken = set(chosen)
            rest = [inputs[i] for i in range(n) if i not in taken]
            res = _absorb(pattern, children[absorber], rest, res)
            if not isinstance(res, Mismatch):
                return res
            first = first or res
    return first or Mismatch(pattern, var, f"no grouping of its {n} inputs matched")


def _absorb(pattern: PNode, child: PVar, rest: list[Variable], b: Bindings) -> Bindings | Mismatch:
    """Match the absorbing variable ``child`` to the inputs ``rest`` grouped by the pattern's op. A variable
    already bound is compared without building the grouping (that would cost O(n) per try)."""
    bound = b.get(child.name)
    if bound is not None:
        node = bound.owner
        same = (node is not None and node.op.__class__ is Elemwise and node.op.scalar_op.name == pattern.op
                and len(node.inputs) == len(rest) and all(u is v for u, v in zip(node.inputs, rest, strict=True)))
        if not same:
            return Mismatch(child, bound, f"{child.name} is already bound to {bound}")
    return _match(child, _ew.elemwise(pattern.op, *rest), b)


def build(pattern: Any, b: Bindings) -> Any:
    """Instantiate a replacement pattern with the bindings (literals become weak Python numbers)."""
    if isinstance(pattern, PVar):
        return b[pattern.name]
    if isinstance(pattern, PLit):
        v = pattern.value
        return int(v) if float(v).is_integer() else v
    if isinstance(pattern, PParam):
        return b[pattern.name]
    if isinstance(pattern, PNode):
        args = [build(c, b) for c in pattern.children]
        if isinstance(pattern.op, str):
            if all(not isinstance(a, Variable) for a in args):
                raise ValueError(f"replacement {pattern!r} has no variable operand")
            return _ew.elemwise(pattern.op, *args)
        params = {k: build(v, b) for k, v in pattern.params.items() if not k.startswith("_")}
        return pattern.op(**params)(*args)
    return pattern


def root_key(pattern: Pattern) -> Any:
    """The dispatch key of a pattern's root: a scalar-table name or an Op class (None: any node)."""
    return pattern.op if isinstance(pattern, PNode) else None


def var_root_key(var: Variable) -> Any:
    """The dispatch keys under which rules for ``var``'s node are filed."""
    op = var.owner.op
    return op.scalar_op.name if isinstance(op, Elemwise) else type(op)
