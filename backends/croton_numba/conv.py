"""The numba backend's convolution rules.

Each op becomes cross-correlation of a zero-padded copy of the input with the filters
(flipped first for a true convolution), in one of two forms picked at run time by the
length of the sums, ``channels per group * filter rows * filter columns``:

- short sums (a first layer on a grey image: 1 * 3 * 3) run as direct loops whose
  innermost loop walks an output row, which numba vectorizes;
- longer sums use im2col: per image, the input windows are copied into a matrix with
  one row per filter tap, and BLAS (`croton_numba.blas`) multiplies it with the filter
  matrix.

Images run on threads (``numba.prange``) when the work reaches the parallel threshold;
the filter gradient splits the batch into chunks with one partial sum each, added up
in order afterwards, so the result does not depend on the number of threads.
"""

from __future__ import annotations

from croton.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from croton_numba.loops import allocation, threaded
from croton_numba.lowering import NotLowerable, _function, lowers
from croton_numba.scalar_code import numba_dtype

#: sums at most this long run as direct loops, longer ones through im2col and BLAS
DIRECT_MAX_TAPS = 32
#: partial sums of the filter gradient (chunks of the batch)
_CHUNKS = 8


def _check(node) -> str:
    dtype = node.outputs[0].dtype
    if dtype not in ("float32", "float64"):
        raise NotLowerable(f"conv2d in {dtype} (numba's loops take float32 and float64)")
    return numba_dtype(dtype)


def _padding_lines(op, kernel_rows: str, kernel_columns: str) -> list[str]:
    """Lines setting ``ph, pw`` (padding) from the filter's spatial lengths."""
    lines = []
    for name, length, a in (("ph", kernel_rows, 0), ("pw", kernel_columns, 1)):
        d = op.filter_dilation[a]
        if op.border_mode == "valid":
            lines.append(f"{name} = 0")
        elif op.border_mode == "full":
            lines.append(f"{name} = ({length} - 1) * {d}")
        elif op.border_mode == "half":
            lines.append(f"{name} = (({length} - 1) * {d} + 1) // 2")
        else:
            lines.append(f"{name} = {int(op.border_mode[a])}")
    return lines


def _geometry(op, rows: str, columns: str) -> list[str]:
    """Lines computing padding and the output's ``oh, ow`` from ``kh, kw`` and the input's
    spatial lengths, raising when the filter does not fit."""
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    return _padding_lines(op, "kh", "kw") + [
        f"oh = ({rows} + 2 * ph - ((kh - 1) * {dh} + 1)) // {sh} + 1",
        f"ow = ({columns} + 2 * pw - ((kw - 1) * {dw} + 1)) // {sw} + 1",
        "if oh < 1 or ow < 1:",
        "    raise ValueError('conv2d: the filters (after dilation) do not fit in the padded "
        "input; use smaller filters or more padding')",
        "taps = kh * kw",
        "K = cg * taps",
        "P = oh * ow",
    ]


def _padded_copy(dtype: str) -> list[str]:
    """Lines copying ``x`` into a zero-padded contiguous ``xp``."""
    return [
        f"xp = np.zeros((b, c, x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), dtype={dtype})",
        "for n in range(b):",
        "    for ch in range(c):",
        "        for y in range(x.shape[2]):",
        "            for z in range(x.shape[3]):",
        "                xp[n, ch, y + ph, z + pw] = x[n, ch, y, z]",
    ]


def _filter_matrix(op, dtype: str) -> list[str]:
    """Lines making ``wf[g, o, k]``: group ``g``'s filter ``o`` at tap ``k = (ci, i, j)``,
    flipped for a true convolution."""
    i, j = ("kh - 1 - i", "kw - 1 - j") if op.filter_flip else ("i", "j")
    return [
        f"wf = _empty(({op.num_groups}, fg, K), dtype={dtype})",
        f"for g in range({op.num_groups}):",
        "    for o in range(fg):",
        "        for ci in range(cg):",
        "            for i in range(kh):",
        "                for j in range(kw):",
        f"                    wf[g, o, ci * taps + i * kw + j] = w[g * fg + o, ci, {i}, {j}]",
    ]


