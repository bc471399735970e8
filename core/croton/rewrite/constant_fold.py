"""Constant folding: a node whose inputs are all constants becomes a constant.

The value is computed by the reference backend, found through the registry like any
other backend.
"""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Constant
from croton.graph.fgraph import FunctionGraph
from croton.rewrite.engine import node_rewriter

#: results larger than this many elements stay computed at run time (no huge constants)
MAX_FOLDED_SIZE = 10_000


def _never_folded(op) -> bool:
    from croton.ops.map import Map
    from croton.printing import Print

    return isinstance(op, (Map, Print))  # (a Print prints when the function runs)


@node_rewriter(name="constant_fold")
def constant_fold(fgraph, node):
    """f(constants) -> constant."""
    from croton.backend import reference_backend
    from croton.tensor.variable import TensorConstant

    if (
        not node.inputs
        or not all(isinstance(v, Constant) for v in node.inputs)
        or _never_folded(node.op)
    ):
        return None
    for out in node.outputs:
        shape = out.type.shape
        if None not in shape and int(np.prod(shape, dtype=np.int64)) > MAX_FOLDED_SIZE:
            return None
    graph = FunctionGraph([], node.outputs, clone=True)
    values = reference_backend().compile(graph)()
    result = []
    for out, value in zip(node.outputs, values):
        value = np.asarray(value)
        if value.size > MAX_FOLDED_SIZE:
            return None
        value = np.array(value, dtype=out.type.dtype)
        value.setflags(write=False)
        result.append(TensorConstant(out.type.clone(shape=value.shape), value))
    return result
