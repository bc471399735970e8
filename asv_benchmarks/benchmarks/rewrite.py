"""How long graph rewriting and compilation take (issue: compile speed)."""

from __future__ import annotations

import numpy as np

import croton
from croton.compile.shared import SharedVariable
from croton.demo import initial_parameters, training_graph
from croton.graph.fgraph import FunctionGraph
from croton.graph.traversal import free_inputs
from croton.rewrite import rewrite_graph


def mlp_training_fgraph(hidden: int = 64) -> FunctionGraph:
    """The (unrewritten) graph of the training step that ``croton demo`` compiles."""
    params = initial_parameters(np.random.default_rng(0), 2, hidden, 3)
    x, y, _, cost, updates = training_graph(params)
    outputs = [cost] + [value for _, value in updates]
    shared = [v for v in free_inputs(outputs) if isinstance(v, SharedVariable)]
    return FunctionGraph([x, y, *shared], outputs, clone=True)


class RewriteMLPTrainingStep:
    """Rewriting and compiling the ``croton demo`` training step (FAST_RUN)."""

    def setup(self):
        self.fgraph = mlp_training_fgraph()
        params = initial_parameters(np.random.default_rng(0), 2, 64, 3)
        self.x, self.y, _, self.cost, self.updates = training_graph(params)

    def time_rewrite(self):
        rewrite_graph(self.fgraph.clone(), mode="FAST_RUN")

    def time_rewrite_fast_compile(self):
        rewrite_graph(self.fgraph.clone(), mode="FAST_COMPILE")

    def time_compile(self):
        croton.function([self.x, self.y], self.cost, updates=self.updates, backend="numpy")

    def track_nodes_after_rewrite(self):
        fgraph = self.fgraph.clone()
        rewrite_graph(fgraph, mode="FAST_RUN")
        return len(fgraph.apply_nodes)

    track_nodes_after_rewrite.unit = "nodes"

    def track_nodes_before_rewrite(self):
        return len(self.fgraph.apply_nodes)

    track_nodes_before_rewrite.unit = "nodes"
