"""Neural-network functions with Theano's names (``croton.tensor.nnet``)."""

from __future__ import annotations

import numpy as np

from croton.ops.nnet import LogSoftmax, Softmax
from croton.tensor import math as tm
from croton.tensor.extra_ops import to_one_hot  # noqa: F401
from croton.tensor.nnet import bn  # noqa: F401  (T.nnet.bn.batch_normalization_train, ...)
from croton.tensor.nnet.activations import (  # noqa: F401
    elu,
    hard_sigmoid,
    selu,
    softsign,
    ultra_fast_sigmoid,
)
from croton.tensor.nnet.bn import batch_normalization  # noqa: F401
from croton.tensor.nnet.conv import conv2d  # noqa: F401  (Theano's T.nnet.conv2d)
from croton.tensor.variable import as_tensor_variable

sigmoid = tm.sigmoid
softplus = tm.softplus
one_hot = to_one_hot


def relu(x, alpha=0):
    """``max(x, 0)``, or ``x if x > 0 else alpha * x`` (leaky) when ``alpha`` is set.

    ``alpha`` may be a number or a tensor. The gradient at exactly 0 is the left
    derivative: 0, or ``alpha``. A nan stays nan, as in ``np.maximum(x, 0)``.
    """
    x = as_tensor_variable(x)
    if isinstance(alpha, (int, float)) and alpha == 0:
        return tm.switch(tm.le(x, 0), 0, x)
    return tm.switch(tm.le(x, 0), tm.mul(alpha, x), x)


def _axis(x, axis):
    if x.ndim == 0:
        raise ValueError(f"softmax of a scalar ({x}) is not defined; pass a vector or matrix")
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"softmax takes one integer axis, got axis={axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"softmax axis {axis} is out of range for {x} with {x.ndim} dimensions")
    return int(axis) % x.ndim


def softmax(x, axis: int = -1):
    """``exp(x) / exp(x).sum(axis)`` (the last axis by default), computed stably."""
    x = as_tensor_variable(x)
    return Softmax(_axis(x, axis))(x)


def logsoftmax(x, axis: int = -1):
    """``log(softmax(x))``, computed without underflow."""
    x = as_tensor_variable(x)
    return LogSoftmax(_axis(x, axis))(x)


log_softmax = logsoftmax


def categorical_crossentropy(coding_dist, true_dist):
    """``-sum(true_dist * log(coding_dist), axis=-1)`` per row.

    ``true_dist`` is either one-hot (same shape as ``coding_dist``) or a vector of
    integer class indices, one per row.
    """
    coding_dist = as_tensor_variable(coding_dist)
    true_dist = as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -tm.sum(true_dist * tm.log(coding_dist), axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1 and true_dist.dtype.startswith(("int", "uint")):
        if coding_dist.ndim != 2:
            raise ValueError("integer targets need a matrix of probabilities (one row per example)")
        from croton.tensor.shape import arange

        rows = arange(coding_dist.shape[0])
        return -tm.log(coding_dist[rows, true_dist])
    raise TypeError(
        f"categorical_crossentropy: true_dist must be one-hot like {coding_dist.type} or an "
        f"integer vector of class indices, got {true_dist.type}"
    )


def binary_crossentropy(output, target):
    """``-(target * log(output) + (1 - target) * log(1 - output))``."""
    output = as_tensor_variable(output)
    return -(target * tm.log(output) + (1 - target) * tm.log(1 - output))


def sigmoid_binary_crossentropy(logits, target):
    """Binary cross-entropy of ``sigmoid(logits)``, computed stably from the logits."""
    logits = as_tensor_variable(logits)
    return tm.softplus(logits) - target * logits


def crossentropy_softmax_1hot(x, y_idx):
    """Theano's pair ``(nll, softmax(x))`` for integer targets ``y_idx``."""
    sm = softmax(x)
    return categorical_crossentropy(sm, y_idx), sm
