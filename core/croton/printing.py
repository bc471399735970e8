"""Readable views of graphs: `pp` (infix) and `debugprint` (a tree with node ids).

Both walk the graph iteratively, so deep graphs print.
"""

from __future__ import annotations

import string
import sys

from croton.graph.basic import Apply, Constant, Op, Variable
from croton.graph.traversal import toposort

_INFIX = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "true_div": "/",
    "int_div": "//",
    "mod": "%",
    "pow": "**",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "eq": "==",
    "neq": "!=",
    "and": "&",
    "or": "|",
    "xor": "^",
}
_PREFIX = {"neg": "-", "invert": "~"}


def _leaf(var: Variable) -> str:
    if var.name is not None:
        return var.name
    if isinstance(var, Constant):
        return str(var)
    return f"<{var.type}>"


def _node_text(node, args: list[str], var: Variable) -> str:
    from croton.ops.composite import Composite
    from croton.ops.elemwise import DimShuffle, Elemwise
    from croton.ops.reduce import Reduce
    from croton.ops.subtensor import Subtensor, format_spec

    op = node.op
    if isinstance(op, Elemwise) and isinstance(op.scalar_op, Composite):
        return _composite_text(op.scalar_op, args)
    if isinstance(op, Elemwise):
        name = op.scalar_op.name
        if name in _INFIX:
            return f"({args[0]} {_INFIX[name]} {args[1]})"
        if name in _PREFIX:
            return f"{_PREFIX[name]}{args[0]}"
        return f"{op.scalar_op}({', '.join(args)})"
    if isinstance(op, DimShuffle):
        order = op.new_order
        while order and order[0] == "x":  # leading broadcast axes are implicit (as in Theano)
            order = order[1:]
        if order == tuple(range(op.input_ndim)):
            return args[0]
        if op.input_ndim > 1 and order == tuple(reversed(range(op.input_ndim))):
            return f"{args[0]}.T"
        return f"{args[0]}.dimshuffle({', '.join(repr(d) for d in op.new_order)})"
    if isinstance(op, Reduce):
        operand = args[0] if op.prologue is None else _composite_text(op.prologue, args)
        return f"{op.kind}({operand}, axis={list(op.axis)})"
    if isinstance(op, Subtensor):
        return f"{args[0]}[{format_spec(op.spec)}]"
    label = type(op).__name__ if not op.__props__ else str(op)
    suffix = f".{var.index}" if len(node.outputs) > 1 else ""
    return f"{label}({', '.join(args)}){suffix}"


def _composite_text(composite, args: list[str]) -> str:
    """A fused program written over its arguments: ``sqr(sub(x, y))``; a program that
    names a shared step is bracketed, ``{s0=exp(x); mul(s0, s0)}``."""
    text = composite.expression(args)
    return f"{{{text}}}" if ";" in text else text


def pp(var) -> str:
    """An infix rendering of the expression computing ``var`` (or a list of them)."""
    if isinstance(var, (list, tuple)):
        return "\n".join(pp(v) for v in var)
    if hasattr(var, "maker"):
        return pp(var.maker.fgraph.outputs)
    text: dict[int, str] = {}
    for node in toposort([var]):
        # a named intermediate result prints as its name
        args = [v.name or text.get(id(v)) or _leaf(v) for v in node.inputs]
        for out in node.outputs:
            text[id(out)] = _node_text(node, args, out)
    return text.get(id(var)) or _leaf(var)


def _ids():
    """A, B, ..., Z, BA, BB, ...: short stable identifiers, as Theano prints."""
    letters = string.ascii_uppercase
    n = 0
    while True:
        k, digits = n, ""
        while True:
            digits = letters[k % 26] + digits
            k //= 26
            if k == 0:
                break
        yield digits
        n += 1


def debugprint(
    obj, file=None, print_type: bool = False, depth: int = -1, ids: str = "CHAR", done=None
):
    """Print the graph of ``obj`` as a tree, each node with an id.

    ``obj`` is a variable, a list of them, a compiled function (its rewritten graph) or a
    `FunctionGraph`. A node already printed is shown again by its id only. With
    ``file="str"`` the text is returned instead of printed.
    """
    if hasattr(obj, "maker"):
        roots = list(obj.maker.fgraph.outputs)
    elif hasattr(obj, "outputs") and hasattr(obj, "apply_nodes"):
        roots = list(obj.outputs)
    elif isinstance(obj, (list, tuple)):
        roots = list(obj)
    else:
        roots = [obj]
    new_id = _ids()
    assigned: dict[int, str] = {}
    expanded: set[int] = set()
    lines: list[str] = []

    def ident(var: Variable) -> str:
        key = id(var.owner) if var.owner is not None else id(var)
        if key not in assigned:
            assigned[key] = next(new_id)
        return assigned[key]

    for root in roots:
        # (variable, its line's prefix, the prefix its children's lines extend, depth)
        stack = [(root, "", "", 0)]
        while stack:
            var, prefix, under, level = stack.pop()
            node = var.owner
            name = f" '{var.name}'" if var.name else ""
            type_text = f" {var.type}" if print_type else ""
            if node is None:
                label = str(var) if isinstance(var, Constant) or var.name else f"<{var.type}>"
                lines.append(f"{prefix}{label} [id {ident(var)}]{type_text}")
                continue
            index = f".{var.index}" if len(node.outputs) > 1 else ""
            lines.append(f"{prefix}{node.op}{index} [id {ident(var)}]{name}{type_text}")
            if id(node) in expanded or (depth != -1 and level + 1 >= depth):
                continue
            expanded.add(id(node))
            # a child's bar runs on down to its next sibling, as in Theano
            last = len(node.inputs) - 1
            for k in reversed(range(len(node.inputs))):
                below = under + ("  " if k == last else " |")
                stack.append((node.inputs[k], under + " |", below, level + 1))
    text = "\n".join(lines) + "\n"
    if file == "str":
        return text
    (file or sys.stdout).write(text)
    return file


def _print_values(op: Print, value) -> None:
    """Theano's way: one line per attribute, ``message attribute = value``."""
    for attr in op.attrs:
        shown = getattr(value, attr)
        print(op.message, attr, "=", shown() if callable(shown) else shown)


class Print(Op):
    """The identity, printing its input's value each time a function computes it.

    As Theano's ``theano.printing.Print``: ``Print("x is")(x)`` prints ``x is __str__ =
    [...]``; ``attrs`` names what to print of the array (``("shape", "mean")``), and
    ``global_fn(op, value)`` replaces the printing. It runs as Python (its ``perform``),
    so on a compiling backend it is a Python step between the compiled parts. The
    gradient passes through it unchanged, without printing.
    """

    __props__ = ("message", "attrs", "global_fn")

    def __init__(self, message: str = "", attrs=("__str__",), global_fn=_print_values):
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def make_node(self, x) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage) -> None:
        (value,) = inputs
        self.global_fn(self, value)
        output_storage[0][0] = value

    def infer_shape(self, node, input_shapes):
        return input_shapes

    def grad(self, inputs, output_grads):
        return list(output_grads)
