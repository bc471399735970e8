"""`Map`: evaluate an inner graph for ``i = 0 .. n-1`` and stack the results.

This is the loop behind `jacobian` and `hessian`. Everything in the inner graph that
does not depend on ``i`` is computed once, outside the loop, and passed in.
"""

from __future__ import annotations

from croton.graph.basic import Apply, Constant, Op
from croton.graph.traversal import clone_graph, toposort
from croton.graph.type import TensorType


class Map(Op):
    """Stack ``inner_outputs`` evaluated at ``index = 0 .. n_steps - 1``.

    Inputs: ``n_steps`` then the loop-invariant values, in the order of
    ``inner_inputs[1:]`` (``inner_inputs[0]`` is the index).
    """

    def __init__(self, inner_inputs, inner_outputs):
        self.inner_inputs = list(inner_inputs)
        self.inner_outputs = list(inner_outputs)

    # Each Map holds its own graph: equal only to itself.
    def __eq__(self, other) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __str__(self) -> str:
        return f"Map{{{len(self.inner_outputs)} outputs}}"

    def make_node(self, n_steps, *invariants) -> Apply:
        from croton.ops.shape import _int_scalar, static_value

        n_steps = _int_scalar(n_steps, "the number of Map steps")
        steps = static_value(n_steps)
        length = None if steps is None else int(steps)
        outputs = [TensorType(o.dtype, shape=(length, *o.type.shape))() for o in self.inner_outputs]
        return Apply(self, [n_steps, *invariants], outputs)

    def infer_shape(self, node, input_shapes):
        from croton.tensor.shape import shape

        n_steps = node.inputs[0]
        return [
            (
                n_steps,
                *(shape(o)[i + 1] if s is None else s for i, s in enumerate(inner.type.shape)),
            )
            for o, inner in zip(node.outputs, self.inner_outputs, strict=True)
        ]

    def L_op(self, inputs, outputs, output_grads):
        """The sum over steps of each step's vector-Jacobian product, as a `Scan`.

        The loop runs over the step index and the rows of the output gradients; each
        invariant's gradient accumulates in a loop state, so the result is itself
        differentiable (a hessian of something holding a jacobian works).
        """
        from croton.autodiff import grad
        from croton.ops.scan import apply_scan, clone_inner
        from croton.tensor.shape import arange, zeros_like

        n_steps, invariants = inputs[0], inputs[1:]
        placeholders = [v.type() for v in self.inner_inputs]
        inner_outputs = clone_inner(self.inner_inputs, self.inner_outputs, placeholders)
        sequences = [(arange(n_steps, dtype="int64"), placeholders[0])]
        seeds = {}
        for out, g in zip(inner_outputs, output_grads, strict=True):
            if out.dtype.startswith(("float", "complex")):
                row = g[0].type()
                sequences.append((g, row))
                seeds[out] = row if out not in seeds else seeds[out] + row
        wrt = [p for p in placeholders[1:] if p.dtype.startswith(("float", "complex"))]
        if not seeds or not wrt:
            return [None] * len(inputs)
        vjps = dict(
            zip(map(id, wrt), grad(None, wrt, disconnected_inputs="ignore", known_grads=seeds))
        )
        states, owners = [], []
        for i, (outer, p) in enumerate(zip(invariants, placeholders[1:], strict=True)):
            if id(p) not in vjps:
                continue
            total = p.type()
            states.append(
                {
                    "initial": zeros_like(outer)[None],
                    "taps": [-1],
                    "inner": {-1: total},
                    "output": (total + vjps[id(p)]).astype(total.dtype),
                    "keep": "last",
                }
            )
            owners.append(i)
        constants = list(zip(invariants, placeholders[1:], strict=True))
        finals = apply_scan(n_steps, sequences, states, [], constants, name="Map gradient")
        grads = [None] * len(inputs)
        for i, final in zip(owners, finals, strict=True):
            grads[1 + i] = final[0]
        return grads


def map_over_index(index, n_steps, outputs):
    """Loop ``outputs`` (expressions of the int64 scalar ``index``) over ``range(n_steps)``.

    Parameters
    ----------
    index
        The loop variable: an int64 scalar input that ``outputs`` may depend on.
    n_steps
        The number of steps, an integer scalar.
    outputs
        Expressions evaluated at each step.

    Returns
    -------
    list of TensorVariable
        For each output, its values at every step, stacked along a new first axis.
    """
    nodes = toposort(outputs)
    dependent = {id(index)}
    for node in nodes:
        if any(id(v) in dependent for v in node.inputs):
            dependent.update(id(o) for o in node.outputs)
    invariants, seen = [], set()
    for node in nodes:
        if not any(id(o) in dependent for o in node.outputs):
            continue
        for v in node.inputs:
            if id(v) not in dependent and not isinstance(v, Constant) and id(v) not in seen:
                seen.add(id(v))
                invariants.append(v)
    for o in outputs:  # an output that does not depend on the index is just repeated
        if id(o) not in dependent and not isinstance(o, Constant) and id(o) not in seen:
            seen.add(id(o))
            invariants.append(o)
    inner_inputs, inner_outputs, _ = clone_graph([index, *invariants], outputs)
    result = Map(inner_inputs, inner_outputs)(n_steps, *invariants)
    return result if isinstance(result, list) else [result]
