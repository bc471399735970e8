"""``fuse``: connected elementwise nodes become one ``Elemwise(Composite)``, and an
elementwise producer of a reduction becomes the reduction's prologue. A reduction of
transposed inputs then reduces the inputs themselves, in their memory order.

A producer joins its consumer's group only if every client of its output is in the
group (so nothing is computed twice) and its output is not broadcast by the consumer
(so no element is computed more than once).
"""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Apply, Variable
from croton.graph.fgraph import OUTPUT, FunctionGraph
from croton.ops.composite import Composite
from croton.ops.elemwise import DimShuffle, Elemwise
from croton.ops.reduce import Reduce
from croton.rewrite.engine import GraphPass, RewriteStats
from croton.rewrite.pattern import constant_source

#: a fused loop takes at most this many inputs (backends pass them as arguments)
MAX_FUSED_INPUTS = 32


def _is_elemwise(node: Apply | None) -> bool:
    return node is not None and isinstance(node.op, Elemwise)


def _same_iteration_space(var: Variable, out: Variable) -> bool:
    """True if ``var`` has one element per element of ``out`` (no broadcasting)."""
    return var.ndim == out.ndim and all(
        (a == 1) == (b == 1) for a, b in zip(var.type.shape, out.type.shape)
    )


def _scalar_literal(var: Variable):
    """The value of a one-element constant, or None."""
    source = constant_source(var)
    if source is None or np.asarray(source.data).size != 1:
        return None
    value = np.asarray(source.data).reshape(()).item()
    return value


def _group(
    fgraph: FunctionGraph, root: Apply, taken: set[int], position: dict[int, int]
) -> list[Apply]:
    """The elementwise nodes that can fuse into ``root``, in topological order."""
    out = root.outputs[0]
    members = {id(root): root}
    frontier = [root]
    while frontier:
        node = frontier.pop()
        for var in node.inputs:
            producer = var.owner
            if not _is_elemwise(producer) or id(producer) in members or id(producer) in taken:
                continue
            if len(producer.outputs) != 1 or not _same_iteration_space(var, out):
                continue
            clients = fgraph.clients.get(var, [])
            if any(client == OUTPUT or id(client) not in members for client, _ in clients):
                continue
            members[id(producer)] = producer
            frontier.append(producer)
    return sorted(members.values(), key=lambda n: position[id(n)])


def _composite_for(nodes: list[Apply]) -> tuple[Composite, list[Variable]]:
    """The composite running ``nodes`` and the outer variables it reads."""
    produced = {id(n.outputs[0]): step for step, n in enumerate(nodes)}
    inputs: list[Variable] = []
    positions: dict[int, int] = {}
    program = []
    for node in nodes:
        args = []
        for var in node.inputs:
            if id(var) in produced:
                args.append(("step", produced[id(var)]))
                continue
            literal = _scalar_literal(var)
            if literal is not None and not isinstance(literal, complex):
                args.append(("literal", literal, var.dtype))
                continue
            if id(var) not in positions:
                positions[id(var)] = len(inputs)
                inputs.append(var)
            args.append(("input", positions[id(var)]))
        program.append((node.op.scalar_op, tuple(args), node.outputs[0].dtype))
    program = _flatten_composites(program)
    return Composite([v.dtype for v in inputs], program), inputs


def _flatten_composites(program):
    """Inline steps that are themselves composites, so programs stay flat."""
    flat, index_of = [], {}
    for step, (op, args, dtype) in enumerate(program):
        args = tuple(("step", index_of[a[1]]) if a[0] == "step" else a for a in args)
        if isinstance(op, Composite):
            offset = len(flat)
            for inner_op, inner_args, inner_dtype in op.program:
                mapped = []
                for a in inner_args:
                    if a[0] == "input":
                        mapped.append(args[a[1]])
                    elif a[0] == "step":
                        mapped.append(("step", offset + a[1]))
                    else:
                        mapped.append(a)
                flat.append((inner_op, tuple(mapped), inner_dtype))
        else:
            flat.append((op, args, dtype))
        index_of[step] = len(flat) - 1
    return flat


