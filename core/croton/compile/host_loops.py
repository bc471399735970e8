"""Host-side loops over compiled inner graphs: the kernels of `Scan`, `IfElse` and `Map`
for backends whose control flow runs in Python.

The numpy reference backend and the cupy backend both run these ops as a Python loop (or
a Python branch) around an inner graph compiled by the backend itself; only the array
module differs, and, for a scan's per-step rows, how rows are kept (a list stacked at
the end, or a device buffer allocated ahead). The logic lives here once so that the two
cannot drift apart: same checks, same error messages, same trial step for loops of zero
steps. Backends that trace or jit their loops (numba, JAX) have their own versions.

Nothing here computes on arrays itself: each helper takes the backend's ``compile``
(a `FunctionGraph` to a callable) and ``array_module``, a function called on every run
that returns the backend's array module (``numpy``, ``cupy``), so a backend may import
its array library lazily.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from croton.graph.fgraph import FunctionGraph

__all__ = ["PreallocatedRows", "StackedRows", "ifelse_kernel", "map_kernel", "scan_kernel"]


class StackedRows:
    """The rows of one per-step output, kept in a list and stacked at the end.

    Parameters
    ----------
    xp
        The array module.
    dtype
        The dtype of the stacked result.
    capacity, grows
        Unused; accepted so that `PreallocatedRows` can stand in.
    """

    def __init__(self, xp, dtype, capacity: int, grows: bool):
        self._xp, self._dtype = xp, dtype
        self._rows: list = []

    @property
    def count(self) -> int:
        """The number of rows appended."""
        return len(self._rows)

    def append(self, value, label: str, what: str, step: int) -> None:
        """Keep ``value`` as the next row (shapes are checked when stacking)."""
        self._rows.append(value)

    def result(self):
        """The rows stacked into one array of the dtype."""
        return self._xp.stack(self._rows).astype(self._dtype, copy=False)


class PreallocatedRows:
    """The rows of one per-step output, in a buffer allocated ahead.

    The buffer holds ``capacity`` rows; one that ``grows`` (a loop that may stop early)
    starts with at most 16 and doubles when full.
    """

    def __init__(self, xp, dtype, capacity: int, grows: bool):
        self._xp, self._dtype = xp, dtype
        self._capacity, self._grows = capacity, grows
        self._buffer = None
        self.count = 0

    def append(self, value, label: str, what: str, step: int) -> None:
        """Write ``value`` into the next row; it must have the shape of the first."""
        value = self._xp.asarray(value)
        if self._buffer is None:
            capacity = min(self._capacity, 16) if self._grows else self._capacity
            self._buffer = self._xp.empty((max(capacity, 1), *value.shape), dtype=self._dtype)
        elif value.shape != self._buffer.shape[1:]:
            raise ValueError(
                f"{label}: {what} has shape {value.shape} at step {step} but "
                f"{self._buffer.shape[1:]} before; a step must return values of one shape"
            )
        if self.count == len(self._buffer):
            grown = self._xp.empty((2 * self.count, *value.shape), dtype=self._dtype)
            grown[: self.count] = self._buffer
            self._buffer = grown
        self._buffer[self.count] = value
        self.count += 1

    def result(self):
        """The rows written (a view of the buffer)."""
        return self._buffer[: self.count]


def _static_rows(variables) -> list[tuple]:
    """Row shapes from static shapes, unknown lengths taken as 0."""
    return [tuple(0 if s is None else s for s in v.type.shape) for v in variables]


def scan_kernel(op, node, compile: Callable, array_module: Callable, rows=StackedRows):
    """The kernel of a `Scan` node: ``kernel(n_steps, *values) -> tuple of outputs``.

    Parameters
    ----------
    op, node
        The `Scan` op and its node.
    compile
        The backend's compiler: a `FunctionGraph` to a callable on its arrays.
    array_module
        Returns the backend's array module; called on every run.
    rows
        How per-step rows (histories, per-step outputs) are kept: `StackedRows` or
        `PreallocatedRows`.
    """
    step = compile(FunctionGraph(op.inner_inputs, op.inner_outputs))
    n_sequences, n_states = op.n_sequences, op.n_states
    lengths = op.state_lengths
    taps = op.state_taps
    keeps = op.state_keeps
    dtypes = [np.dtype(o.type.dtype) for o in node.outputs]
    n_results = n_states + op.n_mapped  # with an until, its condition comes after them
    mapped_rows = _static_rows(op.inner_outputs[n_states:n_results])
    label = f"scan {op.name!r}" if op.name else "scan"

    def kernel(n_steps, *values):
        xp = array_module()
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
            rows(xp, dtypes[j], n, op.has_until) if keeps[j] == "history" else None
            for j in range(n_states)
        ]
        mapped = [rows(xp, dtypes[n_states + m], n, op.has_until) for m in range(op.n_mapped)]
        for t in range(n):
            args = [seq[t] for seq in sequences]
            for j in range(n_states):
                args += [recent[j][lengths[j] + tap] for tap in taps[j]]
            args += constants
            results = step(*args)
            for j in range(n_states):
                value = xp.asarray(results[j], dtype=dtypes[j])
                if value.shape != np.shape(recent[j][-1]):
                    raise ValueError(
                        f"{label}: state {j} changed shape from {np.shape(recent[j][-1])} to "
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
                outputs.append(xp.stack(recent[j]).astype(dtypes[j], copy=False))
            elif histories[j].count:
                outputs.append(histories[j].result())
            else:
                outputs.append(xp.zeros((0, *np.shape(buffers[j])[1:]), dtype=dtypes[j]))
        shapes = (
            mapped_rows if n or not mapped else _trial_shapes(xp, sequences, buffers, constants)
        )
        for m, kept in enumerate(mapped):
            if kept.count:
                outputs.append(kept.result())
            else:
                outputs.append(xp.zeros((0, *shapes[m]), dtype=dtypes[n_states + m]))
        return tuple(outputs)

    def _trial_shapes(xp, sequences, buffers, constants):
        # without steps, a step on rows of zeros gives the mapped outputs' row shapes
        # where it can run (lengths it cannot give are 0)
        args = [xp.zeros(np.shape(seq)[1:], dtype=xp.asarray(seq).dtype) for seq in sequences]
        for j, buffer in enumerate(buffers):
            args += [buffer[lengths[j] + tap] for tap in taps[j]]
        try:
            results = step(*args, *constants)
        except Exception:
            return mapped_rows
        return [tuple(np.shape(r)) for r in results[n_states:n_results]]

    return kernel


def ifelse_kernel(op, node, compile: Callable, array_module: Callable):
    """The kernel of an `IfElse` node: ``kernel(condition, *arguments) -> tuple``.

    Each branch's inner graph is compiled by ``compile`` (a `FunctionGraph` to a
    callable) now; a call runs only the branch the condition picks.
    """
    then_graph, else_graph = op.branch_graphs(node)
    run_then = compile(FunctionGraph(then_graph.inputs, then_graph.outputs))
    run_else = compile(FunctionGraph(else_graph.inputs, else_graph.outputs))
    n_then, _ = op.n_arguments()
    dtypes = [np.dtype(out.type.dtype) for out in node.outputs]

    def kernel(condition, *arguments):
        xp = array_module()
        if bool(condition != 0):  # nan counts as true, as in Python
            results = run_then(*arguments[:n_then])
        else:
            results = run_else(*arguments[n_then:])
        # a branch that passes an argument on returns a copy, as other kernels do
        return tuple(
            xp.array(r, dtype=d) if any(r is a for a in arguments) else xp.asarray(r, dtype=d)
            for r, d in zip(results, dtypes, strict=True)
        )

    return kernel


def map_kernel(op, node, compile: Callable, array_module: Callable):
    """The kernel of a `Map` node: ``kernel(n_steps, *invariants) -> tuple``.

    Step ``i`` gets ``i`` as a 0-d int64 array; the rows are stacked. A map of no steps
    runs a trial step at index 0 to learn its row shapes where it can (unknown static
    lengths are 0 otherwise).
    """
    inner = compile(FunctionGraph(op.inner_inputs, op.inner_outputs))
    empty_shapes = _static_rows(op.inner_outputs)
    dtypes = [o.type.dtype for o in node.outputs]

    def empty(xp, invariants):
        # the lengths of a step's result, from a trial step where one can run
        try:
            shapes = [np.shape(r) for r in inner(xp.zeros((), dtype="int64"), *invariants)]
        except Exception:
            shapes = empty_shapes
        return tuple(xp.zeros((0, *s), dtype=d) for s, d in zip(shapes, dtypes, strict=True))

    def kernel(n_steps, *invariants):
        xp = array_module()
        n_steps = int(n_steps)
        if n_steps <= 0:
            return empty(xp, invariants)
        steps = xp.arange(n_steps, dtype="int64")  # step i reads the 0-d view steps[i, ...]
        rows = [inner(steps[i, ...], *invariants) for i in range(n_steps)]
        columns = zip(*rows, strict=True)
        return tuple(
            xp.stack(column).astype(d, copy=False)
            for column, d in zip(columns, dtypes, strict=True)
        )

    return kernel
