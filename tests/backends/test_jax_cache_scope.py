"""JAX's persistent compilation cache is graphwright's for graphwright's compiles only (jax_backend/cache.py):
its options are set around the calls of graphwright's jitted functions, never for the process."""

from __future__ import annotations

import numpy as np
import pytest

import graphwright as gw

jax = pytest.importorskip("jax")


def _entries(folder) -> set[str]:
    return {p.name for p in folder.glob("*-cache")}


def test_graphwright_compiles_are_cached_in_its_folder_and_other_jax_code_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr(gw.config, "cache_dir", str(tmp_path))
    x = gw.vector("x")
    f = gw.function([x], gw.tanh(x * 3.25) + 0.5, backend="jax")
    np.testing.assert_allclose(f(np.ones(3)), np.tanh(3.25) + 0.5)
    ours = _entries(tmp_path / "jax")
    assert ours, "graphwright's compile was not cached in its folder"
    assert jax.config.jax_compilation_cache_dir is None  # not pointed at graphwright's folder outside its calls

    def users_own(v):
        return jax.numpy.sin(v) * 1.0625 + 0.0625

    np.testing.assert_allclose(jax.jit(users_own)(np.ones(4)), np.sin(1.0) * 1.0625 + 0.0625, rtol=1e-6)
    assert _entries(tmp_path / "jax") == ours  # the user's jax.jit compiled without graphwright's cache
