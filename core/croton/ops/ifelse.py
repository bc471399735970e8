"""`IfElse`: choose between two lists of values on a scalar condition, lazily.

A user builds the *plain* form, ``IfElse(n)(condition, *then_values, *else_values)``:
the branch values are ordinary inputs of the node. Compiling moves the nodes that only
one branch needs into the op, as that branch's *inner graph* (the ``lazy_ifelse`` pass
of `croton.rewrite.ifelse`), giving the *lazy* form
``IfElse(n, then_graph, else_graph)(condition, *then_arguments, *else_arguments)``,
whose backends run only the inner graph the condition selects. The plain form is the
lazy form whose inner graphs are empty (each output is one of the graph's inputs).
"""

from __future__ import annotations

from croton.graph.basic import Apply, Op, Variable
from croton.graph.type import TensorType


class BranchGraph:
    """One branch of a lazy `IfElse`: an inner graph from its arguments to its values."""

    def __init__(self, inputs, outputs):
        self.inputs = list(inputs)
        self.outputs = list(outputs)

    # the shape the numba backend's inner-graph compiler reads
    @property
    def inner_inputs(self) -> list[Variable]:
        return self.inputs

    @property
    def inner_outputs(self) -> list[Variable]:
        return self.outputs


def joined_type(then_type: TensorType, else_type: TensorType) -> TensorType:
    """The type of an output that is one of two values: static lengths where they agree."""
    shape = tuple(t if t == e else None for t, e in zip(then_type.shape, else_type.shape))
    return TensorType(then_type.dtype, shape=shape)


def as_condition(condition) -> Variable:
    """``condition`` as a 0-d tensor, or a `TypeError` saying what to do."""
    from croton.tensor.variable import as_tensor_variable

    condition = as_tensor_variable(condition)
    if condition.ndim != 0:
        raise TypeError(
            f"ifelse: the condition must be a scalar (0-d) tensor, got {condition} of type "
            f"{condition.type}. Reduce it to one value first (T.any, T.all), or use "
            f"T.switch for an elementwise choice."
        )
    return condition


