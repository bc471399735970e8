"""The numba rule for `IfElse`: ``if condition: ... else: ...`` in the jitted code.

Each branch's inner graph is written as statements (`inner_body`) in its block of the
node's function, so only the branch the condition picks runs.
"""

from __future__ import annotations

from croton.ops.ifelse import IfElse
from croton_numba.inlining import jit_flags
from croton_numba.lowering import inner_body, lowers


def _condition_test(dtype: str) -> str:
    """Source that is true when the 0-d ``condition`` is nonzero (nan counts as true)."""
    if dtype == "float16":
        return "(condition[()] & 0x7FFF) != 0"  # (float16 arrays hold their bits)
    return "condition[()] != 0"


def _branch_lines(graph, arguments: list[str], body) -> list[str]:
    """A branch's statements (`inner_body`), its results named ``out0, out1, ...``; a
    result that is one of the branch's arguments is copied, so outputs never alias
    inputs."""
    lines = [f"{p} = {a}" for p, a in zip(body.parameters, arguments)] + body.statements
    for k, (out, result) in enumerate(zip(graph.outputs, body.results)):
        copy = ".copy()" if any(out is v for v in graph.inputs) else ""
        lines.append(f"out{k} = {result}{copy}")
    return lines


@lowers(IfElse)
def _ifelse(op, node, name, context):
    then_graph, else_graph = op.branch_graphs(node)
    n_then, n_else = op.n_arguments()
    then_body = inner_body(then_graph, f"{name}_then", context, "an IfElse", "then_")
    else_body = inner_body(else_graph, f"{name}_else", context, "an IfElse", "else_")
    then_arguments = [f"a{k}" for k in range(n_then)]
    else_arguments = [f"b{k}" for k in range(n_else)]
    body = [f"if {_condition_test(node.inputs[0].dtype)}:"]
    body += ["    " + line for line in _branch_lines(then_graph, then_arguments, then_body)]
    body.append("else:")
    body += ["    " + line for line in _branch_lines(else_graph, else_arguments, else_body)]
    results = ", ".join(f"out{k}" for k in range(len(node.outputs)))
    body.append(f"return ({results},)" if len(node.outputs) > 1 else f"return {results}")
    # (the branches' flags, fastmath among them, so the segment inlining this keeps them)
    flags = jit_flags(then_body.kernels + else_body.kernels, cache=False)
    arguments = ["condition", *then_arguments, *else_arguments]
    source = "\n".join(
        [f"@numba.njit(inline='always', {flags})", f"def {name}({', '.join(arguments)}):"]
        + ["    " + line for line in body]
    )
    return "\n\n".join([source + "\n", *then_body.functions, *else_body.functions])
