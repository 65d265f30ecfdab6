"""Every docstring example in the installed package runs and prints what it claims."""

import doctest
import importlib
import pkgutil

import pytest

import graphwright

# graphwright.viz, .workbench and .kernel_ext live in their own folders (package-dir), outside graphwright.__path__
_SUBPACKAGES = ("graphwright.viz", "graphwright.workbench", "graphwright.kernel_ext")


def _modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(graphwright.__path__, "graphwright.")]
    for package in _SUBPACKAGES:
        names.append(package)
        names += [m.name for m in pkgutil.walk_packages(importlib.import_module(package).__path__, package + ".")]
    return sorted(names)


MODULES = _modules()


def _backend_missing(name: str) -> str | None:
    """Why a backend's modules cannot be imported here (its package is not installed), or None."""
    from graphwright.backends.registry import BACKENDS, missing_reason

    for backend in BACKENDS:
        if name.startswith(f"graphwright.backends.{backend}_backend"):
            return missing_reason(backend)
    return None


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    why = _backend_missing(name)
    if why:
        pytest.skip(why)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_public_functions_have_examples():
    missing = []
    for name in graphwright.__all__ if hasattr(graphwright, "__all__") else dir(graphwright):
        obj = getattr(graphwright, name)
        if callable(obj) and not name.startswith("_") and not isinstance(obj, type):
            doc = obj.__doc__ or ""
            if not doc.strip():
                missing.append(name)
    assert not missing, f"public functions without a docstring: {missing}"


@pytest.mark.parametrize("package", _SUBPACKAGES[:2])
def test_workbench_and_viz_public_names_have_examples(package):
    """Every public function and class of graphwright.viz and graphwright.workbench (exceptions aside) shows an
    example in its docstring."""
    module = importlib.import_module(package)
    missing = [name for name in module.__all__
               if callable(obj := getattr(module, name)) and not (isinstance(obj, type) and issubclass(obj, Exception))
               and "Examples" not in (obj.__doc__ or "")]
    assert not missing, f"{package}: public names without an Examples section: {missing}"
