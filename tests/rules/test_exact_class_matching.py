"""Rules never test a node against an op class that has subclasses without excluding them (issue 14, item 1).

Rule dispatch and pattern matching use the exact op class. If an op class had a subclass computing something
else, a function rule writing ``isinstance(op, Base)`` would silently accept the subclass too; this test reads
the source of every rule and rewrite module and fails on such a test, unless the same ``and`` chain excludes
every concrete subclass (``isinstance(op, Base) and not isinstance(op, Variant)``). The library itself has no
such variants any more (LogSoftmax and Argmin are classes of their own).
Class arguments passed to helpers (``_owner_op(var, Softmax)``) are checked the same way.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import textwrap
from pathlib import Path
from types import ModuleType

from graphwright.graph.basic import Op

# (``graphwright.rewrite`` the attribute is the function gw.rewrite: import the packages by name)
PACKAGES = tuple(importlib.import_module(f"graphwright.{name}") for name in ("rules", "rewrite"))
# Calls that take an op class and match it exactly: pattern constructors (tests/rewrite/test_pattern.py).
EXACT_BY_DESIGN = frozenset({"PNode", "_node", "op"})


def _all_op_classes() -> list[type]:
    out, stack = [], [Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            out.append(sub)
            stack.append(sub)
    return out


def _concrete(cls: type) -> bool:
    """An op class nodes are made of (it builds nodes itself), not a shared base like ``AxisOp``."""
    return cls.make_node is not Op.make_node


def concrete_subclasses(cls: type) -> set[type]:
    return {c for c in _all_op_classes() if c is not cls and issubclass(c, cls) and _concrete(c)}


def _resolve(expr: ast.expr, namespace: dict) -> list:
    """The objects a class expression names: ``Softmax``, ``nn.Softmax``, ``(A, B)``, ``A | B``."""
    if isinstance(expr, ast.Tuple):
        return [obj for e in expr.elts for obj in _resolve(e, namespace)]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return _resolve(expr.left, namespace) + _resolve(expr.right, namespace)
    if isinstance(expr, ast.Name):
        return [namespace[expr.id]] if expr.id in namespace else []
    if isinstance(expr, ast.Attribute):
        base = _resolve(expr.value, namespace)
        return [getattr(base[0], expr.attr)] if base and hasattr(base[0], expr.attr) else []
    return []


def _excluded_in_chain(call: ast.Call, parents: dict, namespace: dict) -> set[type]:
    """Classes excluded by ``not isinstance(_, C)`` siblings of ``call`` in its enclosing ``and`` chain."""
    parent = parents.get(call)
    if not (isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.And)):
        return set()
    out: set[type] = set()
    for value in parent.values:
        if (isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not) and isinstance(value.operand, ast.Call)
                and getattr(value.operand.func, "id", None) == "isinstance" and len(value.operand.args) == 2):
            out.update(c for c in _resolve(value.operand.args[1], namespace) if isinstance(c, type))
    return out


def subclass_confusions(source: str, namespace: dict, where: str) -> list[str]:
    """Every class test (or class argument) in ``source`` that would also accept an unexcluded subclass."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    problems = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
        is_test = name in ("isinstance", "issubclass")
        if name in EXACT_BY_DESIGN:
            continue
        candidates = call.args[1:2] if is_test else call.args  # keywords (roots=...) dispatch exactly
        excluded = _excluded_in_chain(call, parents, namespace) if is_test else set()
        for expr in candidates:
            for cls in _resolve(expr, namespace):
                if not (isinstance(cls, type) and issubclass(cls, Op) and _concrete(cls)):
                    continue
                missed = concrete_subclasses(cls) - excluded
                if missed:
                    problems.append(f"{where}:{call.lineno}: {ast.unparse(call)} also accepts "
                                    f"{', '.join(sorted(c.__name__ for c in missed))}")
    return problems


def _modules() -> list[ModuleType]:
    return [importlib.import_module(info.name) for package in PACKAGES
            for info in pkgutil.iter_modules(package.__path__, package.__name__ + ".")]


def test_no_rule_tests_a_node_against_a_class_with_unexcluded_subclasses():
    problems = []
    for module in _modules():
        path = Path(module.__file__)
        problems += subclass_confusions(path.read_text(), vars(module), f"{path.parent.name}/{path.name}")
    assert not problems, "subclass confusion (use `type(op) is C` or exclude the subclasses):\n" + "\n".join(
        problems)


class _Base(Op):  # a hierarchy of the kind the audit guards against (the library has none any more)
    def make_node(self, *inputs):  # pragma: no cover - never built
        raise NotImplementedError


class _Variant(_Base):
    pass


def test_the_audit_finds_a_subclass_confusion():
    """The checker itself: a plain isinstance on a class with a subclass is caught, the excluded form and
    exact tests are not."""
    from graphwright.tensor import nn

    namespace = {"nn": nn, "Base": _Base, "Variant": _Variant, "helper": print}
    bad = textwrap.dedent("""
        def f(op, var):
            if isinstance(op, nn.Softmax | Base):
                return helper(var, Base)
    """)
    found = subclass_confusions(bad, namespace, "demo.py")
    assert len(found) == 2 and "_Variant" in found[0] and "helper" in found[1]
    good = textwrap.dedent("""
        def f(op):
            return (isinstance(op, Base) and not isinstance(op, Variant)) or type(op) is nn.Softmax
    """)
    assert subclass_confusions(good, namespace, "demo.py") == []


def test_no_public_op_class_subclasses_another():
    """LogSoftmax and Softmax, Argmin and Argmax are unrelated classes (on private shared bases): no op class
    a module exports is a subclass of another one, so an isinstance test on one never accepts another."""
    import sys

    public = {getattr(module, name) for module in list(sys.modules.values())
              if getattr(module, "__name__", "").startswith("graphwright.") for name in getattr(module, "__all__", ())
              if isinstance(getattr(module, name, None), type) and issubclass(getattr(module, name), Op)}
    nested = sorted(f"{sub.__name__} < {cls.__name__}" for cls in public for sub in public
                    if sub is not cls and issubclass(sub, cls) and _concrete(cls))
    assert "Softmax" in {c.__name__ for c in public} and "Argmin" in {c.__name__ for c in public}
    assert not nested, nested
