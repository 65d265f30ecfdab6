"""Compile one graph on several backends and time it: a table of compile and call times and errors vs NumPy."""

from __future__ import annotations

import html as _html
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import graphwright as gw
from graphwright.graph.basic import Variable
from graphwright.graph.graph import Graph
from graphwright.rewrite.check import sample_inputs
from graphwright.workbench.metrics import max_errors
from graphwright.workbench.tables import number_cell, text_table

__all__ = ["BenchRow", "BenchTable", "bench_backends", "resolve_values", "random_values", "format_seconds"]

# the length of unknown dimensions in generated inputs, by the largest input rank (about 1e3 to 1e4 elements)
_LENGTHS = {0: 1, 1: 1000, 2: 100, 3: 20}


def format_seconds(s: float | None, micro: str = "us") -> str:
    """A duration with a readable unit (``micro`` names microseconds).

    Examples
    --------
    >>> format_seconds(0.0000123), format_seconds(0.0456), format_seconds(2.5)
    ('12.3 us', '45.6 ms', '2.50 s')
    """
    if s is None or not math.isfinite(s):
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.3g} {micro}"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s" if s >= 10 else f"{s:.2f} s"


def random_values(inputs: Sequence[Variable], *, seed: int = 0, length: int | None = None) -> list[np.ndarray]:
    """Random values for ``inputs``: floats normal, integers small, booleans random. Unknown dimensions get
    ``length`` (by default 1000 for vectors, 100 when a matrix is among the inputs, 20 for rank 3, 10 above).

    Examples
    --------
    >>> import graphwright as gw
    >>> [v.shape for v in random_values([gw.vector("x"), gw.matrix("m", shape=(None, 3))])]
    [(100,), (100, 3)]
    """
    top = max((v.type.ndim for v in inputs), default=0)
    n = length if length is not None else _LENGTHS.get(top, 10)
    return sample_inputs(list(inputs), np.random.default_rng(seed), "random", length=n)


def resolve_values(graph: Graph, values: Mapping[Variable, Any] | Sequence[Any]) -> list[np.ndarray]:
    """``values`` (a dict from input variables, or a list in input order) as arrays in input order, checked
    against the inputs' dtypes and static shapes.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> resolve_values(gw.Graph([x], [2 * x]), {x: [1, 2]})
    [array([1., 2.])]
    """
    inputs = list(graph.inputs)
    if isinstance(values, Mapping):
        unknown = [k for k in values if not any(k is v for v in inputs)]
        if unknown:
            raise ValueError(f"values has key {unknown[0]!r}, which is not an input of the graph (inputs: "
                             f"{', '.join(_label(v, i) for i, v in enumerate(inputs))})")
        missing = [_label(v, i) for i, v in enumerate(inputs) if v not in values]
        if missing:
            raise ValueError(f"values has no value for input(s) {', '.join(missing)}")
        ordered = [values[v] for v in inputs]
    else:
        ordered = list(values)
        if len(ordered) != len(inputs):
            raise ValueError(f"values has {len(ordered)} array(s), the graph has {len(inputs)} input(s) "
                             f"({', '.join(_label(v, i) for i, v in enumerate(inputs))})")
    return [_check_value(v, i, a) for i, (v, a) in enumerate(zip(inputs, ordered, strict=True))]


def _label(var: Variable, i: int) -> str:
    return f"input {i} ({var.name})" if var.name else f"input {i}"


