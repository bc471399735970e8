"""The benchmarks' own reference code computes what the compiled graphs compute.

A benchmark that compares croton against code written by hand is only fair if the two
do the same work: the MLP step written with array functions (the GPU target's baseline,
``asv_benchmarks/benchmarks/gpu.py``) is checked here with numpy for ``xp``.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def benchmarks(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "asv_benchmarks"))
    from benchmarks import gpu, workloads

    yield gpu, workloads
    for name in [m for m in sys.modules if m == "benchmarks" or m.startswith("benchmarks.")]:
        del sys.modules[name]


def test_the_mlp_step_written_by_hand_is_the_compiled_step(benchmarks):
    gpu, workloads = benchmarks
    values, data, labels = workloads.mlp_data("float64")
    by_hand = [v.copy() for v in values]
    step, _, _ = workloads.mlp_step("numpy", "float64")
    shared = {v.name: v for v in step.maker.shared_inputs}
    for _ in range(2):  # the second step starts from updated parameters
        cost = gpu.mlp_step_by_hand(np, by_hand, data, labels, 0.1)
        np.testing.assert_allclose(cost, step(data, labels), rtol=1e-12)
        for name, value in zip(["W1", "b1", "W2", "b2"], by_hand):
            np.testing.assert_allclose(value, shared[name].get_value(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_the_memory_layout_cases_compute_what_numpy_does(benchmarks, backend):
    _, workloads = benchmarks
    import croton
    import croton.tensor as T

    a = np.random.default_rng(6).normal(size=(9, 9))
    for case, (graph, eager) in workloads._LAYOUTS.items():
        m = T.dmatrix("m")
        got = croton.function([m], graph(m), backend=backend)(a)
        np.testing.assert_allclose(got, eager(a), rtol=1e-12, err_msg=case)
