"""Rewrite-pipeline benchmark: graphwright ``gw.rewrite(..., "fast_run")`` vs PyTensor 3's FAST_RUN rewrites.

Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_rewrite.py                 # full size (5,000-node random graph)
    .venv/bin/python tests/benchmarks/bench_rewrite.py --quick         # small sizes, a smoke run (seconds)
    .venv/bin/python tests/benchmarks/bench_rewrite.py --json out.json   # also write the numbers as JSON
    .venv/bin/python tests/benchmarks/bench_rewrite.py --profile mlp   # cProfile of graphwright on one graph

Four graphs are built by the same code for both libraries (through a small adapter of constructors):

1. ``mlp``: a 784-256-256-10 ReLU MLP, mean cross-entropy of ``log_softmax``, plus the gradient w.r.t. all six
   weights, written BY HAND (graphwright has no autodiff yet): ``dlogits = (softmax(logits) - y) / batch``,
   ``dW3 = h2.T @ dlogits``, ReLU masks as ``switch(z > 0, g, 0)`` ... Outputs: the loss and all gradients.
   Once graphwright has autodiff this switches to ``gw.grad`` vs ``pytensor.grad``.
2. ``radon``: a hierarchical model log-density (85 groups, 919 observations) and its hand-written gradient;
   the gradient of ``a[idx]`` is a scatter-add ``inc_subtensor(zeros(85)[idx], g)``.
3. ``random``: a seeded random elementwise graph (add, sub, mul, exp, log(abs(x) + 1), tanh, sigmoid, sqr over
   four vectors) of about 5,000 graphwright nodes; one random plan is replayed in both libraries (the plan
   is simulated in NumPy while it is drawn so that every value stays finite).
4. ``chain``: a 100-term chain ``acc = acc + log(1 + exp(x * w_i))`` over 100 scalar weights.

``--quick`` uses a 500-node random graph, a 30-term chain, one timed run and no warm-up run (numbers are
only a smoke test then; the first PyTensor run includes lazy imports).

What is timed
-------------
graphwright: ``gw.rewrite(gw.Graph(inputs, outputs), phases="fast_run")`` (Graph construction included).

PyTensor: what ``pytensor.function`` does before linking (``pytensor/compile/maker.py``,
``FunctionMaker.__init__`` -> ``create_fgraph`` -> ``prepare_fgraph``): the FunctionGraph is made by
``FunctionMaker.create_fgraph([In(v)...], [Out(v)...], force_clone=True)`` (a clone, the Supervisor and
PreserveVariableAttributes features; not timed, shown in its own column), then the rewriter of the default mode
is applied under ``config.change_flags(mode=mode, traceback__limit=config.traceback__compile_limit)`` as
``prepare_fgraph`` does. The default mode is FAST_RUN with the Numba linker, so its rewriter is
``optdb.query(include fast_run + the linker's required rewrites, exclude cxx_only ...)``; it is queried once,
outside the timing. ``insert_deepcopy`` (after the rewrites) and linking are not included. Both libraries
rebuild the graph from scratch before every repeat (fresh variables, nothing cached); times are medians of
``--repeat`` runs after one untimed warm-up run (PyTensor stops repeating once its timed runs passed 30 s).

Node counts: graphwright ``Graph.node_count`` before and after; PyTensor ``len(fgraph.apply_nodes)`` before
and after (PyTensor's "before" also counts the DimShuffle nodes it inserts to broadcast constants and the
duplicates that graphwright's hash-consing merges at construction). Both libraries fuse elementwise ops into
composites; PyTensor's count without its "fusion" rewrites (one untimed run) is also given, to compare the
graphs before fusion.

Correctness: both rewritten graphs are compiled (graphwright ``gw.function(..., rewrites=None)`` on the NumPy
backend; PyTensor ``pytensor.function`` of the rewritten FunctionGraph with no further rewrites) and run on
the same random data; the outputs must agree (``np.allclose``) with each other and with graphwright's
unrewritten graph. A mismatch makes the script exit with status 1.

Targets (from the issue): graphwright at least 3x faster than PyTensor on each graph; a 10x larger random
graph costs at most 12x the time; graphwright's rewritten graphs have no more nodes than PyTensor's.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import graphwright as gw
from graphwright.rewrite.phases import phase_rules, resolve_phases

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common, also when not run as a script

from bench_common import TARGETS_HEADER, base_parser, fmt_ratio, versions, write_json  # noqa: E402

try:
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.io import In, Out
    from pytensor.compile.maker import FunctionMaker
    from pytensor.compile.mode import Mode, get_default_mode
    from pytensor.tensor.special import log_softmax as pt_log_softmax
    from pytensor.tensor.special import softmax as pt_softmax
except ImportError:  # pragma: no cover - PyTensor is a dev dependency
    pytensor = None

SPEED_TARGET = 3.0  # PyTensor time / graphwright time must be at least this
SCALING_TARGET = 12.0  # graphwright time at 10x the nodes / time at 1x must be at most this
LOG2PI = float(np.log(2 * np.pi))

GW = SimpleNamespace(
    matrix=gw.matrix, vector=gw.vector, scalar=gw.scalar, ivector=lambda n: gw.vector(n, dtype="int64"),
    exp=gw.exp, log=gw.log, tanh=gw.tanh, sigmoid=gw.sigmoid, sqr=gw.sqr, maximum=gw.maximum,
    switch=gw.switch, sum=gw.sum, mean=gw.mean, zeros=gw.zeros, inc_subtensor=gw.inc_subtensor,
    softmax=lambda x: gw.softmax(x, axis=1), log_softmax=lambda x: gw.log_softmax(x, axis=1))
if pytensor is not None:
    PT = SimpleNamespace(
        matrix=pt.dmatrix, vector=pt.dvector, scalar=pt.dscalar, ivector=pt.lvector,
        exp=pt.exp, log=pt.log, tanh=pt.tanh, sigmoid=pt.sigmoid, sqr=pt.sqr, maximum=pt.maximum,
        switch=pt.switch, sum=pt.sum, mean=pt.mean, zeros=lambda n: pt.zeros(n, dtype="float64"),
        inc_subtensor=pt.inc_subtensor,
        softmax=lambda x: pt_softmax(x, axis=1), log_softmax=lambda x: pt_log_softmax(x, axis=1))


# --- the graphs: each builder takes an adapter (GW or PT) and returns (inputs, outputs) -------------------------
def build_mlp(L, batch: int = 64):
    X, y = L.matrix("X"), L.matrix("y")
    W1, W2, W3 = L.matrix("W1"), L.matrix("W2"), L.matrix("W3")
    b1, b2, b3 = L.vector("b1"), L.vector("b2"), L.vector("b3")
    z1 = X @ W1 + b1
    h1 = L.maximum(z1, 0)
    z2 = h1 @ W2 + b2
    h2 = L.maximum(z2, 0)
    logits = h2 @ W3 + b3
    loss = -L.mean(L.sum(y * L.log_softmax(logits), axis=1))
    dlogits = (L.softmax(logits) - y) / batch
    dW3, db3 = h2.T @ dlogits, L.sum(dlogits, axis=0)
    dz2 = L.switch(z2 > 0, dlogits @ W3.T, 0)
    dW2, db2 = h1.T @ dz2, L.sum(dz2, axis=0)
    dz1 = L.switch(z1 > 0, dz2 @ W2.T, 0)
    dW1, db1 = X.T @ dz1, L.sum(dz1, axis=0)
    return [X, y, W1, b1, W2, b2, W3, b3], [loss, dW1, db1, dW2, db2, dW3, db3]


def data_mlp(rng, batch: int = 64):
    y = np.eye(10)[rng.integers(0, 10, batch)]
    shapes = [(784, 256), (256,), (256, 256), (256,), (256, 10), (10,)]
    return [rng.normal(size=(batch, 784)), y] + [0.05 * rng.normal(size=s) for s in shapes]


def normal_logp(L, v, mu, sigma, log_sigma):
    return -0.5 * L.sqr((v - mu) / sigma) - log_sigma - 0.5 * LOG2PI


def build_radon(L, groups: int = 85):
    mu_a, ls_a, a, b, ls_y = L.scalar("mu_a"), L.scalar("log_sigma_a"), L.vector("a"), L.scalar("b"), \
        L.scalar("log_sigma_y")
    idx, x, y = L.ivector("idx"), L.vector("x"), L.vector("y")
    sigma_a, sigma_y = L.exp(ls_a), L.exp(ls_y)
    mu_y = a[idx] + b * x
    logp = (L.sum(normal_logp(L, a, mu_a, sigma_a, ls_a)) + L.sum(normal_logp(L, y, mu_y, sigma_y, ls_y))
            + normal_logp(L, mu_a, 0.0, 10.0, float(np.log(10.0))) + normal_logp(L, b, 0.0, 10.0, float(np.log(10.0)))
            + normal_logp(L, ls_a, 0.0, 1.0, 0.0) + normal_logp(L, ls_y, 0.0, 1.0, 0.0))
    # the gradient, by hand (written the way a naive autodiff would: sub-expressions recomputed)
    za = (a - mu_a) / L.exp(ls_a)
    zy = (y - (a[idx] + b * x)) / L.exp(ls_y)
    r = zy / L.exp(ls_y)
    g_a = -za / L.exp(ls_a) + L.inc_subtensor(L.zeros(groups)[idx], r)
    g_mu_a = L.sum(za / L.exp(ls_a)) - mu_a / 100.0
    g_ls_a = L.sum(L.sqr(za) - 1.0) - ls_a
    g_b = L.sum(r * x) - b / 100.0
    g_ls_y = L.sum(L.sqr(zy) - 1.0) - ls_y
    return [mu_a, ls_a, a, b, ls_y, idx, x, y], [logp, g_mu_a, g_ls_a, g_a, g_b, g_ls_y]


def data_radon(rng, groups: int = 85, n: int = 919):
    idx = np.concatenate([np.arange(groups), rng.integers(0, groups, n - groups)])
    x = (rng.random(n) < 0.3).astype(float)
    return [np.float64(1.2), np.float64(-0.3), rng.normal(1.0, 0.5, groups), np.float64(-0.6),
            np.float64(-0.2), idx, x, rng.normal(1.0, 0.8, n)]


UNARY = {"exp": np.exp, "log1pabs": lambda v: np.log(np.abs(v) + 1), "tanh": np.tanh,
         "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "sqr": np.square}
BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply}
COST = {"log1pabs": 3}  # graphwright nodes per plan step (1 unless listed)


def random_plan(n_nodes: int, seed: int = 0, n_inputs: int = 4, size: int = 32, width: int = 32):
    """A list of (op, operand indices) steps (operands index the inputs, then earlier steps) and its test data.

    Operands are recent values; once more than ``width`` values are unused, binary ops consume two of those,
    so the graph stays about ``width`` wide and its sinks (the outputs) are at most ``width`` + 1. Each step
    is simulated on the test data and redrawn if its value would leave [-50, 50] or become (nearly) constant,
    or if it repeats an earlier step."""
    rng = np.random.default_rng(seed)
    data = [rng.uniform(-2, 2, size) for _ in range(n_inputs)]
    values = list(data)
    unused, steps, seen, cost, fails = list(range(n_inputs)), [], set(), 0, 0
    names = list(UNARY) + list(BINARY)
    while cost < n_nodes:
        full = len(unused) > width
        op = str(rng.choice(list(BINARY) if full else names))
        recent = range(max(0, len(values) - 4 * width), len(values))
        pool = unused if full or rng.random() < 0.3 else recent
        args = (int(rng.choice(pool)) if fails < 50 else int(rng.integers(n_inputs)),)
        if op in BINARY:
            args += (int(rng.choice(unused if full else recent)),)
        val = (BINARY.get(op) or UNARY[op])(*(values[i] for i in args))
        if (op, args) in seen or not np.all(np.abs(val) <= 50) or np.std(val) < 1e-2:
            fails += 1
            continue
        fails = 0
        seen.add((op, args))
        unused = [i for i in unused if i not in args] + [len(values)]
        values.append(val)
        steps.append((op, args))
        cost += COST.get(op, 1)
    return dict(steps=steps, outputs=unused, n_inputs=n_inputs, data=data, expected=[values[i] for i in unused])


def build_random(L, plan):
    inputs = [L.vector(f"v{i}") for i in range(plan["n_inputs"])]
    vals = list(inputs)
    unary = {"exp": L.exp, "log1pabs": lambda v: L.log(abs(v) + 1), "tanh": L.tanh, "sigmoid": L.sigmoid,
             "sqr": L.sqr}
    binary = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}
    for op, args in plan["steps"]:
        vals.append((binary.get(op) or unary[op])(*(vals[i] for i in args)))
    return inputs, [vals[i] for i in plan["outputs"]]


def build_chain(L, terms: int = 100):
    x, ws = L.vector("x"), [L.scalar(f"w{i}") for i in range(terms)]
    acc = L.log(1 + L.exp(x * ws[0]))
    for w in ws[1:]:
        acc = acc + L.log(1 + L.exp(x * w))
    return [x, *ws], [acc]


def data_chain(rng, terms: int = 100, size: int = 64):
    return [rng.normal(size=size)] + [np.float64(v) for v in rng.normal(size=terms)]


# --- timing ------------------------------------------------------------------------------------------------------
def time_gw(build, repeat: int, warm: int = 1) -> dict:
    """Median over ``repeat`` runs after ``warm`` untimed ones (lazy imports, first-call caches)."""
    times = []
    for _ in range(repeat + warm):
        ins, outs = build(GW)
        gc.collect()
        t0 = time.perf_counter()
        g, trace = gw.rewrite(gw.Graph(ins, outs), phases="fast_run")
        times.append(time.perf_counter() - t0)
    before = gw.Graph(ins, outs).node_count
    return dict(time=statistics.median(times[warm:]), min=min(times[warm:]), before=before, after=g.node_count,
                steps=len(trace), passes=len(trace.passes), graph=g, inputs=ins, outputs=outs)


def pt_fgraph(ins, outs):
    fg, _ = FunctionMaker.create_fgraph([In(v) for v in ins], [Out(v) for v in outs], force_clone=True)
    return fg


def time_pt(build, repeat: int, mode, rewriter, warm: int = 1, budget: float = 30.0) -> dict:
    """Like time_gw; stops early (after at least one timed run) once the timed runs took ``budget`` seconds."""
    times, build_times = [], []
    while len(times) < repeat + warm and (len(times) <= warm or sum(times[warm:]) < budget):
        ins, outs = build(PT)
        gc.collect()
        t0 = time.perf_counter()
        fg = pt_fgraph(ins, outs)
        t1 = time.perf_counter()
        before = len(fg.apply_nodes)
        with pytensor.config.change_flags(mode=mode, traceback__limit=pytensor.config.traceback__compile_limit):
            rewriter(fg)
        times.append(time.perf_counter() - t1)
        build_times.append(t1 - t0)
    return dict(time=statistics.median(times[warm:]), runs=len(times) - warm,
                fgraph_time=statistics.median(build_times[warm:]), before=before, after=len(fg.apply_nodes), fgraph=fg)


def check(name: str, g_res: dict, p_res: dict | None, data: list, linker) -> bool:
    """Compile both rewritten graphs (and graphwright's unrewritten one) and compare them on ``data``."""
    graph = g_res["graph"]
    f_new = gw.function(list(graph.inputs), list(graph.outputs), rewrites=None, backend="numpy")
    f_old = gw.function(g_res["inputs"], g_res["outputs"], rewrites=None, backend="numpy")
    got, ref = f_new(*data), f_old(*data)
    refs = {"unrewritten graphwright": ref}
    if p_res is not None:
        fg = p_res["fgraph"]
        pf = pytensor.function(fg.inputs, fg.outputs, mode=Mode(linker=linker, optimizer=None),
                               accept_inplace=True, on_unused_input="ignore")
        refs["PyTensor"] = pf(*data)
    ok = True
    for label, r in refs.items():
        worst = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / (1 + np.abs(np.asarray(b)))))
                    for a, b in zip(got, r, strict=True))
        agree = all(np.allclose(a, b) for a, b in zip(got, r, strict=True))
        ok &= agree
        print(f"check {name}: rewritten graphwright vs {label}: {'ok' if agree else 'MISMATCH'} "
              f"({len(got)} outputs, max rel. diff {worst:.1e})")
    return ok


