"""Theano's ``theano.gradient`` names: grad, jacobian, hessian, Lop, Rop, verify_grad."""

from croton.autodiff import (
    DisconnectedInputError,
    GradientError,
    Lop,
    Rop,
    grad,
    hessian,
    jacobian,
    verify_grad,
)

__all__ = [
    "DisconnectedInputError",
    "GradientError",
    "Lop",
    "Rop",
    "grad",
    "hessian",
    "jacobian",
    "verify_grad",
]
