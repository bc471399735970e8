"""Straight-line Python programs: how a Python-level backend runs a graph.

The nodes are laid out once, at compile time, into the source of one Python function
whose local variables are the storage cells::

    def program(v0, v1):
        v2 = k0(v0, v1)
        v3 = k1(v2)
        return [v3]

A call costs one Python function call per node and no graph walking. Kernels and
constants reach the function through its globals; the source names them by number
only, so no user string is ever embedded in it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from croton.graph.basic import Apply, Constant, Variable

_counter = itertools.count()


class NodeFailure(RuntimeError):
    """A node failed while a compiled function ran (when the error type cannot be kept)."""


class Program:
    """A compiled straight-line program over an ordered list of nodes.

    Parameters
    ----------
    inputs, outputs
        The graph's boundary variables.
    nodes
        The nodes in execution order.
    kernels
        One callable per node: ``kernel(*input_values)`` returns the output value, or a
        tuple of them for a multi-output node.
    constant_value
        Converts a `Constant` to the value the kernels expect.
    """

    def __init__(
        self,
        inputs: Sequence[Variable],
        outputs: Sequence[Variable],
        nodes: Sequence[Apply],
        kernels: Sequence[Callable],
        constant_value: Callable[[Constant], object] = lambda c: c.data,
    ):
        self.nodes = list(nodes)
        names: dict[int, str] = {}
        namespace: dict[str, object] = {}
        for i, var in enumerate(inputs):
            names[id(var)] = f"v{i}"
        lines = [f"def program({', '.join(names[id(v)] for v in inputs)}):"]
        self._line_to_node: dict[int, Apply] = {}
        counter = itertools.count(len(inputs))

        def name_of(var: Variable) -> str:
            if id(var) not in names:
                if not isinstance(var, Constant):
                    raise ValueError(f"{var} is neither an input nor computed by the program")
                names[id(var)] = f"c{len(namespace)}"
                namespace[names[id(var)]] = constant_value(var)
            return names[id(var)]

        for k, (node, kernel) in enumerate(zip(self.nodes, kernels)):
            namespace[f"k{k}"] = kernel
            args = ", ".join(name_of(v) for v in node.inputs)
            for out in node.outputs:
                names[id(out)] = f"v{next(counter)}"
            targets = ", ".join(names[id(o)] for o in node.outputs)
            if len(node.outputs) == 1:
                lines.append(f"    {targets} = k{k}({args})")
            else:
                lines.append(f"    ({targets},) = k{k}({args})")
            self._line_to_node[len(lines)] = node
        lines.append(f"    return [{', '.join(name_of(v) for v in outputs)}]")
        self.source = "\n".join(lines) + "\n"
        filename = f"<croton program {next(_counter)}>"
        code = compile(self.source, filename, "exec")
        exec(code, namespace)
        self.function = namespace["program"]
        self._filename = filename

    def failed_node(self, error: BaseException) -> Apply | None:
        """The node whose kernel raised ``error``, from the traceback."""
        tb = error.__traceback__
        node = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self._filename:
                node = self._line_to_node.get(tb.tb_lineno)
            tb = tb.tb_next
        return node


def single_output(kernel: Callable, node: Apply) -> Callable:
    """``kernel`` as a program calls it: a tuple only for nodes with several outputs.

    Rules whose kernels always return a tuple (a loop's outputs, a branch's) wrap them
    with this.
    """
    if len(node.outputs) > 1:
        return kernel
    return lambda *args: kernel(*args)[0]


def describe_failure(node: Apply, error: BaseException, backend_name: str) -> str:
    """The message for an error raised while running ``node``."""
    shapes = ", ".join(str(v.type) for v in node.inputs)
    where = node.outputs[0].where() if node.outputs else ""
    return (
        f"{error}\nThis happened while running {node.op} on backend {backend_name!r} "
        f"(inputs: {shapes}). The node's output was created at:\n{where}"
    )


def reraise_with_node(error: BaseException, node: Apply | None, backend_name: str):
    """Raise ``error`` again with the failing node named; keeps the error type if possible."""
    if node is None:
        raise error
    message = describe_failure(node, error, backend_name)
    try:
        new = type(error)(message)
    except Exception:
        new = NodeFailure(message)
    new.node = node
    raise new.with_traceback(error.__traceback__) from None
