"""The engine's tests compile with the NumPy reference backend (fast to build, the reference the other
backends are compared with); tests of a backend name it explicitly. The Numba backend's ahead-of-time builds
are off (a suite run against a warm cache would start one for each graph Numba loads from its disk cache);
tests/backends/test_numba_aot.py turns them on where it needs them."""

import gc

import pytest

import graphwright as gw

gw.config.backend = "numpy"
gw.config.numba_aot = "off"


@pytest.fixture(autouse=True)
def _numpy_backend_by_default():
    """Every test starts on the NumPy backend, and without ahead-of-time builds, whatever an earlier test (or
    doctest) set."""
    gw.config.backend, gw.config.numba_aot = "numpy", "off"
    yield
    gw.config.backend, gw.config.numba_aot = "numpy", "off"


def _count_graph_calls(patcher, name: str) -> list[int]:
    """Count, through ``patcher`` (a MonkeyPatch), the calls of graphwright.graph.graph.<name> from every
    graphwright module that imported it; a toposort restricted to some nodes (``inside=``) is not a whole-graph
    walk and is not counted. Returns a one-element list that the calls update."""
    import sys

    from graphwright.graph import graph as graph_module

    original = getattr(graph_module, name)
    calls = [0]

    def counted(*args, **kw):
        calls[0] += kw.get("inside") is None
        return original(*args, **kw)

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("graphwright") and getattr(module, name, None) is original:
            patcher.setattr(module, name, counted)
    return calls


@pytest.fixture
def count_graph_calls():
    """``count(patcher, name)``: a counter of whole-graph walks (``toposort``, ``replace``) made through it."""
    return _count_graph_calls


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    """graphviz really missing: PATH is an empty folder (and no drawing is left in viz's cache)."""
    from graphwright import viz

    monkeypatch.setenv("PATH", str(tmp_path))
    viz.clear_svg_cache()
    yield
    viz.clear_svg_cache()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """In a pytest-xdist worker, do the slow part of finishing before the worker reports that it has finished.

    Once every worker has reported, the controller ends them, and execnet sends SIGINT to a worker still busy
    5 s later. A worker's remaining work took seconds: full garbage collections over a heap of millions of
    objects (pytest's unraisable-exception check) and Hypothesis's plugin importing Hypothesis for its terminal
    summary. The interrupt then landed in a weak-reference callback of the hash-consing tables during a
    collection and printed a bare `KeyboardInterrupt` traceback after a green run. So: import what the summary
    needs, collect now, and freeze the survivors so that the later collections skip them
    (tests/test_worker_shutdown.py).
    """
    if not hasattr(session.config, "workerinput"):
        return
    if session.config.pluginmanager.hasplugin("hypothesispytest"):
        import hypothesis.internal.observability  # noqa: F401
    gc.collect()
    gc.freeze()
