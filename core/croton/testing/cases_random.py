"""Conformance cases for random draws (the `RandomDraw` op and ``RandomStreams``).

A backend must give exactly the reference backend's numbers for the same generator
state: each case passes the state as an input (a seeded PCG64 state vector) and checks
both the sample and the state after the draw. The last cases build draws through
``RandomStreams`` with a fixed seed, as users do, around other computation.
"""

from __future__ import annotations

import numpy as np

from croton.testing.cases import Case, _case, _graph, _normal

STATE = ("uint64", (6,))


def _state(seed: int):
    from croton.ops.random import seeded_state

    return lambda rng: seeded_state(seed)


def _draw(distribution, dtype, size, *params, replace=True):
    """``outputs`` for ``_graph``: the draw's (new_state, sample) from the first input."""
    from croton.ops.random import RandomDraw

    def outputs(state, *inputs):
        op = RandomDraw(distribution, len(size), dtype, replace=replace)
        return op(state, *size, *params, *inputs)

    return outputs


def _stream_graph(build):
    """``_graph`` outputs drawing from a fresh ``RandomStreams(seed=42)``."""
    from croton.tensor.shared_randomstreams import RandomStreams

    return lambda *inputs: build(RandomStreams(seed=42), *inputs)


def random_cases() -> list[Case]:
    """The random-draw cases of the catalogue."""
    import croton.tensor as T

    f64 = "float64"
    cases = [
        _case(
            "RandomDraw/float64/uniform",
            _graph(STATE, outputs=_draw("uniform", f64, (3, 4), -1.0, 2.0)),
            _state(1),
        ),
        _case(
            "RandomDraw/float32/uniform-broadcast-params",
            _graph(
                STATE,
                (f64, (None, 1)),
                (f64, (1, None)),
                outputs=_draw("uniform", "float32", (3, 5)),
            ),
            _state(2),
            _normal(3, 1),
            lambda rng: rng.normal(size=(1, 5)) + 4.0,
        ),
        _case(
            "RandomDraw/float64/normal",
            _graph(STATE, (f64, (None,)), outputs=_draw("normal", f64, (2, 4), 0.0)),
            _state(3),
            lambda rng: rng.uniform(0.5, 2.0, size=4),
        ),
        _case(
            "RandomDraw/float64/normal-empty",
            _graph(STATE, outputs=_draw("normal", f64, (0, 3), 0.0, 1.0)),
            _state(4),
        ),
        _case(
            "RandomDraw/int64/binomial",
            _graph(STATE, outputs=_draw("binomial", "int64", (10,), np.int64(7), 0.4)),
            _state(5),
        ),
        _case(
            "RandomDraw/float64/binomial-mask",
            _graph(STATE, (f64, (None, None)), outputs=_draw("binomial", f64, (4, 3), np.int64(1))),
            _state(6),
            lambda rng: rng.uniform(size=(4, 3)),
        ),
        _case(
            "RandomDraw/int32/random_integers",
            _graph(
                STATE,
                outputs=_draw("random_integers", "int32", (12,), np.int64(-3), np.int64(3)),
            ),
            _state(7),
        ),
        _case(
            "RandomDraw/int64/choice-without-replacement",
            _graph(STATE, outputs=_draw("choice", "int64", (2, 3), np.int64(10), replace=False)),
            _state(8),
        ),
        _case(
            "RandomDraw/float64/choice-weighted",
            _graph(STATE, (f64, (None,)), outputs=_draw("choice", f64, (6,), np.arange(4.0))),
            _state(9),
            lambda rng: np.array([0.1, 0.2, 0.3, 0.4]),
        ),
        _case(
            "RandomDraw/int64/permutation",
            _graph(STATE, outputs=_draw("permutation", "int64", (2,), np.int64(6))),
            _state(10),
        ),
        _case(
            "RandomDraw/int64/permutation-symbolic-n",
            _graph(STATE, ("int64", ()), outputs=_draw("permutation", "int64", ())),
            _state(11),
            lambda rng: np.asarray(5, dtype="int64"),
        ),
        _case(
            "RandomStreams/float64/dropout",
            _graph(
                (f64, (None, None)),
                outputs=_stream_graph(
                    lambda srng, x: T.exp(x) * srng.binomial(x.shape, p=0.7, ndim=2, dtype=f64)
                ),
            ),
            _normal(5, 4),
        ),
        _case(
            "RandomStreams/float64/draws-in-a-graph",
            _graph(
                (f64, (None,)),
                ("int64", ()),
                outputs=_stream_graph(
                    lambda srng, x, n: [
                        x + srng.normal((n, 3), avg=1.0).sum(axis=1).mean(),
                        srng.uniform((n,), dtype="float32"),
                    ]
                ),
            ),
            _normal(3),
            lambda rng: np.asarray(4, dtype="int64"),
        ),
    ]
    return cases
