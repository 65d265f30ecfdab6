"""Graphs of many scalar inputs on Numba (issue 14, target 2): the whole-graph body takes them packed, one 1-d
array per dtype (``packed_inputs.py``), and no function of its module has a long parameter list or a long
basic block, so the cold compile grows linearly. Checked by the structure of the generated module (counts,
not times) and by values against the NumPy backend.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.codegen import body_source_of, emit_nodes
from graphwright.backends.numba_backend import wait_for_builds
from graphwright.backends.numba_backend.elementwise import PART_STATEMENTS
from graphwright.backends.numba_backend.kernels import impl_for
from graphwright.backends.numba_backend.one_module import module_text
from graphwright.backends.numba_backend.packed_inputs import PACK_SCALARS, PackedBody, packed_layout
from graphwright.backends.numba_backend.reduce_fusion import kernel_source as reduce_source
from graphwright.tensor.composite_reduce import CompositeReduce

pytest.importorskip("numba")


def chain(terms: int):
    """``acc + log(1 + exp(x * w_i))`` over ``terms`` scalar weights (bench_scale.py's chain family)."""
    x, ws = gw.vector("x"), [gw.scalar(f"w{i}") for i in range(terms)]
    acc = gw.log(1 + gw.exp(x * ws[0]))
    for w in ws[1:]:
        acc = acc + gw.log(1 + gw.exp(x * w))
    return [x, *ws], acc


def chain_data(terms: int, size: int = 7) -> list:
    rng = np.random.default_rng(terms)
    return [rng.uniform(-1, 1, size)] + [np.float64(v) for v in rng.uniform(-1, 1, terms)]


def whole_graph_module(inputs, outputs) -> ast.Module:
    """The parsed module of the whole-graph Numba body (as ``_cached_body`` makes it), compiling nothing."""
    graph = gw.function(inputs, outputs, backend="numpy").graph
    ns: dict = {}
    body = body_source_of(graph, emit_nodes(graph, impl_for, ns, free_dead=False))
    kernels = {k: v for k, v in ns.items() if k.startswith("_f")}
    layout = packed_layout([(v.type.dtype, v.type.ndim) for v in graph.inputs])
    header, text, _ = module_text(body, kernels, layout)
    return ast.parse("\n".join(header) + "\n" + text)


def longest_block(tree: ast.AST) -> int:
    """The longest run of simple statements (a basic block: ``if``, ``for`` ... end one) of any function."""
    longest = 0
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            run = 0
            statements = getattr(node, field, None)
            for stmt in statements if isinstance(statements, list) and not isinstance(node, ast.Module) else ():
                compound = isinstance(stmt, ast.If | ast.For | ast.While | ast.With | ast.Try | ast.FunctionDef)
                run = 0 if compound else run + 1
                longest = max(longest, run)
    return longest


def test_a_chain_of_1000_terms_is_a_module_of_short_functions():
    inputs, out = chain(1000)
    tree = whole_graph_module(inputs, [out])
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    (body,) = [f for f in functions if f.name == "graphwright_body"]
    assert [a.arg for a in body.args.args] == ["i0", "gw_packed_float64"]  # the vector, then 1,000 weights
    assert max(len(f.args.args) for f in functions) <= PART_STATEMENTS
    assert longest_block(tree) <= PART_STATEMENTS + 2  # a part's statements, its return (and a read)
    assert len(functions) >= 3000 // PART_STATEMENTS  # 1,000 products, softpluses and sums, in parts


def test_a_few_scalars_stay_parameters_of_their_own():
    inputs, out = chain(PACK_SCALARS)
    tree = whole_graph_module(inputs, [out])
    (body,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "graphwright_body"]
    assert len(body.args.args) == PACK_SCALARS + 1


def test_packed_scalars_give_the_numpy_values():
    inputs, out = chain(40)
    n = gw.scalar("n", dtype="int32")  # a second dtype; packed inputs used whole (an output, an op's input)
    outputs = [out, inputs[3], gw.cast(n, "float64") * inputs[5], gw.reshape(inputs[7], (1,))]
    data = chain_data(40) + [np.int32(3)]
    f = gw.function([*inputs, n], outputs, backend="numba")
    assert isinstance(f.fn.__globals__["_body"].__wrapped__, PackedBody)
    got = f(*data)
    want = gw.function([*inputs, n], outputs, backend="numpy")(*data)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=0)
        assert g.dtype == w.dtype and g.shape == w.shape
    got[1][()] = 42.0  # an input returned is the caller's own copy, as unpacked
    assert data[3] != 42.0 and f(*data)[1] == data[3]


def test_a_wrong_scalar_input_is_named():
    inputs, out = chain(40)
    f = gw.function(inputs, [out], backend="numba")
    data = chain_data(40)
    data[9] = np.ones(2)
    with pytest.raises(gw.InputError, match="input 9"):
        f(*data)


def test_a_long_composite_reduce_loop_is_split_into_parts():
    inputs, out = chain(100)
    cost = out.sum()
    graph = gw.function(inputs, [cost], backend="numpy").graph
    (node,) = [n for n in graph.toposort if isinstance(n.op, CompositeReduce)]
    source, _ = reduce_source(node)
    tree = ast.parse(source)
    assert sum(isinstance(f, ast.FunctionDef) and f.name.startswith("_part") for f in tree.body) >= 300 // 64
    assert longest_block(tree) <= PART_STATEMENTS + 2
    data = chain_data(100, size=300)
    got = gw.function(inputs, [cost], backend="numba")(*data)[0]
    np.testing.assert_allclose(got, gw.function(inputs, [cost], backend="numpy")(*data)[0], rtol=1e-12)


NEW_PROCESS = """
import json, sys
import numpy as np, graphwright as gw
gw.config.cache_dir = sys.argv[1]
x, ws = gw.vector("x"), [gw.scalar(f"w{i}") for i in range(40)]
acc = gw.log(1 + gw.exp(x * ws[0]))
for w in ws[1:]:
    acc = acc + gw.log(1 + gw.exp(x * w))
rng = np.random.default_rng(40)
data = [rng.uniform(-1, 1, 7)] + [np.float64(v) for v in rng.uniform(-1, 1, 40)]
out = gw.function([x, *ws], [acc], backend="numba")(*data)[0]
print(json.dumps({"out": out.tolist(), "numba": "numba" in sys.modules}))
"""


def test_a_packed_body_is_built_ahead_of_time_and_loaded_without_numba(tmp_path):
    if not shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]):
        pytest.skip("no C compiler: numba.pycc cannot build modules here")
    inputs, out = chain(40)
    saved = gw.config.cache_dir, gw.config.numba_aot
    gw.config.cache_dir, gw.config.numba_aot = str(tmp_path), "eager"
    try:
        gw.function(inputs, [out], backend="numba")
        assert wait_for_builds(timeout=300)
    finally:
        gw.config.cache_dir, gw.config.numba_aot = saved
    assert not list((tmp_path / "numba-aot").glob("*.failed")), (tmp_path / "numba-aot" / "build.log").read_text()
    run = subprocess.run([sys.executable, "-c", NEW_PROCESS, str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    want = gw.function(inputs, [out], backend="numpy")(*chain_data(40))[0]
    assert not result["numba"]  # the module loaded, its scalars packed by the Python wrapper
    np.testing.assert_allclose(result["out"], want, rtol=1e-13)
