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
    whichever nodes share the source."""
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
    for n in names:
        if n.id in local:
            n.id = _PREFIX + n.id
    body = tuple(line for s in function.body[:-1] for line in ast.unparse(s).split("\n"))
    return parameters, body, ast.unparse(returns[0].value)
