"""A pytest-xdist worker finishes its slow work before it reports that it has finished (tests/conftest.py), so
the controller's shutdown, which interrupts a worker still busy 5 s later, never prints a bare
`KeyboardInterrupt` traceback after a green run."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A plugin loaded into the inner run: what a worker has done by the time it reports (the innermost wrapper of
# pytest_sessionfinish returns just before pytest-xdist's, which sends "workerfinished").
PROBE = '''
import gc, json, os, sys
import pytest

@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_sessionfinish(session):
    yield
    if hasattr(session.config, "workerinput"):
        with open(os.environ["GW_PROBE_OUT"], "w") as fh:
            json.dump({"frozen": gc.get_freeze_count(),
                       "hypothesis": "hypothesis.internal.observability" in sys.modules}, fh)
'''


def test_a_worker_collects_and_freezes_its_heap_before_it_reports(tmp_path):
    (tmp_path / "gw_worker_probe.py").write_text(PROBE)
    out = tmp_path / "probe.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")]), GW_PROBE_OUT=str(out))
    command = [sys.executable, "-m", "pytest", "-q", "-n", "1", "-p", "no:cacheprovider", "-p", "gw_worker_probe",
               "tests/test_packaging.py::test_extras"]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    probe = json.loads(out.read_text())
    assert probe["frozen"] > 10_000, probe  # the worker's heap (graphwright, NumPy, pytest) is out of later passes
    assert probe["hypothesis"], probe  # Hypothesis's terminal summary will not import it after the report
    assert "KeyboardInterrupt" not in run.stdout + run.stderr
