"""Errors raised while a compiled function runs: they name the node that failed."""

from __future__ import annotations


class NodeFailure(RuntimeError):
    """A node failed (used when the original error type cannot carry the message)."""


def describe_failure(node, error: BaseException) -> str:
    """The message for ``error`` raised while running ``node`` on the jax backend."""
    inputs = ", ".join(str(v.type) for v in node.inputs)
    where = node.outputs[0].where() if node.outputs else ""
    return (
        f"{error}\nThis happened while running {node.op} on backend 'jax' "
        f"(inputs: {inputs}). The node's output was created at:\n{where}"
    )


def error_with_node(error: BaseException, node) -> BaseException:
    """``error`` again, of the same type where possible, with ``node`` named.

    An error that already names a node (raised by an inner program) is returned as is.
    """
    if node is None or getattr(error, "node", None) is not None:
        return error
    message = describe_failure(node, error)
    try:
        new = type(error)(message)
    except Exception:
        new = NodeFailure(message)
    new.node = node
    return new.with_traceback(error.__traceback__)
