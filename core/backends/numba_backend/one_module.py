"""A whole graph as one Numba source module: the body with the source of every kernel it calls spliced in.

Compiling each node's kernel as its own Numba function costs a fixed overhead per kernel (a dispatcher, a
compile pipeline, an LLVM module optimised and turned into machine code, a cache entry), and the body then
optimises the linked kernels once more. Here the statements of each kernel are copied into the body at the
call, its locals renamed per call (``out0`` of node 3 becomes ``out0_f3``) and its globals per kernel (defined
once at the top of the module), and its ``return`` becomes the assignment of the node's outputs. The graph
is then one function, typed, lowered and optimised once. A kernel whose ``return`` is not its last statement
is defined in the module instead and marked ``inline='always'`` (Numba splices its IR in before typing).
Kernels that kernels call (e.g. a Blockwise core) stay separate compiled functions, injected by name. A graph
of many scalar inputs gets a body taking them packed (``packed_inputs.py``).
"""

from __future__ import annotations

import ast

from graphwright.backends.numba_backend.kernels import kernel_global
from graphwright.backends.numba_backend.packed_inputs import Layout, pack_body

__all__ = ["module_text", "can_inline"]

HEADER = ["import cmath", "import math", "", "import numba", "import numpy as np",
          "from numpy.lib.stride_tricks import as_strided"]


def can_inline(kernel) -> bool:
    """Whether ``kernel`` was generated from source (by ``njit_source``) and so can be copied into a module."""
    return hasattr(kernel, "gw_parts")


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]):
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(self.names.get(node.id, node.id), node.ctx), node)


def _kernel_def(source: str) -> ast.FunctionDef:
    """The kernel's function (``def kernel``, or the source's only function)."""
    defs = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    (fn,) = [n for n in defs if n.name == "kernel"] if len(defs) > 1 else defs
    return fn


def _helpers(source: str) -> tuple[list[ast.stmt], list[str]]:
    """What a kernel's source defines besides ``def kernel`` (the njit parts of a long loop body, see
    ``elementwise.split_into_parts``), minus imports, and the names it binds."""
    extra = [n for n in ast.parse(source).body
             if not (isinstance(n, ast.FunctionDef) and n.name == "kernel") and not isinstance(n, ast.Import)]
    names = [n.name if isinstance(n, ast.FunctionDef) else t.id for n in extra
             for t in ([n] if isinstance(n, ast.FunctionDef) else n.targets) if not isinstance(t, ast.Attribute)]
    return extra, sorted(set(names))


def _module_helpers(extra: list[ast.stmt], globals_: dict[str, str]) -> list[str]:
    """A kernel's helper definitions as module-level source, their names and globals renamed per kernel."""
    rename = _Rename(globals_)
    out = []
    for stmt in extra:
        stmt = rename.visit(ast.parse(ast.unparse(stmt)).body[0])
        if isinstance(stmt, ast.FunctionDef):
            stmt.name = globals_.get(stmt.name, stmt.name)
        out.append(ast.unparse(ast.fix_missing_locations(stmt)))
    return out


def _splices(fn: ast.FunctionDef) -> bool:
    """Whether the kernel's only ``return`` is its last statement (so its statements can replace the call)."""
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    return len(returns) == 1 and fn.body[-1] is returns[0] and returns[0].value is not None


def _locals(fn: ast.FunctionDef) -> set[str]:
    stored = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del)}
    return stored | {a.arg for a in fn.args.args}


def _spliced(fn: ast.FunctionDef, globals_: dict[str, str], call: ast.Call, targets: ast.expr, site: str
             ) -> list[ast.stmt]:
    """The kernel's statements for one call: arguments bound to renamed parameters, the return assigned to the
    call's targets."""
    names = dict(globals_)
    names.update({name: f"{name}_{site}" for name in _locals(fn)})
    # a parameter the kernel never assigns is read as the call's argument itself when that is a plain name:
    # no copy (a copy of an array is one more reference for every exit path of the function to release)
    stored = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del)}
    params = []
    for a, arg in zip(fn.args.args, call.args, strict=True):
        if isinstance(arg, ast.Name) and a.arg not in stored:
            names[a.arg] = arg.id
        else:
            params.append(ast.Assign([ast.Name(f"{a.arg}_{site}", ast.Store())], arg))
    rename = _Rename(names)
    body = [rename.visit(ast.parse(ast.unparse(stmt)).body[0]) for stmt in fn.body]  # a fresh copy, renamed
    body[-1] = ast.Assign([targets], body[-1].value)
    return params + body


def module_text(body_source: str, kernels: dict[str, object], layout: Layout | None = None
                ) -> tuple[list[str], str, dict]:
    """The module defining ``graphwright_body`` with the kernels it calls by name (``_f3`` ...) spliced in,
    taking its scalar inputs packed as ``layout`` says, if given (``packed_inputs.py``).

    Returns the header lines (imports and the kernels' constants), the rest of the text (kernels that could
    not be spliced, and the body), and the objects to inject into the module by name (compiled kernels that
    kernels call).
    """
    header = list(HEADER)
    defined: list[str] = []
    injected: dict = {}
    prepared: dict[int, tuple] = {}  # id(kernel) -> (its def, its globals' new names, its tag)
    for _, kernel in sorted(kernels.items()):
        if id(kernel) in prepared:
            continue
        tag = f"k{len(prepared)}"
        source, names = kernel.gw_parts
        extra, helper_names = _helpers(source)
        globals_ = {g: f"{g}_{tag}" for g in [g for g, _ in names] + helper_names}
        for g, value in names:
            line, obj = kernel_global(globals_[g], value)
            header.append(line)
            if obj is not None:
                injected[globals_[g]] = obj
        defined.extend(_module_helpers(extra, globals_))
        prepared[id(kernel)] = (_kernel_def(source), globals_, tag)

    as_functions: set[str] = set()

    def called(name: str) -> None:  # the kernel defined as a function of the module, inlined by Numba
        fn, globals_, tag = prepared[id(kernels[name])]
        if tag not in as_functions:
            as_functions.add(tag)
            fn = _Rename(globals_).visit(_kernel_def(ast.unparse(fn)))
            fn.name = f"kernel_{tag}"
            defined.extend([ast.unparse(fn), f"kernel_{tag} = numba.njit(kernel_{tag}, inline='always', "
                                             "error_model='numpy')\n"])
        defined.append(f"{name} = kernel_{tag}")

    body = _kernel_def(body_source)
    statements: list[ast.stmt] = []
    for stmt in body.body:
        call = stmt.value if isinstance(stmt, ast.Assign) else None
        name = call.func.id if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) else None
        if name not in kernels:
            statements.append(stmt)
            continue
        fn, globals_, _ = prepared[id(kernels[name])]
        if _splices(fn) and len(stmt.targets) == 1 and not call.keywords:
            statements += _spliced(fn, globals_, call, stmt.targets[0], name.lstrip("_"))
        else:
            called(name)
            statements.append(stmt)
    body.body = statements
    if layout is not None:
        body = pack_body(body, layout)
    return header, "\n".join(defined) + "\n\n\n" + ast.unparse(ast.fix_missing_locations(body)) + "\n", injected
