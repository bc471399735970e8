"""``croton.scan``: Theano's loop construct."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

import numpy as np

from croton.graph.basic import Constant, Variable
from croton.graph.traversal import free_inputs, toposort
from croton.graph.type import TensorType


def _as_list(x) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _row_type(var) -> TensorType:
    """The type of one row of ``var``, lengths of 1 left unknown (a row may differ)."""
    return TensorType(var.dtype, shape=var.type.shape[1:])


def _is_update_list(value) -> bool:
    from croton.compile.shared import SharedVariable

    if isinstance(value, Mapping):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(
            isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], SharedVariable)
            for p in value
        )
    return False


def _split_until(result):
    """``(rest, condition)``: what ``fn`` returned without its `until` (None if none).

    Theano's orders are accepted: ``until(c)`` alone, or last (or anywhere) in a tuple
    or list beside the outputs and the updates.
    """
    if isinstance(result, until):
        return [], result.condition
    if not isinstance(result, (list, tuple)):
        return result, None
    stops = [item for item in result if isinstance(item, until)]
    if not stops:
        return result, None
    if len(stops) > 1:
        raise ValueError("scan: fn returned more than one until; combine the conditions")
    rest = [item for item in result if not isinstance(item, until)]
    if len(rest) == 1:
        return rest[0], stops[0].condition
    return tuple(rest), stops[0].condition


def _split_result(result):
    """``(outputs, updates)`` from what ``fn`` returned."""
    if isinstance(result, Mapping):
        return [], list(result.items())
    if (
        isinstance(result, tuple)
        and len(result) == 2
        and (_is_update_list(result[1]) or isinstance(result[1], (list, tuple)) and not result[1])
    ):
        outputs, updates = result
        updates = list(updates.items()) if isinstance(updates, Mapping) else list(updates)
        return _as_list(outputs), updates
    if _is_update_list(result) and not isinstance(result, Mapping):
        return [], list(result)
    return _as_list(result), []


def scan(
    fn: Callable,
    sequences=None,
    outputs_info=None,
    non_sequences=None,
    n_steps=None,
    truncate_gradient: int = -1,
    go_backwards: bool = False,
    mode=None,
    name: str | None = None,
    profile=False,
    allow_gc=None,
    strict: bool = False,
    return_list: bool = False,
):
    """Loop ``fn`` over sequences, feeding back states, as Theano's ``scan``.

    Parameters
    ----------
    fn
        Called once, symbolically, with (in this order) a slice of each sequence per
        tap, the past values of each state per tap, and the non-sequences. Returns the
        step's outputs, or ``(outputs, updates)`` where ``updates`` maps shared
        variables to their new values after the step.
    sequences
        Tensors (or ``dict(input=x, taps=[...])``) iterated along their first axis;
        tap ``k`` gives ``x[t + k]`` at step ``t`` (default taps ``[0]``).
    outputs_info
        One entry per output of ``fn``: None (not fed back), the initial value
        (fed back as tap -1), or ``dict(initial=x0, taps=[-2, -1])``, in which case
        ``x0``'s first ``-min(taps)`` rows are the values before the first step.
    non_sequences
        Values passed unchanged to every step. Other variables ``fn`` reads (shared
        weights, for instance) are passed the same way implicitly, unless ``strict``.
    n_steps
        The number of steps; with sequences, at most the shortest sequence's usable
        length. A negative constant runs backwards (as ``go_backwards``).
    truncate_gradient
        Backpropagate through the last ``truncate_gradient`` steps only (``-1``: all).
        Gradients of the initial states are zero when the truncation cuts the loop.
    go_backwards
        Read the sequences from their end to their start.
    mode
        Accepted for compatibility; the compiled function's mode applies.
    name
        Shown when printing the graph.
    profile, allow_gc
        Accepted for compatibility with Theano's signature; they change nothing.
    strict
        Refuse variables ``fn`` reads that are not passed in ``sequences``,
        ``outputs_info`` or ``non_sequences``.
    return_list
        Return the outputs as a list even when there is one.

    Returns
    -------
    outputs, updates
        For each output of ``fn``, its values at every step run stacked along a new first
        axis (a single output is returned bare unless ``return_list``); and an ordered
        mapping from shared variables to their value after the last step, to pass to
        ``croton.function(..., updates=updates)``. Shared variables with a
        ``default_update`` (random streams' generator states) read inside ``fn`` are
        updated at every step and appear there too.
    """
    from croton.compile.shared import SharedVariable
    from croton.ops.scan import apply_scan, clone_inner
    from croton.tensor.math import minimum
    from croton.tensor.shape import shape_padleft
    from croton.tensor.variable import as_tensor_variable

    if not callable(fn):
        raise TypeError(f"scan: fn must be callable, got {fn!r}")
    if not isinstance(truncate_gradient, (int, np.integer)) or isinstance(truncate_gradient, bool):
        raise TypeError(f"scan: truncate_gradient must be an int, got {truncate_gradient!r}")
    if n_steps is not None and not isinstance(n_steps, Variable):
        value = int(n_steps)
        if value != n_steps:
            raise TypeError(f"scan: n_steps must be an integer, got {n_steps!r}")
        if value < 0:
            go_backwards, n_steps = not go_backwards, -value

    # sequences: one outer slice per tap
    seq_pairs, fn_args = [], []
    for i, seq in enumerate(_as_list(sequences)):
        if isinstance(seq, Mapping):
            if "input" not in seq:
                raise ValueError(f"scan: sequence {i} is a dict without 'input'")
            x, taps = as_tensor_variable(seq["input"]), list(seq.get("taps", [0]) or [])
        else:
            x, taps = as_tensor_variable(seq), [0]
        if x.ndim == 0:
            raise TypeError(f"scan: sequence {i} ({x}) is a scalar; sequences need a first axis")
        lo, hi = min(min(taps, default=0), 0), max(max(taps, default=0), 0)
        for tap in taps:
            start, end = tap - lo, tap - hi
            outer = x if start == 0 and end == 0 else x[start:end] if end != 0 else x[start:]
            if go_backwards:
                outer = outer[::-1]
            inner = _row_type(x)(None if x.name is None else f"{x.name}[t{tap:+d}]")
            seq_pairs.append([outer, inner])
            fn_args.append(inner)
    if n_steps is None:
        if not seq_pairs:
            raise ValueError("scan: the number of steps is unknown: pass sequences or n_steps")
        count = seq_pairs[0][0].shape[0]
        for outer, _ in seq_pairs[1:]:
            count = minimum(count, outer.shape[0])
    else:
        count = as_tensor_variable(n_steps)
        if count.ndim != 0 or not count.dtype.startswith(("int", "uint")):
            raise TypeError(f"scan: n_steps must be an integer scalar, got {n_steps!r}")
    count = count.astype("int64")
    for pair in seq_pairs:
        pair[0] = pair[0][:count]

    # states
    infos = _as_list(outputs_info)
    user_states = []  # (output position, state dict) for outputs fed back
    for i, info in enumerate(infos):
        if info is None:
            continue
        if isinstance(info, Mapping):
            initial = info.get("initial")
            if initial is None:
                continue
            taps = list(info.get("taps", [-1]) or [])
            if not taps:
                continue
            if any(t >= 0 for t in taps):
                raise ValueError(f"scan: output {i} has taps {taps}; state taps must be negative")
            initial = as_tensor_variable(initial)
            length = -min(taps)
            buffer = initial[:length]
            row = _row_type(initial)
        else:
            taps = [-1]
            initial = as_tensor_variable(info)
            buffer = shape_padleft(initial)
            row = TensorType(initial.dtype, shape=initial.type.shape)
        inner = {tap: row(f"{initial.name}[t{tap:+d}]" if initial.name else None) for tap in taps}
        fn_args += [inner[tap] for tap in taps]
        user_states.append(
            (i, {"initial": buffer, "taps": taps, "inner": inner, "keep": "history"})
        )
    non_seqs = [
        v if isinstance(v, Variable) else as_tensor_variable(v) for v in _as_list(non_sequences)
    ]
    fn_args += non_seqs

    returned, condition = _split_until(fn(*fn_args))
    outputs, updates = _split_result(returned)
    outputs = [as_tensor_variable(o) for o in outputs]
    if condition is not None and seq_pairs and n_steps is not None:
        # a loop that may stop early runs at most n_steps steps, and no more than
        # its sequences have rows
        for outer, _ in seq_pairs:
            count = minimum(count, outer.shape[0])
    if infos and len(infos) != len(outputs):
        raise ValueError(
            f"scan: fn returned {len(outputs)} outputs but outputs_info has {len(infos)} "
            "entries; give one entry (None for outputs not fed back) per output"
        )
    if not infos:
        infos = [None] * len(outputs)

    # shared variables updated at each step: explicit updates, then default updates
    shared_updates: dict[int, tuple] = {}
    for var, value in updates:
        if not isinstance(var, SharedVariable):
            raise TypeError(f"scan: update target {var} is not a shared variable")
        shared_updates[id(var)] = (var, as_tensor_variable(value))
    while True:
        found = False
        values = [v for _, v in shared_updates.values()]
        for var in free_inputs(outputs + values + ([] if condition is None else [condition])):
            if (
                isinstance(var, SharedVariable)
                and var.default_update is not None
                and id(var) not in shared_updates
            ):
                shared_updates[id(var)] = (var, as_tensor_variable(var.default_update))
                found = True
        if not found:
            break
    shared_states = []
    for var, value in shared_updates.values():
        if value.ndim != var.ndim:
            raise TypeError(
                f"scan: the update of {var} has {value.ndim} dimensions, the shared variable {var.ndim}"
            )
        inner = var.type.clone(shape=var.type.shape)(var.name)
        shared_states.append((var, value, inner))

    # everything else the step reads becomes a constant of the loop
    placeholders = set(map(id, fn_args))
    shared_ids = {id(var) for var, _, _ in shared_states}
    passed = set(map(id, non_seqs))
    all_outputs = outputs + [value for _, value, _ in shared_states]
    if condition is not None:
        all_outputs.append(condition)
    free = [
        v for v in free_inputs(all_outputs) if id(v) not in placeholders and id(v) not in shared_ids
    ]
    for v in non_seqs:  # non-sequences were given to fn as themselves
        if id(v) not in {id(f) for f in free} and not isinstance(v, Constant):
            free.append(v)
    if strict:
        extra = [v for v in free if id(v) not in passed]
        if extra:
            raise ValueError(
                f"scan(strict=True): fn uses {extra[0]} ({extra[0].type}), which is not passed "
                "in sequences, outputs_info or non_sequences. Add it to non_sequences.\n"
                f"{extra[0].where()}"
            )
    old = (
        [inner for _, inner in seq_pairs]
        + [state["inner"][tap] for _, state in user_states for tap in state["taps"]]
        + [var for var, _, _ in shared_states]
        + free
    )
    new = (
        [inner for _, inner in seq_pairs]
        + [state["inner"][tap] for _, state in user_states for tap in state["taps"]]
        + [inner for _, _, inner in shared_states]
        + [v.type() for v in free]
    )
    inner_all = clone_inner(old, all_outputs, new)
    inner_condition = inner_all.pop() if condition is not None else None
    inner_outputs, inner_updates = inner_all[: len(outputs)], inner_all[len(outputs) :]
    _check_inner_graph(inner_all + ([] if condition is None else [inner_condition]), new)

    states, mapped, positions = [], [], []
    for i, out in enumerate(inner_outputs):
        fed = [s for pos, s in user_states if pos == i]
        if fed:
            state = fed[0]
            _check_state(i, state, out)
            state["output"] = out
            positions.append(("state", len(states)))
            states.append(state)
        else:
            positions.append(("mapped", len(mapped)))
            mapped.append(out)
    n_user_states = len(states)
    for (var, _, inner), value in zip(shared_states, inner_updates, strict=True):
        states.append(
            {
                "initial": shape_padleft(var),
                "taps": [-1],
                "inner": {-1: inner},
                "output": value,
                "keep": "last",
            }
        )
    results = apply_scan(
        count,
        [tuple(p) for p in seq_pairs],
        states,
        mapped,
        list(zip(free, new[len(new) - len(free) :], strict=True)),
        truncate_gradient=int(truncate_gradient),
        name=name,
        until=inner_condition,
    )
    state_results, mapped_results = results[: len(states)], results[len(states) :]
    final = []
    for kind, index in positions:
        final.append(state_results[index] if kind == "state" else mapped_results[index])
    for out in final:
        if out.name is None and name is not None:
            out.name = name
    scan_updates = OrderedDict()
    for (var, _, _), last in zip(shared_states, state_results[n_user_states:], strict=True):
        scan_updates[var] = last[0]
    if return_list or len(final) != 1:
        return final, scan_updates
    return final[0], scan_updates


def _check_state(i: int, state: dict, out) -> None:
    row = state["inner"][state["taps"][0]]
    if out.ndim != row.ndim:
        raise TypeError(
            f"scan: output {i} of fn has {out.ndim} dimensions but its initial value (outputs_info"
            f"[{i}]) gives states of {row.ndim}; make them agree"
        )
    for axis, (a, b) in enumerate(zip(out.type.shape, row.type.shape)):
        if a is not None and b is not None and a != b:
            raise TypeError(
                f"scan: output {i} of fn has static shape {out.type.shape}, its initial value "
                f"{row.type.shape} (axis {axis}); make them agree"
            )


def _check_inner_graph(outputs, inputs) -> None:
    known = set(map(id, inputs))
    for node in toposort(outputs, stop_at=inputs):
        for v in node.inputs:
            if v.owner is None and not isinstance(v, Constant) and id(v) not in known:
                raise AssertionError(f"scan: {v} escaped the loop's inputs")


class until:
    """A condition ending a `scan` loop early, as Theano's ``theano.scan_module.until``.

    ``fn`` returns it beside its outputs, ``(outputs, until(condition))`` or
    ``(outputs, updates, until(condition))``; the loop stops after the first step whose
    ``condition`` is true, that step's outputs included.

    Parameters
    ----------
    condition
        A scalar: a bool, or a real number (true when nonzero).

    Examples
    --------
    >>> import croton
    >>> import croton.tensor as T
    >>> limit = T.dscalar("limit")
    >>> powers, _ = croton.scan(
    ...     lambda p, limit: (p * 2, until(p * 2 > limit)),
    ...     outputs_info=T.constant(1.0),
    ...     non_sequences=limit,
    ...     n_steps=100,
    ... )
    >>> croton.function([limit], powers)(20)
    array([ 2.,  4.,  8., 16., 32.])
    """

    def __init__(self, condition):
        from croton.tensor.variable import as_tensor_variable

        try:
            condition = as_tensor_variable(condition)
        except Exception as error:
            raise TypeError(
                f"until: the condition must be a scalar tensor, got {condition!r} ({error})"
            ) from error
        if condition.ndim != 0:
            raise TypeError(
                f"until: the condition must be a scalar, got {condition.type} with "
                f"{condition.ndim} dimensions; reduce it (T.any, T.all) to one value"
            )
        if condition.dtype.startswith("complex"):
            raise TypeError(
                f"until: the condition must be a bool or real number, got {condition.type}"
            )
        self.condition = condition
