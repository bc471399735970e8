"""Activation functions with Theano's names: ``elu``, ``selu``, ``softsign`` and the two
approximations of the sigmoid, ``hard_sigmoid`` and ``ultra_fast_sigmoid``.

Each is a composition of elementwise ops, so every backend runs it (fused into one loop
where the backend fuses) and its gradient comes from automatic differentiation.
Integer and boolean inputs are computed in the float dtype ``sigmoid`` gives them.
"""

from __future__ import annotations

from croton.ops.scalar import SCALAR_OPS
from croton.tensor import math as tm
from croton.tensor.variable import as_tensor_variable

__all__ = ["elu", "selu", "softsign", "hard_sigmoid", "ultra_fast_sigmoid"]

#: the constants of Klambauer et al. (2017), "Self-Normalizing Neural Networks"
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _real_float(x, function: str):
    """``x`` as a real floating-point tensor: integers go to the dtype ``sigmoid`` gives."""
    x = as_tensor_variable(x)
    if x.dtype.startswith("complex"):
        raise TypeError(
            f"{function}: x must be real, got {x.type}; take the real part or the absolute "
            f"value first"
        )
    if not x.dtype.startswith("float"):
        _, dtype = SCALAR_OPS["sigmoid"].resolve([x.dtype])
        x = tm.cast(x, dtype)
    return x


def elu(x, alpha=1):
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Parameters
    ----------
    x
        The activations (any shape; integers compute in floating point).
    alpha
        The value the negative side tends to is ``-alpha``; a number or a tensor.

    Returns
    -------
    TensorVariable
        A tensor of the shape and floating-point dtype of ``x``.

    Notes
    -----
    Clevert, Unterthiner and Hochreiter (2015), "Fast and Accurate Deep Network Learning
    by Exponential Linear Units". The gradient at exactly 0 is ``alpha`` (the left
    derivative), as in Theano.
    """
    x = _real_float(x, "elu")
    positive = tm.gt(x, 0)
    # exp is taken of min(x, 0) only, so a large x gives no inf that the gradient
    # of the unused branch would turn into nan
    negative_part = tm.switch(positive, 0, x)
    return tm.switch(positive, x, tm.mul(alpha, tm.expm1(negative_part)))


def selu(x):
    """Scaled exponential linear unit: ``scale * elu(x, alpha)``.

    ``alpha = 1.6732632423543772848170429916717`` and
    ``scale = 1.0507009873554804934193349852946``, the constants of Klambauer et al.
    (2017), "Self-Normalizing Neural Networks" (the same as Theano's).

    Parameters
    ----------
    x
        The activations.

    Returns
    -------
    TensorVariable
        A tensor of the shape and floating-point dtype of ``x``.
    """
    return SELU_SCALE * elu(x, SELU_ALPHA)


def softsign(x):
    """``x / (1 + abs(x))``, a smooth function from the real line onto ``(-1, 1)``.

    Parameters
    ----------
    x
        The activations.

    Returns
    -------
    TensorVariable
        A tensor of the shape and floating-point dtype of ``x``. As in Theano and
        ``jax.nn.soft_sign``, ``softsign(+-inf)`` is nan (``inf / inf``).
    """
    x = _real_float(x, "softsign")
    return x / (1 + tm.abs(x))


def hard_sigmoid(x):
    """A piecewise-linear approximation of the sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``.

    Parameters
    ----------
    x
        The activations.

    Returns
    -------
    TensorVariable
        A tensor of the shape and floating-point dtype of ``x``; the gradient is 0.2
        inside ``(-2.5, 2.5)`` and 0 outside.
    """
    x = _real_float(x, "hard_sigmoid")
    return tm.clip(x * 0.2 + 0.5, 0, 1)


#: Theano's ultra_fast_sigmoid: sigmoid(x) = (1 + tanh(x / 2)) / 2, with tanh(h) for
#: h >= 0 replaced by 1.5 h / (1 + h) below 1.7, a line up to 3, and a constant above
_LINEAR_START, _CONSTANT_START = 1.7, 3.0
_LINEAR_OFFSET, _LINEAR_SLOPE = 0.935409070603099, 0.0458812946797165
_CONSTANT = 0.99505475368673


def ultra_fast_sigmoid(x):
    """Theano's fast approximation of the sigmoid (absolute error below 0.03).

    With ``h = x / 2``, ``tanh(h)`` is approximated by the odd function that is
    ``1.5 * h / (1 + h)`` for ``0 <= h < 1.7``,
    ``0.935409070603099 + 0.0458812946797165 * (h - 1.7)`` for ``1.7 <= h < 3`` and
    ``0.99505475368673`` beyond, and the result is ``(1 + tanh(h)) / 2``.

    Parameters
    ----------
    x
        The activations.

    Returns
    -------
    TensorVariable
        A tensor of the shape and floating-point dtype of ``x``. The gradient is that
        of the approximation (0 where it is constant, ``|x| >= 6``). nan stays nan
        (Theano's C code returns 0.0025 for it).
    """
    x = _real_float(x, "ultra_fast_sigmoid")
    half = x * 0.5
    size = tm.abs(half)
    direction = tm.sign(half)
    near_zero = tm.lt(size, _LINEAR_START)
    # the rational piece sees 0 where it is not used, so inf gives no nan gradient
    small = tm.switch(near_zero, half, 0)
    rational = 1.5 * small / (1 + tm.abs(small))
    linear = direction * (_LINEAR_OFFSET + _LINEAR_SLOPE * (size - _LINEAR_START))
    # sign(nan) is nan, so nan falls through both comparisons and stays nan
    constant = direction * _CONSTANT
    tanh_half = tm.switch(
        near_zero, rational, tm.switch(tm.lt(size, _CONSTANT_START), linear, constant)
    )
    return 0.5 * (tanh_half + 1)
