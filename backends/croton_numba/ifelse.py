"""The numba rule for `IfElse`: ``if condition: ... else: ...`` in the jitted code.

Each branch's inner graph is compiled into one jitted function (as a `Map`'s inner
graph is), and the node's function calls only the one the condition picks.
"""

from __future__ import annotations

from croton.ops.ifelse import IfElse
from croton_numba.lowering import _function, _inner_graph, lowers


def _condition_test(dtype: str) -> str:
    """Source that is true when the 0-d ``condition`` is nonzero (nan counts as true)."""
    if dtype == "float16":
        return "(condition[()] & 0x7FFF) != 0"  # (float16 arrays hold their bits)
    return "condition[()] != 0"


def _branch_lines(prefix: str, graph, arguments: list[str], call) -> list[str]:
    """Call a branch and name its results ``out0, out1, ...``; a result that is one of
    the branch's arguments is copied, so outputs never alias inputs."""
    lines = [f"{prefix}results = {call(', '.join(arguments), '')}"]
    for k, out in enumerate(graph.outputs):
        copy = ".copy()" if any(out is v for v in graph.inputs) else ""
        lines.append(f"out{k} = {prefix}results[{k}]{copy}")
    return lines


@lowers(IfElse)
def _ifelse(op, node, name, context):
    then_graph, else_graph = op.branch_graphs(node)
    n_then, n_else = op.n_arguments()
    then_functions, then_call = _inner_graph(then_graph, f"{name}_then", context)
    else_functions, else_call = _inner_graph(else_graph, f"{name}_else", context)
    then_arguments = [f"a{k}" for k in range(n_then)]
    else_arguments = [f"b{k}" for k in range(n_else)]
    body = [f"if {_condition_test(node.inputs[0].dtype)}:"]
    body += [
        "    " + line for line in _branch_lines("then_", then_graph, then_arguments, then_call)
    ]
    body.append("else:")
    body += [
        "    " + line for line in _branch_lines("else_", else_graph, else_arguments, else_call)
    ]
    results = ", ".join(f"out{k}" for k in range(len(node.outputs)))
    body.append(f"return ({results},)" if len(node.outputs) > 1 else f"return {results}")
    source = _function(name, ["condition", *then_arguments, *else_arguments], body)
    return source + "\n\n" + then_functions + "\n\n" + else_functions
