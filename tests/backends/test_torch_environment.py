"""The torch backend leaves ``os.environ`` as it found it: inductor's cache folder is graphwright's only while
graphwright's compiled functions run (issue 14, item 5)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("torch", reason="the torch backend needs the torch package (pip install torch)")

from torch._inductor.runtime.cache_dir_utils import cache_dir  # noqa: E402 - importing it writes os.environ

from graphwright.backends.torch_backend.cache import inductor_cache_dir  # noqa: E402

_VARIABLE = "TORCHINDUCTOR_CACHE_DIR"


@pytest.fixture
def no_variable(monkeypatch):
    monkeypatch.delenv(_VARIABLE, raising=False)


def test_the_folder_is_set_only_inside_the_scope(no_variable, tmp_path) -> None:
    with inductor_cache_dir(tmp_path / "torch") as ours:
        assert ours and os.environ[_VARIABLE] == str(tmp_path / "torch")
        assert cache_dir() == str(tmp_path / "torch")  # what inductor reads (and writes back) while compiling
    assert _VARIABLE not in os.environ


def test_inductors_default_folder_is_replaced_then_restored(no_variable, tmp_path) -> None:
    default = cache_dir()  # inductor's first use writes its default folder into os.environ
    with inductor_cache_dir(tmp_path) as ours:
        assert ours and os.environ[_VARIABLE] == str(tmp_path)
    assert os.environ[_VARIABLE] == default


def test_a_folder_of_the_users_own_is_kept(monkeypatch, tmp_path) -> None:
    mine = str(tmp_path / "mine")
    monkeypatch.setenv(_VARIABLE, mine)
    with inductor_cache_dir(tmp_path / "ours") as ours:
        assert not ours and os.environ[_VARIABLE] == mine
    assert os.environ[_VARIABLE] == mine


def test_the_scope_is_left_on_errors(no_variable, tmp_path) -> None:
    with pytest.raises(ZeroDivisionError), inductor_cache_dir(tmp_path):
        1 / 0  # noqa: B018
    assert _VARIABLE not in os.environ


_USER_CODE = """
import os
import numpy as np
before = dict(os.environ)
import graphwright as gw
x = gw.vector("x")
for options in ({}, {"compile": True, "compile_options": {"backend": "aot_eager"}}):
    f = gw.function([x], gw.exp(x).sum() * 2.0, backend="torch", backend_options=options)
    assert float(f(np.zeros(3))) == 6.0 and float(f(np.zeros(4))) == 8.0
after = dict(os.environ)
assert before == after, set(before.items()) ^ set(after.items())
print("unchanged")
"""


def test_compiling_and_calling_leaves_os_environ_alone(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != _VARIABLE}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_USER_CODE)], capture_output=True, text=True,
                          timeout=300, check=False, env={**env, "GRAPHWRIGHT_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 0 and "unchanged" in done.stdout, done.stderr[-3000:]


def test_compiled_calls_run_inside_the_scope(no_variable, monkeypatch, tmp_path) -> None:
    import graphwright as gw
    from graphwright.backends import torch_backend

    seen = []

    def spy(folder):
        seen.append(folder)
        return inductor_cache_dir(folder)

    monkeypatch.setattr(torch_backend, "inductor_cache_dir", spy)
    monkeypatch.setattr(gw.config, "cache_dir", str(tmp_path))
    x = gw.vector("x")
    f = gw.function([x], x * 3.0, backend="torch",
                    backend_options={"compile": True, "compile_options": {"backend": "eager"}})
    np.testing.assert_array_equal(f(np.ones(2)), [3.0, 3.0])
    assert len(seen) == 2 and set(seen) == {tmp_path / "torch"} and _VARIABLE not in os.environ  # compile, call
