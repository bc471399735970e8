"""Rewrites of `Scan` loops.

``scan_loop``: work in the loop body that depends only on the loop's constants is
computed once, before the loop; outputs nobody reads are dropped, and so are states
that only feed themselves (or other dropped outputs), with the inputs only they read.
An until condition is always kept, with the states and inputs it reads.

``scan_inner``: each loop body is rewritten with the same passes as the graph around
it (canonicalize, stabilize, specialize, fuse), once per loop.

``map_inner``: the same for the body of a `Map` (the loop of ``jacobian`` and
``hessian``). A hessian of something holding a jacobian nests loops in loops; left
as autodiff wrote them, their bodies repeat work that merging removes and run
unfused, and a backend that compiles them compiles all of it.
"""

from __future__ import annotations

from croton.graph.basic import Constant
from croton.graph.fgraph import FunctionGraph
from croton.graph.traversal import toposort
from croton.ops.map import Map
from croton.ops.scan import Scan, clone_inner
from croton.rewrite.engine import GraphPass, RewriteStats


def _loop_nodes(fgraph, op_class, *, rewritten: bool = True) -> list:
    """The nodes of ``op_class`` (in order); with ``rewritten=False``, only those whose
    body has not been rewritten yet."""
    return [
        node
        for node in fgraph.toposort()
        if isinstance(node.op, op_class)
        and (rewritten or not getattr(node.op, "inner_rewritten", False))
    ]


def _rebuild(op: Scan, node, inner_inputs, inner_outputs, keep_states, keep_mapped, keep_inputs):
    """A copy of ``node`` with some states, mapped outputs and inputs left out.

    ``keep_inputs`` lists, for the new op, (outer input, inner input) pairs of the
    sequences and constants; states keep their inputs.
    """
    _, _, buffers, _ = op.split_inputs(node.inputs)
    sequences = [pair for pair in keep_inputs if pair[2] == "sequence"]
    constants = [pair for pair in keep_inputs if pair[2] == "constant"]
    roles = op.inner_input_roles
    state_inner = []
    for j in keep_states:
        state_inner += [
            v for v, role in zip(inner_inputs, roles) if role[0] == "state" and role[1] == j
        ]
    new_op = Scan(
        [inner for _, inner, _ in sequences] + state_inner + [inner for _, inner, _ in constants],
        [inner_outputs[j] for j in keep_states]
        + [inner_outputs[op.n_states + m] for m in keep_mapped]
        + inner_outputs[op.n_states + op.n_mapped :],  # the until condition, if any
        n_sequences=len(sequences),
        state_taps=[op.state_taps[j] for j in keep_states],
        state_keeps=[op.state_keeps[j] for j in keep_states],
        n_mapped=len(keep_mapped),
        n_constants=len(constants),
        truncate_gradient=op.truncate_gradient,
        name=op.name,
        has_until=op.has_until,
    )
    new_op.inner_rewritten = getattr(op, "inner_rewritten", False)
    return new_op.make_node(
        node.inputs[0],
        *[outer for outer, _, _ in sequences],
        *[buffers[j] for j in keep_states],
        *[outer for outer, _, _ in constants],
    )


def _hoist(op: Scan, node):
    """Move loop-invariant inner nodes out; returns (inner outputs, extra constants)."""
    _, _, _, constants = op.split_inputs(node.inputs)
    roles = op.inner_input_roles
    constant_inner = [v for v, role in zip(op.inner_inputs, roles) if role[0] == "constant"]
    invariant = set(map(id, constant_inner))
    nodes = toposort(op.inner_outputs, stop_at=op.inner_inputs)
    for inner_node in nodes:
        if all(id(v) in invariant or isinstance(v, Constant) for v in inner_node.inputs):
            invariant.update(id(o) for o in inner_node.outputs)
    # the invariant values the loop body still needs: read by variant nodes, or outputs
    frontier, seen = [], set()
    for inner_node in nodes:
        if all(id(o) in invariant for o in inner_node.outputs):
            continue
        for v in inner_node.inputs:
            if id(v) in invariant and v.owner is not None and id(v) not in seen:
                seen.add(id(v))
                frontier.append(v)
    for v in op.inner_outputs:
        if id(v) in invariant and v.owner is not None and id(v) not in seen:
            seen.add(id(v))
            frontier.append(v)
    if not frontier:
        return op.inner_outputs, []
    outer_values = clone_inner(constant_inner, frontier, constants)
    placeholders = [v.type() for v in frontier]
    inner_outputs = clone_inner(frontier, op.inner_outputs, placeholders)
    return inner_outputs, list(zip(outer_values, placeholders, strict=True))


def _depends(outputs, inputs) -> list[set[int]]:
    """For each output, the ids of the ``inputs`` it reads."""
    wanted = set(map(id, inputs))
    result = []
    for out in outputs:
        reads = {id(out)} & wanted
        for inner_node in toposort([out], stop_at=inputs):
            reads |= {id(v) for v in inner_node.inputs} & wanted
        result.append(reads)
    return result


