"""The numba rule for `Scan`: the whole loop in jitted code, no Python per step.

The inner graph is compiled into one jitted function (as a `Map`'s is) and the node's
function loops over the steps, implementing the contract in the docstring of
`croton.ops.scan.Scan`:

- a state kept as a history gets a buffer of ``L + n`` rows, its initial ``L`` values
  then one row per step, and its output is the view of the last ``n`` rows;
- a state kept as its last values gets a ring of ``L`` rows: step ``s`` lives in row
  ``(s + L) % L``, so a long loop needs no memory per step;
- a mapped output is allocated after the first step, which gives its shape (the steps
  after it must give the same);
- a loop with an until condition breaks after the first step where it holds, counting
  the steps run, ``count``: buffers sized for ``n`` steps are then copied to their
  first ``count`` rows, and rings read as if the loop had ``count`` steps.
"""

from __future__ import annotations

from croton.ops.scan import Scan
from croton_numba.lowering import _function, _inner_graph, lowers
from croton_numba.scalar_code import numba_dtype


def _row(array: str, position: str, var) -> str:
    """Source reading row ``position`` of ``array`` as the inner input ``var`` (0-d rows
    become 0-d arrays, which every kernel takes)."""
    if var.ndim == 0:
        return f"_scalar_array({array}[{position}], {numba_dtype(var.dtype)})"
    return f"{array}[{position}]"


def _zero_row(target: str, array: str, var) -> list[str]:
    """Lines setting ``target`` to a row of zeros shaped like the rows of ``array``.

    The zeros are typed as a row of ``array`` (its layout and flags), so the step
    called on them is the one numba compiles for the real rows, not a second one."""
    if var.ndim == 0:
        return [f"{target} = _scalar_array(0, {numba_dtype(var.dtype)})"]
    return [
        f"if {array}.shape[0] < 0:  # (never: gives {target} the type of a row)",
        f"    {target} = {array}[0]",
        "else:",
        f"    {target} = np.zeros({array}.shape[1:], dtype={numba_dtype(var.dtype)})",
    ]


def _element(var) -> str:
    return "[()]" if var.ndim == 0 else ""


