"""One compiled function called from several threads at once."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import croton
import croton.tensor as T

N_THREADS = 8
N_CALLS = 200


@pytest.fixture(autouse=True)
def _frequent_thread_switches():
    """Switch threads as often as possible, so a missing lock shows as lost updates."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def _run_in_threads(work) -> list:
    """Run ``work(k)`` in `N_THREADS` threads started together; their results in order."""
    results: list = [None] * N_THREADS
    errors: list = []
    barrier = threading.Barrier(N_THREADS)

    def target(k):
        try:
            barrier.wait()
            results[k] = work(k)
        except BaseException as err:  # reported in the main thread
            errors.append(err)

    threads = [threading.Thread(target=target, args=(k,)) for k in range(N_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def test_counter_updates_are_atomic():
    counter = croton.shared(np.int64(0), name="counter")
    increment = croton.function([], counter, updates=[(counter, counter + 1)])
    seen = _run_in_threads(lambda k: [int(increment()) for _ in range(N_CALLS)])
    assert counter.get_value() == N_THREADS * N_CALLS
    # every call saw a different value before its own update: no update was lost
    assert sorted(v for values in seen for v in values) == list(range(N_THREADS * N_CALLS))


def test_vector_updates_stay_consistent():
    # large enough that numpy releases the GIL inside the kernels
    size = 50_000
    state = croton.shared(np.zeros(size), name="state")
    total = croton.shared(0.0, name="total")
    x = T.dvector("x")
    step = croton.function([x], [], updates=[(state, state + x), (total, total + x.sum())])
    increments = [np.full(size, k + 1.0) for k in range(N_THREADS)]
    calls = N_CALLS // 4

    def work(k):
        for _ in range(calls):
            step(increments[k])

    _run_in_threads(work)
    expected = sum(increments) * calls
    np.testing.assert_array_equal(state.get_value(), expected)
    assert total.get_value() == expected.sum()


def test_concurrent_calls_get_their_own_results():
    x, y = T.dmatrices("x", "y")
    f = croton.function([x, y], [T.dot(x, y), (x - y) ** 2])
    rng = np.random.default_rng(1)
    data = [(rng.normal(size=(5, 5)), rng.normal(size=(5, 5))) for _ in range(N_THREADS)]

    def work(k):
        a, b = data[k]
        for _ in range(N_CALLS // 4):
            product, square = f(a, b)
            np.testing.assert_allclose(product, a @ b, rtol=1e-12)
            np.testing.assert_array_equal(square, (a - b) ** 2)
        return True

    assert _run_in_threads(work) == [True] * N_THREADS


def test_two_functions_updating_the_same_shared_variable():
    counter = croton.shared(np.int64(0), name="counter")
    up = croton.function([], [], updates=[(counter, counter + 3)])
    down = croton.function([], [], updates=[(counter, counter - 1)])

    def work(k):
        for _ in range(N_CALLS):
            (up if k % 2 else down)()

    _run_in_threads(work)
    assert counter.get_value() == (N_THREADS // 2) * N_CALLS * (3 - 1)