def _check_value(var: Variable, i: int, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    t = var.type
    if arr.ndim != t.ndim or any(s is not None and s != a for s, a in zip(t.shape, arr.shape, strict=False)):
        raise ValueError(f"{_label(var, i)} has type {t.short()}, got an array of shape {arr.shape}")
    if arr.dtype.name != t.dtype:
        if not np.can_cast(arr.dtype, t.dtype, "same_kind") and not (arr.dtype.kind in "biu" and
                                                                      np.dtype(t.dtype).kind == "f"):
            raise ValueError(f"{_label(var, i)} has dtype {t.dtype}, got an array of dtype {arr.dtype}")
        arr = arr.astype(t.dtype)
    return arr


@dataclass
class BenchRow:
    """One backend's timings (seconds) and errors against the NumPy backend; ``error`` says why it failed.

    ``cache_hit`` is True when Numba loaded the compiled graph from the disk cache (so ``compile_s`` is
    a warm load), False when it compiled, None when unknown.

    Examples
    --------
    >>> row = BenchRow("numba", compile_s=0.8, median_s=2e-6, speedup=5.0)
    >>> row.error is None, row.max_abs_err
    (True, None)
    """

    backend: str
    compile_s: float | None = None
    median_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    speedup: float | None = None
    error: str | None = None
    cache_hit: bool | None = None


_COLUMNS = ("backend", "compile", "median", "min", "max", "max abs err", "max rel err", "speed-up")


@dataclass
class BenchTable:
    """The rows of :func:`bench_backends`, one per backend, with text, HTML and SVG views.

    Examples
    --------
    >>> t = BenchTable([BenchRow("numpy", 0.0, 1e-5, 9e-6, 2e-5, 0.0, 0.0, 1.0)], repeat=20)
    >>> print(t.text().splitlines()[2].split())
    ['numpy', '-', '10', 'us', '9', 'us', '20', 'us', '0.00e+00', '0.00e+00', '1.00x']
    """

    rows: list[BenchRow]
    repeat: int = 20
    values: list[np.ndarray] = field(default_factory=list, repr=False)

    def row(self, backend: str) -> BenchRow:
        """The row of ``backend`` (KeyError naming the backends there are)."""
        for r in self.rows:
            if r.backend == backend:
                return r
        raise KeyError(f"no row for backend {backend!r}; rows: {', '.join(r.backend for r in self.rows)}")

    def _cells(self, r: BenchRow, micro: str = "us") -> list[str]:
        compile_s = format_seconds(r.compile_s, micro) if r.compile_s else "-"
        if r.cache_hit:
            compile_s += " (disk cache)"
        times = (format_seconds(s, micro) for s in (r.median_s, r.min_s, r.max_s))
        speedup = "-" if r.speedup is None else f"{r.speedup:.2f}x"
        return [r.backend, compile_s, *times, number_cell(r.max_abs_err), number_cell(r.max_rel_err), speedup]

    def text(self) -> str:
        """Aligned plain-text columns (times and errors right-aligned); failed backends get a line with the reason.

        Examples
        --------
        >>> t = BenchTable([BenchRow("numpy", 0.0, 1e-5, 9e-6, 2e-5, 0.0, 0.0, 1.0),
        ...                 BenchRow("jax", error="jax: ImportError: no module named jax")], repeat=5)
        >>> print(t.text())
        backend  compile  median   min    max  max abs err  max rel err  speed-up
        -------  -------  ------  ----  -----  -----------  -----------  --------
        numpy          -   10 us  9 us  20 us     0.00e+00     0.00e+00     1.00x
        jax: FAILED: jax: ImportError: no module named jax
        (5 timed calls per backend)
        """
        table = text_table(_COLUMNS, [self._cells(r) for r in self.rows if r.error is None],
                           right=range(1, len(_COLUMNS)))
        failed = "".join(f"\n{r.backend}: FAILED: {r.error}" for r in self.rows if r.error is not None)
        return f"{table}{failed}\n({self.repeat} timed calls per backend)"

    def html(self) -> str:
        """A ``<table class="gw-bench">`` (times in µs, ms, s); a failed backend's row has class
        ``gw-bench-failed`` and one cell with the reason.

        Examples
        --------
        >>> t = BenchTable([BenchRow("numpy", 0.0, 1e-5, 9e-6, 2e-5, 0.0, 0.0, 1.0), BenchRow("jax", error="no jax")])
        >>> html = t.html()
        >>> html.startswith('<table class="gw-bench">'), "<td>10 µs</td>" in html
        (True, True)
        >>> '<tr class="gw-bench-failed"><td>jax</td><td colspan="7">failed: no jax</td></tr>' in html
        True
        """
        head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
        body = []
        for r in self.rows:
            name = _html.escape(r.backend)
            if r.error is not None:
                body.append(f'<tr class="gw-bench-failed"><td>{name}</td>'
                            f'<td colspan="{len(_COLUMNS) - 1}">failed: {_html.escape(r.error)}</td></tr>')
            else:
                body.append("<tr>" + "".join(f"<td>{_html.escape(c)}</td>" for c in self._cells(r, "µs")) + "</tr>")
        return (f'<table class="gw-bench"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
                f"<caption>median of {self.repeat} calls</caption></table>")

    def _repr_html_(self) -> str:
        return self.html()

    def bar_svg(self, *, scale: str = "log", width: int = 480) -> str:
        """A horizontal bar chart of the median call time per backend (``scale``: "log" or "linear").

        Examples
        --------
        >>> import xml.etree.ElementTree as ET
        >>> t = BenchTable([BenchRow("numpy", median_s=1e-4), BenchRow("numba", median_s=2e-6)])
        >>> ET.fromstring(t.bar_svg()).tag
        '{http://www.w3.org/2000/svg}svg'
        """
        return _bar_chart([(r.backend, r.median_s, r.error) for r in self.rows], scale=scale, width=width,
                         title=f"median call time ({self.repeat} calls)")


def _bar_chart(bars: list[tuple[str, float | None, str | None]], *, scale: str, width: int, title: str) -> str:
    """SVG: one labelled horizontal bar per (name, seconds, error); log or linear axis with labelled ticks."""
    if scale not in ("log", "linear"):
        raise ValueError(f"bar_svg: scale must be 'log' or 'linear', got {scale!r}")
    times = [t for _, t, e in bars if e is None and t is not None and t > 0]
    left, bar_h, top = 90, 22, 28
    plot_w = width - left - 80
    height = top + bar_h * len(bars) + 30
    if times and scale == "log":
        lo, hi = 10.0 ** math.floor(math.log10(min(times)) - 0.5), 10.0 ** math.ceil(math.log10(max(times)))
        hi = hi * 10 if hi <= lo else hi
        ticks = [lo * 10.0 ** k for k in range(round(math.log10(hi / lo)) + 1)]

        def pos(t: float) -> float:
            return plot_w * (math.log10(t) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    else:
        hi = max(times, default=1.0)
        ticks = [hi * k / 4 for k in range(5)]

        def pos(t: float) -> float:
            return plot_w * t / hi
    esc = _html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="gw-bench-chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f"<title>{esc(title)}</title>", f'<text x="{left}" y="14" font-weight="bold">{esc(title)} '
           f"({scale} scale)</text>"]
    axis_y = top + bar_h * len(bars) + 4
    for t in ticks:
        x = left + pos(t)
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="#ddd"/>'
                   f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle" fill="#555">'
                   f"{esc(format_seconds(t, 'µs'))}</text>")
    for k, (name, t, error) in enumerate(bars):
        y = top + k * bar_h
        out.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{esc(name)}</text>')
        if error is not None or t is None or t <= 0:
            out.append(f'<text x="{left + 4}" y="{y + 15}" fill="#b00">failed<title>{esc(error or "")}</title></text>')
            continue
        w = max(pos(t), 1.0)
        out.append(f'<rect class="gw-bench-bar" x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" '
                   f'fill="#4878a8"><title>{esc(name)}: {esc(format_seconds(t, "µs"))}</title></rect>'
                   f'<text x="{left + w + 4:.1f}" y="{y + 15}">{esc(format_seconds(t, "µs"))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _max_errors(got: Sequence[Any], want: Sequence[Any]) -> tuple[float, float]:
    """Max absolute and relative error over every output against the NumPy backend's (the rules of
    :func:`graphwright.workbench.metrics.max_errors`); a shape that differs is an error."""
    errors = [(0.0, 0.0)]
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        g, w = np.asarray(g), np.asarray(w)
        if g.shape != w.shape:
            raise ValueError(f"output {k} has shape {g.shape}, the numpy backend gives {w.shape}")
        errors.append(max_errors(g, w))
    return max(e[0] for e in errors), max(e[1] for e in errors)


def _disk_cache_hit(fn: Any) -> bool | None:
    """Whether a compiled Function was loaded from the disk cache: ``fn.cache_hit`` if the Function says,
    else, for Numba, the statistics of the jitted body (None when neither is there)."""
    if hasattr(fn, "cache_hit"):
        return fn.cache_hit
    body = getattr(getattr(fn, "fn", None), "__globals__", {}).get("_body")
    stats = getattr(body, "stats", None)
    if stats is None:
        return None
    hits, misses = sum(stats.cache_hits.values()), sum(stats.cache_misses.values())
    return None if hits == misses == 0 else hits > 0 and misses == 0


def _bench_one(graph: Graph, backend: str, args: list, repeat: int, tick: Callable[[float], None]) -> tuple:
    """(row, outputs) for one backend; exceptions propagate to the caller."""
    tick(0.0)
    start = time.perf_counter()
    fn = gw.function(list(graph.inputs), list(graph.outputs), backend=backend, rewrites=None)
    first_start = time.perf_counter()
    with np.errstate(all="ignore"):
        outputs = fn(*args)
    built = time.perf_counter() - start
    tick(0.5)
    times = []
    with np.errstate(all="ignore"):
        for k in range(repeat):
            t0 = time.perf_counter()
            fn(*args)
            times.append(time.perf_counter() - t0)
            if (k + 1) % max(1, repeat // 10) == 0:
                tick(0.5 + 0.5 * (k + 1) / repeat)
    median = statistics.median(times) if times else time.perf_counter() - first_start
    row = BenchRow(backend, max(built - median, 0.0), median, min(times, default=median), max(times, default=median),
                   cache_hit=_disk_cache_hit(fn))
    return row, [np.asarray(o) for o in outputs]


def bench_backends(graph: Graph, backends: Sequence[str] | None = None, *, values: Any = None, repeat: int = 20,
                   progress: Callable[[str, float], None] | None = None) -> BenchTable:
    """Compile ``graph`` as it is (no rewriting) on each backend, time ``repeat`` calls, compare with NumPy.

    Parameters
    ----------
    graph : the (already rewritten) graph.
    backends : backend names; None: every installed one (``gw.available_backends()``). The NumPy backend
        always runs (it is the reference of the errors and of the speed-up) but has a row only when asked for.
    values : a dict from input variables or a list in input order; None: :func:`random_values`.
    repeat : timed calls per backend (the row gives their median, min and max).
    progress : called as ``progress(backend, fraction)`` with the fraction of the whole benchmark done.

    Returns
    -------
    BenchTable with one row per backend. ``compile_s`` is ``gw.function`` plus the first call minus one
    median call, in this process (Numba may load from its disk cache: see ``BenchRow.cache_hit``). A backend
    that fails gets a row with ``error`` naming the backend and the reason; the other rows still come.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> table = bench_backends(gw.Graph([x], [gw.exp(x) + 1]), ["numpy", "nonesuch"], repeat=3)
    >>> [(r.backend, r.speedup, r.error is None) for r in table.rows]
    [('numpy', 1.0, True), ('nonesuch', None, False)]
    """
    backends = list(gw.available_backends() if backends is None else backends)
    args = random_values(graph.inputs) if values is None else resolve_values(graph, values)
    order = ["numpy"] + [b for b in backends if b != "numpy"]
    results = _run_backends(graph, order, args, repeat, progress)
    base = results["numpy"].median_s
    for row in results.values():
        if row.error is None and base is not None and row.median_s:
            row.speedup = 1.0 if row.backend == "numpy" else base / row.median_s
    if progress is not None:
        progress(order[-1], 1.0)
    return BenchTable([results[b] for b in backends], repeat, args)


def _run_backends(graph: Graph, order: list[str], args: list, repeat: int,
                  progress: Callable[[str, float], None] | None) -> dict[str, BenchRow]:
    """A row per backend of ``order`` (NumPy first: its outputs are the reference of the errors); a backend
    that fails gets a row with ``error`` instead."""
    results: dict[str, BenchRow] = {}
    want = None
    for i, backend in enumerate(order):
        def tick(f: float, backend: str = backend, i: int = i) -> None:
            if progress is not None:
                progress(backend, (i + f) / len(order))

        try:
            row, outputs = _bench_one(graph, backend, args, repeat, tick)
            want = outputs if backend == "numpy" else want
            if want is not None:
                row.max_abs_err, row.max_rel_err = _max_errors(outputs, want)
        except Exception as exc:  # noqa: BLE001 - a failing backend is a row of the table
            row = BenchRow(backend, error=f"{backend}: {type(exc).__name__}: {exc}")
        results[backend] = row
    return results
