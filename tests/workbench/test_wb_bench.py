"""bench_backends: one row per backend, errors against NumPy, failing backends, values, and the three views."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph.basic import Apply, Op
from graphwright.workbench.bench import (
    BenchRow,
    BenchTable,
    _max_errors,
    bench_backends,
    format_seconds,
    random_values,
    resolve_values,
)

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class PerformOnly(Op):
    """An op only the NumPy reference can run (it has a ``perform`` and no backend kernel)."""

    def make_node(self, x):
        return Apply.create(self, [x], [x.type])

    def perform(self, x):
        return 2 * x


def _small_graph():
    x = gw.vector("x")
    return x, gw.Graph([x], [gw.exp(x) * 2 + gw.sin(x), (x * x).sum()])


def test_every_installed_backend_gets_a_row_that_agrees_with_numpy():
    x, graph = _small_graph()
    seen: list[tuple[str, float]] = []
    table = bench_backends(graph, values=[np.linspace(-2, 2, 50)], repeat=3,
                           progress=lambda b, f: seen.append((b, f)))
    assert [r.backend for r in table.rows] == gw.available_backends()
    for r in table.rows:
        assert r.error is None, r.error
        assert r.compile_s >= 0 and 0 < r.min_s <= r.median_s <= r.max_s
        assert r.max_abs_err < 1e-12 and r.max_rel_err < 1e-12, r
        assert r.speedup == pytest.approx(table.row("numpy").median_s / r.median_s)
    assert table.row("numpy").speedup == 1.0 and table.row("numpy").max_abs_err == 0.0
    assert table.row("numpy").cache_hit is None
    if "numba" in gw.available_backends():  # compiled now, or loaded from the disk cache: either is reported
        assert table.row("numba").cache_hit in (True, False)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {b for b, _ in seen} == set(gw.available_backends())
    text = table.text()
    for name in gw.available_backends():
        assert name in text
    assert "(3 timed calls per backend)" in text and "speed-up" in text.splitlines()[0]
    assert len({len(line) for line in text.splitlines()[:-1]}) == 1  # right-aligned columns: equal line lengths


def test_a_failing_backend_gives_a_row_and_the_others_still_come():
    x = gw.vector("x")
    graph = gw.Graph([x], [PerformOnly()(gw.exp(x))])
    table = bench_backends(graph, ["numpy", "numba", "nonesuch"], values={x: np.arange(4.0)}, repeat=2)
    numpy_row, numba_row, unknown = table.rows
    assert numpy_row.error is None and numpy_row.speedup == 1.0
    assert numba_row.error.startswith("numba: UnsupportedOpError") and "PerformOnly" in numba_row.error
    assert unknown.error.startswith("nonesuch: ValueError") and "unknown backend" in unknown.error
    assert numba_row.median_s is None and numba_row.speedup is None
    text = table.text()
    assert "numba: FAILED: numba: UnsupportedOpError" in text and "nonesuch: FAILED" in text
    html = table.html()
    assert html.count('class="gw-bench-failed"') == 2 and "PerformOnly" in html
    root = ET.fromstring(table.bar_svg())
    assert len(root.findall(f"{SVG}rect")) == 1  # one bar, two "failed" labels
    assert sum(t.text == "failed" for t in root.iter(f"{SVG}text")) == 2


def test_numpy_is_the_reference_even_without_its_row():
    x, graph = _small_graph()
    table = bench_backends(graph, ["numba"], values=[np.ones(5)], repeat=2)
    (row,) = table.rows
    assert row.backend == "numba" and row.error is None
    assert row.max_abs_err is not None and row.speedup is not None


def test_max_errors_treats_equal_nan_and_inf_as_exact():
    nan, inf = np.nan, np.inf
    assert _max_errors([np.array([1.0, nan, inf, -inf])], [np.array([1.0, nan, inf, -inf])]) == (0.0, 0.0)
    abs_err, rel_err = _max_errors([np.array([1.0, 2.0 + 1e-9]), np.array(3.0)], [np.array([1.0, 2.0]), np.array(3.0)])
    assert abs_err == pytest.approx(1e-9) and rel_err == pytest.approx(5e-10)
    assert _max_errors([np.array([nan])], [np.array([1.0])]) == (np.inf, np.inf)
    assert _max_errors([np.array([5.0, 1.0])], [np.array([nan, inf])]) == (inf, inf)  # metrics.max_errors rules
    assert _max_errors([np.array([5.0])], [np.array([nan])]) == (0.0, 0.0)  # no NumPy value to compare with
    assert _max_errors([np.zeros(0)], [np.zeros(0)]) == (0.0, 0.0)
    with pytest.raises(ValueError, match=r"output 0 has shape \(2,\), the numpy backend gives \(3,\)"):
        _max_errors([np.zeros(2)], [np.zeros(3)])


def test_generated_values_follow_the_inputs():
    v, m, k = gw.vector("v"), gw.matrix("m", shape=(None, 3)), gw.vector("k", "int64")
    assert [a.shape for a in random_values([v])] == [(1000,)]
    values = random_values([v, m, k])
    assert [a.shape for a in values] == [(100,), (100, 3), (100,)]
    assert [a.dtype.name for a in values] == ["float64", "float64", "int64"]
    assert np.abs(values[2]).max() <= 4 and values[0].std() > 0.5
    assert np.array_equal(random_values([v], seed=3)[0], random_values([v], seed=3)[0])
    graph = gw.Graph([m, v], [gw.dot(m.T, v)])  # one length for every unknown dimension: the product fits
    table = bench_backends(graph, ["numpy"], repeat=1)
    assert table.rows[0].error is None and [a.shape for a in table.values] == [(100, 3), (100,)]


@pytest.mark.parametrize("values, message", [
    ([np.ones(3)], r"values has 1 array\(s\), the graph has 2 input\(s\) \(input 0 \(x\), input 1 \(y\)\)"),
    ({"x": 1}, r"values has key 'x', which is not an input of the graph"),
    ("missing", r"values has no value for input\(s\) input 1 \(y\)"),
    ([np.ones(3), np.ones((3, 1))], r"input 1 \(y\) has type float64\[\?\], got an array of shape \(3, 1\)"),
    ([np.ones(3), np.ones(3, dtype=complex)], r"input 1 \(y\) has dtype float64, got an array of dtype complex128"),
])
def test_wrong_values_name_the_input(values, message):
    x, y = gw.vector("x"), gw.vector("y")
    graph = gw.Graph([x, y], [x + y])
    if values == "missing":
        values = {x: np.ones(3)}
    with pytest.raises(ValueError, match=message):
        resolve_values(graph, values)
    with pytest.raises(ValueError, match=message):
        bench_backends(graph, ["numpy"], values=values)


def test_values_are_converted_to_the_input_dtypes():
    x, n = gw.vector("x"), gw.vector("n", "int32")
    got = resolve_values(gw.Graph([x, n], [x * n]), {n: [1, 2], x: [1, 2]})
    assert [a.dtype.name for a in got] == ["float64", "int32"]
    s = gw.tensor("s", shape=(2,))
    with pytest.raises(ValueError, match=r"input 0 \(s\) has type float64\[2\], got an array of shape \(3,\)"):
        resolve_values(gw.Graph([s], [s * 2]), [np.ones(3)])


def test_units_html_and_svg_scales():
    assert format_seconds(3.2e-6) == "3.2 us" and format_seconds(3.2e-6, "µs") == "3.2 µs"
    assert (format_seconds(0.0123), format_seconds(1.5), format_seconds(12.0)) == ("12.3 ms", "1.50 s", "12 s")
    assert format_seconds(None) == "-"
    rows = [BenchRow("numpy", 0.001, 1e-3, 9e-4, 2e-3, 0.0, 0.0, 1.0), BenchRow("numba", 0.5, 1e-5, 1e-5, 1e-5,
                                                                                  1e-16, 1e-16, 100.0)]
    table = BenchTable(rows, repeat=7)
    html = table.html()
    assert html.startswith('<table class="gw-bench">') and "10 µs" in html and "1 ms" in html and "100.00x" in html
    assert "median of 7 calls" in html and table._repr_html_() == html
    widths = {}
    for scale in ("log", "linear"):
        root = ET.fromstring(table.bar_svg(scale=scale))
        bars = root.findall(f"{SVG}rect")
        widths[scale] = [float(b.get("width")) for b in bars]
        assert [b.find(f"{SVG}title").text.split(":")[0] for b in bars] == ["numpy", "numba"]
        assert f"({scale} scale)" in "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert widths["log"][0] > widths["log"][1] > 1.0  # the log scale shows the fast bar too
    assert widths["linear"][0] == pytest.approx(100 * widths["linear"][1], rel=0.02)
    with pytest.raises(ValueError, match="scale must be 'log' or 'linear'"):
        table.bar_svg(scale="cubic")
    with pytest.raises(KeyError, match="no row for backend 'jax'; rows: numpy, numba"):
        table.row("jax")
