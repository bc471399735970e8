"""Two-dimensional convolution: the forward op and its gradients with respect to the
inputs and the filters (Theano's abstract convolution).

All three ops share one set of parameters:

``border_mode``
    ``"valid"``, ``"full"``, ``"half"`` or a pair of non-negative paddings.
``subsample``
    The strides ``(rows, columns)``.
``filter_flip``
    True: a true convolution (filters flipped); False: cross-correlation.
``filter_dilation``
    Spacing between filter taps.
``num_groups``
    Input and output channels split into that many independent groups.

Images are ``(batch, channels, rows, columns)``; filters are
``(output channels, input channels / num_groups, rows, columns)``.
Each gradient op is the transpose of the forward op in one argument, so the three are
each other's gradients (second derivatives are expressed with the same three ops).
"""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType


def normalize_border_mode(border_mode) -> str | tuple[int, int]:
    """``border_mode`` as ``"valid"``, ``"full"``, ``"half"`` or a pair of paddings."""
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError(
                f"conv2d: border_mode must be 'valid', 'full', 'half', an integer or a pair of "
                f"integers, got {border_mode!r}"
            )
        return border_mode
    if isinstance(border_mode, (int, np.integer)) and not isinstance(border_mode, bool):
        border_mode = (border_mode, border_mode)
    if (
        isinstance(border_mode, (tuple, list))
        and len(border_mode) == 2
        and all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in border_mode)
        and all(p >= 0 for p in border_mode)
    ):
        if tuple(border_mode) == (0, 0):
            return "valid"
        return (int(border_mode[0]), int(border_mode[1]))
    raise ValueError(
        f"conv2d: border_mode must be 'valid', 'full', 'half', a non-negative integer or a pair "
        f"of non-negative integers, got {border_mode!r}"
    )


def _pair(value, what: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
        and all(v >= 1 for v in value)
    ):
        return (int(value[0]), int(value[1]))
    raise ValueError(f"conv2d: {what} must be a pair of positive integers, got {value!r}")


def padding(border_mode, kernel_length, dilation: int, axis: int):
    """The padding on each side of one axis (works on ints and on symbolic scalars)."""
    if border_mode == "valid":
        return 0
    if border_mode == "full":
        return (kernel_length - 1) * dilation
    if border_mode == "half":
        return ((kernel_length - 1) * dilation + 1) // 2
    return border_mode[axis]


def output_length(length, kernel_length, border_mode, stride: int, dilation: int, axis: int):
    """The output length along one axis (ints or symbolic scalars)."""
    pad = padding(border_mode, kernel_length, dilation, axis)
    return (length + 2 * pad - ((kernel_length - 1) * dilation + 1)) // stride + 1


def paddings(op, kernel_shape) -> tuple[int, int]:
    """The padding on each side of the rows and of the columns for filters of spatial shape
    ``kernel_shape`` (what a kernel pads the input with before cross-correlating)."""
    return tuple(
        int(padding(op.border_mode, kernel_shape[a], op.filter_dilation[a], a)) for a in range(2)
    )


def output_lengths(op, spatial, kernel_shape) -> tuple:
    """The output's ``(rows, columns)`` for inputs of spatial shape ``spatial`` and filters
    of spatial shape ``kernel_shape``, unchecked (a length may be below 1)."""
    return tuple(
        output_length(
            spatial[a], kernel_shape[a], op.border_mode, op.subsample[a], op.filter_dilation[a], a
        )
        for a in range(2)
    )


def output_spatial_shape(op, spatial, kernel_shape) -> tuple[int, int]:
    """The output's ``(rows, columns)`` as ints; `ValueError` when the filters do not fit."""
    lengths = tuple(int(n) for n in output_lengths(op, spatial, kernel_shape))
    if min(lengths) < 1:
        raise ValueError(
            f"conv2d: filters of spatial shape {tuple(kernel_shape)} (dilation "
            f"{op.filter_dilation}) do not fit in inputs of spatial shape {tuple(spatial)} with "
            f"border_mode {op.border_mode!r}"
        )
    return lengths


def check_groups(op, channels: int, filters_shape) -> None:
    """`ValueError` unless inputs with ``channels`` channels and filters of
    ``filters_shape`` fit ``op.num_groups``."""
    g = op.num_groups
    if filters_shape[0] % g or channels != filters_shape[1] * g:
        raise ValueError(
            f"conv2d: inputs with {channels} channels and filters of shape {filters_shape} do "
            f"not fit num_groups={g} (input channels must be filters.shape[1] * num_groups and "
            "output channels a multiple of num_groups)"
        )


def check_group_split(op, channels: int, filters: int) -> None:
    """`ValueError` unless ``channels`` input and ``filters`` output channels both split
    into ``op.num_groups`` groups (the filters' gradient, which has no filters to check)."""
    g = op.num_groups
    if filters % g or channels % g:
        raise ValueError(
            f"conv2d: {channels} input channels and {filters} output channels do not split into "
            f"num_groups={g} groups"
        )