def _tap_loops(op, depth: int) -> list[str]:
    """Loop headers over ``ci, i, j`` setting ``k`` (the tap) and the input offsets."""
    (dh, dw) = op.filter_dilation
    pad = "    " * depth
    return [
        pad + "for ci in range(cg):",
        pad + "    for i in range(kh):",
        pad + "        for j in range(kw):",
        pad + "            k = ci * taps + i * kw + j",
        pad + f"            r0 = i * {dh}",
        pad + f"            c0 = j * {dw}",
    ]


def _groups_check(channels: str, filters: str) -> list[str]:
    return [
        f"if {filters} % G != 0 or {channels} != cg * G:",
        "    raise ValueError('conv2d: input channels must be filters.shape[1] * num_groups and "
        "output channels a multiple of num_groups')",
    ]


@lowers(Conv2d)
def _conv2d(op, node, name, context):
    dtype = _check(node)
    (sh, sw) = op.subsample
    G = op.num_groups
    body = [
        f"G = {G}",
        "b, c = x.shape[0], x.shape[1]",
        "f, cg, kh, kw = w.shape",
        *_groups_check("c", "f"),
        "fg = f // G",
        *_geometry(op, "x.shape[2]", "x.shape[3]"),
        *_padded_copy(dtype),
        *_filter_matrix(op, dtype),
        f"out = np.zeros((b, f, P), dtype={dtype})",
        f"if K <= {DIRECT_MAX_TAPS}:",
        "    for n in numba.prange(b):",
        "        for g in range(G):",
        "            for o in range(fg):",
        "                dst = out[n, g * fg + o]",
        *_tap_loops(op, 4),
        "                            v = wf[g, o, k]",
        "                            for y in range(oh):",
        f"                                src = xp[n, g * cg + ci, y * {sh} + r0]",
        "                                at = y * ow",
        "                                for z in range(ow):",
        f"                                    dst[at + z] += v * src[z * {sw} + c0]",
        "else:",
        "    for n in numba.prange(b):",
        f"        cols = _empty((K, P), dtype={dtype})",
        "        for g in range(G):",
        *_tap_loops(op, 3),
        "                        for y in range(oh):",
        f"                            src = xp[n, g * cg + ci, y * {sh} + r0]",
        "                            at = y * ow",
        "                            for z in range(ow):",
        f"                                cols[k, at + z] = src[z * {sw} + c0]",
        "            out[n, g * fg : (g + 1) * fg, :] = _matmul(_layout_free(wf[g]), _layout_free(cols))",
        "return out.reshape((b, f, oh, ow))",
    ]
    body, parallel = threaded(body, "x.size * w.shape[0]", context.threshold)
    return _function(name, ["x", "w"], body, parallel=parallel)


@lowers(Conv2dGradInputs)
def _conv2d_grad_inputs(op, node, name, context):
    dtype = _check(node)
    (sh, sw) = op.subsample
    G = op.num_groups
    body = [
        f"G = {G}",
        "b, f = gz.shape[0], gz.shape[1]",
        "fw, cg, kh, kw = w.shape",
        "c = cg * G",
        *_groups_check("c", "fw"),
        "if f != fw:",
        "    raise ValueError('conv2d gradient: output_grad and the filters differ in output "
        "channels')",
        "fg = f // G",
        "rows, columns = shape[0], shape[1]",
        *_geometry(op, "rows", "columns"),
        "if gz.shape[2] != oh or gz.shape[3] != ow:",
        "    raise ValueError('conv2d gradient: output_grad does not have the shape of the "
        "convolution output')",
        *_filter_matrix(op, dtype),
        "g3 = np.ascontiguousarray(gz).reshape((b, f, P))",
        f"gxp = np.zeros((b, c, rows + 2 * ph, columns + 2 * pw), dtype={dtype})",
        f"if K <= {DIRECT_MAX_TAPS}:",
        "    for n in numba.prange(b):",
        "        for g in range(G):",
        "            for o in range(fg):",
        "                src = g3[n, g * fg + o]",
        *_tap_loops(op, 4),
        "                            v = wf[g, o, k]",
        "                            for y in range(oh):",
        f"                                dst = gxp[n, g * cg + ci, y * {sh} + r0]",
        "                                at = y * ow",
        "                                for z in range(ow):",
        f"                                    dst[z * {sw} + c0] += v * src[at + z]",
        "else:",
        f"    wt = _empty((G, K, fg), dtype={dtype})",
        "    for g in range(G):",
        "        for o in range(fg):",
        "            for k in range(K):",
        "                wt[g, k, o] = wf[g, o, k]",
        "    for n in numba.prange(b):",
        "        for g in range(G):",
        "            gzn = _layout_free(g3[n, g * fg : (g + 1) * fg, :])",
        "            cols = _matmul(_layout_free(wt[g]), gzn)",
        *_tap_loops(op, 3),
        "                        for y in range(oh):",
        f"                            dst = gxp[n, g * cg + ci, y * {sh} + r0]",
        "                            at = y * ow",
        "                            for z in range(ow):",
        f"                                dst[z * {sw} + c0] += cols[k, at + z]",
        allocation("out", "(b, c, rows, columns)", dtype),
        "for n in range(b):",
        "    for ch in range(c):",
        "        for y in range(rows):",
        "            for z in range(columns):",
        "                out[n, ch, y, z] = gxp[n, ch, y + ph, z + pw]",
        "return out",
    ]
    body, parallel = threaded(body, "gz.size * w.shape[1]", context.threshold)
    return _function(name, ["w", "gz", "shape"], body, parallel=parallel)


