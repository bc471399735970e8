"""`Scan`: a loop whose steps read sequences and carry states from step to step.

`croton.scan` builds it; its gradient is another `Scan` that runs backwards in time.
"""

from __future__ import annotations

from collections.abc import Sequence

from croton.graph.basic import Apply, Op, Variable
from croton.graph.traversal import toposort
from croton.graph.type import TensorType


def _is_float(var) -> bool:
    return var.type.dtype.startswith(("float", "complex"))


def clone_inner(inputs: Sequence[Variable], outputs: Sequence[Variable], replacements):
    """Copy the graph from ``inputs`` to ``outputs`` with each input replaced.

    ``replacements`` holds, in the order of ``inputs``, the variables that stand in for
    them. Constants are shared; every other variable the outputs read must be among
    ``inputs``. Returns the new outputs.
    """
    memo = {id(old): new for old, new in zip(inputs, replacements, strict=True)}
    for node in toposort(outputs, stop_at=inputs):
        new_outputs = [type(o)(o.type, None, None, o.name) for o in node.outputs]
        Apply(node.op, [memo.get(id(v), v) for v in node.inputs], new_outputs)
        for old, new in zip(node.outputs, new_outputs):
            memo[id(old)] = new
    return [memo.get(id(v), v) for v in outputs]


