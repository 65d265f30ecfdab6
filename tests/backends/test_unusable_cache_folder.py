"""The JAX and torch backends compile when graphwright's cache folder cannot be written: without their
persistent caches, with one warning per folder (issue 14, item 13; the Numba backend: test_numba_cache_faults)."""

from __future__ import annotations

import importlib.util
import os
import warnings

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.disk_cache import CacheUnavailableWarning, unusable


@pytest.fixture
def blocked(tmp_path, monkeypatch):
    """A cache folder under a regular file: it cannot be made, not even by root."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setattr(gw.config, "cache_dir", str(blocker / "cache"))
    return blocker / "cache"


def test_unusable_says_why(blocked) -> None:
    assert isinstance(unusable(blocked / "numba"), NotADirectoryError)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs jax")
def test_jax_compiles_without_its_persistent_cache(blocked, tmp_path, monkeypatch) -> None:
    import jax

    x = gw.vector("x")
    monkeypatch.setattr(gw.config, "cache_dir", str(tmp_path / "usable"))
    np.testing.assert_array_equal(gw.function([x], x * 3.0, backend="jax")(np.ones(2)), [3.0, 3.0])
    monkeypatch.setattr(gw.config, "cache_dir", str(blocked))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(2):
            np.testing.assert_array_equal(gw.function([x], x * (5.0 + k), backend="jax")(np.ones(2)), [5.0 + k] * 2)
    ours = [w for w in caught if issubclass(w.category, CacheUnavailableWarning)]
    assert len(ours) == 1 and "a_file" in str(ours[0].message)
    assert jax.config.jax_compilation_cache_dir is None  # no longer pointed at a folder it cannot use


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_torch_keeps_inductors_folder_when_ours_is_unusable(blocked, monkeypatch) -> None:
    from graphwright.backends.torch_backend.cache import inductor_cache_dir

    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with inductor_cache_dir(blocked / "torch") as ours:
            assert not ours and os.environ.get("TORCHINDUCTOR_CACHE_DIR") != str(blocked / "torch")
    assert any(issubclass(w.category, CacheUnavailableWarning) for w in caught)
    assert "TORCHINDUCTOR_CACHE_DIR" not in os.environ
