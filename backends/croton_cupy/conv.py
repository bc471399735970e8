"""conv2d and its gradients: im2col on the device, then one batched cuBLAS product.

All three ops reduce to cross-correlation of the zero-padded input, as in the numpy
reference: ``out[b, f, y, x] = sum(w[f, c, i, j] * xp[b, c, y*sh + i*dh, x*sw + j*dw])``
within a group, the filters flipped first when ``filter_flip`` is set.

The column matrix has the layout ``(groups, channels per group * k rows * k columns,
batch * out rows * out columns)``: one `cupy.matmul` over the groups then gives the
forward output (filters times columns), the filters' gradient (output gradient times
the columns, transposed) and the columns' gradient (filters, transposed, times the
output gradient). `im2col` and `col2im` are raw kernels, one thread per element they
write; `col2im` gathers the column entries of each input cell, so it needs no atomics,
and adds them in the reference's order (kernel row, then kernel column).

float16 operands are computed in float32 and the result rounded back.
"""

from __future__ import annotations

from croton.ops.conv import (
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    check_group_split,
    check_groups,
    check_output_grad,
    output_spatial_shape,
    paddings,
)
from croton_cupy import kernels, runtime
from croton_cupy.launch import ELEMENT_LOOP, c_type, launch, output_dtypes
from croton_cupy.lowering import lowers

_SIZES = (
    "long long batch, long long groups, long long group_channels, long long rows, "
    "long long columns, long long kernel_rows, long long kernel_columns, long long out_rows, "
    "long long out_columns, long long pad_rows, long long pad_columns, long long total"
)

# im2col: one thread per column entry (g, (c, i, j), (b, y, x))
_IM2COL = """extern "C" __global__ void KERNEL(const {t}* image, {t}* cols, {sizes}) {{
  const long long n_columns = batch * out_rows * out_columns;
  const long long n_rows = group_channels * kernel_rows * kernel_columns;
  {loop} {{
    const long long n = k % n_columns;
    const long long kk = (k / n_columns) % n_rows;
    const long long g = k / (n_columns * n_rows);
    const long long x = n % out_columns;
    const long long y = (n / out_columns) % out_rows;
    const long long b = n / (out_columns * out_rows);
    const long long j = kk % kernel_columns;
    const long long i = (kk / kernel_columns) % kernel_rows;
    const long long c = kk / (kernel_columns * kernel_rows);
    const long long row = y * {sh} + i * {dh} - pad_rows;
    const long long column = x * {sw} + j * {dw} - pad_columns;
    {t} value = 0;
    if (row >= 0 && row < rows && column >= 0 && column < columns)
      value = image[(((b * groups + g) * group_channels + c) * rows + row) * columns + column];
    cols[k] = value;
  }}
}}
"""

# col2im: one thread per input cell (b, channel, row, column), gathering the column
# entries that read it
_COL2IM = """extern "C" __global__ void KERNEL(const {t}* cols, {t}* image, {sizes}) {{
  const long long n_columns = batch * out_rows * out_columns;
  const long long n_rows = group_channels * kernel_rows * kernel_columns;
  {loop} {{
    const long long column = k % columns;
    const long long row = (k / columns) % rows;
    const long long channel = (k / (columns * rows)) % (groups * group_channels);
    const long long b = k / (columns * rows * groups * group_channels);
    const long long g = channel / group_channels;
    const long long c = channel % group_channels;
    const long long padded_row = row + pad_rows;
    const long long padded_column = column + pad_columns;
    {t} total_ = 0;
    for (long long i = 0; i < kernel_rows; ++i) {{
      const long long r = padded_row - i * {dh};
      if (r < 0) break;
      if (r % {sh} != 0 || r / {sh} >= out_rows) continue;
      const long long y = r / {sh};
      for (long long j = 0; j < kernel_columns; ++j) {{
        const long long s = padded_column - j * {dw};
        if (s < 0) break;
        if (s % {sw} != 0 || s / {sw} >= out_columns) continue;
        const long long x = s / {sw};
        const long long kk = (c * kernel_rows + i) * kernel_columns + j;
        total_ += cols[(g * n_rows + kk) * n_columns + (b * out_rows + y) * out_columns + x];
      }}
    }}
    image[k] = total_;
  }}
}}
"""


def _render(template: str, op, dtype) -> str:
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    return template.format(
        t=c_type(dtype), sizes=_SIZES, loop=ELEMENT_LOOP, sh=sh, sw=sw, dh=dh, dw=dw
    )


def im2col_source(op, dtype) -> str:
    """The CUDA source of the im2col kernel for ``op``'s strides and dilation."""
    return _render(_IM2COL, op, dtype)


def col2im_source(op, dtype) -> str:
    """The CUDA source of the col2im kernel (the input gradient's gather)."""
    return _render(_COL2IM, op, dtype)


