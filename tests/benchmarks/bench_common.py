"""Pieces shared by the benchmark scripts ``bench_graph.py`` and ``bench_rewrite.py``.

The scripts are run as scripts (``python tests/benchmarks/bench_rewrite.py``), not as a package; each puts
this folder on ``sys.path`` before importing this module, so the import also works when a script is loaded
from elsewhere.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys

import numpy as np

import graphwright as gw

__all__ = ["TARGETS_HEADER", "base_parser", "fmt_ratio", "versions", "write_json"]

TARGETS_HEADER = "\n### Targets\n\n| target | measured | met? |\n|---|---:|:---:|"


def base_parser(doc: str) -> argparse.ArgumentParser:
    """The options every benchmark takes (``--quick``, ``--json PATH``); the description is ``doc``'s first line."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    return ap


def fmt_ratio(r: float) -> str:
    """A ratio as ``1.23x``; NaN (nothing to compare with) as ``n/a``."""
    return f"{r:.2f}x" if r == r else "n/a"


def versions(pytensor_text: str) -> str:
    """The header line: the Python, NumPy and graphwright versions, then ``pytensor_text``."""
    return f"Python {platform.python_version()}, NumPy {np.__version__}, graphwright {gw.__version__}, " + pytensor_text


def write_json(path: str | None, results: dict) -> None:
    """Write ``results`` as JSON to ``path`` (NumPy numbers JSON does not know as floats); nothing when None."""
    if path:
        with open(path, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
        print(f"\nwrote {path}", file=sys.stderr)
