"""The numba backend's pooling rules: direct loops over the windows of each image.

The axes before the last two are flattened into one (a contiguous copy where the input
is not contiguous); its images run on threads when the input is large. Each window is
clipped to the input (padding is never read), following
`croton.ops.pool.window_bounds`.
"""

from __future__ import annotations

import numpy as np

from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool
from croton_numba.loops import allocation, threaded
from croton_numba.lowering import _check_dtypes, _function, lowers
from croton_numba.scalar_code import literal, numba_dtype


def _pooled_length(op, axis: int, length: str) -> str:
    """Source for the number of windows along ``axis`` (`croton.ops.pool.pooled_length`)."""
    ws, stride, pad = op.ws[axis], op.stride[axis], op.pad[axis]
    padded = f"({length} + {2 * pad})"
    if op.ignore_border:
        if ws == stride:
            return f"{padded} // {stride}"
        return f"max(({padded} - {ws}) // {stride} + 1, 0)"
    if stride >= ws:
        return f"({padded} - 1) // {stride} + 1"
    return f"min(max(({padded} - 1 - {ws} + {stride}) // {stride}, 0) + 1, {padded})"


def _images(ndim: int) -> list[str]:
    """Lines defining the image size ``h`` by ``w`` and the number of images ``b`` (the
    product of the axes before the last two)."""
    lead = [f"x.shape[{d}]" for d in range(ndim - 2)]
    return [
        f"h = x.shape[{ndim - 2}]",
        f"w = x.shape[{ndim - 1}]",
        f"b = {' * '.join(lead) if lead else '1'}",
    ]


def _lead(ndim: int) -> str:
    return "".join(f"x.shape[{d}], " for d in range(ndim - 2))


def _flat(var: str, rows: str, columns: str) -> str:
    return f"np.ascontiguousarray({var}).reshape((b, {rows}, {columns}))"


def _windows(op, inner: list[str], depth: int = 1) -> list[str]:
    """Loops over every window of image ``k``: ``i0:i1``, ``j0:j1`` are its input cells,
    ``r0``, ``c0`` its first padded row and column; then ``inner``.

    A window inside the image runs a copy of ``inner`` whose loops have the window's
    constant lengths, which the compiler unrolls; windows at the border keep the
    clipped bounds.
    """
    (w0, w1), (s0, s1), (p0, p1) = op.ws, op.stride, op.pad
    interior = [
        line.replace("range(i0, i1)", f"range(r0, r0 + {w0})").replace(
            "range(j0, j1)", f"range(c0, c0 + {w1})"
        )
        for line in inner
    ]
    lines = [
        "for r in range(nr):",
        f"    r0 = r * {s0} - {p0}",
        "    i0 = max(r0, 0)",
        f"    i1 = min(r0 + {w0}, h)",
        "    for c in range(nc):",
        f"        c0 = c * {s1} - {p1}",
        "        j0 = max(c0, 0)",
        f"        j1 = min(c0 + {w1}, w)",
        f"        if i0 == r0 and i1 == r0 + {w0} and j0 == c0 and j1 == c0 + {w1}:",
        *["            " + line for line in interior],
        "        else:",
        *["            " + line for line in inner],
    ]
    return ["    " * depth + line for line in lines]


def _count(op) -> str:
    """Source for the divisor of the current window of an average."""
    (w0, w1), (p0, p1) = op.ws, op.pad
    if op.mode == "average_inc_pad":
        return f"((min(r0 + {w0}, h + {p0}) - r0) * (min(c0 + {w1}, w + {p1}) - c0))"
    return "((i1 - i0) * (j1 - j0))"


def _check_grad_shape(name: str, var: str) -> list[str]:
    return [
        f"if {var}.shape[-2] != nr or {var}.shape[-1] != nc:",
        f"    raise ValueError('{name}: the pooled tensor does not match the image shape')",
    ]


