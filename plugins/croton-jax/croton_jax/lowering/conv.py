"""Convolution on jax: ``lax.conv_general_dilated``; its gradients are jax's transposes of it."""

from __future__ import annotations

from croton.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights, output_lengths, paddings
from croton_jax.lazy_jax import lax, load_jax
from croton_jax.lowering.common import concrete, lowers, needs_concrete, out_dtype


def _forward(op, kernel_shape):
    """``(x, w) -> conv2d(x, w)`` for filters of spatial shape ``kernel_shape``."""
    pads = [(p, p) for p in paddings(op, kernel_shape)]

    def forward(x, w):
        if op.filter_flip:
            w = w[:, :, ::-1, ::-1]
        return lax.conv_general_dilated(
            x,
            w,
            window_strides=op.subsample,
            padding=pads,
            rhs_dilation=op.filter_dilation,
            dimension_numbers=("NCHW", "OIHW", "NCHW"),
            feature_group_count=op.num_groups,
            precision=lax.Precision.HIGHEST,
        )

    return forward


def _check_fits(op, spatial, kernel_shape) -> None:
    if min(output_lengths(op, spatial, kernel_shape)) < 1:
        raise ValueError(
            f"conv2d: filters of spatial shape {tuple(kernel_shape)} do not fit in inputs of "
            f"spatial shape {tuple(spatial)} with border_mode {op.border_mode!r}"
        )


@lowers(Conv2d)
def _conv2d(op, node):
    dtype = out_dtype(node)

    def kernel(x, w):
        _check_fits(op, x.shape[2:], w.shape[2:])
        return _forward(op, w.shape[2:])(x, w).astype(dtype)

    return kernel


@lowers(Conv2dGradInputs)
def _conv2d_grad_inputs(op, node):
    dtype = out_dtype(node)

    def kernel(w, gz, shape):
        rows, columns = (int(s) for s in concrete(shape, "the input shape of a conv2d gradient"))
        _check_fits(op, (rows, columns), w.shape[2:])
        x_shape = (gz.shape[0], w.shape[1] * op.num_groups, rows, columns)
        forward = _forward(op, w.shape[2:])
        jax = load_jax()
        _, transpose = jax.vjp(lambda x: forward(x, w), jax.numpy.zeros(x_shape, gz.dtype))
        return transpose(gz)[0].astype(dtype)

    return needs_concrete(kernel, [2])


@lowers(Conv2dGradWeights)
def _conv2d_grad_weights(op, node):
    dtype = out_dtype(node)

    def kernel(x, gz, shape):
        kernel_shape = tuple(
            int(s) for s in concrete(shape, "the filter shape of a conv2d gradient")
        )
        _check_fits(op, x.shape[2:], kernel_shape)
        w_shape = (gz.shape[1], x.shape[1] // op.num_groups, *kernel_shape)
        forward = _forward(op, kernel_shape)
        jax = load_jax()
        _, transpose = jax.vjp(lambda w: forward(x, w), jax.numpy.zeros(w_shape, gz.dtype))
        return transpose(gz)[0].astype(dtype)

    return needs_concrete(kernel, [2])
