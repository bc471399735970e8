"""Pooling and its gradients as dedicated CUDA kernels, one thread per output element.

The leading axes are flattened into one axis of images (a contiguous copy where needed),
and every kernel clips its windows to the image (padding is never read), following
`croton.ops.pool.window_bounds`; the host computes shapes with `croton.ops.pool`'s
geometry. The gradients run one thread per *input* cell, gathering over the windows that
contain it, so no thread writes another's element and no atomics are needed; they add
the windows' shares in the numpy reference's order (by the cell's row in the window,
then its column).

float16 images are pooled in float32 and the result rounded back to float16.
"""

from __future__ import annotations

from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool
from croton_cupy import kernels, runtime
from croton_cupy.launch import ELEMENT_LOOP, c_type, computed_dtype, launch, output_dtypes
from croton_cupy.lowering import lowers

# the geometry every kernel shares: the image ``b`` and the window or cell the thread
# computes, from the flat index ``k``
_WINDOW = """
    const long long c = k % out_columns;
    const long long r = (k / out_columns) % out_rows;
    const long long b = k / (out_columns * out_rows);
    const long long row_start = r * {s0} - {p0};
    const long long column_start = c * {s1} - {p1};
    const long long i0 = row_start > 0 ? row_start : 0;
    const long long i1 = row_start + {w0} < rows ? row_start + {w0} : rows;
    const long long j0 = column_start > 0 ? column_start : 0;
    const long long j1 = column_start + {w1} < columns ? column_start + {w1} : columns;
"""

# for an input cell: the windows holding it are rows r0..r1 and columns c0..c1 (inclusive)
_CELL = """
    const long long j = k % columns;
    const long long i = (k / columns) % rows;
    const long long b = k / (columns * rows);
    const long long pi = i + {p0};
    const long long pj = j + {p1};
    const long long r0 = pi >= {w0} ? (pi - {w0}) / {s0} + 1 : 0;
    const long long c0 = pj >= {w1} ? (pj - {w1}) / {s1} + 1 : 0;
    const long long r1 = pi / {s0} < out_rows - 1 ? pi / {s0} : out_rows - 1;
    const long long c1 = pj / {s1} < out_columns - 1 ? pj / {s1} : out_columns - 1;
"""

# the divisor of window (r, c) of an average: the cells it counts on each axis
_DIVISOR = {
    "average_exc_pad": "(({ty})((i1 - i0) * (j1 - j0)))",
    "average_inc_pad": (
        "(({ty})(((row_start + {w0} < rows + {p0} ? row_start + {w0} : rows + {p0}) - row_start)"
        " * ((column_start + {w1} < columns + {p1} ? column_start + {w1} : columns + {p1})"
        " - column_start)))"
    ),
}

_SIGNATURE = (
    'extern "C" __global__ void KERNEL({params}, long long rows, long long columns,\n'
    "                                  long long out_rows, long long out_columns,"
    " long long total)"
)


def _geometry(op) -> dict:
    (w0, w1), (s0, s1), (p0, p1) = op.ws, op.stride, op.pad
    return {"w0": w0, "w1": w1, "s0": s0, "s1": s1, "p0": p0, "p1": p1}


def _source(op, params: str, prologue: str, body: str, **types) -> str:
    geometry = _geometry(op)
    return (
        _SIGNATURE.format(params=params)
        + " {\n  "
        + ELEMENT_LOOP
        + " {"
        + prologue.format(**geometry)
        + body.format(**geometry, **types)
        + "  }\n}\n"
    )


