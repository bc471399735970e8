"""The numpy backend's `Scan` rule: a Python loop over the compiled inner graph; a loop
with an until condition breaks out after the first step where it holds."""

from __future__ import annotations

import numpy as np

from croton.ops.scan import Scan
from croton_numpy.lowering import _single_output, lowers


@lowers(Scan)
def _scan(op, node):
    from croton.graph.fgraph import FunctionGraph
    from croton_numpy.backend import NumpyBackend

    step = NumpyBackend.shared().compile(FunctionGraph(op.inner_inputs, op.inner_outputs))
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
        histories = [[] for _ in range(n_states)]
        mapped = [[] for _ in range(op.n_mapped)]
        for t in range(n):
            args = [seq[t] for seq in sequences]
            for j in range(n_states):
                args += [recent[j][lengths[j] + tap] for tap in taps[j]]
            args += constants
            results = step(*args)
            for j in range(n_states):
                value = np.asarray(results[j], dtype=dtypes[j])
                if value.shape != np.shape(recent[j][-1]):
                    raise ValueError(
                        f"{label}: state {j} changed shape from {np.shape(recent[j][-1])} to "
                        f"{value.shape} at step {t}; a step must return states of their "
                        "initial shape"
                    )
                recent[j] = recent[j][1:] + [value]
                if keeps[j] == "history":
                    histories[j].append(value)
            for m, value in enumerate(results[n_states:n_results]):
                mapped[m].append(value)
            if op.has_until and results[n_results]:
                n = t + 1  # the steps run
                break
        outputs = []
        for j in range(n_states):
            if keeps[j] == "last":
                outputs.append(np.stack(recent[j]).astype(dtypes[j], copy=False))
            elif histories[j]:
                outputs.append(np.stack(histories[j]).astype(dtypes[j], copy=False))
            else:
                outputs.append(np.zeros((0, *np.shape(buffers[j])[1:]), dtype=dtypes[j]))
        shapes = mapped_rows if n or not mapped else _trial_shapes(sequences, buffers, constants)
        for m, rows in enumerate(mapped):
            dtype = dtypes[n_states + m]
            if rows:
                outputs.append(np.stack(rows).astype(dtype, copy=False))
            else:
                outputs.append(np.zeros((0, *shapes[m]), dtype=dtype))
        return tuple(outputs)

    def _trial_shapes(sequences, buffers, constants):
        # without steps, a step on rows of zeros gives the mapped outputs' row shapes
        # where it can run (lengths it cannot give are 0)
        args = [np.zeros(np.shape(seq)[1:], dtype=np.asarray(seq).dtype) for seq in sequences]
        for j, buffer in enumerate(buffers):
            args += [buffer[lengths[j] + tap] for tap in taps[j]]
        try:
            results = step(*args, *constants)
        except Exception:
            return mapped_rows
        return [np.shape(r) for r in results[n_states:n_results]]

    return _single_output(kernel, node)