@lowers(Pool)
def _pool(op, node, name, context):
    (x,) = node.inputs
    _check_dtypes(node)
    dtype = node.outputs[0].dtype
    typed = numba_dtype(dtype)
    ndim = x.ndim
    if op.mode == "max":
        floating = x.dtype.startswith("float")
        lowest = literal(-np.inf if floating else np.iinfo(x.dtype).min, x.dtype)
        # branch-free: the larger value, and whether a nan was seen (it wins)
        start = f"acc = {lowest}\nunordered = False" if floating else f"acc = {lowest}"
        step = ["v = xs[k, i, j]", "acc = v if v > acc else acc"]
        if floating:
            step.append("unordered |= v != v")
        finish = "out[k, r, c] = np.nan if unordered else acc" if floating else "out[k, r, c] = acc"
    else:
        wide = "np.float64" if dtype.startswith("float") else "np.int64"
        start = f"acc = {wide}(0)"
        step = ["acc += xs[k, i, j]"]
        finish = "out[k, r, c] = acc" if op.mode == "sum" else f"out[k, r, c] = acc / {_count(op)}"
    inner = [
        *start.split("\n"),
        "for i in range(i0, i1):",
        "    for j in range(j0, j1):",
        *["        " + line for line in step],
        finish,
    ]
    body = [
        *_images(ndim),
        f"nr = {_pooled_length(op, 0, 'h')}",
        f"nc = {_pooled_length(op, 1, 'w')}",
        f"xs = {_flat('x', 'h', 'w')}",
        allocation("out", "(b, nr, nc)", typed),
        "for k in numba.prange(b):",
        *_windows(op, inner),
        f"return out.reshape(({_lead(ndim)}nr, nc))",
    ]
    body, parallel = threaded(body, "x.size", context.threshold)
    return _function(name, ["x"], body, parallel=parallel)


def _spreading(op, node, name, context, args: list[str], inner: list[str], share: str):
    """A gradient scattering each window's ``share`` of ``gz`` onto input cells."""
    (x, *_) = node.inputs
    _check_dtypes(node)
    typed = numba_dtype(node.outputs[0].dtype)
    ndim = x.ndim
    flats = [f"{a}s = {_flat(a, 'nr', 'nc')}" for a in args[1:]]
    body = [
        *_images(ndim),
        f"nr = {_pooled_length(op, 0, 'h')}",
        f"nc = {_pooled_length(op, 1, 'w')}",
        *_check_grad_shape(type(op).__name__, args[-1]),
        f"xs = {_flat('x', 'h', 'w')}",
        *flats,
        f"gx = np.zeros((b, h, w), dtype={typed})",
        "for k in numba.prange(b):",
        *_windows(op, [f"g = {share}", *inner]),
        "return gx.reshape(x.shape)",
    ]
    body, parallel = threaded(body, "x.size", context.threshold)
    return _function(name, args, body, parallel=parallel)


@lowers(MaxPoolGrad)
def _max_pool_grad(op, node, name, context):
    inner = [
        "top = ms[k, r, c]",
        "for i in range(i0, i1):",
        "    for j in range(j0, j1):",
        "        if xs[k, i, j] == top:",
        "            gx[k, i, j] += g",
    ]
    return _spreading(op, node, name, context, ["x", "m", "gz"], inner, "gzs[k, r, c]")


@lowers(AveragePoolGrad)
def _average_pool_grad(op, node, name, context):
    inner = [
        "for i in range(i0, i1):",
        "    for j in range(j0, j1):",
        "        gx[k, i, j] += g",
    ]
    share = "gzs[k, r, c]" if op.mode == "sum" else f"gzs[k, r, c] / {_count(op)}"
    return _spreading(op, node, name, context, ["x", "gz"], inner, share)


@lowers(MaxPoolGradGrad)
def _max_pool_grad_grad(op, node, name, context):
    (x, _, _) = node.inputs
    _check_dtypes(node)
    typed = numba_dtype(node.outputs[0].dtype)
    ndim = x.ndim
    inner = [
        "top = ms[k, r, c]",
        f"acc = {typed}(0)",
        "for i in range(i0, i1):",
        "    for j in range(j0, j1):",
        "        if xs[k, i, j] == top:",
        "            acc += ggs[k, i, j]",
        "out[k, r, c] = acc",
    ]
    body = [
        *_images(ndim),
        f"nr = {_pooled_length(op, 0, 'h')}",
        f"nc = {_pooled_length(op, 1, 'w')}",
        *_check_grad_shape("MaxPoolGradGrad", "m"),
        f"xs = {_flat('x', 'h', 'w')}",
        f"ms = {_flat('m', 'nr', 'nc')}",
        f"ggs = {_flat('gg', 'h', 'w')}",
        f"out = np.zeros((b, nr, nc), dtype={typed})",
        "for k in numba.prange(b):",
        *_windows(op, inner),
        f"return out.reshape(({_lead(ndim)}nr, nc))",
    ]
    body, parallel = threaded(body, "x.size", context.threshold)
    return _function(name, ["x", "m", "gg"], body, parallel=parallel)
