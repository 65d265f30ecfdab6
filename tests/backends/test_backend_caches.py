"""The on-disk compile caches of the JAX and PyTorch backends, across fresh processes: JAX's persistent cache of
XLA executables under ``<cache>/jax`` and inductor's caches (``torch.compile``) under ``<cache>/torch``. Hits
are read from the libraries' own counters (JAX's monitoring events, inductor's ``fxgraph_cache_hit``), never
from timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import graphwright as gw

JAX_SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np, jax.monitoring
    import graphwright as gw

    events = []
    jax.monitoring.register_event_listener(lambda name, **kwargs: events.append(name))
    mode = sys.argv[1]
    if mode == "user":  # the user's own JAX cache folder is left alone
        jax.config.update("jax_compilation_cache_dir", sys.argv[2])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    x, n = gw.matrix("x"), gw.scalar("n", dtype="int64")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = gw.function([x, n], [gw.softmax(gw.tanh(x) * 3.0, axis=-1), gw.arange(n) * 2.0], backend="jax")
        out = [o.tolist() for o in f(np.ones((2, 3)), 4)]
        if mode == "switch":  # a changed gw.config.cache_dir is followed in the same process
            gw.config.cache_dir = sys.argv[2]
            y = gw.vector("y")
            out.append(float(gw.function([y], gw.exp(y).sum(), backend="jax")(np.zeros(3))))
    print(json.dumps({"out": out, "hits": events.count("/jax/compilation_cache/cache_hits"),
                      "writes": events.count("/jax/compilation_cache/cache_misses"),
                      "warnings": [str(w.message) for w in caught if "cache" in str(w.message).lower()]}))
""")

TORCH_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import graphwright as gw
    from torch._dynamo.utils import counters

    x = gw.vector("x")
    f = gw.function([x], gw.tanh(x * 0.5 + 1.0).sum(), backend="torch", backend_options={"compile": True})
    out = float(f(np.arange(4.0)))
    print(json.dumps({"out": out, "hits": counters["inductor"]["fxgraph_cache_hit"],
                      "misses": counters["inductor"]["fxgraph_cache_miss"]}))
