"""Scan: a host loop over the inner graph's device kernels.

The inner graph is compiled once by the registered cupy backend, so every step launches
device kernels and nothing but the loop runs on the host. Histories and per-step outputs
are written into device buffers allocated ahead (all ``n`` rows at once; a loop with an
until condition, which may stop early, grows its buffers by doubling). The number of
steps, and the until condition after each step, are read on the host: a loop's control
flow is the host's. Everything else follows the numpy reference rule, errors included:
a loop of zero steps runs a trial step on rows of zeros to learn the shapes of its
per-step outputs.
"""

from __future__ import annotations

import numpy as np

from croton.ops.scan import Scan
from croton_cupy.lowering import lowers


class _Rows:
    """The rows of one per-step output, in a device buffer allocated ahead."""

    def __init__(self, cupy, dtype, capacity: int, grows: bool):
        self._cupy, self._dtype = cupy, dtype
        self._capacity, self._grows = capacity, grows
        self._buffer = None
        self.count = 0

    def append(self, value, label: str, what: str, step: int) -> None:
        value = self._cupy.asarray(value)
        if self._buffer is None:
            capacity = min(self._capacity, 16) if self._grows else self._capacity
            self._buffer = self._cupy.empty((max(capacity, 1), *value.shape), dtype=self._dtype)
        elif value.shape != self._buffer.shape[1:]:
            raise ValueError(
                f"{label}: {what} has shape {value.shape} at step {step} but "
                f"{self._buffer.shape[1:]} before; a step must return values of one shape"
            )
        if self.count == len(self._buffer):
            grown = self._cupy.empty((2 * self.count, *value.shape), dtype=self._dtype)
            grown[: self.count] = self._buffer
            self._buffer = grown
        self._buffer[self.count] = value
        self.count += 1

    def result(self):
        """The rows written (a view of the buffer)."""
        return self._buffer[: self.count]


@lowers(Scan)
def _scan(op, node):
    from croton.graph.fgraph import FunctionGraph
    from croton_cupy.backend import CupyBackend
    from croton_cupy.runtime import load_cupy

    step = CupyBackend.shared().compile(FunctionGraph(op.inner_inputs, op.inner_outputs))
    n_sequences, n_states = op.n_sequences, op.n_states
    lengths = op.state_lengths
    taps = op.state_taps
    keeps = op.state_keeps
    dtypes = [np.dtype(o.type.dtype) for o in node.outputs]
    n_results = n_states + op.n_mapped  # with an until, its condition comes after them
    mapped_rows = [
        tuple(0 if s is None else s for s in o.type.shape)
        for o in op.inner_outputs[n_states:n_results]
    ]
    label = f"scan {op.name!r}" if op.name else "scan"

    def kernel(n_steps, *values):
        cupy = load_cupy()
        n = int(n_steps)
        if n < 0:
            raise ValueError(f"{label}: the number of steps is negative ({n})")
        sequences = values[:n_sequences]
        buffers = values[n_sequences : n_sequences + n_states]
        constants = values[n_sequences + n_states :]
        for k, seq in enumerate(sequences):
            if len(seq) < n:
                raise ValueError(
                    f"{label}: sequence {k} has {len(seq)} rows but the loop runs {n} steps"
                )
        for j, buffer in enumerate(buffers):
            if len(buffer) < lengths[j]:
                raise ValueError(
                    f"{label}: state {j} needs {lengths[j]} initial values (taps {taps[j]}), "
                    f"got {len(buffer)}"
                )
        # recent[j] holds the last L[j] values of state j, oldest first
        recent = [list(buffer[: lengths[j]]) for j, buffer in enumerate(buffers)]
        histories = [
            _Rows(cupy, dtypes[j], n, op.has_until) if keeps[j] == "history" else None
            for j in range(n_states)
        ]
        mapped = [_Rows(cupy, dtypes[n_states + m], n, op.has_until) for m in range(op.n_mapped)]
        for t in range(n):
            args = [seq[t] for seq in sequences]
            for j in range(n_states):
                args += [recent[j][lengths[j] + tap] for tap in taps[j]]
            args += constants
            results = step(*args)
            for j in range(n_states):
                value = cupy.asarray(results[j], dtype=dtypes[j])
                if value.shape != recent[j][-1].shape:
                    raise ValueError(
                        f"{label}: state {j} changed shape from {recent[j][-1].shape} to "
                        f"{value.shape} at step {t}; a step must return states of their "
                        "initial shape"
                    )
                recent[j] = recent[j][1:] + [value]
                if histories[j] is not None:
                    histories[j].append(value, label, f"state {j}", t)
            for m, value in enumerate(results[n_states:n_results]):
                mapped[m].append(value, label, f"per-step output {m}", t)
            if op.has_until and bool(results[n_results]):
                n = t + 1  # the steps run
                break
        outputs = []
        for j in range(n_states):
            if keeps[j] == "last":
                outputs.append(cupy.stack(recent[j]).astype(dtypes[j], copy=False))
            elif histories[j].count:
                outputs.append(histories[j].result())
            else:
                outputs.append(cupy.zeros((0, *buffers[j].shape[1:]), dtype=dtypes[j]))
        shapes = mapped_rows if n or not mapped else _trial_shapes(sequences, buffers, constants)
        for m, rows in enumerate(mapped):
            if rows.count:
                outputs.append(rows.result())
            else:
                outputs.append(cupy.zeros((0, *shapes[m]), dtype=dtypes[n_states + m]))
        return tuple(outputs)

    def _trial_shapes(sequences, buffers, constants):
        # without steps, a step on rows of zeros gives the mapped outputs' row shapes
        # where it can run (lengths it cannot give are 0)
        cupy = load_cupy()
        args = [cupy.zeros(seq.shape[1:], dtype=seq.dtype) for seq in sequences]
        for j, buffer in enumerate(buffers):
            args += [buffer[lengths[j] + tap] for tap in taps[j]]
        try:
            results = step(*args, *constants)
        except Exception:
            return mapped_rows
        return [tuple(cupy.asarray(r).shape) for r in results[n_states:n_results]]

    if len(node.outputs) > 1:
        return kernel
    return lambda *args: kernel(*args)[0]
