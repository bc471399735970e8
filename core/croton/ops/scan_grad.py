"""The gradient of `Scan`: backpropagation through time, itself a `Scan`.

The backward loop visits the forward steps in reverse. At forward step ``t`` it knows
the full adjoint of each state's value ``v[t]`` (the cotangent of the output at ``t``
plus what later steps sent back), takes the inner graph's vector-Jacobian product, and
sends each state-tap's share back to ``v[t + tap]``. Pending adjoints for the
``L[j]`` values a state keeps travel as one backward state ``P[j]`` of shape
``(L[j], ...)``: ``P[j][i]`` is what later steps have sent to ``v[t - i]``. Gradients
of the constants accumulate in backward states; gradients of sequence rows come out as
per-step outputs. A loop with an until condition is differentiated over the steps it
ran (the condition itself has no gradient).

Forward values the products read (a state's new value, a mapped output) are not
computed again: the backward loop reads them from the forward loop's record. Other
intermediate values of a step (a pre-activation a ReLU's gradient reads) are computed
again in the backward step.
"""

from __future__ import annotations

from croton.ops.scan import Scan, _is_float, apply_scan, clone_inner


def _fresh(var):
    return var.type()


def _with_histories(op: Scan, inputs):
    """The state histories of the forward loop (recomputed when a state keeps only its
    last values)."""
    if all(keep == "history" for keep in op.state_keeps):
        return None
    return (
        Scan(
            op.inner_inputs,
            op.inner_outputs,
            op.n_sequences,
            op.state_taps,
            ["history"] * op.n_states,
            op.n_mapped,
            op.n_constants,
            op.truncate_gradient,
            op.name,
            has_until=op.has_until,
        )
        .make_node(*inputs)
        .outputs
    )


def _reading_recorded_values(vjps, op, inner_outputs, histories, outputs, seq_pairs, backwards):
    """``vjps`` reading the values the forward loop recorded instead of computing them again.

    A product may read a forward value: the gradient of ``tanh(z)`` reads ``tanh(z)``.
    A state's new value at step ``t`` is row ``t`` of its history, a mapped output's is
    row ``t`` of that output, so each value of that kind a product reads becomes a
    sequence of the backward loop (added to ``seq_pairs``), and the forward step's work
    of computing it (in a recurrent layer, its two matrix products) leaves the backward
    loop.
    """
    from croton.graph.traversal import ancestors, clone_replace

    recorded = list(zip(inner_outputs, [*histories, *outputs[op.n_states :]]))
    recorded = recorded[: op.n_states + op.n_mapped]  # (not the until condition)
    keys = [k for k, v in vjps.items() if v is not None]
    read = {id(v) for v in ancestors([vjps[k] for k in keys])}
    replace = {}
    for inner, outer in recorded:
        if inner.owner is None or id(inner) not in read:
            continue  # an input or a constant (nothing to save), or unread
        read.discard(id(inner))  # (a value that is two outputs is recorded once)
        row = _fresh(inner)
        seq_pairs.append((backwards(outer), row))
        replace[inner] = row
    if not replace:
        return vjps
    replaced = clone_replace([vjps[k] for k in keys], replace)
    return {**vjps, **dict(zip(keys, replaced, strict=True))}


