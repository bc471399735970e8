"""Softmax, log-softmax and the softmax cross-entropy as dedicated kernels.

One CUDA kernel per op and dtype, one thread block per row: the reduced axis is moved
last and the rows made contiguous on the host side (a copy only when they are not), then
each block finds its row's maximum, sums ``exp(x - max)`` and writes the row, with
warp-shuffle and shared-memory reductions. float16 is loaded into float and computed
there. The results follow the numpy reference rule: a row holding nan, or +inf, or only
-inf gives nan everywhere; -inf entries of an otherwise finite row give 0 (log: -inf).
"""

from __future__ import annotations

import string

import numpy as np

from croton.ops.nnet import CrossEntropySoftmax, LogSoftmax, Softmax, check_target_classes
from croton_cupy import kernels, runtime
from croton_cupy.lowering import lowers

#: most threads in one row's block (a multiple of the warp size)
MAX_THREADS = 512

#: the C spelling of each dtype the kernels take: storage type, computing type, the
#: conversions between them, their exp and log, and -inf in the computing type
_TYPES = {
    "float16": {
        "header": "#include <cuda_fp16.h>",
        "value_t": "__half",
        "acc_t": "float",
        "load": "__half2float(v)",
        "store": "__float2half(v)",
        "exp": "expf",
        "log": "logf",
        "minus_inf": "__int_as_float(0xff800000)",
    },
    "float32": {
        "header": "",
        "value_t": "float",
        "acc_t": "float",
        "load": "v",
        "store": "v",
        "exp": "expf",
        "log": "logf",
        "minus_inf": "__int_as_float(0xff800000)",
    },
    "float64": {
        "header": "",
        "value_t": "double",
        "acc_t": "double",
        "load": "v",
        "store": "v",
        "exp": "exp",
        "log": "log",
        "minus_inf": "__longlong_as_double(0xfff0000000000000LL)",
    },
}

# What every kernel shares: the types, and block-wide max and sum whose result every
# thread of the block receives. ``nan_max`` keeps a nan (NumPy's max propagates it).
_PRELUDE = string.Template(
    """\
${header}
typedef ${value_t} value_t;
typedef ${acc_t} acc_t;

__device__ __forceinline__ acc_t load(value_t v) { return ${load}; }
__device__ __forceinline__ value_t store(acc_t v) { return ${store}; }
__device__ __forceinline__ acc_t minus_inf() { return ${minus_inf}; }

__device__ __forceinline__ acc_t nan_max(acc_t a, acc_t b) {
    return (a != a || a > b) ? a : b;
}

__device__ __forceinline__ acc_t warp_max(acc_t v) {
    for (int offset = 16; offset > 0; offset >>= 1)
        v = nan_max(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

__device__ __forceinline__ acc_t warp_sum(acc_t v) {
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// blockDim.x is a multiple of 32 and at most 1024: one partial per warp in shared memory
__device__ acc_t block_max(acc_t v, acc_t* partials) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_max(v);
    if (lane == 0) partials[warp] = v;
    __syncthreads();
    v = lane < (int)(blockDim.x >> 5) ? partials[lane] : minus_inf();
    v = warp_max(v);
    __syncthreads();  // partials are free again
    return v;
}

__device__ acc_t block_sum(acc_t v, acc_t* partials) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    if (lane == 0) partials[warp] = v;
    __syncthreads();
    v = lane < (int)(blockDim.x >> 5) ? partials[lane] : (acc_t)0;
    v = warp_sum(v);
    __syncthreads();
    return v;
}

// the row's maximum and the sum of exp(x - maximum), in every thread
__device__ void row_statistics(const value_t* row, long long n, acc_t* partials,
                               acc_t* maximum, acc_t* total) {
    acc_t m = minus_inf();
    for (long long j = threadIdx.x; j < n; j += blockDim.x) m = nan_max(m, load(row[j]));
    m = block_max(m, partials);
    acc_t s = 0;
    for (long long j = threadIdx.x; j < n; j += blockDim.x) s += ${exp}(load(row[j]) - m);
    *maximum = m;
    *total = block_sum(s, partials);
}
"""
)

# the rows of ``x`` (``rows`` by ``n``, contiguous) to ``out`` of the same layout
_ROWS_KERNEL = string.Template(
    """
extern "C" __global__ void KERNEL(const value_t* x, value_t* out, long long n) {
    __shared__ acc_t partials[32];
    const value_t* row = x + (long long)blockIdx.x * n;
    value_t* out_row = out + (long long)blockIdx.x * n;
    acc_t m, s;
    row_statistics(row, n, partials, &m, &s);
    ${finish}
    for (long long j = threadIdx.x; j < n; j += blockDim.x) {
        const acc_t shifted = load(row[j]) - m;
        out_row[j] = store(${value});
    }
}
"""
)

