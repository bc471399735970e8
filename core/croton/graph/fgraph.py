"""FunctionGraph: a graph with fixed inputs and outputs that rewrites can edit."""

from __future__ import annotations

from collections.abc import Sequence

from croton.graph.basic import Apply, Constant, Variable
from croton.graph.traversal import clone_graph, toposort

#: the client used for a variable that is a graph output: ``(OUTPUT, position)``
OUTPUT = "output"


class MissingInputError(ValueError):
    """An output depends on a variable that is neither an input nor a constant."""


class FunctionGraph:
    """The subgraph between ``inputs`` and ``outputs``, with client lists.

    Parameters
    ----------
    inputs, outputs
        The graph's boundary. Every non-constant root variable the outputs depend on
        must be among the inputs.
    clone
        Copy the graph first (the default), so edits do not touch the user's graph.
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable], clone: bool = True):
        if clone:
            inputs, outputs, _ = clone_graph(inputs, outputs)
        self.inputs: list[Variable] = list(inputs)
        self.outputs: list[Variable] = list(outputs)
        # clients[var] is an insertion-ordered set (a dict of None) of (node, input index)
        self.clients: dict[Variable, dict[tuple[Apply | str, int], None]] = {
            v: {} for v in self.inputs
        }
        self.apply_nodes: set[Apply] = set()
        #: objects told of edits: ``on_import(fgraph, node)``, ``on_prune(fgraph, node)``
        self.listeners: list = []
        for node in toposort(self.outputs, stop_at=self.inputs):
            self._import_node(node)
        for i, out in enumerate(self.outputs):
            self._check_reachable(out)
            self.clients.setdefault(out, {})[(OUTPUT, i)] = None

    def _check_reachable(self, var: Variable) -> None:
        if var.owner is None and var not in self.clients and not isinstance(var, Constant):
            raise MissingInputError(
                f"the graph needs the value of {var} ({var.type}), which is not an input. "
                f"Add it to the inputs, or use givens to replace it.\n{var.where()}"
            )

    def _import_node(self, node: Apply) -> None:
        self.apply_nodes.add(node)
        for i, var in enumerate(node.inputs):
            if var.owner is None:
                self._check_reachable(var)
            self.clients.setdefault(var, {})[(node, i)] = None
        for out in node.outputs:
            self.clients.setdefault(out, {})
        for listener in self.listeners:
            listener.on_import(self, node)

    def toposort(self) -> list[Apply]:
        """The nodes in an order where each comes after its inputs' producers."""
        return toposort(self.outputs, stop_at=self.inputs)

    @property
    def variables(self) -> set[Variable]:
        return set(self.clients)

    def replace(self, old: Variable, new: Variable, reason: str | None = None) -> None:
        """Make every client of ``old`` use ``new`` instead, importing new nodes."""
        if old.type != new.type and not old.type.is_compatible(new.type):
            raise TypeError(f"cannot replace {old} ({old.type}) by {new} ({new.type}) ({reason})")
        if new is old:
            return
        fresh = self._new_nodes(new)
        for node in fresh:
            self._import_node(node)
        if fresh and old.creation is not None:
            new.creation = old.creation  # errors in the new node point at the user's code
        if new.owner is None:
            self._check_reachable(new)
        self.clients.setdefault(new, {})
        for client, i in self.clients.pop(old, {}):
            if client == OUTPUT:
                self.outputs[i] = new
            else:
                client.inputs[i] = new
            self.clients[new][(client, i)] = None
        self.clients[old] = {}
        self._prune_from(old)

    def _new_nodes(self, var: Variable) -> list[Apply]:
        """Nodes computing ``var`` that are not in the graph yet, inputs first."""
        order: list[Apply] = []
        seen: set[int] = set()
        stack = (
            [(var.owner, 0)] if var.owner is not None and var.owner not in self.apply_nodes else []
        )
        while stack:
            node, i = stack[-1]
            if i < len(node.inputs):
                stack[-1] = (node, i + 1)
                parent = node.inputs[i].owner
                fresh = (
                    parent is not None and parent not in self.apply_nodes and id(parent) not in seen
                )
                if fresh and node.inputs[i] not in self.clients:
                    seen.add(id(parent))
                    stack.append((parent, 0))
            else:
                stack.pop()
                order.append(node)
        return order

    def _prune_from(self, var: Variable) -> None:
        """Drop nodes that no longer reach an output, starting at ``var``'s producer."""
        stack = [var]
        while stack:
            v = stack.pop()
            node = v.owner
            if node is None and not self.clients.get(v) and all(v is not i for i in self.inputs):
                self.clients.pop(v, None)  # a constant nothing uses any more
            if node is None or node not in self.apply_nodes:
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for listener in self.listeners:
                listener.on_prune(self, node)
            for o in node.outputs:
                self.clients.pop(o, None)
            for i, inp in enumerate(node.inputs):
                clients = self.clients.get(inp)
                if clients is not None:
                    clients.pop((node, i), None)
                    if not clients:
                        stack.append(inp)

    def clone(self) -> FunctionGraph:
        return FunctionGraph(self.inputs, self.outputs, clone=True)

    def __str__(self) -> str:
        return f"FunctionGraph({len(self.apply_nodes)} nodes, {len(self.outputs)} outputs)"