class Scan(Op):
    """Run an inner graph once per step, feeding back states.

    Execution contract (what a backend implements)
    ----------------------------------------------
    Sizes: ``S = n_sequences``, ``J = len(state_taps)`` states, ``M = n_mapped``
    outputs that are not fed back, ``C = n_constants``. ``L[j] = state_lengths[j]`` is
    ``-min(state_taps[j])``: how many past values state ``j`` keeps.

    Outer inputs (``node.inputs``), in this order:

    - ``n_steps``: an int64 scalar ``n >= 0``;
    - ``S`` sequences: sequence ``k`` has at least ``n`` rows; step ``t`` reads row
      ``sequences[k][t]`` (taps and ``go_backwards`` were resolved by slicing outside);
    - ``J`` initial buffers: buffer ``j`` has shape ``(L[j], ...)`` and holds the values
      of state ``j`` at steps ``-L[j] .. -1``, oldest first;
    - ``C`` constants, the same at every step.

    Inner inputs (``inner_inputs``, described one by one by ``inner_input_roles``):

    - ``("sequence", k, 0)``: row ``t`` of sequence ``k``;
    - ``("state", j, tap)``, for each state in order and its taps in increasing order
      (every tap negative): the value of state ``j`` at step ``t + tap``, i.e. from the
      initial buffer while ``t + tap < 0`` (its row ``L[j] + t + tap``), else the value
      the step ``t + tap`` computed;
    - ``("constant", m)``: constant ``m``.

    Inner outputs (``inner_outputs``): ``J`` new state values (the value of state
    ``j`` at step ``t``, same dtype as its buffer and the shape of one buffer row), then
    ``M`` per-step outputs, then, when ``has_until``, the stop condition: a 0-d bool or
    real number, true when nonzero.

    Early stop (``has_until``, Theano's ``until``): the loop runs steps ``0, 1, ...``
    and stops after the first step ``t`` whose condition is true, or after ``n`` steps.
    The steps actually run, ``r = t + 1`` (or ``n``), replace ``n`` in everything
    below: histories and per-step outputs have ``r`` rows, "last" values are those
    after step ``r - 1``. The condition itself is not an outer output.

    Outer outputs (``node.outputs``, described by ``outer_output_roles``):

    - ``("state", j, "history")``: shape ``(n, ...)``, the values of state ``j`` at steps
      ``0 .. n-1`` (the initial buffer is not included); with ``has_until`` the static
      length is unknown;
    - ``("state", j, "last")``: shape ``(L[j], ...)``, the last ``L[j]`` values of the
      state after the loop, oldest first; with ``n < L[j]`` the rows not overwritten come
      from the initial buffer (for ``n = 0`` it is the initial buffer);
    - ``("mapped", m)``: shape ``(n, ...)``, per-step output ``m`` at every step.

    ``truncate_gradient`` (``-1``: none) only affects the gradient: it is computed over
    the last ``truncate_gradient`` steps only. With ``has_until`` the gradient runs
    over the steps actually run (the length of a forward history or per-step output).

    Each node holds its own inner graph, so a `Scan` is equal only to itself.
    """

    def __init__(
        self,
        inner_inputs: Sequence[Variable],
        inner_outputs: Sequence[Variable],
        n_sequences: int,
        state_taps: Sequence[Sequence[int]],
        state_keeps: Sequence[str],
        n_mapped: int,
        n_constants: int,
        truncate_gradient: int = -1,
        name: str | None = None,
        has_until: bool = False,
    ):
        self.inner_inputs = list(inner_inputs)
        self.inner_outputs = list(inner_outputs)
        self.n_sequences = int(n_sequences)
        self.state_taps = tuple(tuple(sorted(int(t) for t in taps)) for taps in state_taps)
        self.state_keeps = tuple(state_keeps)
        self.n_mapped = int(n_mapped)
        self.n_constants = int(n_constants)
        self.truncate_gradient = int(truncate_gradient)
        self.name = name
        self.has_until = bool(has_until)
        for taps in self.state_taps:
            if not taps or taps[-1] >= 0 or len(set(taps)) != len(taps):
                raise ValueError(f"state taps must be distinct negative integers, got {taps}")
        for keep in self.state_keeps:
            if keep not in ("history", "last"):
                raise ValueError(f"a state keeps 'history' or 'last', got {keep!r}")
        self.state_lengths = tuple(-taps[0] for taps in self.state_taps)
        roles = [("sequence", k, 0) for k in range(self.n_sequences)]
        for j, taps in enumerate(self.state_taps):
            roles += [("state", j, tap) for tap in taps]
        roles += [("constant", m) for m in range(self.n_constants)]
        self.inner_input_roles = roles
        self.outer_output_roles = [
            ("state", j, keep) for j, keep in enumerate(self.state_keeps)
        ] + [("mapped", m) for m in range(self.n_mapped)]
        if len(roles) != len(self.inner_inputs):
            raise ValueError(f"Scan: {len(self.inner_inputs)} inner inputs for {len(roles)} roles")
        if len(self.inner_outputs) != len(self.state_taps) + self.n_mapped + self.has_until:
            raise ValueError(
                "Scan: one inner output per state and per mapped output (then the stop "
                "condition, with has_until) is needed"
            )
        if self.has_until:
            condition = self.inner_outputs[-1]
            if condition.ndim != 0 or condition.dtype.startswith("complex"):
                raise TypeError(
                    f"scan: the until condition must be a bool or real scalar, got {condition.type}"
                )

    def __eq__(self, other) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __str__(self) -> str:
        label = f"{self.name}, " if self.name else ""
        until = ", until" if self.has_until else ""
        return f"Scan{{{label}{len(self.state_taps)} states, {self.n_mapped} mapped{until}}}"

    __repr__ = __str__

    @property
    def n_states(self) -> int:
        return len(self.state_taps)

    @property
    def condition(self) -> Variable | None:
        """The inner stop condition (``has_until``), else None."""
        return self.inner_outputs[-1] if self.has_until else None

    @property
    def result_outputs(self) -> list[Variable]:
        """The inner outputs that become outer outputs: states, then mapped outputs."""
        return self.inner_outputs[: self.n_states + self.n_mapped]

    def split_inputs(self, inputs):
        """``(n_steps, sequences, initial buffers, constants)`` from the outer inputs."""
        s, j = self.n_sequences, self.n_states
        return (
            inputs[0],
            list(inputs[1 : 1 + s]),
            list(inputs[1 + s : 1 + s + j]),
            list(inputs[1 + s + j :]),
        )

    def make_node(self, n_steps, *outer) -> Apply:
        from croton.ops.shape import _int_scalar, static_value
        from croton.tensor.variable import as_tensor_variable

        n_steps = _int_scalar(n_steps, "the number of scan steps")
        outer = [as_tensor_variable(v) for v in outer]
        expected = self.n_sequences + self.n_states + self.n_constants
        if len(outer) != expected:
            raise TypeError(f"{self} takes {expected} inputs after n_steps, got {len(outer)}")
        _, sequences, buffers, constants = self.split_inputs([n_steps, *outer])
        inner = iter(self.inner_inputs)
        for k, seq in enumerate(sequences):
            slot = next(inner)
            if seq.ndim != slot.ndim + 1 or seq.dtype != slot.dtype:
                raise TypeError(
                    f"scan sequence {k} ({seq.type}) does not fit its slice {slot.type}"
                )
        for j, buffer in enumerate(buffers):
            for _ in self.state_taps[j]:
                slot = next(inner)
            if buffer.ndim != slot.ndim + 1 or buffer.dtype != slot.dtype:
                raise TypeError(f"scan state {j}: buffer {buffer.type} does not fit {slot.type}")
            out = self.inner_outputs[j]
            if out.dtype != buffer.dtype or out.ndim != slot.ndim:
                raise TypeError(
                    f"scan state {j}: the step returns {out.type} but the state is {slot.type}"
                )
        for m, constant in enumerate(constants):
            slot = next(inner)
            if constant.ndim != slot.ndim or constant.dtype != slot.dtype:
                raise TypeError(f"scan constant {m} ({constant.type}) does not fit {slot.type}")
        steps = None if self.has_until else static_value(n_steps)
        length = None if steps is None else int(steps)
        outputs = []
        for j, keep in enumerate(self.state_keeps):
            row = self.inner_outputs[j].type.shape
            if keep == "history":
                outputs.append(TensorType(buffers[j].dtype, shape=(length, *row))())
            else:
                outputs.append(TensorType(buffers[j].dtype, shape=(self.state_lengths[j], *row))())
        for out in self.result_outputs[self.n_states :]:
            outputs.append(TensorType(out.dtype, shape=(length, *out.type.shape))())
        return Apply(self, [n_steps, *outer], outputs)

    def infer_shape(self, node, input_shapes):
        from croton.tensor.shape import shape

        n_steps = node.inputs[0]
        result = []
        for out, role, inner in zip(
            node.outputs, self.outer_output_roles, self.result_outputs, strict=True
        ):
            if role[-1] == "last":
                first = self.state_lengths[role[1]]
            else:  # an early stop makes the length known only after the loop
                first = shape(out)[0] if self.has_until else n_steps
            rest = [shape(out)[i + 1] if s is None else s for i, s in enumerate(inner.type.shape)]
            result.append((first, *rest))
        return result

    def connection_pattern(self, node):
        return [[True] * len(node.outputs) for _ in node.inputs]

    def L_op(self, inputs, outputs, output_grads):
        from croton.ops.scan_grad import scan_gradient

        return scan_gradient(self, inputs, outputs, output_grads)