@lowers(Conv2dGradWeights)
def _conv2d_grad_weights(op, node, name, context):
    dtype = _check(node)
    (sh, sw) = op.subsample
    G = op.num_groups
    i, j = ("kh - 1 - i", "kw - 1 - j") if op.filter_flip else ("i", "j")
    body = [
        f"G = {G}",
        "b, c = x.shape[0], x.shape[1]",
        "f = gz.shape[1]",
        "if f % G != 0 or c % G != 0:",
        "    raise ValueError('conv2d gradient: input and output channels must be multiples of "
        "num_groups')",
        "cg = c // G",
        "fg = f // G",
        "kh, kw = shape[0], shape[1]",
        *_geometry(op, "x.shape[2]", "x.shape[3]"),
        "if gz.shape[0] != b or gz.shape[2] != oh or gz.shape[3] != ow:",
        "    raise ValueError('conv2d gradient: output_grad does not have the shape of the "
        "convolution output')",
        *_padded_copy(dtype),
        "g3 = np.ascontiguousarray(gz).reshape((b, f, P))",
        f"acc = np.zeros((G, fg, K), dtype={dtype})",
        f"if K <= {DIRECT_MAX_TAPS}:",
        "    for o in numba.prange(f):",
        "        g = o // fg",
        *_tap_loops(op, 2),
        "                    total = 0.0",
        "                    for n in range(b):",
        "                        grow = g3[n, o]",
        "                        for y in range(oh):",
        f"                            src = xp[n, g * cg + ci, y * {sh} + r0]",
        "                            at = y * ow",
        "                            for z in range(ow):",
        f"                                total += grow[at + z] * src[z * {sw} + c0]",
        "                    acc[g, o - g * fg, k] = total",
        "else:",
        f"    chunks = min(b, {_CHUNKS})",
        f"    partial = np.zeros((chunks, G, fg, K), dtype={dtype})",
        "    for chunk in numba.prange(chunks):",
        f"        cols = _empty((P, K), dtype={dtype})",
        "        for n in range(chunk * b // chunks, (chunk + 1) * b // chunks):",
        "            for g in range(G):",
        *_tap_loops(op, 4),
        "                            for y in range(oh):",
        f"                                src = xp[n, g * cg + ci, y * {sh} + r0]",
        "                                at = y * ow",
        "                                for z in range(ow):",
        f"                                    cols[at + z, k] = src[z * {sw} + c0]",
        "                gzn = _layout_free(g3[n, g * fg : (g + 1) * fg, :])",
        "                partial[chunk, g] += _matmul(gzn, _layout_free(cols))",
        "    for chunk in range(chunks):",
        "        acc += partial[chunk]",
        f"out = _empty((f, cg, kh, kw), dtype={dtype})",
        "for g in range(G):",
        "    for o in range(fg):",
        "        for ci in range(cg):",
        "            for i in range(kh):",
        "                for j in range(kw):",
        f"                    out[g * fg + o, ci, {i}, {j}] = acc[g, o, ci * taps + i * kw + j]",
        "return out",
    ]
    body, parallel = threaded(body, "gz.size * x.shape[1]", context.threshold)
    return _function(name, ["x", "gz", "shape"], body, parallel=parallel)
