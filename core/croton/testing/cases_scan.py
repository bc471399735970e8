"""Conformance cases for `croton.scan` (the `Scan` op).

A recurrent layer with its gradient (backpropagation through time is a second, reverse
loop), state taps, sequence taps with ``go_backwards``, outputs not fed back, a
float32 loop, and a loop stopped early by ``until``.
"""

from __future__ import annotations

from croton.testing.cases import Case, _case, _graph, _normal


def scan_cases() -> list[Case]:
    """The scan cases of the catalogue."""
    import croton
    import croton.tensor as T

    f64, f32 = "float64", "float32"

    def recurrent(x, w, u, b, h0):
        return croton.scan(
            lambda row, h: T.tanh(T.dot(row, w) + T.dot(h, u) + b), sequences=x, outputs_info=h0
        )[0]

    def fibonacci_like(x0, c):
        return croton.scan(
            lambda a, b, c: a * c + T.sin(b),
            outputs_info=dict(initial=x0, taps=[-2, -1]),
            non_sequences=c,
            n_steps=5,
        )[0]

    def backwards_with_taps(x, w):
        return croton.scan(
            lambda before, now, w: [before * now * w, T.exp(now) - before],
            sequences=dict(input=x, taps=[-1, 0]),
            outputs_info=[None, None],
            non_sequences=w,
            go_backwards=True,
        )[0]

    def running_sum(x, s0):
        return croton.scan(lambda row, s: s + row, sequences=x, outputs_info=s0, n_steps=4)[0]

    def growing_until(x, s0):
        def step(row, total):
            new = total + 0.5 * row**2 + 0.1
            return [new, T.sin(new) * row], croton.scan_module.until(T.sum(new) > 2.0)

        return croton.scan(step, sequences=x, outputs_info=[s0, None], n_steps=6)[0]

    return [
        _case(
            "Scan/float64/recurrent-layer",
            _graph(
                (f64, (None, 3)),
                (f64, (3, 4)),
                (f64, (4, 4)),
                (f64, (4,)),
                (f64, (4,)),
                outputs=recurrent,
            ),
            _normal(6, 3),
            _normal(3, 4),
            _normal(4, 4),
            _normal(4),
            _normal(4),
            grad=True,
        ),
        _case(
            "Scan/float64/state-taps",
            _graph((f64, (None, 2)), (f64, ()), outputs=fibonacci_like),
            _normal(2, 2),
            _normal(),
            grad=True,
        ),
        _case(
            "Scan/float64/go-backwards-sequence-taps",
            _graph((f64, (None,)), (f64, ()), outputs=backwards_with_taps),
            _normal(7),
            _normal(),
            grad=True,
        ),
        _case(
            "Scan/float32/running-sum",
            _graph((f32, (None, 3)), (f32, (3,)), outputs=running_sum),
            _normal(5, 3, dtype=f32),
            _normal(3, dtype=f32),
            grad=True,
        ),
        _case(
            "Scan/float64/until-early-stop",
            _graph((f64, (None, 2)), (f64, (2,)), outputs=growing_until),
            _normal(8, 2),
            _normal(2),
            grad=True,
        ),
    ]
