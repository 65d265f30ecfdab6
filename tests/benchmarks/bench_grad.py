"""Autodiff benchmark: graphwright's loop-free Jacobian and gradient graphs vs PyTensor 3, in one process.

Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_grad.py            # full size (200 -> 200 Jacobian)
    .venv/bin/python tests/benchmarks/bench_grad.py --quick    # small sizes, a smoke run
    .venv/bin/python tests/benchmarks/bench_grad.py --json out.json

1. Jacobian of ``y = tanh(W @ x + b) * x`` (``n -> n``, n = 200) with respect to ``x``. graphwright:
   ``gw.jacobian`` (the pullback vectorized over an identity: no loop). PyTensor: ``pytensor.gradient.jacobian``
   as it comes (a ``scan`` over the outputs), and with ``vectorize=True`` where this PyTensor has it. Reported:
   compile time (graph to callable, rewrites included) and the call time (median over rounds of 20
   back-to-back calls); the values must agree.
2. Gradient graph sizes: ``gw.grad`` vs ``pytensor.grad`` of the MLP loss (784-256-256-10 ReLU, log-softmax
   cross-entropy) and of the radon hierarchical log-density (85 groups, 919 observations) of
   ``bench_rewrite.py``, compiled with each library's default rewrites; nodes of the compiled graph of the loss
   and all its gradients, and a value check.

Targets (from the issue): the Jacobian at least 10x faster to run than PyTensor's default; gradient graphs no
larger than PyTensor's.
"""

from __future__ import annotations

import gc
import inspect
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import graphwright as gw

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import TARGETS_HEADER, base_parser, fmt_ratio, versions, write_json  # noqa: E402
from bench_rewrite import GW, PT, build_mlp, build_radon, data_mlp, data_radon, pytensor  # noqa: E402

JACOBIAN_TARGET = 10.0


def timed_calls(fn, args, repeat: int, number: int = 20) -> float:
    """Median over ``repeat`` rounds of the mean time of ``number`` back-to-back calls (after a warm-up)."""
    fn(*args)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn(*args)
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def jacobian_gw(n: int, repeat: int, data) -> dict:
    W, x, b = gw.matrix("W"), gw.vector("x"), gw.vector("b")
    y = gw.tanh(W @ x + b) * x
    gc.collect()
    t0 = time.perf_counter()
    f = gw.function([W, x, b], gw.jacobian(y, x))
    compile_time = time.perf_counter() - t0
    return dict(compile=compile_time, call=timed_calls(f, data, repeat), value=f(*data), nodes=f.graph.node_count)


def jacobian_pt(n: int, repeat: int, data, vectorize: bool) -> dict | None:
    import pytensor.tensor as pt
    from pytensor.gradient import jacobian

    if vectorize and "vectorize" not in inspect.signature(jacobian).parameters:
        return None
    W, x, b = pt.dmatrix("W"), pt.dvector("x"), pt.dvector("b")
    y = pt.tanh(W @ x + b) * x
    gc.collect()
    t0 = time.perf_counter()
    J = jacobian(y, x, vectorize=True) if vectorize else jacobian(y, x)
    f = pytensor.function([W, x, b], J)
    compile_time = time.perf_counter() - t0
    return dict(compile=compile_time, call=timed_calls(f, data, repeat), value=f(*data),
                nodes=len(f.maker.fgraph.apply_nodes))


def gradient_sizes(name: str, build, data, wrt_count: int) -> dict:
    ins, outs = build(GW)
    loss = outs[0]
    wrt = [v for v in ins if v.type.dtype.startswith("float")][-wrt_count:] if name == "mlp" else ins[:5]
    f = gw.function(ins, [loss, *gw.grad(loss, wrt)])
    row = dict(gw_nodes=f.graph.node_count, gw_before=gw.Graph(ins, [loss, *gw.grad(loss, wrt)]).node_count)
    got = f(*data)
    if pytensor is not None:
        p_ins, p_outs = build(PT)
        p_loss = p_outs[0]
        p_wrt = [v for v in p_ins if v.dtype.startswith("float")][-wrt_count:] if name == "mlp" else p_ins[:5]
        pf = pytensor.function(p_ins, [p_loss, *pytensor.grad(p_loss, p_wrt)])
        row["pt_nodes"] = len(pf.maker.fgraph.apply_nodes)
        want = pf(*data)
        row["agree"] = all(np.allclose(a, b, rtol=1e-8, atol=1e-10) for a, b in zip(got, want, strict=True))
    return row


