"""Conformance cases for `croton.ifelse.ifelse` (the `IfElse` op).

Each case fixes which branch is taken through its inputs' values, so a backend is
checked on both branches, on several outputs, nested ifelses, conditions of several
dtypes and computed conditions, and on gradients through the choice.
"""

from __future__ import annotations

import numpy as np

from croton.testing.cases import Case, _case, _graph, _normal


def _scalar(value, dtype: str):
    return lambda rng: np.asarray(value, dtype=dtype)


def ifelse_cases() -> list[Case]:
    """The ifelse cases of the catalogue."""
    import croton.tensor as T
    from croton.ifelse import ifelse

    f64, f32 = "float64", "float32"
    vec, mat = (f64, (None,)), (f64, (None, None))
    flag = ("int8", ())
    cases = []
    for taken, value in (("then", 1), ("else", 0)):
        cases += [
            _case(
                f"IfElse/float64/{taken}",
                _graph(flag, mat, mat, outputs=lambda c, x, y: ifelse(c, T.exp(x), y * 2)),
                _scalar(value, "int8"),
                _normal(3, 4),
                _normal(3, 4),
                grad=True,
            ),
            _case(
                f"IfElse/mixed/{taken}-several-outputs",
                _graph(
                    flag,
                    vec,
                    ("int64", (None,)),
                    (f32, ()),
                    outputs=lambda c, x, i, s: ifelse(
                        c, [x * 3, i + 1, s * 2], [x[::-1], i * 2, s - 1]
                    ),
                ),
                _scalar(value, "int8"),
                _normal(5),
                lambda rng: rng.integers(-9, 9, size=5).astype("int64"),
                _normal(dtype=f32),
                grad=True,
            ),
        ]
    for dtype, value in (("bool", True), ("float64", np.nan), ("float32", -0.0), ("int64", -3)):
        cases.append(
            _case(
                f"IfElse/{dtype}/condition",
                _graph((dtype, ()), vec, vec, outputs=lambda c, x, y: ifelse(c, x + 1, y - 1)),
                _scalar(value, dtype),
                _normal(4),
                _normal(4),
            )
        )
    cases += [
        # Theano's tutorial: ifelse(a < b, mean(x), mean(y))
        _case(
            "IfElse/float64/computed-condition",
            _graph(
                (f64, ()),
                (f64, ()),
                mat,
                mat,
                outputs=lambda a, b, x, y: ifelse(T.lt(a, b), T.mean(x), T.mean(y)),
            ),
            _normal(),
            _normal(),
            _normal(10, 10),
            _normal(10, 10),
            grad=True,
        ),
        _case(
            "IfElse/float64/nested",
            _graph(
                flag,
                flag,
                vec,
                vec,
                outputs=lambda c, d, x, y: ifelse(
                    c, ifelse(d, T.sin(x), T.cos(y)), ifelse(d, x * y, T.sum(y) + x)
                ),
            ),
            _scalar(0, "int8"),
            _scalar(1, "int8"),
            _normal(6),
            _normal(6),
            grad=True,
        ),
        _case(
            "IfElse/float64/shared-operand",
            _graph(
                flag,
                mat,
                outputs=lambda c, x: (lambda e: ifelse(c, T.dot(e, e.T), e[:, :3].T.dot(e[:, :3])))(
                    T.exp(x)
                ),
            ),
            _scalar(1, "int8"),
            _normal(3, 3),
            grad=True,
        ),
        _case(
            "IfElse/float32/constant-branch",
            _graph(flag, (f32, (None,)), outputs=lambda c, x: ifelse(c, x * 2, x * 0 + 1.5)),
            _scalar(0, "int8"),
            _normal(4, dtype=f32),
        ),
    ]
    return cases
