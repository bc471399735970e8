"""Graph rewriting before compilation.

The rewrite passes (canonicalize, stabilize, specialize, fuse) are not written yet;
until they are, `rewrite_graph` runs only the passes a backend contributes, so every
backend receives the graph exactly as the user built it.
"""

from __future__ import annotations


def rewrite_graph(fgraph, mode: str = "FAST_RUN", backend=None) -> None:
    """Rewrite ``fgraph`` in place for ``mode`` and ``backend``."""
    if mode == "NONE" or backend is None:
        return
    for rewrite_pass in backend.rewrite_passes():
        rewrite_pass(fgraph)