def check_output_grad(output_grad_shape, expected) -> None:
    """`ValueError` unless the output gradient's shape is the convolution's output shape."""
    if tuple(output_grad_shape) != tuple(expected):
        raise ValueError(
            f"conv2d gradient: output_grad has shape {output_grad_shape}, the convolution's "
            f"output has shape {tuple(expected)}"
        )


def _static_output_length(length, kernel_length, border_mode, stride, dilation, axis):
    if length is None or kernel_length is None:
        return None
    result = output_length(length, kernel_length, border_mode, stride, dilation, axis)
    if result < 1:
        raise ValueError(
            f"conv2d: along axis {axis + 2} the filter (length {kernel_length}, dilation "
            f"{dilation}) does not fit in the padded input (length {length}, border_mode "
            f"{border_mode!r}); use a smaller filter or more padding"
        )
    return result


def _float_operands(*tensors):
    """The tensors cast to one floating-point dtype (integers become float64)."""
    from croton.tensor.math import cast

    dtype = np.result_type(*(t.dtype for t in tensors)).name
    if dtype.startswith("complex"):
        raise TypeError(f"conv2d takes real inputs, got {[str(t.type) for t in tensors]}")
    if not dtype.startswith("float"):
        dtype = "float64"
    return [t if t.dtype == dtype else cast(t, dtype) for t in tensors], dtype


def _shape_vector(shape):
    """A length-2 int64 vector of (rows, columns) from a tensor or a sequence."""
    from croton.tensor.math import cast
    from croton.tensor.shape import stack
    from croton.tensor.variable import as_tensor_variable

    if isinstance(shape, (tuple, list)):
        shape = stack([as_tensor_variable(s) for s in shape]) if shape else shape
    shape = as_tensor_variable(shape)
    if shape.ndim != 1 or shape.type.shape[0] not in (2, None):
        raise TypeError(f"conv2d: the spatial shape must be a vector of 2 integers, got {shape}")
    if not shape.dtype.startswith(("int", "uint")):
        raise TypeError(f"conv2d: the spatial shape must hold integers, got {shape.type}")
    return shape if shape.dtype == "int64" else cast(shape, "int64")


def _spatial_entries(shape) -> list:
    from croton.ops.shape import static_entries

    entries = static_entries(shape)
    return entries if entries else [None, None]


def spatial_shape(x):
    """``x.shape[-2:]`` as an int64 vector whose entries stay static where known."""
    return _shape_vector([x.shape[x.ndim - 2], x.shape[x.ndim - 1]])


class _ConvBase(Op):
    __props__ = ("border_mode", "subsample", "filter_flip", "filter_dilation", "num_groups")

    def __init__(
        self,
        border_mode="valid",
        subsample=(1, 1),
        filter_flip: bool = True,
        filter_dilation=(1, 1),
        num_groups: int = 1,
    ):
        self.border_mode = normalize_border_mode(border_mode)
        self.subsample = _pair(subsample, "subsample")
        self.filter_flip = bool(filter_flip)
        self.filter_dilation = _pair(filter_dilation, "filter_dilation")
        if not isinstance(num_groups, (int, np.integer)) or num_groups < 1:
            raise ValueError(f"conv2d: num_groups must be a positive integer, got {num_groups!r}")
        self.num_groups = int(num_groups)

    def _params(self) -> dict:
        return {name: getattr(self, name) for name in self.__props__}

    def _out_lengths(self, lengths, kernel_lengths, static: bool):
        compute = _static_output_length if static else output_length
        return tuple(
            compute(
                lengths[a],
                kernel_lengths[a],
                self.border_mode,
                self.subsample[a],
                self.filter_dilation[a],
                a,
            )
            for a in range(2)
        )

    def _check_channels(self, channels, filter_channels, filters_out):
        g = self.num_groups
        if filters_out is not None and filters_out % g:
            raise ValueError(
                f"conv2d: {filters_out} output channels cannot be split into num_groups={g} groups"
            )
        if channels is not None and filter_channels is not None and channels != filter_channels * g:
            raise ValueError(
                f"conv2d: the input has {channels} channels but the filters expect "
                f"{filter_channels} per group times num_groups={g} = {filter_channels * g}"
            )


def _check_rank(x, what: str):
    if x.ndim != 4:
        raise TypeError(
            f"conv2d: {what} must be a 4-d tensor (batch, channels, rows, columns) or filters "
            f"(output channels, input channels, rows, columns); got {x} with {x.ndim} dimensions"
        )


