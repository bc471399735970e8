"""Random draws with numpy's numbers: uniform draws on the device, the others on the host.

A generator's state is a uint64 tensor holding NumPy's PCG64 state
(`croton.ops.random.STATE_LAYOUT`), and croton promises that a draw gives exactly the
numbers of ``numpy.random.Generator(PCG64)`` on every backend (the conformance suite
checks it). ``cupy.random`` draws other numbers (its generators are cuRAND's), so this
rule departs from the plan of drawing "through cupy.random" and keeps numpy's stream:

- a uniform draw with scalar float64 bounds (``RandomStreams.uniform`` as users call
  it, a dropout mask's ``uniform(...) < p``) is one CUDA kernel that reads the state on
  the device and computes PCG64's outputs there. Output ``k`` is the generator's
  ``k + 1``-th step, so the kernel splits the draw into *lanes*: lane ``j`` jumps ahead
  ``j + 1`` steps (the LCG's jump-ahead in ``log2(j)`` products), then takes elements
  ``j``, ``j + lanes``, ... stepping ``lanes`` at a time, and thread 0 writes the state
  after the whole draw. Each value is ``low + (high - low) * u`` with ``u`` the
  output's top 53 bits times ``2**-53``, rounded as numpy rounds it (no fused
  multiply-add). No transfer, and no synchronisation when the bounds and the sizes are
  constants (otherwise the host reads them, to raise numpy's errors for bad bounds);
- every other draw copies the state (six integers) and the parameters to the host,
  runs the reference backend's kernel for the draw (found through the backend registry,
  as constant folding finds it), and copies the sample and the new state back to the
  device: two small transfers and a host computation the size of the sample. Their
  algorithms (normals by ziggurat, binomials by rejection) take a varying number of
  steps per value, so no thread can know where its value's steps start.
"""

from __future__ import annotations

import math

import numpy as np

from croton.graph.basic import Constant
from croton.ops.random import PCG64_MULTIPLIER, STATE_LENGTH, RandomDraw
from croton_cupy import kernels, runtime
from croton_cupy.launch import c_type, launch
from croton_cupy.lowering import lowers

#: the most lanes a uniform draw is split into (a thread per lane)
LANES = 1 << 18

# 128-bit integers as (hi, lo) pairs of 64-bit halves; the functions are device code
# (CuPy compiles with --device-as-default-execution-space) and plain C++ on the host
_UNIFORM = """
struct croton_u128 {{ unsigned long long hi, lo; }};

static inline unsigned long long croton_mulhi(unsigned long long a, unsigned long long b) {{
#ifdef __CUDA_ARCH__
  return __umul64hi(a, b);
#else
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
#endif
}}

static inline croton_u128 croton_mul(croton_u128 a, croton_u128 b) {{
  croton_u128 r;
  r.lo = a.lo * b.lo;
  r.hi = croton_mulhi(a.lo, b.lo) + a.hi * b.lo + a.lo * b.hi;
  return r;
}}

static inline croton_u128 croton_add(croton_u128 a, croton_u128 b) {{
  croton_u128 r;
  r.lo = a.lo + b.lo;
  r.hi = a.hi + b.hi + (r.lo < a.lo ? 1ULL : 0ULL);
  return r;
}}

// the LCG step (s -> s * multiplier + inc) taken `steps` times, as s -> s * mult + plus
static inline void croton_jump(unsigned long long steps, croton_u128 inc,
                               croton_u128* mult, croton_u128* plus) {{
  croton_u128 step_mult = {{{hi}ULL, {lo}ULL}};
  croton_u128 step_plus = inc;
  croton_u128 acc_mult = {{0ULL, 1ULL}};
  croton_u128 acc_plus = {{0ULL, 0ULL}};
  const croton_u128 one = {{0ULL, 1ULL}};
  while (steps > 0) {{
    if (steps & 1ULL) {{
      acc_mult = croton_mul(acc_mult, step_mult);
      acc_plus = croton_add(croton_mul(acc_plus, step_mult), step_plus);
    }}
    step_plus = croton_mul(croton_add(step_mult, one), step_plus);
    step_mult = croton_mul(step_mult, step_mult);
    steps >>= 1;
  }}
  *mult = acc_mult;
  *plus = acc_plus;
}}

// numpy's next_double: the XSL-RR output of state `s`, its top 53 bits in [0, 1)
static inline double croton_unit(croton_u128 s) {{
  unsigned long long x = s.hi ^ s.lo;
  const unsigned int r = (unsigned int)(s.hi >> 58);
  x = (x >> r) | (x << ((64U - r) & 63U));
  return (double)(x >> 11) * 1.1102230246251565e-16;
}}

static inline double croton_scaled(double low, double span, double u) {{
#ifdef __CUDA_ARCH__
  return __dadd_rn(low, __dmul_rn(span, u));
#else
  return low + span * u;
#endif
}}

extern "C" __global__ void {entry}(const unsigned long long* state,
                                   unsigned long long* new_state, {out}* out,
                                   double low, double span, long long count,
                                   long long lanes) {{
  const croton_u128 start = {{state[0], state[1]}};
  const croton_u128 inc = {{state[2], state[3]}};
  croton_u128 lanes_mult, lanes_plus;
  croton_jump((unsigned long long)lanes, inc, &lanes_mult, &lanes_plus);
  const long long first = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  for (long long lane = first; lane < lanes; lane += (long long)blockDim.x * gridDim.x) {{
    croton_u128 mult, plus;
    croton_jump((unsigned long long)lane + 1ULL, inc, &mult, &plus);
    croton_u128 s = croton_add(croton_mul(mult, start), plus);
    for (long long k = lane; k < count; k += lanes) {{
      out[k] = ({out})croton_scaled(low, span, croton_unit(s));
      s = croton_add(croton_mul(lanes_mult, s), lanes_plus);
    }}
  }}
  if (first == 0) {{
    croton_u128 mult, plus;
    croton_jump((unsigned long long)count, inc, &mult, &plus);
    const croton_u128 last = croton_add(croton_mul(mult, start), plus);
    new_state[0] = last.hi;
    new_state[1] = last.lo;
    for (int j = 2; j < {length}; ++j) new_state[j] = state[j];
  }}
}}
"""