def main(argv=None) -> int:
    ap = base_parser(__doc__)
    ap.add_argument("--nodes", type=int, help="random-graph size (default 5000, or 500 with --quick)")
    ap.add_argument("--repeat", type=int, help="timed repeats per graph (default 5, or 1 with --quick)")
    ap.add_argument("--profile", metavar="GRAPH", help="print a cProfile of graphwright's rewrite of GRAPH "
                    "(mlp, radon, random, chain) and exit")
    args = ap.parse_args(argv)
    n_big = args.nodes or (500 if args.quick else 5000)
    n_small = n_big // 10
    repeat = args.repeat or (1 if args.quick else 5)
    warm, terms = (0, 30) if args.quick else (1, 100)  # --quick: no warm-up run, a 30-term chain
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    rng = np.random.default_rng(0)
    plan_big, plan_small = random_plan(n_big), random_plan(n_small)  # same seed: the small plan is a prefix
    graphs = {
        "mlp": ("MLP loss + hand-written gradient", build_mlp, data_mlp(rng)),
        "radon": ("hierarchical (radon) logp + gradient", build_radon, data_radon(rng)),
        "random": (f"random elementwise, {n_big} nodes", lambda L: build_random(L, plan_big), plan_big["data"]),
        "chain": (f"{terms}-term log(1 + exp(x * w_i)) chain", lambda L: build_chain(L, terms), data_chain(rng, terms)),
    }
    if args.profile:
        build = graphs[args.profile][1]
        gw.rewrite(gw.Graph(*build(GW)), phases="fast_run")  # warm-up
        ins, outs = build(GW)
        prof = cProfile.Profile()
        prof.runcall(gw.rewrite, gw.Graph(ins, outs), phases="fast_run")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return 0

    mode = rewriter = no_fusion = None
    if pytensor is not None:
        mode = get_default_mode()
        rewriter = mode.optimizer  # one optdb query, as prepare_fgraph does before its timer starts
        no_fusion = mode.excluding("fusion")  # node counts before fusion, too
    print(versions(f"PyTensor {pytensor.__version__} (mode {pytensor.config.mode}, linker {mode.linker}, "
                   f"optimizer {pytensor.config.optimizer})" if pytensor else "PyTensor not installed"))
    rules = {p: len(phase_rules(p)) for p in resolve_phases("fast_run")}
    print("graphwright rules registered per phase: " + ", ".join(f"{p} {n}" for p, n in rules.items()))
    results: dict = {"quick": args.quick, "repeat": repeat, "nodes": n_big, "rules": rules, "graphs": {},
                     "targets": {}}
    all_ok = True
    for key, (label, build, data) in graphs.items():
        print(f"rewriting {key}...", file=sys.stderr)
        g = time_gw(build, repeat, warm)
        p = time_pt(build, repeat, mode, rewriter, warm) if pytensor else None
        all_ok &= check(key, g, p, data, mode.linker if mode else None)
        row = dict(label=label, gw_time=g["time"], gw_min=g["min"], gw_before=g["before"], gw_after=g["after"],
                   gw_steps=g["steps"], gw_passes=g["passes"])
        if p:
            row.update(pt_time=p["time"], pt_runs=p["runs"], pt_fgraph_time=p["fgraph_time"], pt_before=p["before"],
                       pt_after=p["after"], speedup=p["time"] / g["time"],
                       pt_after_no_fusion=time_pt(build, 1, no_fusion, no_fusion.optimizer, 0)["after"])
        results["graphs"][key] = row
    print(f"random graph, {n_small} nodes (scaling)...", file=sys.stderr)
    small = time_gw(lambda L: build_random(L, plan_small), max(repeat, 5))
    big = results["graphs"]["random"]
    scaling = dict(small_nodes=small["before"], small_time=small["time"], small_min=small["min"],
                   big_nodes=big["gw_before"], big_time=big["gw_time"], big_min=big["gw_min"],
                   ratio=big["gw_time"] / small["time"], ratio_min=big["gw_min"] / small["min"])
    results["scaling"] = scaling

    print(f"\n### Rewrite time, FAST_RUN (ms, median of {repeat}); node counts before -> after\n")
    print("| graph | graphwright | PyTensor rewrite | PyTensor FunctionGraph | PyTensor / graphwright | "
          "(incl. FunctionGraph) | graphwright nodes | PyTensor nodes | PyTensor w/o fusion | graphwright steps |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results["graphs"].values():
        pt_cells = (f"{1e3 * row['pt_time']:.1f} | {1e3 * row['pt_fgraph_time']:.1f} | {fmt_ratio(row['speedup'])} | "
                    f"{fmt_ratio((row['pt_time'] + row['pt_fgraph_time']) / row['gw_time'])}"
                    if "pt_time" in row else "n/a | n/a | n/a | n/a")
        pt_nodes = (f"{row['pt_before']} -> {row['pt_after']} | {row['pt_after_no_fusion']}" if "pt_time" in row
                    else "n/a | n/a")
        print(f"| {row['label']} | {1e3 * row['gw_time']:.1f} | {pt_cells} | {row['gw_before']} -> "
              f"{row['gw_after']} | {pt_nodes} | {row['gw_steps']} |")
    print("\n### Scaling: graphwright on the random graph (the small one is the first tenth of the big one's plan)"
          "\n\n| nodes | median (ms) | min (ms) |\n|---:|---:|---:|\n"
          f"| {scaling['small_nodes']} | {1e3 * scaling['small_time']:.1f} | {1e3 * scaling['small_min']:.1f} |\n"
          f"| {scaling['big_nodes']} | {1e3 * scaling['big_time']:.1f} | {1e3 * scaling['big_min']:.1f} |\n"
          f"| **ratio ({scaling['big_nodes'] / scaling['small_nodes']:.1f}x nodes)** | **{scaling['ratio']:.1f}x** | "
          f"{scaling['ratio_min']:.1f}x |")

    print(TARGETS_HEADER)
    for key, row in results["graphs"].items():
        sp = row.get("speedup", float("nan"))
        met = sp >= SPEED_TARGET if sp == sp else None
        results["targets"][f"speed {key}"] = dict(value=sp, target=SPEED_TARGET, met=met)
        print(f"| {key}: graphwright ≥ {SPEED_TARGET:g}x faster than PyTensor | {fmt_ratio(sp)} | "
              f"{'n/a' if met is None else 'met' if met else 'NOT MET'} |")
    met = scaling["ratio"] <= SCALING_TARGET
    results["targets"]["scaling"] = dict(value=scaling["ratio"], target=SCALING_TARGET, met=met)
    print(f"| 10x larger random graph costs ≤ {SCALING_TARGET:g}x the time | {scaling['ratio']:.1f}x | "
          f"{'met' if met else 'NOT MET'} |")
    for key, row in results["graphs"].items():
        met = row["gw_after"] <= row["pt_after"] if "pt_after" in row else None
        results["targets"][f"nodes {key}"] = dict(value=row["gw_after"], target=row.get("pt_after"), met=met)
        print(f"| {key}: rewritten nodes ≤ PyTensor's | {row['gw_after']} vs {row.get('pt_after', 'n/a')} | "
              f"{'n/a' if met is None else 'met' if met else 'NOT MET'} |")
    print(f"\nnumerical check: {'all outputs agree' if all_ok else 'MISMATCH (see the check lines)'}")
    results["check_ok"] = all_ok
    write_json(args.json, results)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
