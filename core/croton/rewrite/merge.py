"""Merging: identical constants become one, and so do identical nodes (same op, same inputs)."""

from __future__ import annotations

from croton.graph.basic import Constant
from croton.graph.fgraph import FunctionGraph
from croton.rewrite.engine import GraphPass, RewriteStats


def merge_graph(fgraph: FunctionGraph, stats: RewriteStats) -> None:
    """Replace every duplicate constant and node by its first occurrence."""
    constants: dict = {}
    for var in [v for v in list(fgraph.clients) if isinstance(v, Constant)]:
        key = var.signature()
        first = constants.setdefault(key, var)
        if first is not var and fgraph.clients.get(var):
            fgraph.replace(var, first, reason="merge")
            stats.fired["merge: constant"] += 1
    seen: dict = {}
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes:
            continue
        key = (node.op, tuple(id(v) for v in node.inputs))
        first = seen.get(key)
        if first is None:
            seen[key] = node
            continue
        for old, new in zip(node.outputs, first.outputs):
            fgraph.replace(old, new, reason="merge")
        stats.fired["merge: node"] += 1


merge_pass = GraphPass("merge", merge_graph)
