"""Graphwright: a static computational-graph engine (``import graphwright as gw``)."""

from graphwright import rules as _rules  # registers the rule library with the phases  # noqa: E402, I001
from graphwright import tensor  # every op family; the package is callable: gw.tensor("x") is the constructor
from graphwright.backends.codegen import GraphRuntimeError, InputError
from graphwright.backends.compile import Function, UnsupportedOpWarning, function
from graphwright.backends.registry import UnsupportedOpError, available_backends
from graphwright.backends.disk_cache import clear_cache
from graphwright.config import config
from graphwright.graph import Apply, Constant, Graph, GraphError, Op, Variable, clone, replace, toposort
from graphwright.printing import dprint, short_str
from graphwright.rewrite import RewriteError, Rule, RuleSet, Trace, rewrite
from graphwright.tensor import elemwise as _elemwise
from graphwright.tensor.creation import (
    alloc,
    arange,
    broadcast_to,
    eye,
    full,
    full_like,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from graphwright.tensor.cumulative import cumprod, cumsum
from graphwright.tensor.elemwise import *  # every row of the scalar table (exp, log1p, ...), cast, switch, where
from graphwright.tensor.indexing import IndexingError, getitem, inc_subtensor, set_subtensor
from graphwright.tensor.join import concatenate, split, stack
from graphwright.tensor.linalg import dot, matmul, outer, tensordot
from graphwright.tensor.nn import log_softmax, softmax
from graphwright.tensor.reduce import all, any, max, mean, min, prod, std, sum, var
from graphwright.tensor.reduce_special import argmax, argmin, logsumexp
from graphwright.tensor.shape import dimshuffle, expand_dims, flatten, reshape, shape_of, squeeze, transpose
from graphwright.tensor.type import TensorType
from graphwright.tensor.random_type import RNGType, rng_var
from graphwright.graph.basic import Type
from graphwright.tensor.grad_control import disconnected_grad, grad_clip, grad_scale, zero_grad
from graphwright.tensor.assume import assume
from graphwright import facts, linalg, nn, random  # the public namespaces gw.facts, gw.linalg, gw.nn, gw.random
from graphwright.tensor.grad_util import NotDifferentiableError
from graphwright.tensor.variable import (
    TensorConstant,
    TensorVariable,
    as_tensor,
    constant,
    matrix,
    scalar,
    tensor3,
    tensor4,
    vector,
)

from graphwright.transforms import (
    DisconnectedInputError,
    GradientCheckError,
    grad,
    hessian,
    hessian_vector_product,
    jacobian,
    jvp,
    vectorize,
    vectorize_graph,
    verify_grad,
    vjp,
)

__version__ = "0.1.0"

__all__ = [
    # graph and compilation
    "Apply", "Constant", "Graph", "GraphError", "Op", "Variable", "clone", "replace", "toposort", "function",
    "Function", "InputError", "GraphRuntimeError", "IndexingError", "dprint", "short_str",
    "rewrite", "Rule", "RuleSet", "Trace", "RewriteError", "config", "clear_cache", "available_backends",
    "UnsupportedOpError", "UnsupportedOpWarning",
    # transformations
    "grad", "verify_grad", "DisconnectedInputError", "GradientCheckError", "NotDifferentiableError",
    "zero_grad", "disconnected_grad", "grad_clip", "grad_scale", "vjp", "jvp", "jacobian", "hessian",
    "hessian_vector_product", "vectorize", "vectorize_graph", "assume",
    # types and inputs
    "TensorType", "TensorVariable", "TensorConstant", "as_tensor", "constant", "scalar", "vector", "matrix",
    "tensor", "tensor3", "tensor4", "Type", "RNGType", "rng_var",
    # op families
    "alloc", "arange", "broadcast_to", "eye", "full", "full_like", "ones", "ones_like", "zeros", "zeros_like",
    "cumprod", "cumsum", "getitem", "inc_subtensor", "set_subtensor", "concatenate", "split", "stack", "dot",
    "matmul", "outer", "tensordot", "log_softmax", "softmax", "all", "any", "argmax", "argmin", "logsumexp", "max",
    "mean", "min", "prod", "std", "sum", "var", "dimshuffle", "expand_dims", "flatten", "reshape", "shape_of",
    "squeeze", "transpose",
    *_elemwise.__all__,
]


def load_ipython_extension(ipython):  # pragma: no cover - exercised by the notebook tests
    """``%load_ext graphwright``: delegate to the kernel extension (imported lazily)."""
    from graphwright.kernel_ext import load_ipython_extension as load

    load(ipython)