class IfElse(Op):
    """``then`` values if the condition is nonzero, else ``else`` values.

    Parameters
    ----------
    n_outs
        The number of values each branch gives.
    then_graph, else_graph
        The inner graphs of the lazy form, or None for the plain form.
    name
        Shown when printing.
    """

    def __init__(
        self,
        n_outs: int,
        then_graph: BranchGraph | None = None,
        else_graph: BranchGraph | None = None,
        name: str | None = None,
    ):
        if (then_graph is None) != (else_graph is None):
            raise ValueError("IfElse takes both inner graphs or neither")
        self.n_outs = int(n_outs)
        self.then_graph = then_graph
        self.else_graph = else_graph
        self.name = name

    @property
    def lazy(self) -> bool:
        """True for the lazy form (the branches' computations are inside the op)."""
        return self.then_graph is not None

    # plain forms are equal by their number of outputs; a lazy one holds its own graphs
    def __eq__(self, other) -> bool:
        if self is other:
            return True
        return (
            type(other) is IfElse
            and not self.lazy
            and not other.lazy
            and self.n_outs == other.n_outs
        )

    def __hash__(self) -> int:
        return id(self) if self.lazy else hash((IfElse, self.n_outs))

    def __str__(self) -> str:
        kind = "lazy" if self.lazy else "plain"
        name = f"{self.name}, " if self.name else ""
        return f"IfElse{{{name}{kind}, {self.n_outs} outputs}}"

    __repr__ = __str__

    def n_arguments(self) -> tuple[int, int]:
        """How many outer inputs after the condition feed each branch."""
        if not self.lazy:
            return self.n_outs, self.n_outs
        return len(self.then_graph.inputs), len(self.else_graph.inputs)

    def branch_graphs(self, node: Apply) -> tuple[BranchGraph, BranchGraph]:
        """The two inner graphs; for the plain form, graphs that pass their inputs on."""
        if self.lazy:
            return self.then_graph, self.else_graph
        then_args, else_args = self.split(node.inputs)
        then_inputs = [v.type() for v in then_args]
        else_inputs = [v.type() for v in else_args]
        return BranchGraph(then_inputs, then_inputs), BranchGraph(else_inputs, else_inputs)

    def split(self, inputs):
        """``(then_arguments, else_arguments)`` from a node's inputs (after the condition)."""
        n_then, _ = self.n_arguments()
        return list(inputs[1 : 1 + n_then]), list(inputs[1 + n_then :])

    def make_node(self, condition, *arguments) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        condition = as_condition(condition)
        n_then, n_else = self.n_arguments()
        if len(arguments) != n_then + n_else:
            raise ValueError(
                f"{self} takes a condition and {n_then + n_else} values, got {len(arguments)}"
            )
        arguments = [as_tensor_variable(a) for a in arguments]
        if self.lazy:
            then_values, else_values = self.then_graph.outputs, self.else_graph.outputs
            for outer, inner in zip(arguments, self.then_graph.inputs + self.else_graph.inputs):
                if not inner.type.is_compatible(outer.type):
                    raise TypeError(f"{self}: argument {outer} ({outer.type}) is not {inner.type}")
        else:
            then_values, else_values = arguments[:n_then], arguments[n_then:]
        outputs = []
        for i, (t, e) in enumerate(zip(then_values, else_values, strict=True)):
            check_branch_types(i, t, e)
            outputs.append(joined_type(t.type, e.type)())
        return Apply(self, [condition, *arguments], outputs)

    def infer_shape(self, node, input_shapes):
        from croton.tensor.shape import shape

        if self.lazy:
            then_shapes = [tuple(v.type.shape) for v in self.then_graph.outputs]
            else_shapes = [tuple(v.type.shape) for v in self.else_graph.outputs]
        else:
            then_shapes = input_shapes[1 : 1 + self.n_outs]
            else_shapes = input_shapes[1 + self.n_outs :]
        result = []
        for out, then_shape, else_shape in zip(node.outputs, then_shapes, else_shapes):
            # A length the branches agree on is known without running either. Another
            # length is the output's own: an ifelse of the branches' lengths would need
            # a branch's value outside the op, which would no longer be lazy.
            result.append(
                tuple(
                    t if t is not None and (t is e or _equal_ints(t, e)) else shape(out)[axis]
                    for axis, (t, e) in enumerate(zip(then_shape, else_shape))
                )
            )
        return result

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor.shape import zeros_like

        if self.lazy:
            raise NotImplementedError(
                "a lazy IfElse exists only in compiled graphs; differentiate the graph "
                "built by croton.ifelse.ifelse instead"
            )
        n = self.n_outs
        then_values, else_values = inputs[1 : 1 + n], inputs[1 + n :]
        # integer outputs pass no gradient on
        real = [i for i in range(n) if outputs[i].type.dtype[0] in "fc"]
        then_grads, else_grads = [None] * n, [None] * n
        if real:
            grads = [_as_dtype(output_grads[i], outputs[i].type.dtype) for i in real]
            then_zeros = [zeros_like(then_values[i]) for i in real]
            else_zeros = [zeros_like(else_values[i]) for i in real]
            chosen_then = _as_list(IfElse(len(real))(inputs[0], *grads, *then_zeros))
            chosen_else = _as_list(IfElse(len(real))(inputs[0], *else_zeros, *grads))
            for k, i in enumerate(real):
                then_grads[i], else_grads[i] = chosen_then[k], chosen_else[k]
        # the condition is piecewise constant: no gradient
        return [None, *then_grads, *else_grads]


def check_branch_types(position: int, then_value: Variable, else_value: Variable) -> None:
    """A `TypeError` naming the output unless both branches give the same dtype and rank."""
    if then_value.type.dtype != else_value.type.dtype:
        raise TypeError(
            f"ifelse: output {position} is {then_value} of dtype {then_value.type.dtype} in "
            f"the then branch but {else_value} of dtype {else_value.type.dtype} in the else "
            f"branch. Both branches must have the same dtype: cast one of them "
            f"(x.astype('{then_value.type.dtype}'))."
        )
    if then_value.type.ndim != else_value.type.ndim:
        raise TypeError(
            f"ifelse: output {position} is {then_value} with {then_value.type.ndim} "
            f"dimension(s) in the then branch but {else_value} with {else_value.type.ndim} "
            f"in the else branch. Both branches must have the same number of dimensions "
            f"(reshape or broadcast one of them)."
        )


def _equal_ints(a, b) -> bool:
    return isinstance(a, int) and isinstance(b, int) and a == b


def _as_dtype(var, dtype: str):
    return var if var.type.dtype == dtype else var.astype(dtype)


def _as_list(result) -> list:
    return list(result) if isinstance(result, (list, tuple)) else [result]