def fuse_elementwise(fgraph: FunctionGraph, stats: RewriteStats) -> None:
    """Fuse each maximal group of connected elementwise nodes into one node."""
    taken: set[int] = set()
    order = fgraph.toposort()
    position = {id(n): i for i, n in enumerate(order)}
    for node in reversed(order):
        if id(node) in taken or node not in fgraph.apply_nodes or not _is_elemwise(node):
            continue
        group = _group(fgraph, node, taken, position)
        taken.update(id(n) for n in group)
        if len(group) < 2:
            continue
        composite, inputs = _composite_for(group)
        if not inputs or len(inputs) > MAX_FUSED_INPUTS:
            continue
        fused = Elemwise(composite)(*inputs)
        fgraph.replace(node.outputs[0], fused, reason="fuse_elementwise")
        stats.fired["fuse_elementwise"] += 1


def fuse_reduction_prologue(fgraph: FunctionGraph, stats: RewriteStats) -> None:
    """sum(f(x, y)) -> one Reduce that applies f while it reduces."""
    for node in fgraph.toposort():
        if (
            not isinstance(node.op, Reduce)
            or node.op.prologue is not None
            or node not in fgraph.apply_nodes
        ):
            continue
        (var,) = node.inputs
        producer = var.owner
        if not _is_elemwise(producer) or len(fgraph.clients.get(var, [])) != 1:
            continue
        if any(c == OUTPUT for c, _ in fgraph.clients[var]):
            continue
        scalar_op = producer.op.scalar_op
        if isinstance(scalar_op, Composite):
            composite, inputs = scalar_op, producer.inputs
        else:
            composite, inputs = _composite_for([producer])
        if len(inputs) > MAX_FUSED_INPUTS:
            continue
        fused = Reduce(node.op.kind, node.op.axis, node.outputs[0].dtype, prologue=composite)(
            *inputs
        )
        fgraph.replace(node.outputs[0], fused, reason="fuse_reduction")
        stats.fired["fuse_reduction_prologue"] += 1


def _permutation(var: Variable) -> tuple[int, ...] | None:
    """The axes of a ``DimShuffle`` that only reorders its input's axes, or None."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, DimShuffle):
        return None
    order = owner.op.new_order
    if "x" in order or len(order) != owner.op.input_ndim or order == tuple(range(len(order))):
        return None
    return order


def reduce_untransposed(fgraph: FunctionGraph, stats: RewriteStats) -> None:
    """sum(x.T, axis=1) -> sum(x, axis=0): a reduction whose inputs are all the same
    transpose reads the untransposed arrays (in memory order, where loops over the
    transpose would read across rows); its result is transposed back where the kept
    axes change order."""
    for node in fgraph.toposort():
        if not isinstance(node.op, Reduce) or node not in fgraph.apply_nodes:
            continue
        full = [v for v in node.inputs if v.ndim > 0]
        orders = {_permutation(v) for v in full}
        if len(orders) != 1 or None in orders:
            continue
        (order,) = orders
        if any(v.ndim != len(order) for v in full):
            continue
        sources = [v.owner.inputs[0] if v.ndim > 0 else v for v in node.inputs]
        axes = tuple(sorted(order[a] for a in node.op.axis))
        kept = [order[d] for d in range(len(order)) if d not in node.op.axis]
        op = Reduce(node.op.kind, axes, node.outputs[0].dtype, node.op.prologue)
        reduced = op(*sources)
        back = tuple(sorted(kept).index(d) for d in kept)
        if back != tuple(range(len(back))):
            reduced = reduced.dimshuffle(back)
        fgraph.replace(node.outputs[0], reduced, reason="reduce_untransposed")
        stats.fired["reduce_untransposed"] += 1


def _fuse(fgraph: FunctionGraph, stats: RewriteStats) -> None:
    fuse_elementwise(fgraph, stats)
    fuse_reduction_prologue(fgraph, stats)
    reduce_untransposed(fgraph, stats)


fuse_pass = GraphPass("fuse", _fuse)