def pool_source(op, in_dtype, out_dtype) -> str:
    """The CUDA source of `Pool`'s kernel for images of ``in_dtype``."""
    tx, ty = c_type(in_dtype), c_type(out_dtype)
    image = "    const {tx}* image = x + b * rows * columns;\n"
    if op.mode == "max":
        body = (
            image + "    {tx} m = image[i0 * columns + j0];\n"
            "    for (long long i = i0; i < i1; ++i)\n"
            "      for (long long j = j0; j < j1; ++j) {{\n"
            "        const {tx} v = image[i * columns + j];\n"
            "        if (v > m || v != v) m = v;  // nan wins, as in numpy's max\n"
            "      }}\n"
            "    out[k] = ({ty})m;\n"
        )
    else:
        body = (
            image + "    {ty} total_ = 0;\n"
            "    for (long long i = i0; i < i1; ++i)\n"
            "      for (long long j = j0; j < j1; ++j) total_ += ({ty})image[i * columns + j];\n"
        )
        if op.mode == "sum":
            body += "    out[k] = total_;\n"
        else:
            body += "    out[k] = total_ / " + _DIVISOR[op.mode] + ";\n"
    return _source(op, f"const {tx}* x, {ty}* out", _WINDOW, body, tx=tx, ty=ty)


def max_pool_grad_source(op, x_dtype, gz_dtype, out_dtype) -> str:
    """`MaxPoolGrad`'s kernel: each cell sums the gradients of the windows whose max it is."""
    tx, tg, ty = c_type(x_dtype), c_type(gz_dtype), c_type(out_dtype)
    # windows in the reference's order: by the cell's row in the window, then its column
    body = (
        "    const {tx} v = x[k];\n"
        "    {ty} total_ = 0;\n"
        "    for (long long r = r1; r >= r0; --r)\n"
        "      for (long long c = c1; c >= c0; --c) {{\n"
        "        const long long w = (b * out_rows + r) * out_columns + c;\n"
        "        if (v == maxout[w]) total_ += ({ty})gz[w];\n"
        "      }}\n"
        "    out[k] = total_;\n"
    )
    params = f"const {tx}* x, const {tx}* maxout, const {tg}* gz, {ty}* out"
    return _source(op, params, _CELL, body, tx=tx, ty=ty)


def max_pool_grad_grad_source(op, x_dtype, ggx_dtype, out_dtype) -> str:
    """`MaxPoolGradGrad`'s kernel: each window sums ``ggx`` over the cells equal to its max."""
    tx, tg, ty = c_type(x_dtype), c_type(ggx_dtype), c_type(out_dtype)
    body = (
        "    const {tx} m = maxout[k];\n"
        "    const long long image = b * rows * columns;\n"
        "    {ty} total_ = 0;\n"
        "    for (long long i = i0; i < i1; ++i)\n"
        "      for (long long j = j0; j < j1; ++j)\n"
        "        if (x[image + i * columns + j] == m) total_ += ({ty})ggx[image + i * columns + j];\n"
        "    out[k] = total_;\n"
    )
    params = f"const {tx}* x, const {tx}* maxout, const {tg}* ggx, {ty}* out"
    return _source(op, params, _WINDOW, body, tx=tx, ty=ty)


def average_pool_grad_source(op, out_dtype) -> str:
    """`AveragePoolGrad`'s kernel: each cell sums its windows' gradients (over their
    divisors for the averages)."""
    ty = c_type(out_dtype)
    share = "({ty})gz[w]"
    if op.mode != "sum":
        share += " / " + _DIVISOR[op.mode]
    body = (
        "    {ty} total_ = 0;\n"
        "    for (long long r = r1; r >= r0; --r)\n"
        "      for (long long c = c1; c >= c0; --c) {{\n"
        "        const long long w = (b * out_rows + r) * out_columns + c;\n"
        "        const long long row_start = r * {s0} - {p0};\n"
        "        const long long column_start = c * {s1} - {p1};\n"
        "        const long long i0 = row_start > 0 ? row_start : 0;\n"
        "        const long long i1 = row_start + {w0} < rows ? row_start + {w0} : rows;\n"
        "        const long long j0 = column_start > 0 ? column_start : 0;\n"
        "        const long long j1 = column_start + {w1} < columns ? column_start + {w1} : columns;\n"
        f"        total_ += {share};\n"
        "      }}\n"
        "    out[k] = total_;\n"
    )
    return _source(op, f"const {ty}* gz, {ty}* out", _CELL, body, ty=ty)


