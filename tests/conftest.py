"""The engine's tests compile with the NumPy reference backend (fast to build, the reference the other
backends are compared with); tests of a backend name it explicitly."""

import pytest

import graphwright as gw

gw.config.backend = "numpy"


@pytest.fixture(autouse=True)
def _numpy_backend_by_default():
    """Every test starts on the NumPy backend, whatever an earlier test (or doctest) set."""
    gw.config.backend = "numpy"
    yield
    gw.config.backend = "numpy"
