"""The benchmark scripts still run (small sizes); their numbers are for README, not for assertions."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent / "benchmarks"


@pytest.mark.parametrize("script", ["bench_graph.py", "bench_rewrite.py", "bench_grad.py", "bench_backends.py"])
def test_benchmark_quick_run(script, tmp_path):
    out = tmp_path / "result.json"
    run = subprocess.run([sys.executable, str(BENCH / script), "--quick", "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "|" in run.stdout  # a Markdown table was printed
    assert json.loads(out.read_text())


def test_scaling_benchmark_quick_run(tmp_path):
    # two families (PyTensor side by side on the chain), each measurement in its own subprocess
    out = tmp_path / "result.json"
    run = subprocess.run([sys.executable, str(BENCH / "bench_scale.py"), "--quick", "--family", "chain",
                          "--family", "session", "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads(out.read_text())["results"]
    assert all("time" in row["gw_rewrite"] and "time" in row["pt_rewrite"] for row in results["chain"])
    assert all("time" in row["gw_session"] for row in results["session"])