def scan_gradient(op: Scan, inputs, outputs, output_grads):
    """``L_op`` of `Scan`: gradients of every outer input (None for integers)."""
    from croton.autodiff import grad
    from croton.tensor.math import add, cast, eq, minimum
    from croton.tensor.shape import join, stack, zeros_like

    n_steps, sequences, buffers, constants = op.split_inputs(inputs)
    recomputed = _with_histories(op, inputs)
    histories = [
        (recomputed or outputs)[j] for j in range(op.n_states)
    ]  # forward values at steps 0 .. n-1
    if op.has_until:
        # the loop may have stopped early: the backward loop runs over the steps run,
        # the length of any forward history or per-step output
        if op.n_states:
            n_steps = histories[0].shape[0]
        elif op.n_mapped:
            n_steps = outputs[0].shape[0]
        else:
            return [None] * len(inputs)
    if op.truncate_gradient >= 0:
        n_back = minimum(n_steps, op.truncate_gradient)
    else:
        n_back = n_steps
    start = n_steps - n_back

    def backwards(x):
        return x[start:n_steps][::-1]

    # forward inner inputs, given to the backward loop as sequences or constants
    placeholders = [_fresh(v) for v in op.inner_inputs]
    inner_outputs = clone_inner(op.inner_inputs, op.inner_outputs, placeholders)
    seq_pairs, position = [], 0
    for seq in sequences:
        seq_pairs.append((backwards(seq), placeholders[position]))
        position += 1
    tap_inputs = []  # (state j, tap, placeholder)
    for j, taps in enumerate(op.state_taps):
        length = op.state_lengths[j]
        full = join(0, buffers[j], histories[j])
        for tap in taps:
            lo = length + tap
            seq_pairs.append((full[lo + start : lo + n_steps][::-1], placeholders[position]))
            tap_inputs.append((j, tap, placeholders[position]))
            position += 1
    constant_pairs = list(zip(constants, placeholders[position:], strict=True))

    # cotangents of the outputs at this step
    seeds: dict = {}

    def seed(var, g):
        seeds[var] = g if var not in seeds else add(seeds[var], g)

    states = []  # backward states: pending adjoints, then constant accumulators
    pending = {}
    for j in range(op.n_states):
        out = inner_outputs[j]
        if not _is_float(out):
            continue
        g = output_grads[j]
        P = _fresh(buffers[j])
        if op.state_keeps[j] == "history":
            g_row = _fresh(g[0]) if g.ndim else None
            seq_pairs.append((backwards(g), g_row))
            adjoint = P[0] + g_row
            initial = zeros_like(buffers[j])
        else:
            adjoint = P[0]
            initial = g[::-1]
        seed(out, adjoint)
        pending[j] = P
        states.append({"initial": initial, "taps": [-1], "P": P, "j": j})
    for m in range(op.n_mapped):
        out = inner_outputs[op.n_states + m]
        if _is_float(out):
            g = output_grads[op.n_states + m]
            g_row = _fresh(g[0])
            seq_pairs.append((backwards(g), g_row))
            seed(out, g_row)

    wrt = [p for p in placeholders if _is_float(p)]
    vjps = (
        dict(
            zip(
                map(id, wrt),
                grad(None, wrt, disconnected_inputs="ignore", known_grads=seeds),
                strict=True,
            )
        )
        if seeds and wrt
        else {}
    )

    vjps = _reading_recorded_values(
        vjps, op, inner_outputs, histories, outputs, seq_pairs, backwards
    )

    def vjp(p):
        return vjps.get(id(p))

    backward_states = []
    for state in states:
        j, P = state["j"], state["P"]
        length = op.state_lengths[j]
        sent = {tap: vjp(p) for jj, tap, p in tap_inputs if jj == j}
        rows = []
        for i in range(length):
            row = P[i + 1] if i + 1 < length else zeros_like(P[0])
            contribution = sent.get(-(i + 1))
            if contribution is not None:
                row = row + contribution
            rows.append(row)
        new = stack(rows).astype(P.dtype)
        backward_states.append(
            {
                "initial": state["initial"][None],
                "taps": [-1],
                "inner": {-1: P},
                "output": new,
                "keep": "last",
            }
        )
    accumulated = []
    for outer, p in constant_pairs:
        if not _is_float(p) or vjp(p) is None:
            accumulated.append(None)
            continue
        acc = _fresh(p)
        accumulated.append(len(backward_states))
        backward_states.append(
            {
                "initial": zeros_like(outer)[None],
                "taps": [-1],
                "inner": {-1: acc},
                "output": (acc + vjp(p)).astype(acc.dtype),
                "keep": "last",
            }
        )
    mapped, mapped_of = [], {}
    for k in range(op.n_sequences):
        p = placeholders[k]
        if _is_float(p) and vjp(p) is not None:
            mapped_of[k] = len(mapped)
            mapped.append(vjp(p).astype(p.dtype))

    results = apply_scan(
        n_back,
        seq_pairs,
        backward_states,
        mapped,
        constant_pairs,
        name=f"grad of {op.name}" if op.name else "scan gradient",
    )
    finals = results[: len(backward_states)]
    per_step = results[len(backward_states) :]

    grads = [None]
    for k, seq in enumerate(sequences):
        if k not in mapped_of:
            grads.append(None)
            continue
        from croton.tensor.subtensor import set_subtensor

        rows = per_step[mapped_of[k]][::-1]
        grads.append(set_subtensor(zeros_like(seq)[start:n_steps], rows))
    reached_start = cast(eq(start, 0), buffers[0].dtype if buffers else "float64")
    position = 0
    for j in range(op.n_states):
        if j not in pending:
            grads.append(None)
            continue
        g = finals[position][0][::-1]
        position += 1
        if op.truncate_gradient >= 0:
            g = g * cast(reached_start, g.dtype)
        grads.append(g)
    for index in accumulated:
        grads.append(None if index is None else finals[index][0])
    return grads