@lowers(Scan)
def _scan(op, node, name, context):
    step = f"{name}_step"
    functions, _ = _inner_graph(op, step, context, what="a scan")
    n_states, n_mapped = op.n_states, op.n_mapped
    lengths, keeps = op.state_lengths, op.state_keeps
    sequences = [f"s{k}" for k in range(op.n_sequences)]
    buffers = [f"b{j}" for j in range(n_states)]
    constants = [f"c{m}" for m in range(op.n_constants)]
    label = "scan"  # (the user's name for the loop stays out of generated source)

    def position(j: int, offset: str) -> str:
        """The row of state ``j`` holding step ``t + offset``."""
        if keeps[j] == "history":
            return f"{lengths[j]} + t{offset}"
        return f"(t{offset} + {lengths[j]}) % {lengths[j]}"

    arguments, inner = [], iter(op.inner_inputs)
    for sequence in sequences:
        arguments.append(_row(sequence, "t", next(inner)))
    for j, taps in enumerate(op.state_taps):
        arguments += [_row(f"st{j}", position(j, f" + ({tap})"), next(inner)) for tap in taps]
    arguments += constants
    results = op.inner_outputs
    condition = n_states + n_mapped  # the until condition's place in a step's results

    def one_step(indent: str) -> list[str]:
        lines = [f"r = {step}({', '.join(arguments)})"]
        for j in range(n_states):
            lines += [
                f"if r[{j}].shape != st{j}.shape[1:]:",
                f"    raise ValueError('{label}: a step changed the shape of a state')",
                f"st{j}[{position(j, '')}] = r[{j}]{_element(results[j])}",
            ]
        for m in range(n_mapped):
            k = n_states + m
            lines += [
                f"if r[{k}].shape != out{m}.shape[1:]:",
                f"    raise ValueError('{label}: the steps give results of different shapes')",
                f"out{m}[t] = r[{k}]{_element(results[k])}",
            ]
        return [indent + line for line in lines]

    def stop(indent: str, after: str) -> list[str]:
        """Source leaving the loop (``after``: how) once the condition holds."""
        if not op.has_until:
            return []
        lines = [f"if r[{condition}][()]:", "    count = t + 1", f"    {after}"]
        return [indent + line for line in lines]

    body = [
        "n = n_steps[()]",
        "if n < 0:",
        f"    raise ValueError('{label}: the number of steps is negative')",
        "count = n",
    ]
    for sequence in sequences:
        body += [
            f"if {sequence}.shape[0] < n:",
            f"    raise ValueError('{label}: a sequence has fewer rows than the loop has steps')",
        ]
    for j, (buffer, length) in enumerate(zip(buffers, lengths)):
        rows = length if keeps[j] == "last" else f"{length} + n"
        dtype = numba_dtype(node.inputs[1 + op.n_sequences + j].dtype)
        body += [
            f"if {buffer}.shape[0] < {length}:",
            f"    raise ValueError('{label}: a state has fewer initial values than its taps need')",
            f"st{j} = _empty(({rows},) + {buffer}.shape[1:], dtype={dtype})",
            f"st{j}[:{length}] = {buffer}[:{length}]",
        ]
    if n_mapped:
        # the first step gives the mapped outputs' shapes; without steps, a trial step on
        # zero rows does (lengths it cannot give are 0, as the numpy backend's)
        zeros = [f"z{k}" for k in range(len(sequences))]
        trial = zeros + arguments[len(sequences) :]
        body += ["if n == 0:", "    t = 0"]
        for zero, sequence, var in zip(zeros, sequences, op.inner_inputs):
            body += ["    " + line for line in _zero_row(zero, sequence, var)]
        body += ["    try:", f"        r = {step}({', '.join(trial)})"]
        for m, out in enumerate(node.outputs[n_states:]):
            shape = f"(0,) + r[{n_states + m}].shape"
            body.append(f"        out{m} = _empty({shape}, dtype={numba_dtype(out.dtype)})")
        body.append("    except Exception:")
        for m, out in enumerate(node.outputs[n_states:]):
            row = "".join(f"{0 if s is None else s}, " for s in results[n_states + m].type.shape)
            body.append(f"        out{m} = _empty((0, {row}), dtype={numba_dtype(out.dtype)})")
        body += ["else:", "    t = 0", f"    r = {step}({', '.join(arguments)})"]
        for m, out in enumerate(node.outputs[n_states:]):
            shape = f"(n,) + r[{n_states + m}].shape"
            body.append(f"    out{m} = _empty({shape}, dtype={numba_dtype(out.dtype)})")
        body += one_step("    ")[1:]
        body += stop("    ", "pass")
        # (a loop that stopped at its first step, count < n, runs no other)
        body.append(
            "    for t in range(1 if count == n else n, n):"
            if op.has_until
            else "    for t in range(1, n):"
        )
        body += one_step("        ")
        body += stop("        ", "break")
    else:
        body.append("for t in range(n):")
        body += one_step("    ")
        body += stop("    ", "break")
    outputs = []
    for j, (keep, length) in enumerate(zip(keeps, lengths)):
        if keep == "history":
            rows = (
                f"st{j}[{length}:{length} + count].copy()" if op.has_until else f"st{j}[{length}:]"
            )
            outputs.append(rows)
            continue
        body += [
            f"last{j} = np.empty_like(st{j})",
            f"for i in range({length}):",
            f"    last{j}[i] = st{j}[(count + i) % {length}]",
        ]
        outputs.append(f"last{j}")
    outputs += [f"out{m}[:count].copy()" if op.has_until else f"out{m}" for m in range(n_mapped)]
    body.append(f"return ({', '.join(outputs)},)" if len(outputs) > 1 else f"return {outputs[0]}")
    source = _function(name, ["n_steps", *sequences, *buffers, *constants], body, inline=False)
    return source + "\n\n" + functions