class _Geometry:
    """The sizes of one convolution, in the order the kernels take them; `ValueError`
    when the filters do not fit in the inputs."""

    def __init__(self, op, batch, channels, spatial, kernel_shape):
        self.batch, self.groups = batch, op.num_groups
        self.group_channels = channels // op.num_groups
        self.spatial, self.kernel_shape = tuple(spatial), tuple(kernel_shape)
        self.out_shape = output_spatial_shape(op, self.spatial, self.kernel_shape)
        self.pads = paddings(op, self.kernel_shape)

    @property
    def sizes(self) -> tuple[int, ...]:
        return (
            self.batch,
            self.groups,
            self.group_channels,
            *self.spatial,
            *self.kernel_shape,
            *self.out_shape,
            *self.pads,
        )

    @property
    def column_shape(self) -> tuple[int, int, int]:
        kr, kc = self.kernel_shape
        oh, ow = self.out_shape
        return (self.groups, self.group_channels * kr * kc, self.batch * oh * ow)


def _im2col(cupy, kernel, x, geometry: _Geometry):
    cols = cupy.empty(geometry.column_shape, dtype=x.dtype)
    launch(kernel, cols.size, cupy.ascontiguousarray(x), cols, *geometry.sizes)
    return cols


def _grouped_filters(cupy, w, op, dtype):
    """``(groups, filters per group, channels per group * k rows * k columns)``, flipped
    when the op convolves."""
    if op.filter_flip:
        w = w[:, :, ::-1, ::-1]
    f, c, kr, kc = w.shape
    return cupy.ascontiguousarray(w, dtype=dtype).reshape(
        op.num_groups, f // op.num_groups, c * kr * kc
    )


def _grouped_output(cupy, gz, op, dtype):
    """The output (gradient) ``(batch, filters, y, x)`` as ``(groups, filters per group,
    batch * y * x)``, the columns' layout."""
    b, f, rows, columns = gz.shape
    g = op.num_groups
    gz = cupy.ascontiguousarray(gz, dtype=dtype).reshape(b, g, f // g, rows * columns)
    return cupy.ascontiguousarray(gz.transpose(1, 2, 0, 3)).reshape(g, f // g, b * rows * columns)


@lowers(Conv2d)
def _conv2d(op, node):
    dtype, work = output_dtypes(node)
    im2col = kernels.raw(im2col_source(op, work))

    def run(x, w):
        cupy = runtime.load_cupy()
        check_groups(op, x.shape[1], w.shape)
        geometry = _Geometry(op, x.shape[0], x.shape[1], x.shape[2:], w.shape[2:])
        cols = _im2col(cupy, im2col, x.astype(work, copy=False), geometry)
        # (g, f/g, K) @ (g, K, b*y*x) -> (g, f/g, b, y, x) -> (b, f, y, x)
        out = cupy.matmul(_grouped_filters(cupy, w, op, work), cols)
        out = out.reshape(w.shape[0], x.shape[0], *geometry.out_shape).transpose(1, 0, 2, 3)
        return cupy.ascontiguousarray(out, dtype=dtype)

    return run


@lowers(Conv2dGradInputs)
def _conv2d_grad_inputs(op, node):
    dtype, work = output_dtypes(node)
    col2im = kernels.raw(col2im_source(op, work))

    def run(w, gz, shape):
        cupy = runtime.load_cupy()
        rows, columns = (int(s) for s in shape.tolist())
        b, c = gz.shape[0], w.shape[1] * op.num_groups
        check_groups(op, c, w.shape)
        geometry = _Geometry(op, b, c, (rows, columns), w.shape[2:])
        check_output_grad(gz.shape, (b, w.shape[0], *geometry.out_shape))
        # (g, K, f/g) @ (g, f/g, b*y*x) -> the columns' gradient (g, K, b*y*x)
        filters = _grouped_filters(cupy, w, op, work)
        cols = cupy.matmul(filters.transpose(0, 2, 1), _grouped_output(cupy, gz, op, work))
        image = cupy.empty((b, c, rows, columns), dtype=work)
        launch(col2im, image.size, cupy.ascontiguousarray(cols), image, *geometry.sizes)
        return image.astype(dtype, copy=False)

    return run


@lowers(Conv2dGradWeights)
def _conv2d_grad_weights(op, node):
    dtype, work = output_dtypes(node)
    im2col = kernels.raw(im2col_source(op, work))

    def run(x, gz, shape):
        cupy = runtime.load_cupy()
        kernel_shape = tuple(int(s) for s in shape.tolist())
        b, c = x.shape[:2]
        f = gz.shape[1]
        g = op.num_groups
        check_group_split(op, c, f)
        geometry = _Geometry(op, b, c, x.shape[2:], kernel_shape)
        check_output_grad(gz.shape, (b, f, *geometry.out_shape))
        cols = _im2col(cupy, im2col, x.astype(work, copy=False), geometry)
        # (g, f/g, b*y*x) @ (g, b*y*x, K) -> (g, f/g, K) -> (f, c/g, k rows, k columns)
        result = cupy.matmul(_grouped_output(cupy, gz, op, work), cols.transpose(0, 2, 1))
        result = result.reshape(f, c // g, *kernel_shape)
        if op.filter_flip:
            result = result[:, :, ::-1, ::-1]
        return cupy.ascontiguousarray(result, dtype=dtype)

    return run
