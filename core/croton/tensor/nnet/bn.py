"""Batch normalization with Theano's API (``croton.tensor.nnet.bn``).

The functions build the normalization from means, variances and elementwise ops, so
every backend runs them (the numba backend fuses the reductions with their producers)
and their gradients, including the gradients through the batch statistics, come from
automatic differentiation.
"""

from __future__ import annotations

import numbers

import numpy as np

from croton.tensor import math as tm
from croton.tensor.shape import addbroadcast
from croton.tensor.variable import as_tensor_variable

__all__ = ["batch_normalization_train", "batch_normalization_test", "batch_normalization"]


def _normalization_axes(axes, ndim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(normalized axes, kept axes)`` for Theano's ``axes`` argument."""
    if isinstance(axes, str):
        if axes == "per-activation":
            axes = (0,)
        elif axes == "spatial":
            axes = (0, *range(2, ndim))
        else:
            raise ValueError(
                f"axes must be 'per-activation', 'spatial' or a tuple of ints, got {axes!r}"
            )
    elif isinstance(axes, (tuple, list, np.ndarray)):
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
            raise TypeError(f"axes must hold ints, got {axes!r}")
        axes = tuple(int(a) for a in axes)
    else:
        raise ValueError(
            f"axes must be 'per-activation', 'spatial' or a tuple of ints, got {axes!r}"
        )
    if not axes:
        raise ValueError("axes must name at least one axis to normalize over")
    if len(set(axes)) != len(axes):
        raise ValueError(f"axes must not repeat an axis, got {axes}")
    if min(axes) < 0 or max(axes) >= ndim:
        raise ValueError(
            f"axes must be in [0, {ndim}) for inputs with {ndim} dimensions, got {axes}"
        )
    axes = tuple(sorted(axes))
    return axes, tuple(a for a in range(ndim) if a not in axes)


class _Layout:
    """How the parameter tensors (gamma, beta, means, variances) align with the inputs.

    Theano takes them either with one axis per kept axis of the inputs, or with the
    inputs' number of dimensions and length 1 on the normalized axes.
    """

    def __init__(self, inputs, gamma, axes, kept):
        self.axes = axes
        self.kept = kept
        self.input_ndim = inputs.ndim
        if gamma.ndim not in (inputs.ndim, len(kept)):
            raise ValueError(
                f"gamma has {gamma.ndim} dimensions; it must have {len(kept)} (one per axis "
                f"of the inputs not normalized over) or {inputs.ndim} (those of the inputs, "
                f"with length 1 on the normalized axes {axes})"
            )
        self.full = gamma.ndim == inputs.ndim
        self.ndim = gamma.ndim

    def check(self, name: str, value) -> None:
        if value.ndim != self.ndim:
            raise ValueError(
                f"{name} has {value.ndim} dimensions; it must have {self.ndim}, like gamma"
            )

    def to_inputs(self, value):
        """``value`` with the inputs' dimensions, broadcasting on the normalized axes."""
        if self.full:
            return addbroadcast(value, *self.axes)
        pattern = ["x"] * self.input_ndim
        for position, axis in enumerate(self.kept):
            pattern[axis] = position
        return value.dimshuffle(pattern)

    def from_inputs(self, value):
        """A statistic computed with ``keepdims=True`` back in the parameters' layout."""
        return value if self.full else value.dimshuffle(list(self.kept))


def _tensors(names_values):
    tensors = []
    for name, value in names_values:
        value = as_tensor_variable(value)
        if value.dtype.startswith("complex"):
            raise TypeError(f"batch normalization: {name} must be real, got {value.type}")
        tensors.append(value)
    return tensors


def _scalar(name: str, value, minimum: float = 0.0):
    if isinstance(value, numbers.Real) and not isinstance(value, np.generic):
        if not value >= minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {value}")
        return float(value)
    value = as_tensor_variable(value)
    if value.ndim != 0:
        raise TypeError(f"{name} must be a number or a scalar tensor, got {value.type}")
    return value


def _prepare(inputs, gamma, beta, axes):
    inputs, gamma, beta = _tensors([("inputs", inputs), ("gamma", gamma), ("beta", beta)])
    axes, kept = _normalization_axes(axes, inputs.ndim)
    layout = _Layout(inputs, gamma, axes, kept)
    layout.check("beta", beta)
    return inputs, layout.to_inputs(gamma), layout.to_inputs(beta), layout


def batch_normalization_train(
    inputs,
    gamma,
    beta,
    axes="per-activation",
    epsilon=1e-4,
    running_average_factor=0.1,
    running_mean=None,
    running_var=None,
):
    """Normalize ``inputs`` with the mean and variance of the batch itself.

    Parameters
    ----------
    inputs
        The mini-batch of activations.
    gamma, beta
        Scale and shift. Either one axis per axis of ``inputs`` that is not normalized
        over, or as many axes as ``inputs`` with length 1 on the normalized axes.
    axes
        ``'per-activation'`` (the default) normalizes over axis 0; ``'spatial'`` over
        axis 0 and every axis after the second (``(0, 2, 3)`` for 4-d inputs); or a
        tuple of axes.
    epsilon
        Added to the variance before the square root; a number or a scalar tensor.
    running_average_factor
        How fast the running averages move: ``new = old * (1 - factor) + batch * factor``.
    running_mean, running_var
        The running averages so far, in the layout of ``gamma``; give both or neither.

    Returns
    -------
    tuple
        ``(out, mean, invstd)``, and ``new_running_mean, new_running_var`` when the
        running averages are given:

        - ``mean = inputs.mean(axes)`` and ``var = inputs.var(axes)`` (the biased
          variance), ``invstd = 1 / sqrt(var + epsilon)``;
        - ``out = (inputs - mean) * (gamma * invstd) + beta``;
        - ``new_running_mean = running_mean * (1 - factor) + mean * factor``;
        - ``new_running_var = running_var * (1 - factor) + m / (m - 1) * var * factor``,
          with ``m`` the number of values each statistic is taken over (the unbiased
          variance, as in Theano).

        ``mean``, ``invstd`` and the running averages come in the layout of ``gamma``.

    Notes
    -----
    Theano rejects ``epsilon < 1e-5`` (a cuDNN limit); croton accepts any ``epsilon >= 0``.
    The gradient of ``out`` includes its dependence on the batch statistics.
    """
    inputs, gamma, beta, layout = _prepare(inputs, gamma, beta, axes)
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            "running_mean and running_var must be given together (or both left as None)"
        )
    epsilon = _scalar("epsilon", epsilon)
    factor = _scalar("running_average_factor", running_average_factor)

    mean = tm.mean(inputs, axis=layout.axes, keepdims=True)
    var = tm.var(inputs, axis=layout.axes, keepdims=True)
    invstd = tm.reciprocal(tm.sqrt(var + epsilon))
    out = (inputs - mean) * (gamma * invstd) + beta
    results = [out, layout.from_inputs(mean), layout.from_inputs(invstd)]
    if running_mean is None:
        return tuple(results)

    running_mean, running_var = _tensors(
        [("running_mean", running_mean), ("running_var", running_var)]
    )
    layout.check("running_mean", running_mean)
    layout.check("running_var", running_var)
    running_mean = layout.to_inputs(running_mean)
    running_var = layout.to_inputs(running_var)
    count = 1
    for axis in layout.axes:
        count = count * inputs.shape[axis]
    count = tm.cast(count, var.dtype)
    new_mean = running_mean * (1 - factor) + mean * factor
    new_var = running_var * (1 - factor) + (count / (count - 1)) * var * factor
    return (*results, layout.from_inputs(new_mean), layout.from_inputs(new_var))


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation", epsilon=1e-4):
    """Normalize ``inputs`` with a given mean and variance (typically running averages).

    Parameters
    ----------
    inputs
        The activations.
    gamma, beta, mean, var
        Scale, shift, mean and variance, all in one layout: one axis per axis of
        ``inputs`` that is not normalized over, or as many axes as ``inputs`` with
        length 1 on the normalized axes.
    axes
        ``'per-activation'``, ``'spatial'`` or a tuple of axes, as in
        `batch_normalization_train`.
    epsilon
        Added to the variance before the square root.

    Returns
    -------
    TensorVariable
        ``(inputs - mean) * (gamma / sqrt(var + epsilon)) + beta``.
    """
    inputs, gamma, beta, layout = _prepare(inputs, gamma, beta, axes)
    mean, var = _tensors([("mean", mean), ("var", var)])
    layout.check("mean", mean)
    layout.check("var", var)
    mean, var = layout.to_inputs(mean), layout.to_inputs(var)
    epsilon = _scalar("epsilon", epsilon)
    return (inputs - mean) * (gamma / tm.sqrt(var + epsilon)) + beta


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """Theano's older batch normalization: ``(inputs - mean) / std * gamma + beta``.

    Parameters
    ----------
    inputs
        The activations.
    gamma, beta, mean, std
        Scale, shift, mean and standard deviation, broadcastable against ``inputs``.
    mode
        ``'low_mem'`` computes ``(inputs - mean) / std * gamma + beta``, ``'high_mem'``
        computes ``(inputs - mean) * (gamma / std) + beta``. The results agree up to
        rounding; croton fuses both into one loop, so neither keeps more in memory.

    Returns
    -------
    TensorVariable
        The normalized activations.
    """
    inputs, gamma, beta, mean, std = _tensors(
        [("inputs", inputs), ("gamma", gamma), ("beta", beta), ("mean", mean), ("std", std)]
    )
    if mode == "low_mem":
        return (inputs - mean) / std * gamma + beta
    if mode == "high_mem":
        return (inputs - mean) * (gamma / std) + beta
    raise ValueError(f"mode must be 'low_mem' or 'high_mem', got {mode!r}")
