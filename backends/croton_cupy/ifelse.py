"""Lazy ifelse: the condition is read on the host, and only the branch it picks runs.

Each branch's inner graph is compiled by the registered cupy backend when the node is
lowered, so a call runs the chosen branch's device kernels and never the other's.
Reading the condition waits for the device: the choice of which kernels to launch is
the host's.
"""

from __future__ import annotations

import numpy as np

from croton.ops.ifelse import IfElse
from croton_cupy.lowering import lowers


def _compiled_branch(graph):
    from croton.graph.fgraph import FunctionGraph
    from croton_cupy.backend import CupyBackend

    return CupyBackend.shared().compile(FunctionGraph(graph.inputs, graph.outputs))


@lowers(IfElse)
def _ifelse(op, node):
    from croton_cupy.runtime import load_cupy

    then_graph, else_graph = op.branch_graphs(node)
    run_then, run_else = _compiled_branch(then_graph), _compiled_branch(else_graph)
    n_then, _ = op.n_arguments()
    dtypes = [np.dtype(out.type.dtype) for out in node.outputs]

    def kernel(condition, *arguments):
        cupy = load_cupy()
        if bool(condition != 0):  # nan counts as true, as in Python
            results = run_then(*arguments[:n_then])
        else:
            results = run_else(*arguments[n_then:])
        # a branch that passes an argument on returns a copy, as other kernels do
        return tuple(
            cupy.array(r, dtype=d) if any(r is a for a in arguments) else cupy.asarray(r, dtype=d)
            for r, d in zip(results, dtypes, strict=True)
        )

    if len(node.outputs) > 1:
        return kernel
    return lambda *args: kernel(*args)[0]
