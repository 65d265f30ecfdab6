"""The Numba backend compiles when its disk cache cannot be used: an unwritable cache folder, or one another
process clears (``gw.clear_cache()``) while this one compiles (issue 14, item 13). It then compiles without
the cache and warns once per folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import uuid
import warnings

import numpy as np
import pytest

pytest.importorskip("numba", reason="the numba backend needs the numba package (pip install numba)")

import graphwright as gw  # noqa: E402
from graphwright.backends.numba_backend import kernels  # noqa: E402
from graphwright.backends.numba_backend.cache_guard import CacheUnavailableWarning, njit_cached  # noqa: E402


def _fresh_graph():
    """A graph whose kernels no earlier test compiled (a new constant in the kernel source)."""
    x = gw.vector("x")
    c = 1.0 + uuid.uuid4().int % 10_000 / 10_000
    return x, gw.exp(x) * c + gw.sin(x) * (c + 1.0), c


def _compile_and_check() -> None:
    x, out, c = _fresh_graph()
    f = gw.function([x], out, backend="numba")
    data = np.linspace(0.0, 1.0, 5)
    np.testing.assert_allclose(f(data), np.exp(data) * c + np.sin(data) * (c + 1.0))
    np.testing.assert_allclose(f(data[::2]), np.exp(data[::2]) * c + np.sin(data[::2]) * (c + 1.0))  # lazy


def test_a_cache_folder_that_cannot_be_created_compiles_without_the_cache(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")  # a folder under a regular file cannot be made, not even by root
    monkeypatch.setattr(gw.config, "cache_dir", str(blocker / "cache"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _compile_and_check()
        _compile_and_check()
    ours = [w for w in caught if issubclass(w.category, CacheUnavailableWarning)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    assert "cannot be used" in str(ours[0].message) and "a_file" in str(ours[0].message)


def test_a_read_only_cache_folder_compiles_without_the_cache(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        (folder / "probe").write_text("")
    except OSError:
        pass
    else:  # root writes into read-only folders: the test above covers an unwritable folder for root
        pytest.skip("this user can write into a read-only folder (root)")
    monkeypatch.setattr(gw.config, "cache_dir", str(folder))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheUnavailableWarning)
        _compile_and_check()


def test_a_folder_cleared_between_writing_and_importing(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(gw.config, "cache_dir", str(tmp_path))
    load = kernels._load

    def cleared_first(path):
        gw.clear_cache()  # another process clears the folder: the file just written is gone
        return load(path)

    monkeypatch.setattr(kernels, "_load", cleared_first)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _compile_and_check()
    assert any(issubclass(w.category, CacheUnavailableWarning) for w in caught)


def test_a_folder_cleared_before_numba_writes_its_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(gw.config, "cache_dir", str(tmp_path))
    module = kernels.cached_module(f"def kernel(x):\n    return x * {uuid.uuid4().int % 997}.0 + 1.0\n", "test")
    kernel = njit_cached(module.kernel, module, error_model="numpy")
    shutil.rmtree(tmp_path / "numba")  # cleared, and a file where the folder was: Numba cannot make it again
    (tmp_path / "numba").write_text("")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert kernel(np.ones(2))[0] == module.kernel(np.ones(2))[0]
    assert any(issubclass(w.category, CacheUnavailableWarning) for w in caught)


_CLEARER = """
import sys, graphwright as gw
gw.config.cache_dir = sys.argv[1]
print("ready", flush=True)
while True:
    gw.clear_cache()
"""


def test_compiles_survive_another_process_clearing_the_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(gw.config, "cache_dir", str(tmp_path))
    clearer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_CLEARER), str(tmp_path)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert clearer.stdout.readline().strip() == "ready"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CacheUnavailableWarning)
            for _ in range(6):
                _compile_and_check()
    finally:
        clearer.kill()
        clearer.wait()
