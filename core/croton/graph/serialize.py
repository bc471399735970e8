"""Flat (non-recursive) serialisation of graphs, so deep graphs pickle.

Python's pickle follows object references recursively and fails on graphs thousands of
nodes deep. `dump_graph` lists the nodes in topological order with numbered references
instead; root variables (inputs, constants, shared variables) are kept as objects.
"""

from __future__ import annotations

from collections.abc import Sequence

from croton.graph.basic import Apply, Variable
from croton.graph.traversal import toposort


def dump_graph(outputs: Sequence[Variable]) -> dict:
    """A picklable, flat description of the graph computing ``outputs``."""
    refs: dict[int, tuple] = {}
    roots: list[Variable] = []
    nodes = []

    def ref(var: Variable) -> tuple:
        if id(var) not in refs:
            refs[id(var)] = ("root", len(roots))
            roots.append(var)
        return refs[id(var)]

    for k, node in enumerate(toposort(outputs)):
        inputs = [ref(v) for v in node.inputs]
        outs = []
        for j, out in enumerate(node.outputs):
            refs[id(out)] = ("node", k, j)
            outs.append((out.type, out.name, type(out), out.creation))
        nodes.append((node.op, inputs, outs))
    return {"roots": roots, "nodes": nodes, "outputs": [ref(v) for v in outputs]}


def load_graph(state: dict) -> list[Variable]:
    """The output variables described by a `dump_graph` state."""
    roots = state["roots"]
    built: list[list[Variable]] = []

    def resolve(r: tuple) -> Variable:
        return roots[r[1]] if r[0] == "root" else built[r[1]][r[2]]

    for op, inputs, outs in state["nodes"]:
        outputs = []
        for type_, name, cls, creation in outs:
            var = cls(type_, None, None, name)
            var.creation = creation
            outputs.append(var)
        Apply(op, [resolve(r) for r in inputs], outputs)
        built.append(outputs)
    return [resolve(r) for r in state["outputs"]]
