"""Rewrite time of the ``croton demo`` training step: croton against PyTensor, one run.

Builds the same model (2 -> 64 relu -> 3 softmax, categorical cross-entropy with
integer targets, momentum SGD updates on four parameters) in croton and, if it is
installed, in PyTensor; times each library's FAST_RUN graph rewriting (the graph is
copied outside the timed region) and prints the medians. Run it from the repository:

    python asv_benchmarks/compare_rewrite_time.py
"""

from __future__ import annotations

import platform
import statistics
import time

import numpy as np

REPEATS = 15


def _median_seconds(prepare, run) -> float:
    times = []
    for _ in range(REPEATS):
        state = prepare()
        start = time.perf_counter()
        run(state)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def croton_rewrite_time() -> tuple[float, int, int]:
    """Median FAST_RUN rewrite time, and node counts before and after."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from benchmarks.rewrite import mlp_training_fgraph

    from croton.rewrite import rewrite_graph

    fgraph = mlp_training_fgraph()
    before = len(fgraph.apply_nodes)
    seconds = _median_seconds(fgraph.clone, lambda g: rewrite_graph(g, mode="FAST_RUN"))
    after = fgraph.clone()
    rewrite_graph(after, mode="FAST_RUN")
    return seconds, before, len(after.apply_nodes)


def pytensor_rewrite_time() -> tuple[float, int, int] | None:
    """The same for PyTensor, or None when it is not installed."""
    try:
        import pytensor
        import pytensor.tensor as pt
        from pytensor.compile.aliasing import add_supervisor_to_fgraph
        from pytensor.compile.io import In
        from pytensor.compile.mode import get_mode
        from pytensor.graph.fg import FunctionGraph
    except ImportError:
        return None
    from croton.demo import initial_parameters

    croton_params = initial_parameters(np.random.default_rng(0), 2, 64, 3)
    params = [pytensor.shared(p.get_value(), name=p.name) for p in croton_params]
    W1, b1, W2, b2 = params
    x = pt.dmatrix("x")
    y = pt.lvector("y")
    hidden = pt.maximum(pt.dot(x, W1) + b1, 0)
    probabilities = pt.special.softmax(pt.dot(hidden, W2) + b2, axis=-1)
    cost = -pt.log(probabilities[pt.arange(y.shape[0]), y]).mean()
    updates = []
    for param, gradient in zip(params, pytensor.grad(cost, params), strict=True):
        velocity = pytensor.shared(np.zeros_like(param.get_value()))
        new_velocity = 0.9 * velocity - 0.1 * gradient
        updates += [(velocity, new_velocity), (param, param + new_velocity)]
    outputs = [cost] + [value for _, value in updates]
    rewriter = get_mode("FAST_RUN").optimizer

    def prepare():
        # as pytensor.function prepares it: a Supervisor, so in-place rewrites run too
        fgraph = FunctionGraph(outputs=outputs, clone=True)
        add_supervisor_to_fgraph(fgraph, [In(v) for v in fgraph.inputs])
        return fgraph

    before = len(prepare().apply_nodes)
    seconds = _median_seconds(prepare, rewriter.rewrite)
    after = prepare()
    rewriter.rewrite(after)
    return seconds, before, len(after.apply_nodes)


def main() -> None:
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    rows = [("croton", croton_rewrite_time()), ("PyTensor", pytensor_rewrite_time())]
    print(f"{'library':<10} {'rewrite (ms)':>13} {'nodes before':>13} {'nodes after':>12}")
    for name, result in rows:
        if result is None:
            print(f"{name:<10} {'not installed':>13}")
            continue
        seconds, before, after = result
        print(f"{name:<10} {seconds * 1e3:13.1f} {before:13d} {after:12d}")


if __name__ == "__main__":
    main()
