"""The rule for `Scan`: ``jax.lax.scan`` over the inner graph, one compiled loop.

The execution contract is in `croton.ops.scan.Scan`'s docstring. The loop's carry holds,
for each state ``j``, its last ``L[j]`` values (a window of ``L[j]`` arrays, oldest
first, that every step shifts by one); the sliced sequence rows are scanned over; state
histories and per-step outputs are stacked by ``lax.scan``. The inner graph is lowered
like any graph and traced once, inside the loop body.

The number of steps sets the output shapes, so it is a concrete input; so are the
constants the inner graph needs while tracing (a slice bound). When the inner graph has
barriers, or needs a sequence row or a state while tracing, the node runs eagerly
instead: step by step outside jit, the inner graph a jitted program of its own. So does
a loop with an until condition, whose output lengths depend on the data: it stops after
the first step whose condition holds.
"""

from __future__ import annotations

import numpy as np

from croton.ops.scan import Scan
from croton_jax.checks import NO_ERROR, report_code
from croton_jax.lazy_jax import jax, jnp
from croton_jax.lowering.common import concrete, lowers, needs_concrete, single_output


@lowers(Scan)
def _scan(op, node):
    from croton_jax.compiler import lower_inner_graph

    inner = lower_inner_graph(op.inner_inputs, op.inner_outputs)
    layout = _Layout(op, node)
    roles = op.inner_input_roles
    traced_needs = [p for p in inner.static_inputs if roles[p][0] != "constant"]
    if op.has_until or inner.has_barriers or traced_needs:
        return single_output(_eager_scan(inner, layout), node)
    # outer position of constant m: after n_steps, the sequences and the buffers
    first_constant = 1 + op.n_sequences + op.n_states
    constants = [first_constant + roles[p][1] for p in inner.static_inputs]
    kernel = needs_concrete(_traced_scan(inner, layout), [0, *constants])
    return single_output(kernel, node)


class _Layout:
    """What the kernels need of the op and node: sizes, taps, dtypes, checks."""

    def __init__(self, op, node):
        self.n_sequences = op.n_sequences
        self.n_states = op.n_states
        self.n_results = op.n_states + op.n_mapped  # the until condition comes after
        self.has_until = op.has_until
        self.lengths = op.state_lengths
        self.taps = op.state_taps
        self.keeps = op.state_keeps
        self.dtypes = [np.dtype(o.type.dtype) for o in node.outputs]
        self.state_dtypes = self.dtypes[: op.n_states]
        self.mapped_dtypes = self.dtypes[op.n_states :]
        # zero steps: per-step outputs whose trial step fails and whose static length is
        # unknown have length 0 (as on the numpy backend)
        self.mapped_rows = [
            tuple(0 if s is None else s for s in o.type.shape)
            for o in op.inner_outputs[op.n_states :]
        ]
        self.label = f"scan {op.name!r}" if op.name else "scan"

    def split(self, values):
        s, j = self.n_sequences, self.n_states
        return values[:s], values[s : s + j], values[s + j :]

    def check(self, n, sequences, buffers) -> None:
        """The errors the numpy backend raises on the lengths of the outer inputs."""
        if n < 0:
            raise ValueError(f"{self.label}: the number of steps is negative ({n})")
        for k, seq in enumerate(sequences):
            if len(seq) < n:
                raise ValueError(
                    f"{self.label}: sequence {k} has {len(seq)} rows but the loop runs {n} steps"
                )
        for j, buffer in enumerate(buffers):
            if len(buffer) < self.lengths[j]:
                raise ValueError(
                    f"{self.label}: state {j} needs {self.lengths[j]} initial values "
                    f"(taps {self.taps[j]}), got {len(buffer)}"
                )

    def state_arguments(self, windows):
        """The inner inputs of the states: each tap read from its state's window."""
        return [
            windows[j][self.lengths[j] + tap] for j in range(self.n_states) for tap in self.taps[j]
        ]

    def new_state(self, j, value, previous):
        value = jnp.asarray(value).astype(self.state_dtypes[j])
        if value.shape != np.shape(previous):
            raise ValueError(
                f"{self.label}: state {j} changed shape from {np.shape(previous)} to "
                f"{value.shape}; a step must return states of their initial shape"
            )
        return value

    def empty_histories(self, buffers):
        return [
            jnp.zeros((0, *np.shape(b)[1:]), dtype=d)
            for b, d in zip(buffers, self.state_dtypes, strict=True)
        ]

    def empty_mapped(self, step, sequences, windows, constants):
        """Zero steps: the per-step outputs' row shapes from a trial step on rows of zeros
        (as the numpy backend does), where it runs."""
        rows = [jnp.zeros(jnp.shape(seq)[1:], dtype=jnp.asarray(seq).dtype) for seq in sequences]
        try:
            outputs = step([*rows, *self.state_arguments(windows), *constants])
            shapes = [np.shape(o) for o in outputs[self.n_states : self.n_results]]
        except Exception:
            shapes = self.mapped_rows
        return [
            jnp.zeros((0, *row), dtype=d) for row, d in zip(shapes, self.mapped_dtypes, strict=True)
        ]

    def outputs(self, windows, histories, mapped):
        """The outer outputs in the node's order."""
        results = []
        for j in range(self.n_states):
            if self.keeps[j] == "last":
                results.append(jnp.stack(windows[j]).astype(self.state_dtypes[j]))
            else:
                results.append(histories[j])
        results += [m.astype(d) for m, d in zip(mapped, self.mapped_dtypes, strict=True)]
        return tuple(results)


