"""The IR: Variable, Constant, Apply, Op, Type and the Graph value."""

from graphwright.graph.basic import Apply, Constant, GraphError, Op, Type, Variable
from graphwright.graph.graph import Graph, ancestors, clone, free_inputs, replace, toposort

__all__ = ["Apply", "Constant", "GraphError", "Op", "Type", "Variable", "Graph", "ancestors", "clone",
           "free_inputs", "replace", "toposort"]
