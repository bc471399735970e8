"""The expression graph: variables, applications, ops, types and function graphs."""

from croton.graph.basic import Apply, Constant, Op, Variable
from croton.graph.fgraph import FunctionGraph
from croton.graph.traversal import ancestors, clone_graph, clone_replace, graph_inputs, toposort
from croton.graph.type import TensorType

__all__ = [
    "Apply",
    "Constant",
    "FunctionGraph",
    "Op",
    "TensorType",
    "Variable",
    "ancestors",
    "clone_graph",
    "clone_replace",
    "graph_inputs",
    "toposort",
]