def _images(cupy, value, lead, rows, columns, dtype):
    """``value`` broadcast to ``(*lead, rows, columns)`` as a contiguous array of ``dtype``."""
    value = cupy.broadcast_to(value, (*lead, rows, columns))
    return cupy.ascontiguousarray(value, dtype=dtype)


def _pooled(op, shape) -> tuple[int, int]:
    return tuple(int(n) for n in op.out_lengths(int(shape[-2]), int(shape[-1])))


@lowers(Pool)
def _pool(op, node):
    dtype, out_dtype = output_dtypes(node)
    in_dtype = computed_dtype(node.inputs[0].type.dtype)
    kernel = kernels.raw(pool_source(op, in_dtype, out_dtype))

    def run(x):
        cupy = runtime.load_cupy()
        rows, columns = x.shape[-2:]
        out_rows, out_columns = _pooled(op, x.shape)
        out_shape = (*x.shape[:-2], out_rows, out_columns)
        if 0 in out_shape:
            return cupy.zeros(out_shape, dtype=dtype)
        x = _images(cupy, x, x.shape[:-2], rows, columns, in_dtype)
        out = cupy.empty(out_shape, dtype=out_dtype)
        launch(kernel, out.size, x, out, rows, columns, out_rows, out_columns)
        return out.astype(dtype, copy=False)

    return run


def _max_pool_gradient(op, node, source, per_window: bool):
    """The rule of `MaxPoolGrad` (``per_window`` False: the third input is per window,
    the result per input cell) or of `MaxPoolGradGrad` (True: the third input is per input
    cell, the result per window); both take ``(x, maxout, third)``."""
    dtype, out_dtype = output_dtypes(node)
    x_dtype, third_dtype = (computed_dtype(v.type.dtype) for v in (node.inputs[0], node.inputs[2]))
    kernel = kernels.raw(source(op, x_dtype, third_dtype, out_dtype))

    def run(x, maxout, third):
        cupy = runtime.load_cupy()
        result_shape = maxout.shape if per_window else x.shape
        lead, (rows, columns) = result_shape[:-2], x.shape[-2:]
        out_rows, out_columns = maxout.shape[-2:]
        if 0 in maxout.shape or 0 in x.shape:
            return cupy.zeros(result_shape, dtype=dtype)
        third_cells = (rows, columns) if per_window else (out_rows, out_columns)
        x = _images(cupy, x, lead, rows, columns, x_dtype)
        maxout = _images(cupy, maxout, lead, out_rows, out_columns, x_dtype)
        third = _images(cupy, third, lead, *third_cells, third_dtype)
        out = cupy.empty(result_shape, dtype=out_dtype)
        launch(kernel, out.size, x, maxout, third, out, rows, columns, out_rows, out_columns)
        return out.astype(dtype, copy=False)

    return run


@lowers(MaxPoolGrad)
def _max_pool_grad(op, node):
    return _max_pool_gradient(op, node, max_pool_grad_source, per_window=False)


@lowers(MaxPoolGradGrad)
def _max_pool_grad_grad(op, node):
    return _max_pool_gradient(op, node, max_pool_grad_grad_source, per_window=True)


@lowers(AveragePoolGrad)
def _average_pool_grad(op, node):
    dtype, out_dtype = output_dtypes(node)
    kernel = kernels.raw(average_pool_grad_source(op, out_dtype))

    def run(x, gz):
        cupy = runtime.load_cupy()
        lead, (rows, columns) = x.shape[:-2], x.shape[-2:]
        out_rows, out_columns = gz.shape[-2:]
        if 0 in gz.shape[-2:] or 0 in x.shape:
            return cupy.zeros(x.shape, dtype=dtype)
        gz = _images(cupy, gz, lead, out_rows, out_columns, out_dtype)
        out = cupy.empty(x.shape, dtype=out_dtype)
        launch(kernel, out.size, gz, out, rows, columns, out_rows, out_columns)
        return out.astype(dtype, copy=False)

    return run