def main(argv=None) -> int:
    ap = base_parser(__doc__)
    args = ap.parse_args(argv)
    n, repeat = (20, 3) if args.quick else (200, 15)
    print(versions(f"PyTensor {pytensor.__version__}" if pytensor else "PyTensor not installed"))
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(n, n)) / np.sqrt(n), rng.normal(size=n), rng.normal(size=n)]
    results: dict = {"n": n, "jacobian": {}, "gradients": {}, "targets": {}}
    jac = results["jacobian"]
    jac["graphwright"] = jacobian_gw(n, repeat, data)
    if pytensor is not None:
        jac["pytensor (scan)"] = jacobian_pt(n, repeat, data, vectorize=False)
        vec = jacobian_pt(n, repeat, data, vectorize=True)
        if vec is not None:
            jac["pytensor (vectorize=True)"] = vec
    ok = True
    print(f"\n### Jacobian of tanh(W @ x + b) * x, {n} -> {n}\n")
    print("| library | compile (s) | call (ms) | compiled nodes | call time vs graphwright |\n"
          "|---|---:|---:|---:|---:|")
    base, reference = jac["graphwright"]["call"], jac["graphwright"]["value"]
    for name, row in jac.items():
        if name != "graphwright":
            ok &= bool(np.allclose(row["value"], reference, rtol=1e-10, atol=1e-12))
        print(f"| {name} | {row['compile']:.3f} | {1e3 * row['call']:.3f} | {row['nodes']} | "
              f"{row['call'] / base:.2f}x |")
        row.pop("value")
    print("\n### Gradient graphs (loss and all gradients, compiled with default rewrites)\n")
    print("| graph | graphwright nodes (before rewriting) | PyTensor nodes | values agree |\n|---|---:|---:|:---:|")
    for name, build, dat, k in (("mlp", build_mlp, data_mlp(rng), 6), ("radon", build_radon, data_radon(rng), 5)):
        row = gradient_sizes(name, build, dat, k)
        results["gradients"][name] = row
        ok &= row.get("agree", True)
        print(f"| {name} | {row['gw_nodes']} ({row['gw_before']}) | {row.get('pt_nodes', 'n/a')} | "
              f"{row.get('agree', 'n/a')} |")
    print(TARGETS_HEADER)
    if "pytensor (scan)" in jac:
        ratio = jac["pytensor (scan)"]["call"] / base
        results["targets"]["jacobian"] = dict(value=ratio, target=JACOBIAN_TARGET, met=ratio >= JACOBIAN_TARGET)
        print(f"| Jacobian call ≥ {JACOBIAN_TARGET:g}x faster than PyTensor's default | {fmt_ratio(ratio)} | "
              f"{'met' if ratio >= JACOBIAN_TARGET else 'NOT MET'} |")
    for name, row in results["gradients"].items():
        if "pt_nodes" in row:
            met = row["gw_nodes"] <= row["pt_nodes"]
            results["targets"][f"nodes {name}"] = dict(value=row["gw_nodes"], target=row["pt_nodes"], met=met)
            print(f"| {name}: gradient graph nodes ≤ PyTensor's | {row['gw_nodes']} vs {row['pt_nodes']} | "
                  f"{'met' if met else 'NOT MET'} |")
    print(f"\nnumerical check: {'all values agree' if ok else 'MISMATCH'}")
    write_json(args.json, results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
