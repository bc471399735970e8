"""The numpy rule for `IfElse`: each branch's inner graph compiled by this backend; a
call runs only the one the condition picks."""

from __future__ import annotations

import numpy as np

from croton.ops.ifelse import IfElse
from croton_numpy.lowering import lowers


def _compiled_branch(graph):
    from croton.graph.fgraph import FunctionGraph
    from croton_numpy.backend import NumpyBackend

    return NumpyBackend.shared().compile(FunctionGraph(graph.inputs, graph.outputs))


@lowers(IfElse)
def _ifelse(op, node):
    then_graph, else_graph = op.branch_graphs(node)
    run_then, run_else = _compiled_branch(then_graph), _compiled_branch(else_graph)
    n_then, _ = op.n_arguments()
    dtypes = [np.dtype(out.type.dtype) for out in node.outputs]

    def kernel(condition, *arguments):
        if condition != 0:  # nan counts as true, as in Python
            results = run_then(*arguments[:n_then])
        else:
            results = run_else(*arguments[n_then:])
        # a branch that passes an argument on returns a copy, as other kernels do
        return tuple(
            np.array(r, dtype=d) if any(r is a for a in arguments) else np.asarray(r, dtype=d)
            for r, d in zip(results, dtypes, strict=True)
        )

    if len(node.outputs) > 1:
        return kernel
    return lambda *args: kernel(*args)[0]
