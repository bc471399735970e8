"""The rule for `IfElse`: ``jax.lax.cond`` over the two branches' inner graphs.

Each branch's inner graph is lowered like any graph and traced inside ``lax.cond``, so
the compiled program runs only the branch the condition picks (on CPU and GPU, XLA's
conditional executes one branch; under ``jax.vmap`` it becomes a select of both).
Where the condition is known while tracing, only the chosen branch is traced. Branches
whose static shapes differ need the condition known while tracing: a condition that is
an input of the function becomes static, any other makes the node run eagerly. A
branch whose inner graph has barriers (steps that must run outside jit) makes the
whole node run eagerly, outside jit, on the chosen branch only.
"""

from __future__ import annotations

import numpy as np

from croton.ops.ifelse import IfElse
from croton_jax.checks import NO_ERROR, report_code
from croton_jax.lazy_jax import is_traced, jax, jnp
from croton_jax.lowering.common import lowers, needs_concrete, single_output


@lowers(IfElse)
def _ifelse(op, node):
    from croton_jax.compiler import lower_inner_graph

    then_graph, else_graph = op.branch_graphs(node)
    then_plan = lower_inner_graph(then_graph.inputs, then_graph.outputs)
    else_plan = lower_inner_graph(else_graph.inputs, else_graph.outputs)
    n_then, _ = op.n_arguments()
    dtypes = [np.dtype(o.type.dtype) for o in node.outputs]
    if then_plan.has_barriers or else_plan.has_barriers:
        return single_output(_eager_ifelse(then_plan, else_plan, n_then, dtypes), node)
    kernel = _traced_ifelse(then_plan, else_plan, n_then, dtypes)
    # values an inner graph needs while tracing (a slice bound) are needed by the node
    concrete = [1 + p for p in then_plan.static_inputs]
    concrete += [1 + n_then + p for p in else_plan.static_inputs]
    if _shapes_differ(then_graph.outputs, else_graph.outputs):
        # lax.cond cannot choose between shapes: the condition must be known while
        # tracing (an input: one compilation per value), or the node runs eagerly
        concrete.insert(0, 0)
    if concrete:
        kernel = needs_concrete(kernel, concrete)
    return single_output(kernel, node)


def _shapes_differ(then_values, else_values) -> bool:
    """True if the branches' static shapes show that some output's lengths differ."""
    return any(
        t is not None and e is not None and t != e
        for then_value, else_value in zip(then_values, else_values, strict=True)
        for t, e in zip(then_value.type.shape, else_value.type.shape, strict=True)
    )


def _cast(outputs, dtypes):
    return tuple(jnp.asarray(o).astype(d) for o, d in zip(outputs, dtypes, strict=True))


def _traced_ifelse(then_plan, else_plan, n_then, dtypes):
    def branch(plan):
        def run(arguments):
            outputs, code = plan.run_traced(list(arguments))
            code = jnp.asarray(NO_ERROR if code is None else code, dtype="int32")
            return _cast(outputs, dtypes), code

        return run

    run_then, run_else = branch(then_plan), branch(else_plan)

    def kernel(condition, *arguments):
        then_arguments, else_arguments = arguments[:n_then], arguments[n_then:]
        if not is_traced(condition):  # known while tracing: trace the chosen branch only
            if np.asarray(condition) != 0:
                outputs, code = run_then(then_arguments)
            else:
                outputs, code = run_else(else_arguments)
        else:
            then_run, then_operands = _binding_concrete(run_then, then_arguments)
            else_run, else_operands = _binding_concrete(run_else, else_arguments)
            try:
                outputs, code = jax.lax.cond(
                    condition != 0,
                    lambda t, e: then_run(t),
                    lambda t, e: else_run(e),
                    then_operands,
                    else_operands,
                )
            except TypeError as error:
                raise TypeError(
                    f"ifelse on the jax backend: under jax.jit both branches must give "
                    f"values of the same shapes, and they do not ({error}). Make the "
                    f"shapes agree, or use another backend."
                ) from None
        report_code(code)
        return outputs

    return kernel


def _binding_concrete(run, arguments):
    """``run`` taking only the traced ``arguments``, the concrete ones bound in: an
    operand of ``lax.cond`` is traced inside it, and a value a branch needs while
    tracing (an allocation's shape) must stay concrete."""
    positions = [i for i, a in enumerate(arguments) if is_traced(a)]

    def bound(traced):
        values = list(arguments)
        for i, value in zip(positions, traced, strict=True):
            values[i] = value
        return run(values)

    return bound, tuple(arguments[i] for i in positions)


def _eager_ifelse(then_plan, else_plan, n_then, dtypes):
    from croton_jax.program import JaxExecutable

    run_then, run_else = JaxExecutable(then_plan), JaxExecutable(else_plan)

    def kernel(condition, *arguments):
        if np.asarray(condition) != 0:
            outputs = run_then(*arguments[:n_then])
        else:
            outputs = run_else(*arguments[n_then:])
        return _cast(outputs, dtypes)

    kernel.runs_eagerly = True
    return kernel
