"""Scaling benchmark: how rewrite, compile and the workbench grow with the graph, side by side with PyTensor 3.

Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_scale.py                  # every family at its issue sizes
    .venv/bin/python tests/benchmarks/bench_scale.py --quick          # the two smallest sizes, a smoke run
    .venv/bin/python tests/benchmarks/bench_scale.py --family chain --numba   # one family, with Numba compiles
    .venv/bin/python tests/benchmarks/bench_scale.py --json out.json

Families (each built by the same code for both libraries, through the adapters of ``bench_rewrite.py``):

- ``random``: a seeded random elementwise graph of n nodes over four vectors (``bench_rewrite.random_plan``);
- ``chain``: ``acc = acc + log(1 + exp(x * w_i))`` with n scalar weights;
- ``grad``: the gradient of ``sum`` of a random n-node cost with respect to its four inputs
  (``gw.grad`` / ``pytensor.grad``), the cost and the gradients as outputs;
- ``wide``: the sum of n scalar inputs, written as a chain of ``+``;
- ``session``: graphwright's workbench ``Session()`` of a random n-node graph against the plain rewrite.

Every measurement runs in a subprocess of this run (a fresh interpreter: nothing cached, PyTensor and Numba
caches in a new temporary folder, so Numba compiles are cold), with a time limit; a measurement over the limit
is reported as ``>limit``. Timed: ``gw.rewrite(Graph, "fast_run")`` against PyTensor's FAST_RUN rewriter on a
FunctionGraph (as ``bench_rewrite.py`` times it); ``gw.function(..., backend="numpy")`` (rewrite + code
generation) and, with ``--numba``, ``gw.function(..., backend="numba")`` plus its first call against
``pytensor.function(mode="NUMBA")`` plus its first call. Node counts are those after rewriting.

Targets (issue 14): rewrite time grows at most 12x per 10x nodes on every family; rewritten node counts at or
below PyTensor's; NumPy-backend compile at most 12x per 10x nodes; Numba cold compile at most 15x per 10x
nodes and at or below PyTensor's Numba mode; ``Session()`` at most 3x the plain rewrite. Numbers only: nothing
here asserts a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common and bench_rewrite, also when imported

from bench_common import TARGETS_HEADER, base_parser, versions, write_json  # noqa: E402

SIZES = {"random": [1_000, 10_000, 100_000], "chain": [100, 1_000, 10_000], "grad": [1_000, 5_000, 10_000],
         "wide": [1_000, 10_000], "session": [300, 1_000, 5_000, 10_000]}
TASKS = {"random": ["rewrite", "numpy"], "chain": ["rewrite", "numpy"], "grad": ["rewrite", "numpy"],
         "wide": ["rewrite", "numpy"], "session": ["session"]}
GROWTH = {"rewrite": 12.0, "numpy": 12.0, "numba": 15.0}  # time at 10x the size / time at 1x, at most
SESSION_TARGET = 3.0


# --- the graphs ---------------------------------------------------------------------------------------------
def build(L, family: str, n: int):
    """(inputs, outputs) of ``family`` at size ``n`` with the adapter ``L`` (bench_rewrite.GW or .PT, with the
    library's ``grad`` added)."""
    from bench_rewrite import build_chain, build_random, random_plan

    if family in ("random", "session"):
        return build_random(L, random_plan(n))
    if family == "chain":
        return build_chain(L, n)
    if family == "wide":
        xs = [L.scalar(f"s{i}") for i in range(n)]
        acc = xs[0]
        for v in xs[1:]:
            acc = acc + v
        return xs, [acc]
    if family == "grad":
        inputs, outputs = build_random(L, random_plan(n))
        cost = outputs[0].sum()
        for out in outputs[1:]:
            cost = cost + out.sum()
        return inputs, [cost, *L.grad(cost, inputs)]
    raise ValueError(f"unknown family {family!r}")


def node_count_gw(outputs) -> int:
    import graphwright as gw

    return gw.Graph(None, outputs).node_count


# --- one measurement, in a fresh process --------------------------------------------------------------------
def worker(library: str, family: str, n: int, task: str) -> dict:
    """Time ``task`` of one graph with one library; runs in the subprocess."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))
    if library == "gw":
        return _gw_worker(family, n, task)
    return _pt_worker(family, n, task)


def _gw_worker(family: str, n: int, task: str) -> dict:
    from bench_rewrite import GW

    import graphwright as gw

    GW.grad = gw.grad
    if task == "session":
        from graphwright.workbench import Session
    warm_in, warm_out = build(GW, family, 10)  # lazy imports and rule tables, outside the timings
    gw.rewrite(gw.Graph(warm_in, warm_out), phases="fast_run")
    inputs, outputs = build(GW, family, n)
    before = node_count_gw(outputs)
    t0 = time.perf_counter()
    if task == "rewrite":
        g, _ = gw.rewrite(gw.Graph(inputs, outputs), phases="fast_run")
        return dict(time=time.perf_counter() - t0, before=before, after=g.node_count)
    if task == "session":
        Session(gw.Graph(inputs, outputs))
        session_time = time.perf_counter() - t0
        inputs, outputs = build(GW, family, n)  # a fresh graph: nothing hash-consed from the session
        t1 = time.perf_counter()
        gw.rewrite(gw.Graph(inputs, outputs), phases="fast_run")
        return dict(time=session_time, rewrite=time.perf_counter() - t1, before=before)
    f = gw.function(inputs, outputs, backend=task)
    if task == "numba":
        f(*_data(inputs))
    return dict(time=time.perf_counter() - t0, before=before, after=f.graph.node_count)


def _pt_worker(family: str, n: int, task: str) -> dict:
    import pytensor
    from bench_rewrite import PT, pt_fgraph

    PT.grad = pytensor.grad
    mode = pytensor.compile.mode.get_default_mode()
    inputs, outputs = build(PT, family, n)
    if task == "rewrite":
        fg = pt_fgraph(inputs, outputs)
        rewriter = mode.optimizer
        t0 = time.perf_counter()
        with pytensor.config.change_flags(traceback__limit=pytensor.config.traceback__compile_limit):
            rewriter(fg)
        return dict(time=time.perf_counter() - t0, after=len(fg.apply_nodes))
    t0 = time.perf_counter()
    f = pytensor.function(inputs, outputs, mode="NUMBA")
    f(*_data(inputs))
    return dict(time=time.perf_counter() - t0, after=len(f.maker.fgraph.apply_nodes))


def _data(inputs) -> list:
    import numpy as np

    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, size=32) if v.ndim == 1 else np.float64(rng.uniform(-1, 1)) for v in inputs]


def run_worker(library: str, family: str, n: int, task: str, limit: float) -> dict:
    """``worker`` in a fresh interpreter with fresh compile caches; ``{"timeout": limit}`` past the limit."""
    with tempfile.TemporaryDirectory(prefix="gw-scale-") as cache:
        env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={cache}/pytensor", GRAPHWRIGHT_CACHE_DIR=cache,
                   NUMBA_CACHE_DIR=f"{cache}/numba-cache")
        cmd = [sys.executable, __file__, "--worker", library, family, str(n), task]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            return {"timeout": limit}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the report ---------------------------------------------------------------------------------------------
def cell_time(r: dict | None) -> str:
    if r is None:
        return "n/a"
    if "timeout" in r:
        return f">{r['timeout']:.0f} s"
    if "error" in r:
        return "error"
    return f"{r['time']:.3f} s"


def growth(rows: list[dict], key: str) -> list[tuple[int, int, float]]:
    """``(n1, n2, ratio)`` for consecutive sizes: the time ratio scaled to a 10x step
    (``(t2/t1) ** (1 / log10(n2/n1))``), NaN where a time is missing."""
    import math

    out = []
    for a, b in zip(rows, rows[1:], strict=False):
        ra, rb = a.get(key), b.get(key)
        ratio = float("nan")
        if ra and rb and "time" in ra and "time" in rb:
            ratio = (rb["time"] / max(ra["time"], 1e-9)) ** (1 / math.log10(b["n"] / a["n"]))
        out.append((a["n"], b["n"], ratio))
    return out


def measure_family(family: str, sizes: list[int], tasks: list[str], limit: float, with_pt: bool) -> list[dict]:
    rows = []
    for n in sizes:
        row = {"n": n}
        for task in tasks:
            print(f"{family} n={n} {task}...", file=sys.stderr, flush=True)
            row[f"gw_{task}"] = run_worker("gw", family, n, task, limit)
            if with_pt and task in ("rewrite", "numba"):
                row[f"pt_{task}"] = run_worker("pt", family, n, task, limit)
        rows.append(row)
    return rows


def print_family(family: str, rows: list[dict], tasks: list[str]) -> list[tuple[str, float, float]]:
    """The family's table; returns (target, measured, limit) rows."""
    heads = [h for t in tasks for h in ([f"gw {t}", f"PyTensor {t}"] if f"pt_{t}" in rows[0] else [f"gw {t}"])]
    print(f"\n#### {family}\n\n| n | nodes | " + " | ".join(heads) + " | gw nodes after | PyTensor nodes after |")
    print("|---:" * (len(heads) + 4) + "|")
    for row in rows:
        first = next(iter(v for k, v in row.items() if k != "n"))
        cells = [cell_time(row.get(f"{lib}_{t}")) for t in tasks for lib in ("gw", "pt") if f"{lib}_{t}" in row]
        if family == "session" and "time" in row["gw_session"]:
            cells[-1] += f" ({row['gw_session']['time'] / row['gw_session']['rewrite']:.1f}x rewrite)"
        gw_after = next((row[k].get("after") for k in ("gw_rewrite", "gw_numpy") if k in row), None)
        pt_after = row.get("pt_rewrite", {}).get("after")
        print(f"| {row['n']} | {first.get('before', '')} | " + " | ".join(cells) + f" | {gw_after or ''} | "
              f"{pt_after or ''} |")
    targets = []
    for task in tasks:
        if task in GROWTH:
            for n1, n2, g in growth(rows, f"gw_{task}"):
                targets.append((f"{family} {n1} -> {n2}: {task} time per 10x nodes <= {GROWTH[task]:g}x", g,
                                GROWTH[task]))
    for row in rows:
        gw_after, pt_after = row.get("gw_rewrite", {}).get("after"), row.get("pt_rewrite", {}).get("after")
        if gw_after is not None and pt_after is not None:
            targets.append((f"{family} {row['n']}: nodes after rewriting / PyTensor's <= 1", gw_after / pt_after, 1.0))
    if family == "session":
        for row in rows:
            s = row["gw_session"]
            if "time" in s:
                targets.append((f"session n={row['n']}: Session() / rewrite <= 3x", s["time"] / s["rewrite"],
                                SESSION_TARGET))
    return targets


def main(argv=None) -> int:
    ap = base_parser(__doc__)
    ap.add_argument("--family", action="append", choices=sorted(SIZES), help="only these families")
    ap.add_argument("--numba", action="store_true", help="also time cold Numba compiles (slow)")
    ap.add_argument("--limit", type=float, default=600.0, help="seconds per measurement (default 600)")
    ap.add_argument("--no-pytensor", action="store_true", help="graphwright only")
    ap.add_argument("--worker", nargs=4, help=argparse_suppress())
    args = ap.parse_args(argv)
    if args.worker:
        library, family, n, task = args.worker
        print(json.dumps(worker(library, family, int(n), task)))
        return 0
    try:
        import pytensor
        pt_text = f"PyTensor {pytensor.__version__}"
    except ImportError:  # pragma: no cover - a dev dependency
        pytensor, pt_text = None, "PyTensor not installed"
    with_pt = pytensor is not None and not args.no_pytensor
    print(versions(pt_text) + f"; {time.strftime('%Y-%m-%d')}")
    results, targets = {}, []
    for family in args.family or list(SIZES):
        sizes = SIZES[family][:2] if args.quick else SIZES[family]
        if args.quick:
            sizes = [max(10, s // 10) for s in sizes]
        tasks = TASKS[family] + (["numba"] if args.numba and family != "session" else [])
        rows = measure_family(family, sizes, tasks, args.limit, with_pt)
        results[family] = rows
        targets += print_family(family, rows, tasks)
    print(TARGETS_HEADER)
    for label, value, limit in targets:
        verdict = "n/a" if value != value else "met" if value <= limit else "NOT MET"
        print(f"| {label} | {value:.1f}x | {verdict} |")
    write_json(args.json, dict(results=results, targets=[dict(target=t, value=v, limit=lim)
                                                         for t, v, lim in targets]))
    return 0


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