def apply_scan(
    n_steps,
    sequences: Sequence[tuple[Variable, Variable]],
    states: Sequence[dict],
    mapped: Sequence[Variable],
    constants: Sequence[tuple[Variable, Variable]],
    truncate_gradient: int = -1,
    name: str | None = None,
    until: Variable | None = None,
) -> list[Variable]:
    """Build a `Scan` node from (outer, inner) pairs; returns its outer outputs.

    ``until``, an inner 0-d variable, stops the loop after the first step where it is
    true. Each state is a dict with ``initial`` (the outer buffer), ``taps`` (negative
    integers), ``inner`` (``{tap: inner input}``), ``output`` (the inner new value) and
    ``keep`` (``"history"`` or ``"last"``). Inner state outputs are cast to the buffer's
    dtype when that loses nothing; a step whose result would be narrowed (an int8 state
    from an int64 step wraps around, a float32 state rounds a float64 step) is refused.
    """
    import numpy as np

    from croton.tensor.math import cast

    inner_inputs = [inner for _, inner in sequences]
    inner_outputs = []
    for state in states:
        taps = sorted(state["taps"])
        inner_inputs += [state["inner"][tap] for tap in taps]
        out = state["output"]
        dtype = state["initial"].dtype
        if out.dtype != dtype:
            if not np.can_cast(out.dtype, dtype, "safe"):
                raise TypeError(
                    f"scan: the step returns {out.type} for a state whose initial value "
                    f"(outputs_info) is {dtype}, which cannot hold it without loss; give "
                    f"the initial value the step's dtype, or cast the step's result to "
                    f"{dtype}"
                )
            out = cast(out, dtype)
        inner_outputs.append(out)
    inner_inputs += [inner for _, inner in constants]
    inner_outputs += list(mapped)
    if until is not None:
        inner_outputs.append(until)
    op = Scan(
        inner_inputs,
        inner_outputs,
        n_sequences=len(sequences),
        state_taps=[s["taps"] for s in states],
        state_keeps=[s["keep"] for s in states],
        n_mapped=len(mapped),
        n_constants=len(constants),
        truncate_gradient=truncate_gradient,
        name=name,
        has_until=until is not None,
    )
    node = op.make_node(
        n_steps,
        *[outer for outer, _ in sequences],
        *[s["initial"] for s in states],
        *[outer for outer, _ in constants],
    )
    return list(node.outputs)