def uniform_source(dtype) -> str:
    """The raw kernel drawing a uniform sample of ``dtype`` (float32 or float64)."""
    return _UNIFORM.format(
        entry=kernels.ENTRY,
        out=c_type(dtype),
        hi=f"0x{PCG64_MULTIPLIER >> 64:X}",
        lo=f"0x{PCG64_MULTIPLIER & ((1 << 64) - 1):X}",
        length=STATE_LENGTH,
    )


def checked_bounds(low, high) -> tuple[float, float]:
    """``(low, high - low)`` as floats, with numpy's errors for bounds it refuses."""
    low, high = float(low), float(high)
    span = high - low
    if math.copysign(1.0, span) < 0 and not math.isnan(span):
        raise ValueError("high - low < 0")
    if not math.isfinite(span):
        raise OverflowError("high - low range exceeds valid bounds")
    return low, span


def _on_device(op, node) -> bool:
    if op.distribution != "uniform":
        return False
    low, high = node.inputs[1 + op.ndim :]
    return (
        low.ndim == 0
        and high.ndim == 0
        and low.dtype == high.dtype == "float64"
        and node.outputs[1].dtype in ("float32", "float64")
    )


def _host_reader(var):
    """How to read ``var``'s value on the host: a constant's own data (no transfer)."""
    if isinstance(var, Constant):
        data = var.data
        return lambda value: data
    return lambda value: value


@lowers(RandomDraw)
def _random_draw(op, node):
    return _uniform(op, node) if _on_device(op, node) else _on_host(op, node)


def _uniform(op, node):
    dtype = np.dtype(node.outputs[1].dtype)
    kernel = kernels.raw(uniform_source(dtype))
    readers = [_host_reader(var) for var in node.inputs[1:]]
    ndim = op.ndim

    def draw(state, *args):
        cupy = runtime.load_cupy()
        host = [read(value) for read, value in zip(readers, args)]
        shape = tuple(int(s) for s in host[:ndim])
        low, span = checked_bounds(*host[ndim:])
        if state.shape != (STATE_LENGTH,):
            raise ValueError(
                f"a random state vector has {STATE_LENGTH} entries, got shape {state.shape}"
            )
        state = cupy.ascontiguousarray(cupy.asarray(state, dtype=np.uint64))
        out = cupy.empty(shape, dtype=dtype)
        if out.size == 0:
            return state.copy(), out
        new_state = cupy.empty_like(state)
        lanes = min(out.size, LANES)
        launch(kernel, lanes, state, new_state, out, np.float64(low), np.float64(span), out.size)
        return new_state, out

    return draw


def _host(value):
    """A device value as a numpy array (host values pass unchanged)."""
    return value.get() if runtime.is_device_array(value) else value


def _on_host(op, node):
    from croton.backend import reference_backend

    draw = reference_backend().registry.lookup(op)(op, node)

    def kernel(state, *args):
        cupy = runtime.load_cupy()
        new_state, sample = draw(_host(state), *(_host(a) for a in args))
        return cupy.asarray(new_state), cupy.asarray(sample)

    return kernel
