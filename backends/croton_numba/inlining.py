"""Kernels written into the function that runs them: numba's ``inline='always'`` done
on the source, where it costs nothing.

A jitted segment, a Map's or scan's step and an `IfElse` branch each run a list of
nodes. Calling every node's kernel as a function of its own made numba compile, type
and inline each one: numba's own inlining of every node took a sixth of a segment's
compile time, and the functions of an inner graph were compiled one by one. Here a
kernel's body becomes statements of its caller instead, its local names prefixed with
the node's name. A kernel that cannot be written so (one with helper functions, or one
that returns anywhere but at its end) stays a function its caller calls.
"""

from __future__ import annotations

import ast
import functools

_PREFIX = "croton_inlined_"  # stands for a node's prefix in a parsed kernel's statements


def jit_flags(kernel_sources, cache: bool) -> str:
    """The flags of a function running ``kernel_sources``: what those kernels need
    (``parallel`` for ``numba.prange`` loops, ``fastmath`` for contraction)."""
    from croton_numba.loops import ELEMENTWISE_FASTMATH, PARALLEL_OPTIONS

    decorators = [source.split("\n", 1)[0] for source in kernel_sources]
    flags = "cache=True, error_model='numpy'" if cache else "error_model='numpy'"
    if any("parallel=" in line for line in decorators):
        flags += f", parallel={PARALLEL_OPTIONS}"
    if any("fastmath=" in line for line in decorators):
        flags += f", fastmath={ELEMENTWISE_FASTMATH}"
    return flags


def call_or_inline(source: str, name: str, arguments: list[str], targets: list[str]):
    """``(functions, statements)`` running the kernel ``source`` (a function called
    ``name``) on ``arguments`` into ``targets``: its body as statements, or, where that
    is not simple, its source kept as a function and a call to it."""
    statements = _inlined(source, f"{name}_", arguments, targets)
    if statements is not None:
        return [], statements
    return [source], [f"{', '.join(targets)} = {name}({', '.join(arguments)})"]


def _inlined(source: str, prefix: str, arguments: list[str], targets: list[str]):
    """A kernel's body as statements, or None where that is not simple.

    The kernel's local names take ``prefix``, its parameters are assigned from
    ``arguments`` and its final ``return`` becomes an assignment to ``targets``.
    """
    template = _inline_template(source)
    if template is None:
        return None
    parameters, body, result = template
    statements = [f"{prefix}{p} = {a}" for p, a in zip(parameters, arguments)]
    statements += [line.replace(_PREFIX, prefix) for line in body]
    statements.append(f"{', '.join(targets)} = {result.replace(_PREFIX, prefix)}")
    return statements


@functools.lru_cache(maxsize=4096)
def _inline_template(source: str):
    """``(parameters, body lines, returned expression)`` of a kernel, local names
    prefixed by `_PREFIX`; None where it cannot be inlined. Parsed once per process,
    whichever nodes share the source.

    The names are prefixed in the kernel's own text, at the positions the parse gives
    them (writing the parsed tree back out took twice as long as the parse), so the
    statements read as written. A name not found where the parse puts it (a position
    inside an f-string, which Python before 3.12 reports loosely) keeps the kernel a
    function.
    """
    definitions = ast.parse(source).body
    if len(definitions) != 1:
        return None  # (a kernel with helper functions of its own)
    (function,) = definitions
    names, returns = [], []
    for n in ast.walk(function):
        if isinstance(n, ast.Name):
            names.append(n)
        elif isinstance(n, ast.Return):
            returns.append(n)
    if len(returns) != 1 or function.body[-1] is not returns[0]:
        return None
    parameters = tuple(a.arg for a in function.args.args)
    local = set(parameters) | {n.id for n in names if isinstance(n.ctx, ast.Store)}
    lines = [line.encode() for line in source.split("\n")]  # (offsets count bytes)
    renamed = [(n.lineno - 1, n.col_offset, n.id) for n in names if n.id in local]
    for row, column, name in sorted(renamed, reverse=True):
        line = lines[row]
        if line[column : column + len(name)] != name.encode():
            return None
        lines[row] = line[:column] + _PREFIX.encode() + line[column:]

    def moved(row: int, column: int) -> int:  # an offset, after the prefixes before it
        return column + len(_PREFIX) * sum(1 for r, c, _ in renamed if r == row and c < column)

    indent = function.body[0].col_offset
    body = tuple(
        line[indent:].decode() if line[:indent].isspace() else line.strip().decode()
        for line in lines[function.body[0].lineno - 1 : returns[0].lineno - 1]
        if line.strip()
    )
    value = returns[0].value
    first, last = value.lineno - 1, value.end_lineno - 1
    span = lines[first : last + 1]
    span[-1] = span[-1][: moved(last, value.end_col_offset)]
    span[0] = span[0][moved(first, value.col_offset) :]
    result = b"\n".join(span).decode()
    return parameters, body, result if first == last else f"({result})"
