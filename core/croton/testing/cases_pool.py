"""Conformance cases for pooling (`croton.tensor.signal.pool.pool_2d` and its gradient ops).

Every mode, with and without border windows, strides that overlap and skip, padding,
2-d to 4-d inputs, integer images, nan, zero-size and non-contiguous inputs. Max cases
draw continuous values, so windows have no ties and the gradients are defined.
"""

from __future__ import annotations

import numpy as np

from croton.testing.cases import Case, _case, _graph, _normal


def _pool(ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    from croton.tensor.signal.pool import pool_2d

    return lambda x: pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)


def _strided(*shape):
    """A non-contiguous view: every other column of a wider array."""
    return lambda rng: rng.normal(size=(*shape[:-1], 2 * shape[-1]))[..., ::2]


def pool_cases() -> list[Case]:
    """The pooling cases of the catalogue."""
    from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool

    t4 = ("float64", (None, None, None, None))
    t3 = ("float64", (None, None, None))
    mat = ("float64", (None, None))
    geometry = {"ws": (3, 2), "ignore_border": True, "stride": (2, 1), "pad": (1, 1)}

    def with_pool(grad_op, mode="max"):
        def outputs(x, g):
            pool = Pool(**geometry, mode=mode)
            if grad_op is AveragePoolGrad:
                return grad_op(**geometry, mode=mode)(x, g)
            return grad_op(**geometry)(x, pool(x), g)

        return outputs

    cases = [
        _case(
            "Pool/float64/max-2x2",
            _graph(t4, outputs=_pool((2, 2))),
            _normal(2, 3, 6, 5),
            grad=True,
        ),
        _case(
            "Pool/float64/max-partial-border-overlapping",
            _graph(t3, outputs=_pool((3, 2), ignore_border=False, stride=(2, 1))),
            _normal(2, 6, 5),
            grad=True,
        ),
        _case(
            "Pool/float32/max-pad-stride",
            _graph(
                ("float32", (None, None, None, None)),
                outputs=_pool((3, 3), stride=(2, 1), pad=(1, 2)),
            ),
            _normal(1, 2, 7, 6, dtype="float32"),
            grad=True,
        ),
        _case(
            "Pool/float64/sum-partial-border",
            _graph(mat, outputs=_pool((2, 3), ignore_border=False, mode="sum")),
            _normal(5, 7),
            grad=True,
        ),
        _case(
            "Pool/float64/sum-pad",
            _graph(t3, outputs=_pool((2, 2), stride=(1, 1), pad=(1, 1), mode="sum")),
            _normal(2, 4, 3),
            grad=True,
        ),
        _case(
            "Pool/float64/average_inc_pad-pad-stride",
            _graph(t4, outputs=_pool((3, 2), stride=(2, 1), pad=(2, 1), mode="average_inc_pad")),
            _normal(2, 2, 6, 5),
            grad=True,
        ),
        _case(
            "Pool/float64/average_inc_pad-partial-border",
            _graph(
                t3,
                outputs=_pool((3, 3), ignore_border=False, stride=(2, 2), mode="average_inc_pad"),
            ),
            _normal(2, 6, 7),
            grad=True,
        ),
        _case(
            "Pool/float64/average_exc_pad-pad",
            _graph(t4, outputs=_pool((3, 3), stride=(1, 2), pad=(1, 1), mode="average_exc_pad")),
            _normal(1, 3, 5, 6),
            grad=True,
        ),
        _case(
            "Pool/float32/average_exc_pad-partial-border",
            _graph(
                ("float32", (None, None)),
                outputs=_pool((2, 3), ignore_border=False, mode="average_exc_pad"),
            ),
            _normal(5, 7, dtype="float32"),
            grad=True,
        ),
        _case(
            "Pool/int32/max-partial-border",
            _graph(("int32", (None, None, None)), outputs=_pool((2, 2), ignore_border=False)),
            lambda rng: rng.integers(-100, 100, size=(2, 5, 5)).astype("int32"),
        ),
        _case(
            "Pool/int64/sum-and-average",
            _graph(
                ("int64", (None, None)),
                outputs=lambda x: [
                    _pool((2, 2), mode="sum")(x),
                    _pool((2, 2), mode="average_exc_pad")(x),
                ],
            ),
            lambda rng: rng.integers(-100, 100, size=(4, 6)),
        ),
        _case(
            "Pool/float64/nan-and-inf",
            _graph(mat, outputs=lambda x: [_pool((2, 2))(x), _pool((2, 2), mode="sum")(x)]),
            lambda rng: np.array(
                [[np.nan, 1.0, -np.inf, 2.0], [0.0, 3.0, -np.inf, -np.inf], [np.inf, 1.0, 4.0, 5.0]]
            ),
        ),
        _case(
            "Pool/float64/zero-size",
            _graph(t4, outputs=_pool((2, 2), ignore_border=False)),
            _normal(0, 2, 4, 4),
            grad=True,
        ),
        _case(
            "Pool/float64/window-larger-than-image",
            _graph(
                t3,
                outputs=lambda x: [
                    _pool((4, 4))(x),
                    _pool((4, 4), ignore_border=False, mode="average_exc_pad")(x),
                ],
            ),
            _normal(2, 3, 2),
            grad=True,
        ),
        _case(
            "Pool/float64/non-contiguous",
            _graph(
                t3,
                outputs=lambda x: [
                    _pool((2, 2), stride=(1, 1))(x),
                    _pool((2, 2), mode="average_inc_pad")(x),
                ],
            ),
            _strided(2, 5, 4),
            grad=True,
        ),
        _case(
            "MaxPoolGrad/float64/pad-stride",
            _graph(t4, t4, outputs=with_pool(MaxPoolGrad)),
            _normal(2, 1, 6, 5),
            _normal(2, 1, 3, 6),
            grad=True,
        ),
        _case(
            "AveragePoolGrad/float64/average_exc_pad-pad-stride",
            _graph(t4, t4, outputs=with_pool(AveragePoolGrad, mode="average_exc_pad")),
            _normal(2, 1, 6, 5),
            _normal(2, 1, 3, 6),
            grad=True,
        ),
        _case(
            "MaxPoolGradGrad/float64/pad-stride",
            _graph(t4, t4, outputs=with_pool(MaxPoolGradGrad)),
            _normal(2, 1, 6, 5),
            _normal(2, 1, 6, 5),
            grad=True,
        ),
    ]
    return cases