class Conv2d(_ConvBase):
    """``conv2d(input, filters)``: a batch of images convolved with a bank of filters."""

    def make_node(self, x, w) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        x, w = as_tensor_variable(x), as_tensor_variable(w)
        _check_rank(x, "input")
        _check_rank(w, "filters")
        (x, w), dtype = _float_operands(x, w)
        self._check_channels(x.type.shape[1], w.type.shape[1], w.type.shape[0])
        rows, columns = self._out_lengths(x.type.shape[2:], w.type.shape[2:], static=True)
        shape = (x.type.shape[0], w.type.shape[0], rows, columns)
        return Apply(self, [x, w], [TensorType(dtype, shape=shape)()])

    def infer_shape(self, node, input_shapes):
        x_shape, w_shape = input_shapes
        rows, columns = self._out_lengths(x_shape[2:], w_shape[2:], static=False)
        return [(x_shape[0], w_shape[0], rows, columns)]

    def L_op(self, inputs, outputs, output_grads):
        x, w = inputs
        (gz,) = output_grads
        gx = Conv2dGradInputs(**self._params())(w, gz, spatial_shape(x))
        gw = Conv2dGradWeights(**self._params())(x, gz, spatial_shape(w))
        return [gx, gw]


class Conv2dGradInputs(_ConvBase):
    """The gradient of `Conv2d` with respect to its input: the transposed convolution
    of ``output_grad`` with ``filters``, for an input of spatial shape ``shape``.

    Inputs: ``filters, output_grad, shape`` (``shape`` = the input's ``(rows, columns)``;
    with strides several input shapes give the same output).
    """

    def make_node(self, w, gz, shape) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        w, gz = as_tensor_variable(w), as_tensor_variable(gz)
        _check_rank(w, "filters")
        _check_rank(gz, "output_grad")
        (w, gz), dtype = _float_operands(w, gz)
        shape = _shape_vector(shape)
        if w.type.shape[0] is not None and gz.type.shape[1] not in (None, w.type.shape[0]):
            raise ValueError(
                f"conv2d gradient: output_grad has {gz.type.shape[1]} channels, the filters "
                f"make {w.type.shape[0]}"
            )
        self._check_channels(None, None, w.type.shape[0])
        rows, columns = _spatial_entries(shape)
        channels = None if w.type.shape[1] is None else w.type.shape[1] * self.num_groups
        out = TensorType(dtype, shape=(gz.type.shape[0], channels, rows, columns))()
        return Apply(self, [w, gz, shape], [out])

    def infer_shape(self, node, input_shapes):
        w_shape, gz_shape, _ = input_shapes
        shape = node.inputs[2]
        return [(gz_shape[0], w_shape[1] * self.num_groups, shape[0], shape[1])]

    def L_op(self, inputs, outputs, output_grads):
        w, gz, shape = inputs
        (g,) = output_grads
        # <GradInputs(w, gz), g> = <Conv2d(g, w), gz>
        gw = Conv2dGradWeights(**self._params())(g, gz, spatial_shape(w))
        ggz = Conv2d(**self._params())(g, w)
        return [gw, ggz, None]

    def connection_pattern(self, node):
        return [[True], [True], [False]]


class Conv2dGradWeights(_ConvBase):
    """The gradient of `Conv2d` with respect to its filters, for filters of spatial
    shape ``shape``.

    Inputs: ``input, output_grad, shape`` (``shape`` = the filters' ``(rows, columns)``).
    """

    def make_node(self, x, gz, shape) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        x, gz = as_tensor_variable(x), as_tensor_variable(gz)
        _check_rank(x, "input")
        _check_rank(gz, "output_grad")
        (x, gz), dtype = _float_operands(x, gz)
        shape = _shape_vector(shape)
        self._check_channels(None, None, gz.type.shape[1])
        rows, columns = _spatial_entries(shape)
        channels = None if x.type.shape[1] is None else x.type.shape[1] // self.num_groups
        if x.type.shape[1] is not None and x.type.shape[1] % self.num_groups:
            raise ValueError(
                f"conv2d: {x.type.shape[1]} input channels cannot be split into "
                f"num_groups={self.num_groups} groups"
            )
        out = TensorType(dtype, shape=(gz.type.shape[1], channels, rows, columns))()
        return Apply(self, [x, gz, shape], [out])

    def infer_shape(self, node, input_shapes):
        x_shape, gz_shape, _ = input_shapes
        shape = node.inputs[2]
        return [(gz_shape[1], x_shape[1] // self.num_groups, shape[0], shape[1])]

    def L_op(self, inputs, outputs, output_grads):
        x, gz, shape = inputs
        (g,) = output_grads
        # <GradWeights(x, gz), g> = <Conv2d(x, g), gz>
        gx = Conv2dGradInputs(**self._params())(g, gz, spatial_shape(x))
        ggz = Conv2d(**self._params())(x, g)
        return [gx, ggz, None]

    def connection_pattern(self, node):
        return [[True], [True], [False]]
