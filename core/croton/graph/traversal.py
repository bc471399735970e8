"""Graph walks: topological order, ancestors, cloning. None of them recurse on depth."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from croton.graph.basic import Apply, Constant, Variable


def toposort(outputs: Iterable[Variable], stop_at: Iterable[Variable] = ()) -> list[Apply]:
    """The `Apply` nodes that compute ``outputs``, each after the nodes it depends on.

    Variables in ``stop_at`` are treated as inputs: their owners are not visited.
    """
    stop = set(map(id, stop_at))
    order: list[Apply] = []
    done: set[int] = set()
    for out in outputs:
        if out.owner is None or id(out) in stop or id(out.owner) in done:
            continue
        stack: list[tuple[Apply, int]] = [(out.owner, 0)]
        done.add(id(out.owner))
        while stack:
            node, i = stack[-1]
            if i < len(node.inputs):
                stack[-1] = (node, i + 1)
                parent = node.inputs[i].owner
                if parent is not None and id(parent) not in done and id(node.inputs[i]) not in stop:
                    done.add(id(parent))
                    stack.append((parent, 0))
            else:
                stack.pop()
                order.append(node)
    return order


def ancestors(outputs: Iterable[Variable], stop_at: Iterable[Variable] = ()) -> list[Variable]:
    """Every variable ``outputs`` depend on, outputs included, inputs before users."""
    seen: set[int] = set()
    result: list[Variable] = []
    outputs = list(outputs)
    for node in toposort(outputs, stop_at):
        for var in node.inputs:
            if id(var) not in seen:
                seen.add(id(var))
                result.append(var)
        for var in node.outputs:
            if id(var) not in seen:
                seen.add(id(var))
                result.append(var)
    for var in outputs:
        if id(var) not in seen:
            seen.add(id(var))
            result.append(var)
    return result


def graph_inputs(outputs: Iterable[Variable], stop_at: Iterable[Variable] = ()) -> list[Variable]:
    """The variables without owner (constants included) that ``outputs`` depend on."""
    stop = set(map(id, stop_at))
    return [v for v in ancestors(outputs, stop_at) if v.owner is None or id(v) in stop]


def free_inputs(outputs: Iterable[Variable]) -> list[Variable]:
    """`graph_inputs` without constants: what a caller must provide."""
    return [v for v in graph_inputs(outputs) if not isinstance(v, Constant)]


def clone_replace(
    outputs: Sequence[Variable],
    replace: Mapping[Variable, Variable] | None = None,
    *,
    rebuild: Callable[[Apply, list[Variable]], Apply] | None = None,
) -> list[Variable]:
    """Rebuild the graph of ``outputs`` with ``replace`` substituted.

    Nodes whose inputs did not change are reused; the others are re-made with
    ``op.make_node`` so types are inferred again. Returns the new outputs.
    """
    memo: dict[int, Variable] = {id(k): v for k, v in (replace or {}).items()}
    rebuild = rebuild or (lambda node, inputs: node.op.make_node(*inputs))
    for node in toposort(outputs, stop_at=list(replace or {})):
        inputs = [memo.get(id(v), v) for v in node.inputs]
        if all(new is old for new, old in zip(inputs, node.inputs)):
            continue
        new_node = rebuild(node, inputs)
        for old, new in zip(node.outputs, new_node.outputs):
            if new.name is None:
                new.name = old.name
            memo[id(old)] = new
    return [memo.get(id(v), v) for v in outputs]


def clone_graph(
    inputs: Sequence[Variable], outputs: Sequence[Variable]
) -> tuple[list[Variable], list[Variable], dict[int, Variable]]:
    """A copy of the graph between ``inputs`` and ``outputs`` sharing no nodes.

    Returns the new inputs, the new outputs, and a map from ``id(old)`` to new variable.
    Constants are shared, not copied.
    """
    memo: dict[int, Variable] = {}
    new_inputs = []
    for var in inputs:
        new = var if isinstance(var, Constant) else var.clone()
        memo[id(var)] = new
        new_inputs.append(new)
    for node in toposort(outputs, stop_at=inputs):
        # inputs not in ``inputs`` (shared variables, constants) are shared, not copied
        new_in = [memo.get(id(v), v) for v in node.inputs]
        new_outputs = [type(o)(o.type, None, None, o.name) for o in node.outputs]
        for o, n in zip(node.outputs, new_outputs):
            n.creation = o.creation
            memo[id(o)] = n
        Apply(node.op, new_in, new_outputs)
    return new_inputs, [memo.get(id(v), v) for v in outputs], memo


def clone(output, replace=None, strict: bool = True, share_inputs: bool = True):
    """A copy of the graph of ``output`` (a variable or a list), with ``replace``
    (``{variable: replacement}`` or pairs) substituted, as Theano's ``clone``.

    The copy shares no node with the original. With ``strict`` a replacement must have
    its variable's type; otherwise the graph above it is typed again. With
    ``share_inputs=False`` the copy's inputs are new variables too (shared variables and
    constants are always shared).
    """
    from croton.compile.shared import SharedVariable
    from croton.tensor.variable import as_tensor_variable

    single = not isinstance(output, (list, tuple))
    outputs = [output] if single else list(output)
    pairs = list(replace.items()) if isinstance(replace, Mapping) else list(replace or ())
    substitutions = {}
    for old, new in pairs:
        new = as_tensor_variable(new)
        if strict and new.type != old.type:
            raise TypeError(
                f"clone: {old} ({old.type}) cannot be replaced by {new} ({new.type}) with "
                "strict=True; cast the replacement or pass strict=False"
            )
        substitutions[old] = new
    outputs = clone_replace(outputs, substitutions)
    inputs = (
        []
        if share_inputs
        else [v for v in free_inputs(outputs) if not isinstance(v, (Constant, SharedVariable))]
    )
    _, copies, _ = clone_graph(inputs, outputs)
    return copies[0] if single else copies