""")


def _env(cache: Path) -> dict:
    env = dict(os.environ, GRAPHWRIGHT_CACHE_DIR=str(cache))
    env.pop("TORCHINDUCTOR_CACHE_DIR", None)  # else graphwright leaves inductor's folder where the user put it
    return env


def _run(script: str, cache: Path, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300,
                          env=_env(cache))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "jax").glob("*-cache"))


def _clear(cache: Path) -> None:
    gw.config.cache_dir, old = str(cache), gw.config.cache_dir
    try:
        gw.clear_cache()
    finally:
        gw.config.cache_dir = old


def test_jax_executables_are_cached_for_a_new_process_and_damage_is_rebuilt(tmp_path):
    pytest.importorskip("jax")
    first = _run(JAX_SCRIPT, tmp_path, "plain")
    entries = _entries(tmp_path)
    assert entries and first["writes"] >= 1 and first["hits"] == 0
    second = _run(JAX_SCRIPT, tmp_path, "plain")
    assert second["hits"] >= 1 and second["writes"] == 0  # JAX's own signal: loaded, not compiled
    assert second["out"] == first["out"]
    assert first["out"][0][0] == pytest.approx([1 / 3] * 3) and first["out"][1] == [0.0, 2.0, 4.0, 6.0]
    assert _entries(tmp_path) == entries

    data = entries[0].read_bytes()
    entries[0].write_bytes(data[: len(data) // 2])
    third = _run(JAX_SCRIPT, tmp_path, "plain")
    assert third["out"] == first["out"] and not third["warnings"]  # discarded quietly and compiled again
    assert third["writes"] >= 1
    fourth = _run(JAX_SCRIPT, tmp_path, "plain")
    assert fourth["hits"] >= 1 and fourth["writes"] == 0  # the rebuilt entry loads

    _clear(tmp_path)
    assert not (tmp_path / "jax").exists()


def test_jax_entries_are_checked_when_read_and_replaced_atomically(tmp_path):
    pytest.importorskip("jax")
    from graphwright.backends.jax_backend.cache import EntryStore

    store = EntryStore(tmp_path)
    assert store.get("jit_f-1") is None
    store.put("jit_f-1", b"executable")
    assert store.get("jit_f-1") == b"executable" and not list(tmp_path.glob(".tmp-*"))
    path = tmp_path / "jit_f-1-cache"
    for damaged in (path.read_bytes()[:-3], os.urandom(80), b""):
        path.write_bytes(damaged)
        assert store.get("jit_f-1") is None and not path.exists()  # discarded: JAX compiles it again
        store.put("jit_f-1", b"executable")  # and stores it again, replacing whatever is there
        assert store.get("jit_f-1") == b"executable"


def test_jax_cache_concurrent_processes_a_changed_folder_and_the_users_own_folder(tmp_path):
    pytest.importorskip("jax")
    shared = tmp_path / "shared"
    procs = [subprocess.Popen([sys.executable, "-c", JAX_SCRIPT, "plain"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env(shared)) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["out"] == results[0]["out"] and not r["warnings"] for r in results)
    assert not list((shared / "jax").glob(".tmp-*"))  # every write finished and was renamed into place
    after = _run(JAX_SCRIPT, shared, "plain")
    assert after["hits"] >= 1 and after["writes"] == 0 and after["out"] == results[0]["out"]

    first, second = tmp_path / "first", tmp_path / "second"
    switched = _run(JAX_SCRIPT, first, "switch", str(second))
    assert switched["out"][-1] == 3.0
    assert _entries(first) and _entries(second)  # the second graph went to the new folder
    assert not {p.name for p in _entries(first)} & {p.name for p in _entries(second)}

    own, ours = tmp_path / "own-jax-cache", tmp_path / "ours"
    _run(JAX_SCRIPT, ours, "user", str(own))
    assert list(own.glob("*-cache")) and not (ours / "jax").exists()


def test_inductor_caches_live_in_the_cache_folder_and_damage_is_rebuilt(tmp_path):
    pytest.importorskip("torch")
    first = _run(TORCH_SCRIPT, tmp_path)
    torch_dir = tmp_path / "torch"
    assert first["misses"] >= 1 and list((torch_dir / "fxgraph").rglob("*"))
    libraries = sorted(torch_dir.glob("??/*.so"), key=lambda p: p.stat().st_mtime_ns)
    modules = list(torch_dir.glob("??/*.py"))
    assert libraries and modules
    # damage the graph's kernel library (the last one built, after inductor's CPU probes; loading it cut short
    # would kill the process) and the generated module (it would fail the compile): both are discarded and
    # rebuilt; the FX graph entry itself is intact, so inductor hits it
    damaged = [libraries[-1], *modules]
    for path in damaged:
        path.write_bytes(path.read_bytes()[:600])
    second = _run(TORCH_SCRIPT, tmp_path)
    assert second["hits"] >= 1 and second["misses"] == 0
    assert second["out"] == pytest.approx(first["out"]) == pytest.approx(3.617384287827878)
    assert all(p.stat().st_size > 600 for p in damaged)
    _clear(tmp_path)
    assert not torch_dir.exists()


def test_damaged_inductor_files_are_discarded(tmp_path):
    pytest.importorskip("torch")
    import _bisect  # any small shared library

    from torch._inductor.codecache import code_hash

    from graphwright.backends.torch_backend.cache import discard_corrupt

    if not sys.platform.startswith("linux") or not getattr(_bisect, "__file__", None):
        pytest.skip("needs an ELF shared library (Linux)")
    library = Path(_bisect.__file__).read_bytes()
    source = "def call(args):\n    return args\n"
    name = code_hash(source.strip())
    files = {
        "ab/whole.so": library, "ab/cut.so": library[:4096],
        f"ab/{name}.py": source.encode(), f"ab/{code_hash('other')}.py": source.encode(),
        "fxgraph/xy/key/whole": b"\x80\x04K\x01.", "fxgraph/xy/key/cut": b"\x80\x04K\x01",
        "aotautograd/key/garbage": b"not a pickle", "aotautograd/key/.12.34.tmp": b"being written",
    }
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    discard_corrupt(tmp_path)
    left = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and p.parent.name != "locks"}
    assert left == {"ab/whole.so", f"ab/{name}.py", "fxgraph/xy/key/whole", "aotautograd/key/.12.34.tmp"}
