"""Graph-building and call-overhead benchmark: graphwright vs PyTensor 3 vs plain NumPy, in one process.

Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_graph.py                # full size (100,000-step chain)
    .venv/bin/python tests/benchmarks/bench_graph.py --quick        # small sizes, a smoke run (seconds)
    .venv/bin/python tests/benchmarks/bench_graph.py --json out.json  # also write the numbers as JSON

1. Graph build + toposort: ``y = x; for i in range(N): y = exp(y) if i % 2 else y + 1.0``, the same user code
   for both libraries (every step makes a new node, so hash-consing never short-cuts it). GC stays enabled,
   as in real use; the time spent in the collector is reported. PyTensor's ``y + 1.0`` also inserts a
   DimShuffle node per addition, so its graph has more nodes: ratios compare the same user-level chain.
2. Per-call overhead of a one-op function ``exp(x)`` on float64 vectors of 1 and 1000 elements, against a
   bare ``np.exp(a)``; the candidates are timed round-robin (timeit, median of the repeats).

Targets (from the issue): build + toposort at least 2x faster than PyTensor's; call overhead within 3x of
the bare NumPy call. Prints a Markdown table and whether each target is met.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import timeit
from pathlib import Path

import numpy as np

import graphwright as gw

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common, also when not run as a script

from bench_common import TARGETS_HEADER, base_parser, fmt_ratio, versions, write_json  # noqa: E402

try:
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.traversal import io_toposort
    from pytensor.graph.traversal import toposort as pt_toposort
except ImportError:  # pragma: no cover - PyTensor is a dev dependency
    pytensor = None

BUILD_TARGET = 2.0  # PyTensor time / graphwright time must be at least this
CALL_TARGET = 3.0  # graphwright call time / bare NumPy call time must be at most this


class GCTimer:
    """Accumulates the time the cyclic garbage collector runs (through ``gc.callbacks``)."""

    def __init__(self):
        self.total = 0.0
        self._start = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


LIBS = {
    "graphwright": dict(
        var=lambda: gw.vector("x"), exp=gw.exp,
        topo=lambda x, y: gw.graph.toposort([y]),
        topo2=lambda x, y: gw.Graph([x], [y]).toposort),
}
if pytensor is not None:
    LIBS["PyTensor"] = dict(
        var=lambda: pt.dvector("x"), exp=pt.exp,
        topo=lambda x, y: list(pt_toposort([y])),
        topo2=lambda x, y: io_toposort([x], [y]))


def build_once(lib: dict, n: int) -> dict:
    gc.collect()
    x = lib["var"]()
    exp = lib["exp"]
    with GCTimer() as gct:
        t0 = time.perf_counter()
        y = x
        for i in range(n):
            y = exp(y) if i % 2 else y + 1.0
        t1 = time.perf_counter()
        order = lib["topo"](x, y)
        t2 = time.perf_counter()
        order2 = lib["topo2"](x, y)
        t3 = time.perf_counter()
    assert len(order) == len(order2) and order[-1] is y.owner, "toposort is wrong"
    res = dict(steps=n, nodes=len(order), build=t1 - t0, gc=gct.total, toposort=t2 - t1, toposort2=t3 - t2)
    del order, order2, x, y
    gc.collect()
    return res


def bench_build(name: str, n: int, repeat: int) -> dict:
    """Median of ``repeat`` runs; falls back to smaller chains if the library cannot handle ``n`` steps."""
    lib = LIBS[name]
    while True:
        try:
            runs = [build_once(lib, n) for _ in range(repeat)]
            break
        except (RecursionError, MemoryError) as exc:
            print(f"  {name} failed at {n} steps ({type(exc).__name__}); retrying at {n // 2}",
                  file=sys.stderr)
            n //= 2
            if n < 100:
                raise
    res = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    res["total"] = res["build"] + res["toposort"]
    res["steps"], res["nodes"] = runs[0]["steps"], runs[0]["nodes"]
    return res


def time_calls(cands: dict, repeat: int, number: int | None) -> dict:
    """Seconds per call (median and min over ``repeat`` rounds); the candidates are interleaved per round.

    Each round runs ``number`` calls, or as many as take about 0.2 s (``timeit.Timer.autorange``) if None.
    """
    timers = {}
    for name, fn in cands.items():
        fn()  # warm up (first-call compilation, caches)
        t = timeit.Timer(fn)
        timers[name] = (t, number or t.autorange()[0])
    samples = {name: [] for name in cands}
    for _ in range(repeat):
        for name, (t, number) in timers.items():
            samples[name].append(t.timeit(number) / number)
    return {name: dict(median=statistics.median(s), min=min(s)) for name, s in samples.items()}


def call_candidates(size: int) -> dict:
    a = np.random.default_rng(0).random(size)
    x = gw.vector("x")
    f = gw.function([x], gw.exp(x))
    ft = gw.function([x], gw.exp(x), trust_input=True)
    for fn in (f, ft):
        np.testing.assert_allclose(fn(a), np.exp(a))
    cands = {
        "NumPy `np.exp(a)`": lambda: np.exp(a),
        "graphwright `f(a)`": lambda: f(a),
        "graphwright `f.fn(a)`": lambda: f.fn(a),
        "graphwright trust_input `f(a)`": lambda: ft(a),
        "graphwright trust_input `f.fn(a)`": lambda: ft.fn(a),
    }
    if pytensor is not None:
        px = pt.dvector("x")
        pf = pytensor.function([px], pt.exp(px))
        pft = pytensor.function([px], pt.exp(px), trust_input=True)  # same as setting pft.trust_input = True
        np.testing.assert_allclose(pft(a), np.exp(a))
        cands["PyTensor `f(a)`"] = lambda: pf(a)
        cands["PyTensor trust_input `f(a)`"] = lambda: pft(a)
    return cands


def main(argv=None) -> int:
    ap = base_parser(__doc__)
    ap.add_argument("--steps", type=int, help="chain length (default 100000, or 2000 with --quick)")
    args = ap.parse_args(argv)
    steps = args.steps or (2000 if args.quick else 100_000)
    build_repeat, call_repeat, call_number = (3, 3, 2000) if args.quick else (1, 15, None)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    print(versions(f"PyTensor {pytensor.__version__} (mode {pytensor.config.mode}, linker "
                   f"{pytensor.compile.mode.get_default_mode().linker})" if pytensor else "PyTensor not installed"))
    results: dict = {"steps": steps, "quick": args.quick, "build": {}, "calls": {}, "targets": {}}

    # --- 1. graph build + toposort --------------------------------------------------------------------
    for name in LIBS:
        print(f"building a {steps}-step chain with {name}...", file=sys.stderr)
        results["build"][name] = bench_build(name, steps, build_repeat)
    g = results["build"]["graphwright"]
    p = results["build"].get("PyTensor")
    # compare per chain step, which is the same as the raw times unless PyTensor had to fall back
    ratio = (lambda k: (p[k] / p["steps"]) / (g[k] / g["steps"])) if p else (lambda k: float("nan"))
    print(f"\n### Graph: {steps}-step elementwise chain, build + toposort "
          f"(seconds, median of {build_repeat})\n")
    print("| | graphwright | PyTensor | PyTensor / graphwright |\n|---|---:|---:|---:|")
    na = {"steps": 0, "nodes": 0}
    rows = [("chain steps", "steps", "{:d}"), ("Apply nodes", "nodes", "{:d}"), ("build", "build", "{:.3f}"),
            ("… of which GC", "gc", "{:.3f}"), ("toposort (free function)", "toposort", "{:.3f}"),
            ("**build + toposort**", "total", "**{:.3f}**"),
            ("toposort via `Graph(...)` / `io_toposort`", "toposort2", "{:.3f}")]
    for label, key, f in rows:
        pv = f.format(int(p[key]) if key in na else p[key]) if p else "n/a"
        rr = fmt_ratio(ratio(key)) if key not in na and key != "gc" else ""
        print(f"| {label} | {f.format(int(g[key]) if key in na else g[key])} | {pv} | {rr} |")
    if p and p["steps"] != steps:
        print(f"\nPyTensor could not build {steps} steps; it was measured at {p['steps']} steps and the "
              "ratios compare time per chain step.")
    print("\ngraphwright toposort: `gw.graph.toposort([y])`; PyTensor: `list(pytensor.graph.traversal."
          "toposort([y]))`. Second toposort row: `gw.Graph([x], [y]).toposort` (also finds the free inputs) "
          "vs `pytensor.graph.traversal.io_toposort([x], [y])`.")
    build_ratio = ratio("total")
    results["targets"]["build_toposort_speedup"] = dict(value=build_ratio, target=BUILD_TARGET,
                                                        met=bool(build_ratio >= BUILD_TARGET))

    # --- 2. per-call overhead ---------------------------------------------------------------------------
    for size in (1, 1000):
        print(f"timing calls on {size} element(s)...", file=sys.stderr)
        results["calls"][size] = time_calls(call_candidates(size), call_repeat, call_number)
    names = list(results["calls"][1])
    base = names[0]
    print(f"\n### Call overhead: `exp` of a float64 vector (µs per call, median of {call_repeat} rounds)\n")
    print("| call | 1 element | ratio to NumPy | 1000 elements | ratio to NumPy |\n|---|---:|---:|---:|---:|")
    for name in names:
        cells = []
        for size in (1, 1000):
            t = results["calls"][size]
            cells += [f"{t[name]['median'] * 1e6:.3f}", fmt_ratio(t[name]["median"] / t[base]["median"])]
        print(f"| {name} | {' | '.join(cells)} |")
    for size in (1, 1000):
        t = results["calls"][size]
        for name in names:
            if name.startswith("graphwright"):
                r = t[name]["median"] / t[base]["median"]
                results["targets"][f"call {name} [{size}]"] = dict(value=r, target=CALL_TARGET,
                                                                   met=bool(r <= CALL_TARGET))

    # --- targets ----------------------------------------------------------------------------------------
    print(TARGETS_HEADER)
    print(f"| build + toposort ≥ {BUILD_TARGET:g}x faster than PyTensor | {fmt_ratio(build_ratio)} | "
          f"{'n/a' if p is None else 'yes' if build_ratio >= BUILD_TARGET else 'NO'} |")
    for key, tr in results["targets"].items():
        if key.startswith("call "):
            print(f"| {key[5:]} within {CALL_TARGET:g}x of `np.exp(a)` | {fmt_ratio(tr['value'])} | "
                  f"{'yes' if tr['met'] else 'NO'} |")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
