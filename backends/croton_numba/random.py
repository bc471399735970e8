"""The numba backend's rule for `RandomDraw`.

A draw must give exactly the numbers of ``numpy.random.Generator(PCG64)``. Uniform
draws with scalar bounds are jitted: the loop steps PCG64's 128-bit LCG on 64-bit
halves and turns each output into a double as numpy does (``(x >> 11) * 2**-53``,
then ``low + (high - low) * u``). Every other draw runs numpy's own generator as a
host step between jitted segments, by design and without a warning.
"""

from __future__ import annotations

from croton.ops.random import PCG64_MULTIPLIER, RandomDraw
from croton_numba.loops import allocation
from croton_numba.lowering import HostStep, _function, lowers
from croton_numba.scalar_code import numba_dtype

# PCG64's multiplier, as (high, low) halves
_MULTIPLIER = (PCG64_MULTIPLIER >> 64, PCG64_MULTIPLIER & ((1 << 64) - 1))


def _uniform(node, name: str) -> str:
    ndim = node.op.ndim
    sizes = [f"s{k}" for k in range(ndim)]
    dims = "".join(f"{s}[()], " for s in sizes)
    u64 = "np.uint64"
    body = [
        "low = lo[()]",
        "span = hi[()] - low",
        "if np.signbit(span) and not np.isnan(span):",
        "    raise ValueError('high - low < 0')",
        "if not np.isfinite(span):",
        "    raise OverflowError('high - low range exceeds valid bounds')",
        allocation("out", f"({dims})", numba_dtype(node.outputs[1].dtype)),
        "flat = out.reshape(-1)",
        f"m32 = {u64}(0xFFFFFFFF)",
        f"m_hi = {u64}({_MULTIPLIER[0]})",
        f"m_lo = {u64}({_MULTIPLIER[1]})",
        "s_hi = state[0]",
        "s_lo = state[1]",
        "i_hi = state[2]",
        "i_lo = state[3]",
        f"shift32 = {u64}(32)",
        "for k in range(flat.size):",
        # state * multiplier (mod 2**128): the full product of the low halves, plus the
        # cross products in the high half
        "    a0 = s_lo & m32",
        "    a1 = s_lo >> shift32",
        "    b0 = m_lo & m32",
        "    b1 = m_lo >> shift32",
        "    p0 = a0 * b0",
        "    p1 = a0 * b1",
        "    p2 = a1 * b0",
        "    mid = (p0 >> shift32) + (p1 & m32) + (p2 & m32)",
        "    lo_word = (p0 & m32) | (mid << shift32)",
        "    hi_word = a1 * b1 + (p1 >> shift32) + (p2 >> shift32) + (mid >> shift32)",
        "    hi_word = hi_word + s_hi * m_lo + s_lo * m_hi",
        # + increment, with the carry out of the low half
        "    s_lo = lo_word + i_lo",
        f"    carry = {u64}(1) if s_lo < i_lo else {u64}(0)",
        "    s_hi = hi_word + i_hi + carry",
        # XSL-RR output, then a double in [0, 1)
        "    x = s_hi ^ s_lo",
        f"    r = s_hi >> {u64}(58)",
        f"    x = (x >> r) | (x << ((({u64}(64) - r)) & {u64}(63)))",
        f"    u = np.float64(x >> {u64}(11)) * 1.1102230246251565e-16",
        # ``+ 0.0`` keeps the product rounded on its own: contracted, it becomes
        # fma(span, u, 0.0), which is the rounded product (span >= 0, so no -0.0)
        "    product = span * u + 0.0",
        "    flat[k] = low + product",
        "new_state = state.copy()",
        "new_state[0] = s_hi",
        "new_state[1] = s_lo",
        "return new_state, out",
    ]
    return _function(name, ["state", *sizes, "lo", "hi"], body)


@lowers(RandomDraw)
def _random_draw(op, node, name, context):
    low, high = node.inputs[1 + op.ndim :] if op.distribution == "uniform" else (None, None)
    if (
        op.distribution == "uniform"
        and low.ndim == 0
        and high.ndim == 0
        and low.dtype == high.dtype == "float64"
        and node.outputs[1].dtype in ("float32", "float64")
    ):
        return _uniform(node, name)
    raise HostStep(f"{op.distribution} draws run numpy's generator")
