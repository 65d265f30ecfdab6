"""Packaging: every package folder is listed in pyproject.toml, and core never imports the notebook stack."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"core": "graphwright", "viz": "graphwright.viz", "workbench": "graphwright.workbench",
           "kernel_ext": "graphwright.kernel_ext"}


def _package_folders():
    """Every folder that the wheel must ship as a package: those with an `__init__.py`, and data-only folders
    (workbench/static: setuptools warns about, and may drop, a data folder that is not listed)."""
    found = {}
    for folder, package in MAPPING.items():
        for path in [ROOT / folder, *(ROOT / folder).rglob("*")]:
            if not path.is_dir() or "__pycache__" in path.parts:
                continue
            files = [f for f in path.iterdir() if f.is_file() and f.suffix not in (".pyc", ".pyo")]
            if (path / "__init__.py").exists() or files:
                found[".".join([package, *path.relative_to(ROOT / folder).parts])] = path
    return found


def test_every_package_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set(_package_folders())
    assert found == listed, f"missing from pyproject: {found - listed}; stale: {listed - found}"


def test_every_data_file_is_package_data():
    """A data-only folder's files are all matched by its package-data patterns (so the wheel ships them)."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setuptools.get("package-data", {})
    assert set(patterns) <= set(setuptools["packages"]), f"package-data for unlisted packages: {set(patterns)}"
    for package, path in _package_folders().items():
        if (path / "__init__.py").exists():
            continue
        unmatched = [f.name for f in path.iterdir() if f.is_file()
                     and not any(f.match(pattern) for pattern in patterns.get(package, []))]
        assert not unmatched, f"{package}: files not in package-data: {unmatched}"


def test_license_is_an_spdx_string_and_the_build_needs_setuptools_77():
    """The TOML-table form of `project.license` is deprecated (setuptools warns on every install)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["license"] == "BSD-3-Clause"
    assert "setuptools>=77" in config["build-system"]["requires"]


def test_extras():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = config["project"]["optional-dependencies"]
    assert set(extras) >= {"numba", "jax", "torch", "notebook", "dev", "docs", "all"}
    assert extras["torch"] == ["torch==2.13.0"]
    assert config["project"]["requires-python"] == ">=3.11"


def test_core_and_the_numpy_backend_import_only_numpy_and_scipy():
    code = ("import sys, graphwright as gw; x = gw.vector('x'); gw.function([x], gw.exp(x), backend='numpy')([1.0]);"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('IPython', 'ipywidgets', 'jupyterlab', 'matplotlib', 'rich', 'jax', 'torch', 'numba', 'pytensor'));"
            "print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True)
