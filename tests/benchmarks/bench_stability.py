"""Numerical-stability comparison: the extreme-input table through graphwright and PyTensor 3.

Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_stability.py             # Markdown table and totals
    .venv/bin/python tests/benchmarks/bench_stability.py --json out.json

Each case of ``tests/rules/stability_cases.py`` is a naive formula (``log(1 + exp(x))``, ``sqrt(sum(x**2))``
...) at inputs where its direct evaluation overflows, underflows or cancels. graphwright compiles it with
``gw.function(..., rewrites="fast_run")`` and PyTensor with ``pytensor.function`` in its default mode; a case
passes when every output agrees with an mpmath reference to a relative tolerance of 1e-6. The table also
shows the plain (rewrites off) evaluation, to confirm that the inputs are extreme.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))

from stability_cases import CASES, RTOL, agrees, reference, run_graphwright, run_pytensor  # noqa: E402


def _run(fn, case, ref) -> bool:
    try:
        return agrees(fn(case), ref)
    except Exception:  # a formula a library cannot compile counts as a failure
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    try:
        import pytensor  # noqa: F401
    except ImportError:  # pragma: no cover - PyTensor is a dev dependency
        run_pt = None
    else:
        run_pt = run_pytensor
    rows = []
    for case in CASES:
        ref = reference(case)
        rows.append({
            "case": case.name,
            "naive": _run(lambda c: run_graphwright(c, rewrites=None), case, ref),
            "graphwright": _run(run_graphwright, case, ref),
            "pytensor": None if run_pt is None else _run(run_pt, case, ref),
        })
    mark = {True: "pass", False: "FAIL", None: "-"}
    print(f"| case (rtol {RTOL:g} vs mpmath) | naive | graphwright | PyTensor |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| `{r['case']}` | {mark[r['naive']]} | {mark[r['graphwright']]} | {mark[r['pytensor']]} |")
    totals = {k: sum(bool(r[k]) for r in rows) for k in ("naive", "graphwright", "pytensor")}
    print(f"| **passed of {len(rows)}** | {totals['naive']} | {totals['graphwright']} | "
          f"{totals['pytensor'] if run_pt else '-'} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"cases": rows, "totals": totals, "n": len(rows)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
