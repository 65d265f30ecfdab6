"""Packaging: every package folder is listed in pyproject.toml, and core never imports the notebook stack."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"core": "graphwright", "viz": "graphwright.viz", "workbench": "graphwright.workbench",
           "kernel_ext": "graphwright.kernel_ext"}


def test_every_package_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for folder, package in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]))
    assert found == listed, f"missing from pyproject: {found - listed}; stale: {listed - found}"


def test_extras():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = config["project"]["optional-dependencies"]
    assert set(extras) >= {"numba", "jax", "torch", "notebook", "dev", "all"}
    assert extras["torch"] == ["torch==2.13.0"]
    assert config["project"]["requires-python"] == ">=3.11"


def test_core_and_the_numpy_backend_import_only_numpy_and_scipy():
    code = ("import sys, graphwright as gw; x = gw.vector('x'); gw.function([x], gw.exp(x), backend='numpy')([1.0]);"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('IPython', 'ipywidgets', 'jupyterlab', 'matplotlib', 'rich', 'jax', 'torch', 'numba', 'pytensor'));"
            "print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True)
