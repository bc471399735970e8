"""Errors that depend on values: numpy raises them, jitted code cannot.

An index out of bounds or a negative integer exponent makes numpy raise. Inside
``jax.jit`` the values are unknown while tracing, so a kernel states the condition with
`require`; the traced program computes one error code (the lowest failed check) and
returns it with its outputs, and the executable raises the matching exception after the
call, before any shared variable is updated. Where the condition is already known (no
tracing, or a value fixed at compile time), `require` raises at once.

Conditions about shapes never need this: shapes are known while tracing.
"""

from __future__ import annotations

import threading

import numpy as np

from croton_jax.lazy_jax import is_traced, jnp

#: the code of a call where every check passed
NO_ERROR = np.iinfo(np.int32).max

_local = threading.local()


class CheckTable:
    """The checks of one jitted segment: error code -> (error type, message, node)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[tuple[type, str, object]] = []
        self._codes: dict[tuple, int] = {}

    def code_for(self, error_type: type, message: str, node) -> int:
        """The code of this check (the same code each time the segment is traced)."""
        key = (error_type, message, id(node))
        with self._lock:
            code = self._codes.get(key)
            if code is None:
                code = self._codes[key] = len(self._entries)
                self._entries.append((error_type, message, node))
            return code

    def raise_for(self, code) -> None:
        """Raise the error of ``code`` (returned by the segment), if a check failed."""
        if code is None:
            return
        code = int(code)  # waits for the call to finish
        if code == NO_ERROR:
            return
        error_type, message, node = self._entries[code]
        from croton_jax.errors import error_with_node

        raise error_with_node(error_type(message), node)


class CheckCollector:
    """The failed-check codes of one traced program."""

    def __init__(self, table: CheckTable):
        self.table = table
        self.codes: list = []
        self.node = None  # the node being traced, named in the error

    def add_code(self, code) -> None:
        """Include a code computed elsewhere (an inner program's)."""
        if code is not None:
            self.codes.append(code)

    def code(self):
        """The lowest failed code as an int32 scalar, or None when nothing was checked."""
        if not self.codes:
            return None
        return jnp.min(jnp.stack([jnp.asarray(c, dtype="int32") for c in self.codes]))


class collecting:
    """Context manager: checks made while tracing go to a fresh `CheckCollector`.

    Its codes come from ``table``, or from the enclosing collector's table for an inner
    program traced inside an outer one.
    """

    def __init__(self, table: CheckTable | None = None):
        self._table = table

    def __enter__(self) -> CheckCollector:
        self._outer = current_collector()
        table = self._table
        if table is None:
            table = self._outer.table if self._outer is not None else CheckTable()
        _local.collector = CheckCollector(table)
        return _local.collector

    def __exit__(self, *exc) -> None:
        _local.collector = self._outer


def current_collector() -> CheckCollector | None:
    """The collector of the program being traced in this thread, if any."""
    return getattr(_local, "collector", None)


def report_code(code) -> None:
    """Hand an inner program's error code to the program being traced."""
    collector = current_collector()
    if collector is None:  # traced codes only exist inside a croton trace
        raise RuntimeError("an inner program's error code arrived outside a croton trace")
    collector.add_code(code)


def require(ok, error_type: type, message: str) -> None:
    """Fail with ``error_type(message)`` unless every element of ``ok`` is true.

    Parameters
    ----------
    ok
        A boolean array, traced or not.
    error_type
        The exception numpy raises in this case (``IndexError``, ``ValueError``).
    message
        What went wrong; the failing node is added when it is raised.
    """
    if not is_traced(ok):
        if not np.all(np.asarray(ok)):
            raise error_type(message)
        return
    collector = current_collector()
    if collector is None:  # a traced value outside croton's tracing: cannot happen
        raise RuntimeError(f"a run-time check was made outside a croton program: {message}")
    code = collector.table.code_for(error_type, message, collector.node)
    collector.codes.append(jnp.where(jnp.all(ok), NO_ERROR, code))
