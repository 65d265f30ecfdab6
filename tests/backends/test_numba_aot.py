"""The Numba backend's ahead-of-time tier (numba_backend/aot.py): the graph key, a module built in the
background and loaded by a new process without importing Numba, its guards, a damaged entry, and "off".
Two builds in all (about 5-10 s each): one "eager" in the module fixture, one "auto" after a damaged entry."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

import graphwright as gw  # noqa: E402
from graphwright.backends.numba_backend import aot, wait_for_builds  # noqa: E402
from graphwright.backends.numba_backend.aot_key import graph_key  # noqa: E402

GRAPH = """
import numpy as np, graphwright as gw
x, w, b, y = gw.matrix("x"), gw.matrix("w"), gw.vector("b"), gw.matrix("y")
h = gw.tanh(gw.matmul(x, w) + b)
loss = ((h - y) ** 2).sum() / 2.0
outputs = [loss, gw.matmul(x.T, (h - y) * (1.0 - h * h)), h.max(axis=0), gw.exp(b) / (b - b)]  # inf: numpy's
# error model, as the JIT's (pycc's default raises ZeroDivisionError)
inputs = [x, w, b, y]
rng = np.random.default_rng(0)
values = [rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 4))]
"""

NEW_PROCESS = textwrap.dedent("""
    import json, sys
    import graphwright as gw
    gw.config.cache_dir = sys.argv[1]
    exec(sys.argv[2])
    f = gw.function(inputs, outputs, backend="numba")
    out = {"plain": [o.tolist() for o in f(*values)], "numba_after_plain": "numba" in sys.modules}
    out["cast"] = [o.tolist() for o in f(values[0].astype(np.float32), *values[1:])]  # coerced: module still
    out["numba_after_cast"] = "numba" in sys.modules
    out["strided"] = [o.tolist() for o in f(np.asfortranarray(values[0]), values[1], values[2][::-1][::-1],
                                            np.repeat(values[3], 2, axis=1)[:, ::2])]
    out["numba_after_strided"] = "numba" in sys.modules
    out["source"] = f.source
    print(json.dumps(out))
""")


def _namespace() -> dict:
    scope: dict = {}
    exec(GRAPH, scope)  # noqa: S102 - the test graph
    return scope


def _new_process(cache: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", NEW_PROCESS, str(cache), GRAPH], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "numba-aot").glob("gwaot_*" + aot.EXT_SUFFIX))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A cache folder holding the test graph's module, built with numba_aot="eager"."""
    if not shutil.which(sysconfig.get_config_var("CC").split()[0] if sysconfig.get_config_var("CC") else "cc"):
        pytest.skip("no C compiler: numba.pycc cannot build modules here")
    cache = tmp_path_factory.mktemp("aot")
    saved = gw.config.cache_dir, gw.config.numba_aot
    gw.config.cache_dir, gw.config.numba_aot = str(cache), "eager"
    try:
        scope = _namespace()
        gw.function(scope["inputs"], scope["outputs"], backend="numba")
        assert wait_for_builds(timeout=300)
    finally:
        gw.config.cache_dir, gw.config.numba_aot = saved
    failed = sorted((cache / "numba-aot").glob("*.failed"))
    assert not failed, failed[0].read_text()
    assert len(_entries(cache)) == 1, (cache / "numba-aot" / "build.log").read_text()
    return cache


def test_the_key_is_the_same_in_a_new_process_and_differs_between_graphs():
    x, x32, x3, z = gw.vector("x"), gw.vector("x", dtype="float32"), gw.tensor("x", shape=(3,)), gw.vector("z")
    graphs = [gw.Graph([x], [gw.exp(x)]), gw.Graph([x], [gw.exp(x) * 2.0]), gw.Graph([x], [gw.exp(x) * 3.0]),
              gw.Graph([x32], [gw.exp(x32)]), gw.Graph([x3], [gw.exp(x3)]), gw.Graph([x], [gw.exp(x), gw.tanh(x)]),
              gw.Graph([x], [gw.tanh(x), gw.exp(x)]), gw.Graph([x, z], [gw.exp(x - z)]),
              gw.Graph([z, x], [gw.exp(x - z)])]
    keys = [graph_key(g) for g in graphs]
    assert len(set(keys)) == len(keys)
    assert graph_key(gw.Graph([z], [gw.exp(z)])) == keys[0]  # names do not matter
    scope = _namespace()
    here = graph_key(gw.rewrite(gw.Graph(scope["inputs"], scope["outputs"]), phases="fast_run")[0])
    script = ("import sys\nfrom graphwright.backends.numba_backend.aot_key import graph_key\nexec(sys.argv[1])\n"
              "print(graph_key(gw.rewrite(gw.Graph(inputs, outputs), phases='fast_run')[0]), 'numba' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", script, GRAPH], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [here, "False"]


def test_a_new_process_loads_the_module_without_numba(built):
    scope = _namespace()
    with np.errstate(divide="ignore"):
        want = [np.asarray(o).tolist() for o in gw.function(scope["inputs"], scope["outputs"])(*scope["values"])]
    out = _new_process(built)
    assert not out["numba_after_plain"] and not out["numba_after_cast"]
    for name in ("plain", "cast", "strided"):
        for got, ref in zip(out[name], want, strict=True):
            np.testing.assert_allclose(got, ref, rtol=1e-4 if name == "cast" else 1e-10, err_msg=name)
    assert out["numba_after_strided"]  # another layout: the jitted body, compiled on demand
    assert "_slow(" in out["source"] and "def graphwright_body" in out["source"]


def test_a_damaged_module_is_discarded_and_auto_builds_it_again(built):
    (entry,) = _entries(built)
    entry.write_bytes(b"not a shared object")
    out = _new_process(built)  # the JIT runs (Numba's disk cache hit), and "auto" asks for a new build
    assert out["numba_after_plain"] and "_slow(" not in out["source"]
    saved, gw.config.cache_dir = gw.config.cache_dir, str(built)
    try:
        assert wait_for_builds(timeout=300)
    finally:
        gw.config.cache_dir = saved
    assert _entries(built) == [entry] and entry.read_bytes()[:4] == b"\x7fELF"
    assert not _new_process(built)["numba_after_plain"]


def test_off_neither_loads_nor_builds(built, tmp_path):
    scope = _namespace()
    saved = gw.config.cache_dir, gw.config.numba_aot
    gw.config.numba_aot = "off"
    try:
        for cache in (built, tmp_path):
            gw.config.cache_dir = str(cache)
            f = gw.function(scope["inputs"], scope["outputs"], backend="numba")
            body = f.fn.__globals__["_body"]
            assert "_slow(" not in f.source and hasattr(getattr(body, "__wrapped__", body), "py_func")  # njit
        assert not (tmp_path / "numba-aot").exists()
        gw.config.numba_aot = "sometimes"
        with pytest.raises(ValueError, match="numba_aot"):
            gw.function(scope["inputs"], scope["outputs"], backend="numba")
    finally:
        gw.config.cache_dir, gw.config.numba_aot = saved