def _traced_scan(inner, layout: _Layout):
    def body(windows, rows, constants, checked):
        arguments = [*rows, *layout.state_arguments(windows), *constants]
        outputs, code = inner.run_traced(arguments)
        checked.append(code is not None)
        new_windows, histories = [], []
        for j in range(layout.n_states):
            value = layout.new_state(j, outputs[j], windows[j][-1])
            new_windows.append((*windows[j][1:], value))
            if layout.keeps[j] == "history":
                histories.append(value)
        mapped = [
            jnp.asarray(o).astype(d)
            for o, d in zip(outputs[layout.n_states :], layout.mapped_dtypes, strict=True)
        ]
        code = jnp.asarray(NO_ERROR if code is None else code, dtype="int32")
        return tuple(new_windows), (histories, mapped, code)

    def kernel(n_steps, *values):
        n = int(concrete(n_steps, "the number of scan steps"))
        sequences, buffers, constants = layout.split(values)
        layout.check(n, sequences, buffers)
        windows = tuple(
            tuple(jnp.asarray(buffer[i]).astype(d) for i in range(length))
            for buffer, length, d in zip(buffers, layout.lengths, layout.state_dtypes, strict=True)
        )
        if n == 0:  # the step never runs, as in the numpy backend
            mapped = layout.empty_mapped(
                lambda args: inner.run_traced(args)[0], sequences, windows, constants
            )
            return layout.outputs(windows, layout.empty_histories(buffers), mapped)
        rows = [jnp.asarray(seq)[:n] for seq in sequences]
        checked: list[bool] = []

        def step(carry, xs):
            return body(carry, xs, constants, checked)

        windows, (histories, mapped, codes) = jax.lax.scan(step, windows, rows, length=n)
        if checked[0]:
            report_code(jnp.min(codes))
        return layout.outputs(windows, histories, mapped)

    return kernel


def _eager_scan(inner, layout: _Layout):
    from croton_jax.program import JaxExecutable

    step = JaxExecutable(inner)

    def kernel(n_steps, *values):
        n = int(np.asarray(n_steps))
        sequences, buffers, constants = layout.split(values)
        layout.check(n, sequences, buffers)
        windows = [
            [jnp.asarray(buffer[i]).astype(d) for i in range(length)]
            for buffer, length, d in zip(buffers, layout.lengths, layout.state_dtypes, strict=True)
        ]
        histories = [[] for _ in range(layout.n_states)]
        mapped = [[] for _ in layout.mapped_dtypes]
        for t in range(n):
            rows = [seq[t] for seq in sequences]
            outputs = step(*rows, *layout.state_arguments(windows), *constants)
            for j in range(layout.n_states):
                value = layout.new_state(j, outputs[j], windows[j][-1])
                windows[j] = [*windows[j][1:], value]
                histories[j].append(value)
            for m, value in enumerate(outputs[layout.n_states : layout.n_results]):
                mapped[m].append(value)
            if layout.has_until and bool(np.asarray(outputs[layout.n_results])):
                n = t + 1  # the steps run
                break
        if n == 0:
            mapped = layout.empty_mapped(lambda args: step(*args), sequences, windows, constants)
            return layout.outputs(windows, layout.empty_histories(buffers), mapped)
        return layout.outputs(
            windows, [jnp.stack(h) for h in histories], [jnp.stack(rows) for rows in mapped]
        )

    kernel.runs_eagerly = True
    return kernel
