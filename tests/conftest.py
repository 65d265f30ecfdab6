"""The engine's tests compile with the NumPy reference backend (fast to build, the reference the other
backends are compared with); tests of a backend name it explicitly. The Numba backend's ahead-of-time builds
are off (a suite run against a warm cache would start one for each graph Numba loads from its disk cache);
tests/backends/test_numba_aot.py turns them on where it needs them."""

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


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    """graphviz really missing: PATH is an empty folder (and no drawing is left in viz's cache)."""
    from graphwright import viz

    monkeypatch.setenv("PATH", str(tmp_path))
    viz.clear_svg_cache()
    yield
    viz.clear_svg_cache()
