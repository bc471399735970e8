"""Graph rewriting before compilation.

Passes run in this order (``mode="FAST_RUN"``):

1. ``merge``: identical constants and subgraphs become one;
2. ``canonicalize``: arithmetic simplification, constant folding, shape lifting;
3. ``stabilize``: numerically stable forms (log1p, softplus, logsoftmax, ...);
4. ``specialize``: cheaper forms (sqr, sqrt, dot, gemm);
5. ``fuse``: elementwise chains, and their reductions, into single loops;
6. the backend's own passes, then ``merge`` again.

``ifelse_simplify`` (constant conditions, identical branches) runs after the first
``canonicalize``. ``FAST_COMPILE`` runs only merging, the cheap canonicalisations and
``ifelse_simplify``; ``NONE`` runs nothing. After the passes of every mode, NONE too,
``lazy_ifelse`` moves into each ifelse the nodes only one of its branches needs: that
is part of what ifelse means rather than an optimisation. (The ifelse passes run only
on graphs that hold an ifelse.) Statistics go to ``fgraph.rewrite_stats``;
``croton.function(..., profile=True)`` or ``croton.config.print_rewrites`` prints them.
"""

from __future__ import annotations

from croton.rewrite.engine import (
    EquilibriumPass,
    GraphPass,
    NodeRewriter,
    PatternRewriter,
    RewriteStats,
    RewriteWarning,
    node_rewriter,
)
from croton.rewrite.pattern import P

__all__ = [
    "EquilibriumPass",
    "GraphPass",
    "NodeRewriter",
    "P",
    "PatternRewriter",
    "RewriteStats",
    "RewriteWarning",
    "node_rewriter",
    "passes_for",
    "rewrite_graph",
]


def passes_for(mode: str, backend=None) -> list:
    """The passes ``mode`` runs, in order."""
    from croton.rewrite import canonicalize, fuse, ifelse, specialize, stabilize
    from croton.rewrite import scan as scan_rewrites
    from croton.rewrite.merge import merge_pass

    if mode == "NONE":
        return []
    if mode == "FAST_COMPILE":
        return [merge_pass, canonicalize.cheap_pass, ifelse.simplify_pass]
    passes = [
        merge_pass,
        scan_rewrites.loop_pass,
        canonicalize.canonicalize_pass,
        ifelse.simplify_pass,
        stabilize.stabilize_pass,
        canonicalize.canonicalize_pass,
    ]
    passes += [
        specialize.specialize_pass,
        fuse.fuse_pass,
        scan_rewrites.inner_pass,
        scan_rewrites.map_inner_pass,
    ]
    if backend is not None:
        passes += list(backend.rewrite_passes())
    passes.append(merge_pass)
    return passes


def effective_mode(mode: str) -> str:
    """``mode`` adjusted by ``croton.config.optimizer``."""
    from croton.config import config

    if mode == "FAST_RUN":
        if config.optimizer in (None, "None"):
            return "NONE"
        if config.optimizer == "fast_compile":
            return "FAST_COMPILE"
    return mode


def rewrite_graph(
    fgraph, mode: str = "FAST_RUN", backend=None, profile: bool = False
) -> RewriteStats:
    """Rewrite ``fgraph`` in place for ``mode`` and ``backend``; returns the statistics."""
    from croton.config import config
    from croton.rewrite import ifelse

    stats = RewriteStats()
    for rewrite_pass in passes_for(effective_mode(mode), backend):
        rewrite_pass(fgraph, stats)
    ifelse.lazy_pass(fgraph, stats)  # in every mode: laziness is what ifelse means
    fgraph.rewrite_stats = stats
    if profile or config.print_rewrites:
        print(stats.report())
    return stats
