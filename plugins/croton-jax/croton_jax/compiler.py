"""Lowering a graph: one kernel per node from the backend's rules, then a `Plan`."""

from __future__ import annotations

import threading

import numpy as np

from croton.backend import resolve_rules
from croton_jax.lazy_jax import jnp
from croton_jax.program import Plan

_context = threading.local()


def lower_graph(inputs, outputs, nodes, backend, allow_fallback: bool) -> Plan:
    """The plan for ``nodes`` (in topological order) between ``inputs`` and ``outputs``.

    A node the backend cannot lower raises `croton.backend.MissingLoweringError`, or with
    ``allow_fallback`` runs the reference backend's kernel eagerly (with a warning).
    """
    rules = resolve_rules(nodes, backend, allow_fallback)
    outer = getattr(_context, "settings", None)
    _context.settings = (backend, allow_fallback)
    try:
        kernels = []
        for node, (rule, fell_back) in zip(nodes, rules, strict=True):
            kernel = rule(node.op, node)
            kernels.append(reference_kernel(kernel, node) if fell_back else kernel)
    finally:
        _context.settings = outer
    return Plan(inputs, outputs, nodes, kernels)


def lower_inner_graph(inputs, outputs) -> Plan:
    """The plan for an op's inner graph (`Map`), with the settings of the outer compile."""
    from croton.graph.fgraph import FunctionGraph

    settings = getattr(_context, "settings", None)
    if settings is None:  # a rule called outside a compile
        from croton.backend import get_backend

        settings = (get_backend("jax"), False)
    backend, allow_fallback = settings
    fgraph = FunctionGraph(inputs, outputs)
    return lower_graph(fgraph.inputs, fgraph.outputs, fgraph.toposort(), backend, allow_fallback)


def reference_kernel(kernel, node):
    """A reference-backend kernel run eagerly on numpy copies of the jax arrays."""
    several = len(node.outputs) > 1
    dtypes = [v.type.dtype for v in node.outputs]

    def run(*args):
        with np.errstate(all="ignore"):
            result = kernel(*[np.asarray(a) for a in args])
        results = result if several else (result,)
        arrays = tuple(
            jnp.asarray(np.asarray(r, dtype=d)) for r, d in zip(results, dtypes, strict=True)
        )
        return arrays if several else arrays[0]

    run.runs_eagerly = True
    return run