def simplify_loop(fgraph, node, stats) -> bool:
    """Hoist invariant work out of one loop and drop what nobody reads."""
    op = node.op
    inner_outputs, hoisted = _hoist(op, node)
    used = [bool(fgraph.clients.get(out)) for out in node.outputs]
    roles = op.inner_input_roles
    reads = _depends(inner_outputs, op.inner_inputs + [inner for _, inner in hoisted])
    state_of = {id(v): role[1] for v, role in zip(op.inner_inputs, roles) if role[0] == "state"}
    keep_states = {j for j in range(op.n_states) if used[j]}
    keep_mapped = [m for m in range(op.n_mapped) if used[op.n_states + m]]
    # an until condition decides how long the loop runs: it is always kept
    condition = [op.n_states + op.n_mapped] if op.has_until else []
    changed = True
    while changed:  # a kept output keeps the states it reads
        changed = False
        for i in list(keep_states) + [op.n_states + m for m in keep_mapped] + condition:
            for var_id in reads[i]:
                j = state_of.get(var_id)
                if j is not None and j not in keep_states:
                    keep_states.add(j)
                    changed = True
    keep_states = sorted(keep_states)
    needed = set()
    for i in keep_states + [op.n_states + m for m in keep_mapped] + condition:
        needed |= reads[i]
    _, sequences, _, constants = op.split_inputs(node.inputs)
    outer_of = {}
    for inner, role in zip(op.inner_inputs, roles):
        if role[0] == "sequence":
            outer_of[id(inner)] = sequences[role[1]]
        elif role[0] == "constant":
            outer_of[id(inner)] = constants[role[1]]
    keep_inputs = [
        (outer_of[id(inner)], inner, role[0])
        for inner, role in zip(op.inner_inputs, roles)
        if role[0] != "state" and id(inner) in needed
    ]
    keep_inputs += [(outer, inner, "constant") for outer, inner in hoisted if id(inner) in needed]
    dropped_inputs = sum(role[0] != "state" for role in roles) + len(hoisted) - len(keep_inputs)
    if (
        not hoisted
        and len(keep_states) == op.n_states
        and len(keep_mapped) == op.n_mapped
        and dropped_inputs == 0
    ):
        return False
    new_node = _rebuild(
        op, node, op.inner_inputs, inner_outputs, keep_states, keep_mapped, keep_inputs
    )
    old_outputs = [node.outputs[j] for j in keep_states] + [
        node.outputs[op.n_states + m] for m in keep_mapped
    ]
    for old, new in zip(old_outputs, new_node.outputs, strict=True):
        if fgraph.clients.get(old):
            fgraph.replace(old, new, reason="scan_loop")
    if hoisted:
        stats.fired["scan_loop: hoist invariant work"] += 1
    if len(keep_states) < op.n_states or len(keep_mapped) < op.n_mapped:
        stats.fired["scan_loop: drop unused outputs"] += 1
    return True


def _loop_pass(fgraph, stats) -> None:
    for node in _loop_nodes(fgraph, Scan):
        if node in fgraph.apply_nodes:
            simplify_loop(fgraph, node, stats)


def _rewritten_body(op):
    """``(inputs, outputs)`` of a copy of ``op``'s inner graph, rewritten like the
    graph around it (its own loops' bodies included)."""
    from croton.rewrite import rewrite_graph

    inner = FunctionGraph(op.inner_inputs, op.inner_outputs, clone=True)
    rewrite_graph(inner, mode="FAST_RUN")
    return inner.inputs, inner.outputs


def _replace_loop(fgraph, node, new_op, stats, reason: str) -> None:
    """Put ``new_op`` (marked rewritten) in ``node``'s place, on the same inputs."""
    new_op.inner_rewritten = True
    try:
        new_node = new_op.make_node(*node.inputs)
        pairs = list(zip(node.outputs, new_node.outputs, strict=True))
        if any(not old.type.is_compatible(new.type) for old, new in pairs):
            return
    except TypeError:
        return
    for old, new in pairs:
        if fgraph.clients.get(old):
            fgraph.replace(old, new, reason=reason.partition(":")[0])
    stats.fired[reason] += 1


def _inner_pass(fgraph, stats) -> None:
    for node in _loop_nodes(fgraph, Scan, rewritten=False):
        if node not in fgraph.apply_nodes:
            continue
        op = node.op
        inputs, outputs = _rewritten_body(op)
        new_op = Scan(
            inputs,
            outputs,
            op.n_sequences,
            op.state_taps,
            op.state_keeps,
            op.n_mapped,
            op.n_constants,
            op.truncate_gradient,
            op.name,
            has_until=op.has_until,
        )
        _replace_loop(fgraph, node, new_op, stats, "scan_inner: rewrite the loop body")


def _map_inner_pass(fgraph, stats) -> None:
    for node in _loop_nodes(fgraph, Map, rewritten=False):
        if node in fgraph.apply_nodes:
            new_op = Map(*_rewritten_body(node.op))
            _replace_loop(fgraph, node, new_op, stats, "map_inner: rewrite the loop body")


class OnlyWith:
    """Run a pass only on graphs that hold a ``loop`` op (so others show no time for it)."""

    def __init__(self, loop: type, rewrite_pass: GraphPass):
        self.loop = loop
        self.rewrite_pass = rewrite_pass
        self.name = rewrite_pass.name

    def __call__(self, fgraph, stats: RewriteStats | None = None) -> RewriteStats:
        stats = stats or RewriteStats()
        if any(isinstance(node.op, self.loop) for node in fgraph.apply_nodes):
            self.rewrite_pass(fgraph, stats)
        return stats


loop_pass = OnlyWith(Scan, GraphPass("scan_loop", _loop_pass))
inner_pass = OnlyWith(Scan, GraphPass("scan_inner", _inner_pass))
map_inner_pass = OnlyWith(Map, GraphPass("map_inner", _map_inner_pass))
