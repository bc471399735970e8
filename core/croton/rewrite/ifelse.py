"""Rewrites of `IfElse`: simplification, and the move that makes it lazy.

``ifelse_simplify`` (an equilibrium pass)::

    ifelse(constant c, x, y)  -> x if c else y
    ifelse(c, x, x)           -> x            (per output)

``lazy_ifelse`` (a whole-graph pass, run after the passes of every mode) moves into each
`IfElse`, as two inner graphs, the nodes whose results only one branch uses
(transitively), so a backend runs them only when that branch is taken. A node that both
branches, the condition, or anything outside the op uses stays outside and is computed
before the choice. An ifelse only one branch of another uses moves into that branch,
already lazy.
"""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Apply, Constant, Variable
from croton.graph.fgraph import FunctionGraph
from croton.ops.ifelse import BranchGraph, IfElse
from croton.rewrite.engine import EquilibriumPass, GraphPass, RewriteStats, node_rewriter
from croton.rewrite.pattern import constant_source


def _plain_branches(node: Apply):
    n = node.op.n_outs
    return node.inputs[1 : 1 + n], node.inputs[1 + n :]


@node_rewriter(tracks=[IfElse], name="ifelse_constant_condition")
def ifelse_constant_condition(fgraph, node):
    """ifelse(constant c, x, y) -> x if c else y."""
    if node.op.lazy:
        return None
    source = constant_source(node.inputs[0])
    if source is None:
        return None
    then_values, else_values = _plain_branches(node)
    return list(then_values if np.asarray(source.data).item() != 0 else else_values)


def _same_value(a: Variable, b: Variable) -> bool:
    if a is b:
        return True
    return isinstance(a, Constant) and isinstance(b, Constant) and a.signature() == b.signature()


@node_rewriter(tracks=[IfElse], name="ifelse_same_branches")
def ifelse_same_branches(fgraph, node):
    """ifelse(c, x, x) -> x, for each output whose branches are the same value."""
    if node.op.lazy:
        return None
    then_values, else_values = _plain_branches(node)
    result = [t if _same_value(t, e) else None for t, e in zip(then_values, else_values)]
    return result if any(r is not None for r in result) else None


class OnlyWithIfElse:
    """Run ``rewrite_pass`` only on graphs that hold an `IfElse` (others skip it unseen)."""

    def __init__(self, rewrite_pass):
        self.rewrite_pass = rewrite_pass
        self.name = rewrite_pass.name

    def __call__(self, fgraph: FunctionGraph, stats: RewriteStats | None = None) -> RewriteStats:
        stats = stats or RewriteStats()
        if any(isinstance(node.op, IfElse) for node in fgraph.apply_nodes):
            self.rewrite_pass(fgraph, stats)
        return stats


simplify_pass = OnlyWithIfElse(
    EquilibriumPass("ifelse_simplify", [ifelse_constant_condition, ifelse_same_branches])
)


def _exclusive_nodes(fgraph: FunctionGraph, node: Apply, values, positions) -> list[Apply]:
    """The nodes computing ``values`` whose results only reach ``node`` at ``positions``,
    in execution order.

    A producer joins once every use of its results is accounted for (by ``node`` at
    ``positions`` or by a producer that joined), so the walk visits only the nodes that
    join and the producers just outside them: its cost does not grow with the rest of
    the graph.
    """
    graph_inputs = {id(v) for v in fgraph.inputs}
    unaccounted: dict[Apply, int] = {}
    joined: list[Apply] = []

    def account_for(var: Variable) -> None:
        producer = var.owner
        if producer is None or id(var) in graph_inputs or producer not in fgraph.apply_nodes:
            return
        if producer not in unaccounted:
            unaccounted[producer] = sum(len(fgraph.clients.get(o, {})) for o in producer.outputs)
        unaccounted[producer] -= 1
        if unaccounted[producer] == 0:
            joined.append(producer)

    for i in positions:
        account_for(node.inputs[i])
    k = 0
    while k < len(joined):  # a producer joins after all its clients: reversed order
        for var in joined[k].inputs:
            account_for(var)
        k += 1
    return joined[::-1]


def _branch(values, inside: list[Apply]) -> tuple[BranchGraph, list]:
    """The inner graph computing ``values`` with the ``inside`` nodes, and its arguments."""
    produced = {id(out) for n in inside for out in n.outputs}
    arguments: list[Variable] = []
    seen: set[int] = set()

    def need(var: Variable) -> None:
        if id(var) not in produced and not isinstance(var, Constant) and id(var) not in seen:
            seen.add(id(var))
            arguments.append(var)

    for n in inside:
        for var in n.inputs:
            need(var)
    for var in values:
        need(var)
    # The nodes move as they are (they leave the outer graph): the inner graph starts at
    # the outer variables it reads, which become the op's arguments. Nothing is copied.
    return BranchGraph(arguments, values), arguments


def _make_node_lazy(fgraph: FunctionGraph, node: Apply, stats: RewriteStats) -> None:
    n = node.op.n_outs
    then_values, else_values = _plain_branches(node)
    then_inside = _exclusive_nodes(fgraph, node, then_values, range(1, 1 + n))
    else_inside = _exclusive_nodes(fgraph, node, else_values, range(1 + n, 1 + 2 * n))
    if not then_inside and not else_inside:
        return  # nothing to skip: the plain form chooses between computed values
    then_graph, then_arguments = _branch(then_values, then_inside)
    else_graph, else_arguments = _branch(else_values, else_inside)
    lazy = IfElse(n, then_graph, else_graph, name=node.op.name)
    outputs = lazy(node.inputs[0], *then_arguments, *else_arguments)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    for old, new in zip(node.outputs, outputs):
        new.name = old.name
        fgraph.replace(old, new, reason="lazy_ifelse")
    stats.fired["lazy_ifelse"] += 1


def make_lazy(fgraph: FunctionGraph, stats: RewriteStats | None = None) -> None:
    """Make every plain `IfElse` in ``fgraph`` lazy.

    Producers first: an ifelse that only one branch of a later one uses is lazy by the
    time it moves into that branch, whole. Each node moves at most once, so the cost
    grows linearly with the graph, however deep ifelses nest.
    """
    stats = stats or RewriteStats()
    for node in fgraph.toposort():
        if node in fgraph.apply_nodes and isinstance(node.op, IfElse) and not node.op.lazy:
            _make_node_lazy(fgraph, node, stats)


lazy_pass = OnlyWithIfElse(GraphPass("lazy_ifelse", make_lazy))