_SOFTMAX = {"finish": "", "value": "${exp}(shifted) / s"}
_LOGSOFTMAX = {"finish": "const acc_t log_total = ${log}(s);", "value": "shifted - log_total"}

# per row ``r``: ``-log_softmax(x[r])[targets[r]]``, targets in -n..n-1 (checked on the host)
_CROSSENTROPY_KERNEL = """
extern "C" __global__ void KERNEL(const value_t* x, const long long* targets, value_t* out,
                                  long long n) {
    __shared__ acc_t partials[32];
    const value_t* row = x + (long long)blockIdx.x * n;
    acc_t m, s;
    row_statistics(row, n, partials, &m, &s);
    if (threadIdx.x == 0) {
        long long target = targets[blockIdx.x];
        if (target < 0) target += n;
        const acc_t shifted = load(row[target]) - m;
        out[blockIdx.x] = store(-(shifted - ${log}(s)));
    }
}
"""


def _spelling(dtype) -> dict:
    name = np.dtype(dtype).name
    try:
        return _TYPES[name]
    except KeyError:
        raise TypeError(
            f"the cupy backend's softmax kernels take float16, float32 or float64, not {name}"
        ) from None


def _source(dtype, body: str) -> str:
    spelling = _spelling(dtype)
    return _PRELUDE.substitute(spelling) + string.Template(body).substitute(spelling)


def softmax_source(dtype, log: bool) -> str:
    """The CUDA source of the (log-)softmax kernel for ``dtype``, entry named ``KERNEL``."""
    parts = _LOGSOFTMAX if log else _SOFTMAX
    body = _ROWS_KERNEL.substitute(parts)
    return _source(dtype, body)


def crossentropy_source(dtype) -> str:
    """The CUDA source of the softmax cross-entropy kernel for ``dtype``."""
    return _source(dtype, _CROSSENTROPY_KERNEL)


def threads_for(n: int) -> int:
    """Threads per row's block: the row length rounded up to warps, at most `MAX_THREADS`."""
    return min(MAX_THREADS, max(32, (n + 31) // 32 * 32))


def _rows(x, axis: int):
    """``x`` with ``axis`` last, as contiguous rows: ``(rows, moved_shape)``."""
    cupy = runtime.load_cupy()
    moved = cupy.moveaxis(x, axis, -1)
    return cupy.ascontiguousarray(moved).reshape(-1, moved.shape[-1]), moved.shape


def _row_rule(op, node, log: bool):
    dtype = np.dtype(node.outputs[0].type.dtype)
    kernel_object = kernels.raw(softmax_source(dtype, log))
    axis = op.axis
    cupy = runtime.load_cupy()

    def kernel(x):
        if x.size == 0:
            return cupy.empty(x.shape, dtype=dtype)
        rows, moved_shape = _rows(x, axis)
        out = cupy.empty(rows.shape, dtype=dtype)
        n = rows.shape[1]
        kernel_object((rows.shape[0],), (threads_for(n),), (rows, out, np.int64(n)))
        return cupy.moveaxis(out.reshape(moved_shape), -1, axis)

    return kernel


@lowers(Softmax)
def _softmax(op, node):
    return _row_rule(op, node, log=False)


@lowers(LogSoftmax)
def _logsoftmax(op, node):
    return _row_rule(op, node, log=True)


@lowers(CrossEntropySoftmax)
def _crossentropy_softmax(op, node):
    dtype = np.dtype(node.outputs[0].type.dtype)
    kernel_object = kernels.raw(crossentropy_source(dtype))
    cupy = runtime.load_cupy()

    def kernel(x, y):
        rows, classes = x.shape
        if y.size:  # the range of the targets, on the host (one synchronisation)
            low, high = (int(v) for v in cupy.stack([y.min(), y.max()]).get())
            check_target_classes(low, high, classes)
        # NumPy indexes rows and targets together: one of them may stretch to the other
        if y.shape[0] != rows:
            if rows == 1:
                x = cupy.broadcast_to(x, (y.shape[0], classes))
            elif y.shape[0] == 1:
                y = cupy.broadcast_to(y, (rows,))
            else:
                raise IndexError(
                    "shape mismatch: indexing arrays could not be broadcast together with "
                    f"shapes ({rows},) ({y.shape[0]},)"
                )
        out = cupy.empty((x.shape[0],), dtype=dtype)
        if out.size == 0:
            return out
        targets = cupy.ascontiguousarray(y.astype("int64"))
        x = cupy.ascontiguousarray(x)
        kernel_object((x.shape[0],), (threads_for(classes),), (x, targets, out, np.int64(classes)))
        return out

    return kernel
