"""Two-dimensional convolution with Theano's signature (``croton.tensor.nnet.conv2d``)."""

from __future__ import annotations

from collections.abc import Sequence

from croton.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights

__all__ = ["conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights"]


def _hint(x, shape, what: str):
    """``x`` with the static shape hint ``shape`` (checked when the function runs)."""
    from croton.tensor.shape import specify_shape

    if shape is None:
        return x
    shape = tuple(shape)
    if len(shape) != 4:
        raise ValueError(
            f"conv2d: {what} must have 4 entries (None for unknown ones), got {shape!r}"
        )
    if x.ndim != 4:
        return x  # the op reports the wrong rank
    return specify_shape(x, [None if s is None else int(s) for s in shape])


def conv2d(
    input,
    filters,
    input_shape: Sequence[int | None] | None = None,
    filter_shape: Sequence[int | None] | None = None,
    border_mode="valid",
    subsample=(1, 1),
    filter_flip: bool = True,
    image_shape: Sequence[int | None] | None = None,
    filter_dilation=(1, 1),
    num_groups: int = 1,
):
    """Convolve a batch of images with a bank of filters.

    Parameters
    ----------
    input
        4-d tensor ``(batch, input channels, rows, columns)``.
    filters
        4-d tensor ``(output channels, input channels / num_groups, rows, columns)``.
    input_shape, filter_shape
        Optional shapes of ``input`` and ``filters`` (entries may be None). They become
        static shapes, so output shapes are known when the graph is built; a call with
        arrays of other shapes raises.
    border_mode
        ``"valid"`` (no padding: output ``rows - filter_rows + 1``), ``"full"`` (padding
        ``filter_rows - 1``: output ``rows + filter_rows - 1``), ``"half"`` (padding
        ``filter_rows // 2``: same size as the input for odd filters), an integer
        (that padding on all four sides) or a pair ``(row padding, column padding)``.
        Padded entries are zero.
    subsample
        Strides ``(rows, columns)``.
    filter_flip
        True (the default) computes a convolution: the filters are flipped.
        False computes a cross-correlation (what most deep-learning libraries call
        convolution).
    image_shape
        Theano's old name for ``input_shape``.
    filter_dilation
        Dilation ``(rows, columns)``: the distance between the input entries that
        neighbouring filter taps read.
    num_groups
        Split the input channels and the output channels into that many groups, each
        convolved on its own (``num_groups == channels`` is a depthwise convolution).

    Returns
    -------
    Variable
        4-d tensor ``(batch, output channels, output rows, output columns)`` where an
        output length is ``(length + 2 * padding - dilation * (filter_length - 1) - 1)
        // stride + 1``. Integer inputs are converted to float64.

    Examples
    --------
    >>> import numpy as np
    >>> import croton
    >>> import croton.tensor as T
    >>> x, w = T.tensor4("x"), T.tensor4("w")
    >>> f = croton.function([x, w], T.nnet.conv2d(x, w, border_mode="half"))
    >>> f(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)))[0, 0]
    array([[4., 6., 4.],
           [6., 9., 6.],
           [4., 6., 4.]])
    """
    from croton.tensor.variable import as_tensor_variable

    if image_shape is not None:
        if input_shape is not None:
            raise ValueError("conv2d: pass input_shape or its old name image_shape, not both")
        input_shape = image_shape
    op = Conv2d(border_mode, subsample, filter_flip, filter_dilation, num_groups)
    input = _hint(as_tensor_variable(input), input_shape, "input_shape")
    filters = _hint(as_tensor_variable(filters), filter_shape, "filter_shape")
    return op(input, filters)


def conv2d_grad_wrt_inputs(
    output_grad,
    filters,
    input_shape,
    filter_shape=None,
    border_mode="valid",
    subsample=(1, 1),
    filter_flip: bool = True,
    filter_dilation=(1, 1),
    num_groups: int = 1,
):
    """The gradient of `conv2d` with respect to its input (a transposed convolution).

    ``input_shape`` is the input's full shape (4 entries) or its ``(rows, columns)``;
    entries may be symbolic scalars. The other parameters are `conv2d`'s.
    """
    from croton.tensor.variable import as_tensor_variable

    op = Conv2dGradInputs(border_mode, subsample, filter_flip, filter_dilation, num_groups)
    filters = _hint(as_tensor_variable(filters), filter_shape, "filter_shape")
    shape = list(input_shape)[-2:]
    return op(filters, output_grad, shape)


def conv2d_grad_wrt_weights(
    input,
    output_grad,
    filter_shape,
    input_shape=None,
    border_mode="valid",
    subsample=(1, 1),
    filter_flip: bool = True,
    filter_dilation=(1, 1),
    num_groups: int = 1,
):
    """The gradient of `conv2d` with respect to its filters.

    ``filter_shape`` is the filters' full shape (4 entries) or their ``(rows, columns)``.
    The other parameters are `conv2d`'s.
    """
    from croton.tensor.variable import as_tensor_variable

    op = Conv2dGradWeights(border_mode, subsample, filter_flip, filter_dilation, num_groups)
    input = _hint(as_tensor_variable(input), input_shape, "input_shape")
    shape = list(filter_shape)[-2:]
    return op(input, output_grad, shape)
