"""Conformance cases for the neural-network functions built from other ops: the
activations of ``croton.tensor.nnet.activations``, batch normalization
(``croton.tensor.nnet.bn``) and ``to_one_hot``.

They have no op of their own, but each is a particular graph (switches around
``expm1``, clips, reductions feeding elementwise ops, an indexed write into zeros) that
every backend must run, and differentiate, like the reference.
"""

from __future__ import annotations

import numpy as np

from croton.testing.cases import Case, _case, _graph, _normal

__all__ = ["nnet_cases"]

_SPECIALS = (np.nan, np.inf, -np.inf, -0.0, 0.0, 1e30, -1e30, 0.5, -2.5, 2.5, 3.4, -6.0)


def _specials(dtype):
    return lambda rng: np.array(_SPECIALS, dtype=dtype).reshape(3, 4)


def _scaled(*shape, scale=4.0, dtype="float64"):
    return lambda rng: (rng.normal(size=shape) * scale).astype(dtype)


def _activation_cases() -> list[Case]:
    from croton.tensor import nnet

    mat = ("float64", (None, None))
    activations = {
        "elu": nnet.elu,
        "selu": nnet.selu,
        "softsign": nnet.softsign,
        "hard_sigmoid": nnet.hard_sigmoid,
        "ultra_fast_sigmoid": nnet.ultra_fast_sigmoid,
    }
    cases = []
    for name, function in activations.items():
        cases += [
            # random points: a kink (0, +-2.5, +-3.4, +-6) is hit with probability 0
            _case(
                f"nnet.{name}/float64/normal",
                _graph(mat, outputs=function),
                _scaled(4, 6),
                grad=True,
            ),
            _case(
                f"nnet.{name}/float32/special",
                _graph(("float32", (None, None)), outputs=function),
                _specials("float32"),
            ),
            _case(
                f"nnet.{name}/float64/strided",
                _graph(mat, outputs=function),
                lambda rng: (rng.normal(size=(6, 8)) * 4)[::-2, 1::3],
            ),
            _case(
                f"nnet.{name}/int32/integers",
                _graph(("int32", (None,)), outputs=function),
                lambda rng: np.arange(-8, 9, dtype="int32"),
            ),
        ]
    cases.append(
        _case(
            "nnet.elu/float32/tensor-alpha",
            _graph(("float32", (None, None)), ("float32", ()), outputs=nnet.elu),
            _scaled(3, 5, dtype="float32"),
            lambda rng: np.asarray(0.3, "float32"),
            grad=True,
        )
    )
    return cases


def _train(axes, running: bool):
    from croton.tensor.nnet import bn

    def outputs(x, gamma, beta, *averages):
        if running:
            mean, var = averages
            return bn.batch_normalization_train(
                x, gamma, beta, axes=axes, epsilon=1e-3, running_average_factor=0.2,
                running_mean=mean, running_var=var,
            )  # fmt: skip
        return bn.batch_normalization_train(x, gamma, beta, axes=axes)

    return outputs


def _positive(*shape, dtype="float64"):
    return lambda rng: rng.uniform(0.5, 2.0, size=shape).astype(dtype)


def _batch_norm_cases() -> list[Case]:
    from croton.tensor.nnet import bn

    vector, matrix = ("float64", (None,)), ("float64", (None, None))
    tensor4 = ("float64", (None, None, None, None))
    return [
        _case(
            "nnet.bn.train/float64/per-activation-running",
            _graph(matrix, vector, vector, vector, vector, outputs=_train("per-activation", True)),
            _scaled(6, 3),
            _normal(3),
            _normal(3),
            _normal(3),
            _positive(3),
            grad=True,
        ),
        _case(
            "nnet.bn.train/float64/spatial",
            _graph(tensor4, vector, vector, outputs=_train("spatial", False)),
            _scaled(3, 2, 4, 3),
            _normal(2),
            _normal(2),
            grad=True,
        ),
        _case(
            "nnet.bn.train/float32/spatial-full-layout-running",
            _graph(
                ("float32", (None, None, None, None)),
                *[("float32", (1, None, 1, 1))] * 4,
                outputs=_train("spatial", True),
            ),
            _scaled(4, 3, 2, 2, dtype="float32"),
            _normal(1, 3, 1, 1, dtype="float32"),
            _normal(1, 3, 1, 1, dtype="float32"),
            _normal(1, 3, 1, 1, dtype="float32"),
            _positive(1, 3, 1, 1, dtype="float32"),
        ),
        _case(
            "nnet.bn.train/float64/axes=(0,2)",
            _graph(("float64", (None, None, None)), vector, vector, outputs=_train((0, 2), False)),
            _scaled(3, 4, 5),
            _normal(4),
            _normal(4),
            grad=True,
        ),
        _case(
            "nnet.bn.test/float64/spatial",
            _graph(
                tensor4,
                vector,
                vector,
                vector,
                vector,
                outputs=lambda *v: bn.batch_normalization_test(*v, axes="spatial"),
            ),  # fmt: skip
            _scaled(2, 3, 2, 2),
            _normal(3),
            _normal(3),
            _normal(3),
            _positive(3),
            grad=True,
        ),
        _case(
            "nnet.bn.batch_normalization/float64/high_mem",
            _graph(
                matrix,
                *[("float64", (1, None))] * 4,
                outputs=lambda *v: bn.batch_normalization(*v, mode="high_mem"),
            ),  # fmt: skip
            _scaled(5, 3),
            _normal(1, 3),
            _normal(1, 3),
            _normal(1, 3),
            _positive(1, 3),
            grad=True,
        ),
    ]


def _one_hot_cases() -> list[Case]:
    from croton.tensor.extra_ops import to_one_hot

    return [
        _case(
            "nnet.to_one_hot/int64/negative-labels",
            _graph(("int64", (None,)), outputs=lambda y: to_one_hot(y, 5)),
            lambda rng: np.array([0, 4, 2, -1, 2, -5]),
        ),
        _case(
            "nnet.to_one_hot/int32/float32-empty",
            _graph(("int32", (None,)), outputs=lambda y: to_one_hot(y, 3, dtype="float32")),
            lambda rng: np.zeros(0, "int32"),
        ),
    ]


def nnet_cases() -> list[Case]:
    """The cases of this module, in a stable order."""
    return _activation_cases() + _batch_norm_cases() + _one_hot_cases()
