"""The rule for `Map`: an inner graph evaluated at ``i = 0 .. n-1``, results stacked.

The inner graph is lowered like any graph and run inside the outer trace, in one of
three ways:

- vectorised with ``jax.vmap`` over the index, the usual case (jacobians);
- unrolled, one traced copy per step, when the index decides a shape in the inner
  graph (``x[:i]``): each copy sees its index as a constant;
- eagerly, step by step outside jit, when the inner graph itself has barriers.

The number of steps gives the output shape, so it is a concrete input.
"""

from __future__ import annotations

import numpy as np

from croton.ops.map import Map
from croton_jax.checks import report_code
from croton_jax.lazy_jax import jax, jnp
from croton_jax.lowering.common import concrete, lowers, needs_concrete, single_output


@lowers(Map)
def _map(op, node):
    from croton_jax.compiler import lower_inner_graph

    inner = lower_inner_graph(op.inner_inputs, op.inner_outputs)
    dtypes = [o.type.dtype for o in node.outputs]
    if inner.has_barriers:
        kernel = _eager_map(inner, dtypes)
    elif 0 in inner.static_inputs:
        kernel = _unrolled_map(inner, dtypes)
    else:
        kernel = _vectorised_map(inner, dtypes)
    concrete_positions = [0] + [p for p in inner.static_inputs if p > 0]
    return single_output(needs_concrete(kernel, concrete_positions), node)


def _stack(rows, dtypes):
    return tuple(
        jnp.stack(column).astype(d)
        for column, d in zip(zip(*rows, strict=True), dtypes, strict=True)
    )


def _index(i: int) -> np.ndarray:
    return np.asarray(i, dtype="int64")


def _empty(step, invariants, dtypes, static_shapes):
    """Zero steps: the lengths of a step's result from a trial step, as the numpy backend.

    Where the trial step fails, lengths of unknown static size are taken as 0.
    """
    try:
        shapes = [o.shape for o in step(_index(0), *invariants)]
    except Exception:
        shapes = static_shapes
    return tuple(jnp.zeros((0, *s), dtype=d) for s, d in zip(shapes, dtypes, strict=True))


def _static_shapes(inner):
    return [tuple(0 if s is None else s for s in o.type.shape) for o in inner.outputs]


def _vectorised_map(inner, dtypes):
    static_shapes = _static_shapes(inner)

    def kernel(n_steps, *invariants):
        n = int(concrete(n_steps, "the number of Map steps"))
        if n == 0:
            return _empty(_traced_step(inner), invariants, dtypes, static_shapes)

        def one_step(i):
            return inner.run_traced([i, *invariants])

        outputs, codes = jax.vmap(one_step)(jnp.arange(n, dtype="int64"))
        if codes is not None:
            report_code(jnp.min(codes))
        return tuple(o.astype(d) for o, d in zip(outputs, dtypes, strict=True))

    return kernel


def _traced_step(inner):
    def step(i, *invariants):
        return inner.run_traced([i, *invariants])[0]

    return step


def _unrolled_map(inner, dtypes):
    static_shapes = _static_shapes(inner)

    def kernel(n_steps, *invariants):
        n = int(concrete(n_steps, "the number of Map steps"))
        if n == 0:
            return _empty(_traced_step(inner), invariants, dtypes, static_shapes)
        rows = []
        for i in range(n):
            outputs, code = inner.run_traced([_index(i), *invariants])
            report_code(code)
            rows.append(outputs)
        return _stack(rows, dtypes)

    return kernel


def _eager_map(inner, dtypes):
    from croton_jax.program import JaxExecutable

    run = JaxExecutable(inner)
    static_shapes = _static_shapes(inner)

    def kernel(n_steps, *invariants):
        n = int(np.asarray(n_steps))
        if n == 0:
            return _empty(run, invariants, dtypes, static_shapes)
        return _stack([run(_index(i), *invariants) for i in range(n)], dtypes)

    kernel.runs_eagerly = True
    return kernel
