"""Every op class of the library, on every backend, is native, a fallback, or refused by name (dispatch.py).

``EXPECTED`` is the table this test holds the backends to: adding an op means adding its row here (and, on
each backend, an entry). An op class missing from a backend's table, or an entry that changed kind, fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.dispatch import build, kernel, lookup, refuse, table
from graphwright.backends.dispatch_table import END, START, library_op_classes, markdown_table
from graphwright.backends.registry import BACKENDS, UnsupportedOpError, available_backends
from graphwright.graph.basic import Apply, Op
from graphwright.tensor.variable import as_tensor

N, F = "native", "fallback"
# op class -> how (numpy, numba, jax, torch) runs it
EXPECTED: dict[str, tuple[str, str, str, str]] = {
    "ARange": (F, N, F, N), "Alloc": (N, N, N, N), "Argmax": (F, N, N, N), "Argmin": (F, N, N, N),
    "Assume": (F, N, N, N), "Blockwise": (F, N, N, N), "Composite": (N, N, N, N),
    "CompositeReduce": (N, N, N, N), "CumOp": (F, N, N, N), "DimShuffle": (F, N, N, N), "Dot": (F, N, N, N),
    "Elemwise": (N, N, N, N), "Eye": (F, N, N, N), "GradControl": (F, N, N, N), "IncSubtensor": (N, N, N, N),
    "Join": (F, N, N, N), "LogSoftmax": (F, N, N, N), "LogSumExp": (F, N, N, N), "MakeVector": (F, N, N, N),
    "MatMul": (F, N, N, N), "Reduce": (F, N, N, N), "Reshape": (F, N, N, N), "Shape": (F, N, N, N),
    "Softmax": (F, N, N, N), "Split": (F, N, N, N), "Subtensor": (F, N, N, N), "TensorDot": (F, N, N, N),
}
PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "backends.md"


def test_every_library_op_class_has_its_expected_entry_on_every_installed_backend():
    classes = {cls.__name__: cls for cls in library_op_classes()}
    assert set(classes) == set(EXPECTED), (f"op classes without a row in EXPECTED: {set(classes) - set(EXPECTED)}; "
                                           f"rows of no op class: {set(EXPECTED) - set(classes)}")
    problems = []
    for column, backend in enumerate(BACKENDS):
        if backend not in available_backends():
            continue
        entries = table(backend)
        for name, cls in classes.items():
            entry = entries.get(cls)
            got = "missing" if entry is None else entry.how
            if got != EXPECTED[name][column]:
                problems.append(f"{backend}: {name} is {got}, expected {EXPECTED[name][column]}")
    print(markdown_table(tuple(b for b in BACKENDS if b in available_backends())))
    assert not problems, "\n".join(problems)


def test_every_entry_has_a_factory_of_the_one_signature_and_a_fallback_says_what_it_falls_back_to():
    for backend in available_backends():
        for cls, entry in table(backend).items():
            assert entry.op_class is cls and entry.backend == backend
            if entry.how == "refused":
                assert entry.factory is None and entry.note, (backend, cls)
                continue
            assert callable(entry.factory), (backend, cls)
            assert list(entry.factory.__code__.co_varnames[:2]) == ["node", "ctx"], (backend, cls, entry.factory)
            if entry.how == "fallback":
                assert entry.note, f"{backend}: the fallback entry of {cls.__name__} does not say what runs it"


def test_the_documented_table_is_the_generated_one():
    if set(available_backends()) != set(BACKENDS):
        pytest.skip("the page's table covers every backend; some are not installed here")
    text = PAGE.read_text()
    assert START in text and END in text, f"{PAGE} lacks the dispatch table's markers"
    documented = text[text.index(START) + len(START): text.index(END)].strip()
    assert documented == markdown_table().strip(), (
        f"{PAGE} is out of date: python -m graphwright.backends.dispatch_table {PAGE}")


# --- the lookup rule, on op classes of this test (filed on the NumPy backend, the one with a default) -----
@dataclass(frozen=True)
class _Twice(Op):
    def make_node(self, x) -> Apply:
        x = as_tensor(x)
        return Apply.create(self, [x], lambda: [x.type])

    def perform(self, x):
        return 2 * x


@dataclass(frozen=True)
class _TwiceVariant(_Twice):
    """A subclass: it must not inherit its base's entry."""


@dataclass(frozen=True)
class _Refused(_Twice):
    pass


@kernel("numpy", _Twice, note="test kernel")
def _twice_kernel(node, ctx):
    return lambda x: x + x


refuse("numpy", _Refused, why="refused for the test")


def test_lookup_is_by_exact_class_a_subclass_gets_the_default_not_its_base_entry():
    x = gw.vector("x")
    base, variant = _Twice()(x).owner, _TwiceVariant()(x).owner
    assert lookup("numpy", base).factory is _twice_kernel
    assert lookup("numpy", variant).op_class is object and lookup("numpy", variant).how == "fallback"
    np.testing.assert_array_equal(build("numpy", variant)(np.array([1.0, 2.0])), [2.0, 4.0])


def test_a_refused_class_or_one_without_entry_raises_naming_the_op_backend_and_reason():
    x = gw.vector("x")
    with pytest.raises(UnsupportedOpError, match=r"the numpy backend cannot run _Refused.*refused for the test"):
        lookup("numpy", _Refused()(x).owner)
    for backend in set(available_backends()) - {"numpy"}:
        with pytest.raises(UnsupportedOpError, match=rf"the {backend} backend cannot run _Twice.*no kernel"):
            lookup(backend, _Twice()(x).owner)


def test_a_second_entry_for_the_same_class_is_refused():
    with pytest.raises(ValueError, match="_Twice already has a numpy kernel"):
        kernel("numpy", _Twice)(lambda node, ctx: None)
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        kernel("cuda", _Twice)(_twice_kernel)
