"""Running the backend's generated kernels on the host, to check their values without a GPU.

Every kernel the backend makes is C++ that the host's compiler can build once CUDA's few
spellings are given host meanings:

- raw grid-stride kernels (pooling, convolution, uniform draws; their CUDA intrinsics
  sit behind ``#ifdef __CUDA_ARCH__``) run as one block of one thread, which visits every
  element: a launch becomes a function call;
- raw kernels whose threads cooperate (the softmax family: ``__syncthreads``, shared
  memory, warp shuffles) run each block as that many host threads;
- elementwise and reduction kernels run as loops over the broadcast elements
  (`HostElementwiseKernel`, `HostReductionKernel`), with CuPy's rules for arguments.

`host_rules` runs the backend's lowering rules that way, with numpy standing in for
cupy, so their host code (the shapes, the copies, the matmuls) runs too; `HostBackend`
mixes some cupy rules into the reference backend; `simulated_device` runs the whole
backend with the host as its device. What this cannot see: races between threads,
CUDA's own math library, and code generation for the device (the compile tier's NVRTC
build covers that).
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types

import numpy as np
import pytest

from croton.backend import Backend, reference_backend, resolve_rules
from croton.compile.program import Program
from croton_cupy.cuda_code import SUPPORTED_DTYPES, storage_type

# one block of one thread: the grid-stride loop visits every element in order
_PRELUDE = """
#define __global__
struct croton_dim3 { unsigned int x, y, z; };
static const croton_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static const croton_dim3 blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
"""

# blocks of cooperating threads (kernels that call __syncthreads): each of a block's
# threads is a host thread, and the blocks run one after another; shared memory is a
# static, __syncthreads a barrier, and a warp shuffle goes through a slot per thread
# between two barriers (every thread of the block shuffles together in these kernels,
# as CUDA's full-mask shuffles require of a warp)
_BLOCK_PRELUDE = r"""
#include <barrier>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
struct croton_dim3 { unsigned int x, y, z; };
static croton_dim3 blockIdx, blockDim, gridDim;
static thread_local croton_dim3 threadIdx;
static std::barrier<>* croton_block_barrier;
static inline void __syncthreads() { croton_block_barrier->arrive_and_wait(); }
template <typename T> static T __shfl_xor_sync(unsigned, T v, int lane_mask) {
  static T slots[1024];
  slots[threadIdx.x] = v;
  __syncthreads();
  T other = slots[threadIdx.x ^ lane_mask];
  __syncthreads();
  return other;
}
typedef _Float16 __half;
static inline float __half2float(__half h) { return float(h); }
static inline __half __float2half(float f) { return __half(f); }
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, sizeof f); return f; }
static inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, sizeof d); return d; }
"""

# the block's threads are made once and go through the blocks together; thread 0 moves
# blockIdx on between two barriers
_BLOCK_LAUNCHER = """
extern "C" void {name}_launch(unsigned grid, unsigned block, {parameters}) {{
  std::barrier<> barrier(block);
  croton_block_barrier = &barrier;
  gridDim = {{grid, 1, 1}};
  blockDim = {{block, 1, 1}};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < block; ++t)
    threads.emplace_back([=] {{
      threadIdx = {{t, 0, 0}};
      for (unsigned b = 0; b < grid; ++b) {{
        if (t == 0) blockIdx = {{b, 0, 0}};
        __syncthreads();
        {name}({arguments});
        __syncthreads();
      }}
    }});
  for (auto& thread : threads) thread.join();
}}
"""


def _block_source(code: str, name: str) -> str:
    """A cooperative kernel's source for the host, with ``<name>_launch(grid, block, ...)``."""
    match = re.search(rf"void\s+{name}\s*\(([^)]*)\)", code)
    parameters = " ".join(match.group(1).split())
    arguments = ", ".join(re.findall(r"(\w+)\s*(?:,|$)", parameters))
    code = code.replace("#include <cuda_fp16.h>", "")
    launcher = _BLOCK_LAUNCHER.format(name=name, parameters=parameters, arguments=arguments)
    return _BLOCK_PRELUDE + code + launcher


_directory = None
_libraries: dict[str, ctypes.CDLL] = {}


class HostKernel:
    """A raw kernel compiled for the host; called like a ``cupy.RawKernel``.

    A grid-stride kernel runs as one thread covering the whole loop; a kernel whose
    threads cooperate (``__syncthreads``) runs each block as ``block`` host threads.
    """

    def __init__(self, code: str, name: str):
        self.name, self.code = name, code
        self.cooperative = "__syncthreads" in code
        if self.cooperative:
            library = _shared_library(_block_source(code, name), "-O1", "-std=c++20", "-pthread")
            self._function = getattr(library, f"{name}_launch")
        else:
            self._function = getattr(_shared_library(_PRELUDE + code, "-O1"), name)
        self._function.restype = None

    def __call__(self, grid, block, args):
        converted = []
        for a in args:
            if isinstance(a, np.ndarray):
                assert a.flags.c_contiguous, "raw kernels take contiguous arrays"
                converted.append(ctypes.c_void_p(a.ctypes.data))
            elif isinstance(a, np.integer):
                converted.append(ctypes.c_longlong(int(a)))
            elif isinstance(a, np.floating):
                converted.append(ctypes.c_double(float(a)))
            else:
                raise TypeError(f"a raw kernel argument of type {type(a).__name__}")
        if self.cooperative:
            (blocks,), (threads,) = grid, block
            self._function(ctypes.c_uint(blocks), ctypes.c_uint(threads), *converted)
        else:
            self._function(*converted)


# -- elementwise and reduction kernels -------------------------------------------------------

#: what CUDA (and CuPy's headers) give a kernel that the host's C++ spells otherwise:
#: qualifiers, bit casts, half precision (GCC's ``_Float16`` rounds as CUDA's ``half``),
#: ``isnan``/``isinf`` of complex numbers (``std::complex`` stands in for thrust's)
_HOST_HEADER = r"""
#include <cmath>
#include <complex>
#include <cstring>
using namespace std;
#define __device__
#define __forceinline__ inline
typedef _Float16 float16;
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, sizeof f); return f; }
static inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, sizeof d); return d; }
template <typename T> static inline bool isnan(complex<T> z) { return std::isnan(z.real()) || std::isnan(z.imag()); }
template <typename T> static inline bool isinf(complex<T> z) { return std::isinf(z.real()) || std::isinf(z.imag()); }
template <typename T> static inline complex<T> rint(complex<T> z) { return complex<T>(rint(z.real()), rint(z.imag())); }
// CUDA's inverse error functions (not in C's library): y >= 0 with erf(y) = a, given
// c = 1 - a exactly, by bisection (slow and sure; the tails through erfc)
static inline double croton_inverse_erf(double a, double c) {
  double lo = 0.0, hi = 27.0;
  for (int i = 0; i < 1100 && lo < hi; ++i) {
    double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    double f = a < 0.5 ? erf(mid) - a : c - erfc(mid);
    if (f < 0) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}
static inline double erfinv(double x) {
  if (!(x >= -1.0 && x <= 1.0)) return NAN;
  if (x == 0.0) return x;
  if (fabs(x) == 1.0) return copysign(INFINITY, x);
  return copysign(croton_inverse_erf(fabs(x), 1.0 - fabs(x)), x);
}
static inline double erfcinv(double x) {
  if (!(x >= 0.0 && x <= 2.0)) return NAN;
  if (x == 0.0) return INFINITY;
  if (x == 2.0) return -INFINITY;
  if (x == 1.0) return 0.0;
  return x < 1.0 ? croton_inverse_erf(1.0 - x, x) : -croton_inverse_erf(x - 1.0, 2.0 - x);
}
static inline float erfinvf(float x) { return float(erfinv(x)); }
static inline float erfcinvf(float x) { return float(erfcinv(x)); }
"""


def _parameters(text: str) -> list[tuple[np.dtype, str, bool]]:
    """``"float32 in0, raw int32 flag"`` as [(dtype, name, raw)]; CuPy's type
    placeholders are refused (generated kernels declare concrete types)."""
    parameters = []
    for part in text.split(","):
        words = part.split()
        raw = words[0] == "raw"
        words = words[1:] if raw else words
        assert len(words) == 2 and words[0] in SUPPORTED_DTYPES, f"unexpected parameter {part!r}"
        parameters.append((np.dtype(words[0]), words[1], raw))
    return parameters


def _host_preamble(preamble: str) -> str:
    return preamble.replace('#include "cupy/float16.cuh"', "")


class _PendingLibrary:
    """Kernels made since the last build, compiled together at the first launch of any.

    One translation unit for every kernel a graph makes (each in its own namespace, as
    each carries its own copy of the helpers) keeps the C++ compiler's start-up and the
    standard headers' parsing to once per compiled graph, not once per kernel.
    """

    def __init__(self):
        self.pending: dict[str, str] = {}
        self.functions: dict[str, object] = {}

    def add(self, name: str, source: str) -> None:
        if name not in self.functions:
            self.pending[name] = source

    def function(self, name: str):
        if name not in self.functions:
            self._build()
        return self.functions[name]

    def _build(self) -> None:
        pending, self.pending = self.pending, {}  # (a unit that fails is not built again)
        units = [f"namespace ns_{name} {{\n{source}\n}}\n" for name, source in pending.items()]
        library = _shared_library("".join(units), "-O0", *_header_options())
        for name in pending:
            self.functions[name] = getattr(library, name)
            self.functions[name].restype = None


_pending = _PendingLibrary()


def _work_directory() -> str:
    """A directory for sources and libraries, removed when the process ends."""
    global _directory
    if shutil.which("g++") is None:
        pytest.skip("running kernels on the host needs a C++ compiler (g++)")
    if _directory is None:
        _directory = tempfile.mkdtemp(prefix="croton-host-cuda-")
        atexit.register(shutil.rmtree, _directory, ignore_errors=True)
    return _directory


def _compile(source: str, library: str, *options: str) -> None:
    done = subprocess.run(
        ["g++", *options, "-fPIC", "-o", library, source], capture_output=True, text=True
    )
    if done.returncode != 0:
        with open(source) as file:
            code = file.read()
        raise AssertionError(f"{done.stderr[:4000]}\n{code[-4000:]}")


@functools.cache
def _header_options() -> tuple[str, ...]:
    """g++ options that include `_HOST_HEADER`, precompiled once per process (parsing the
    standard headers was most of each build's time)."""
    header = os.path.join(_work_directory(), "croton_host_header.hpp")
    with open(header, "w") as file:
        file.write(_HOST_HEADER)
    _compile(header, header + ".gch", "-O0", "-x", "c++-header")
    return ("-include", header)


def _shared_library(code: str, *options: str) -> ctypes.CDLL:
    """``code`` compiled by the host's C++ compiler with ``options``, and loaded (once per
    source)."""
    digest = hashlib.sha1("\0".join((code, *options)).encode()).hexdigest()[:16]
    if digest not in _libraries:
        source = os.path.join(_work_directory(), f"{digest}.cpp")
        library = os.path.join(_work_directory(), f"{digest}.so")
        with open(source, "w") as file:
            file.write(code)
        _compile(source, library, *options, "-shared")
        _libraries[digest] = ctypes.CDLL(library)
    return _libraries[digest]


def _typed_inputs(parameters, args) -> list[np.ndarray]:
    """Arguments as arrays of their parameters' dtypes, with CuPy's rule: an array must
    have its parameter's dtype exactly; a scalar is converted to it."""
    arrays = []
    for (dtype, name, _), arg in zip(parameters, args, strict=True):
        if isinstance(arg, np.ndarray):
            if arg.dtype != dtype:
                raise TypeError(f"Type is mismatched. {name} {arg.dtype} {dtype}")
            arrays.append(arg)
        else:
            arrays.append(np.asarray(arg, dtype=dtype))
    return arrays


def _pointers(arrays) -> ctypes.Array:
    return (ctypes.c_void_p * len(arrays))(*(a.ctypes.data for a in arrays))


class HostElementwiseKernel:
    """A ``cupy.ElementwiseKernel`` of the backend's, run on the host: its operation
    inside a loop over the broadcast elements (inputs as const references, outputs as
    references, as CuPy declares them; a ``raw`` output as a pointer to its first
    element, which the caller passes)."""

    def __init__(self, in_params, out_params, operation, name, preamble=""):
        self.name = name
        self.inputs, self.outputs = _parameters(in_params), _parameters(out_params)
        assert not any(raw for _, _, raw in self.inputs), "raw inputs are not emulated"
        lines = []
        for k, (d, n, raw) in enumerate(self.inputs + self.outputs):
            const = "const " if k < len(self.inputs) else ""
            element = f"{const}{storage_type(d.name)}"
            if raw:
                lines.append(f"    {element}* {n} = ({element}*)_args[{k}];")
            else:
                lines.append(f"    {element} &{n} = (({element}*)_args[{k}])[i];")
        references = "\n".join(lines)
        _pending.add(
            name,
            f"{_host_preamble(preamble)}\n"
            f'extern "C" void {name}(void** _args, long long _n) {{\n'
            f"  for (long long i = 0; i < _n; ++i) {{\n{references}\n    {operation};\n  }}\n}}\n",
        )

    def __call__(self, *args):
        given = args[len(self.inputs) :]
        raw = any(r for _, _, r in self.outputs)
        expected = (len(self.outputs),) if raw else (0, len(self.outputs))
        assert len(given) in expected, f"{self.name}: {len(args)} arguments"
        inputs = _typed_inputs(self.inputs, args[: len(self.inputs)])
        broadcast = [o.shape for (_, _, r), o in zip(self.outputs, given) if not r]
        shape = np.broadcast_shapes(*(a.shape for a in inputs), *broadcast)
        for (dtype, name, r), out in zip(self.outputs, given):
            if out.dtype != dtype:
                raise TypeError(f"Type is mismatched. {name} {out.dtype} {dtype}")
            if not r and out.shape != shape:
                raise ValueError("Out shape is mismatched")
            assert not r or out.flags.c_contiguous, "a raw output is written in place"
        outputs = list(given) or [np.empty(shape, dtype) for dtype, _, _ in self.outputs]
        flat = [np.ascontiguousarray(np.broadcast_to(a, shape)) for a in inputs]
        work = [np.ascontiguousarray(o) for o in outputs]
        _pending.function(self.name)(_pointers(flat + work), ctypes.c_longlong(int(np.prod(shape))))
        for out, result in zip(outputs, work):
            if result is not out:
                out[...] = result
        return _on_device(outputs[0] if len(outputs) == 1 else tuple(outputs))


class HostReductionKernel:
    """A ``cupy.ReductionKernel`` of the backend's, run on the host: for each output
    element, ``map_expr`` over the reduced elements in order (``_J`` their position),
    folded by ``reduce_expr`` from ``identity``, stored by ``post_map_expr``."""

    def __init__(
        self,
        in_params,
        out_params,
        map_expr,
        reduce_expr,
        post_map_expr,
        identity,
        name,
        reduce_type,
        preamble="",
    ):
        self.name = name
        self.inputs, self.outputs = _parameters(in_params), _parameters(out_params)
        ((out_dtype, out_name, _),) = self.outputs
        elements = [storage_type(d.name) for d, _, _ in self.inputs]
        references = "\n".join(
            f"      const {t} &{n} = ((const {t}*)_args[{k}])[_o * _inner + _J];"
            for k, (t, (_, n, _)) in enumerate(zip(elements, self.inputs))
        )
        out_type = storage_type(out_dtype.name)
        _pending.add(
            name,
            f"{_host_preamble(preamble)}\n"
            f"typedef {reduce_type} _type_reduce;\n"
            f"#define REDUCE(a, b) ({reduce_expr})\n"
            f"#define POST_MAP(a) ({post_map_expr})\n"
            f'extern "C" void {name}(void** _args, long long _outer, long long _inner) {{\n'
            f"  for (long long _o = 0; _o < _outer; ++_o) {{\n"
            f"    _type_reduce _s = _type_reduce({identity});\n"
            f"    for (long long _J = 0; _J < _inner; ++_J) {{\n{references}\n"
            f"      _type_reduce _a = static_cast<_type_reduce>({map_expr});\n"
            f"      _s = REDUCE(_s, _a);\n    }}\n"
            f"    {out_type} &{out_name} = (({out_type}*)_args[{len(self.inputs)}])[_o];\n"
            f"    POST_MAP(_s);\n  }}\n}}\n"
            "#undef REDUCE\n#undef POST_MAP\n",
        )

    def __call__(self, *args, axis=None, keepdims=False, out=None):
        assert out is None, "the backend's reductions allocate their outputs"
        inputs = _typed_inputs(self.inputs, args)
        shape = np.broadcast_shapes(*(a.shape for a in inputs))
        ndim = len(shape)
        if axis is None:
            axes = tuple(range(ndim))
        else:
            axes = tuple(sorted(a % ndim for a in np.atleast_1d(axis).tolist())) if ndim else ()
        kept = [k for k in range(ndim) if k not in axes]
        order = kept + list(axes)
        outer = int(np.prod([shape[k] for k in kept]))
        inner = int(np.prod([shape[k] for k in axes]))
        flat = [
            np.ascontiguousarray(np.broadcast_to(a, shape).transpose(order)).reshape(outer, inner)
            for a in inputs
        ]
        ((dtype, _, _),) = self.outputs
        result = np.empty(outer, dtype)
        _pending.function(self.name)(
            _pointers(flat + [result]), ctypes.c_longlong(outer), ctypes.c_longlong(inner)
        )
        out_shape = (
            tuple(1 if k in axes else n for k, n in enumerate(shape))
            if keepdims
            else tuple(shape[k] for k in kept)
        )
        return result.reshape(out_shape).view(_DeviceArray)


class _HostDevice:
    """The one device of the simulation (``cupy.cuda.Device()``)."""

    id = 0

    def synchronize(self) -> None:
        pass


def host_kernel(source):
    """The host's version of a recorded kernel (a `croton_cupy.kernels.KernelSource`)."""
    from croton_cupy import kernels

    parts = source.parts
    if source.kind == "elementwise":
        return HostElementwiseKernel(*parts[:3], source.name, parts[3])
    if source.kind == "reduction":
        return HostReductionKernel(*parts[:6], source.name, parts[6], parts[7])
    return HostKernel(kernels.named_source(parts[0], source.name), source.name)


class _DeviceArray(np.ndarray):
    """A numpy array standing for a ``cupy.ndarray``: ``get()`` copies it to the host."""

    def get(self) -> np.ndarray:
        return np.array(self)

    def __getitem__(self, key):
        item = super().__getitem__(key)  # an element is a 0-d array in CuPy
        return np.asarray(item).view(_DeviceArray) if isinstance(item, np.generic) else item

    @property
    def device(self) -> _HostDevice:
        return _HostDevice()

    @property
    def data(self):
        """CuPy's memory pointer (``a.data.ptr``): the address of the first element."""
        return types.SimpleNamespace(ptr=self.__array_interface__["data"][0])


def _on_device(value):
    """``value`` (an array, or a tuple or list of them) as `_DeviceArray` views; a numpy
    scalar as a 0-d one (what indexing a cupy array gives)."""
    if isinstance(value, np.generic):
        return np.asarray(value).view(_DeviceArray)
    if isinstance(value, np.ndarray):
        return value if isinstance(value, _DeviceArray) else value.view(_DeviceArray)
    if isinstance(value, (tuple, list)):
        return type(value)(_on_device(v) for v in value)
    return value


def _on_host(value):
    """``value`` with its `_DeviceArray` views as plain numpy arrays again."""
    if isinstance(value, _DeviceArray):
        return value.view(np.ndarray)
    if isinstance(value, (tuple, list)):
        return type(value)(_on_host(v) for v in value)
    return value


class _HostLinalg:
    """``cupy.linalg`` on the host: numpy's, whose arrays come back as `_DeviceArray`."""

    def __getattr__(self, name):
        value = getattr(np.linalg, name)
        return functools.wraps(value)(lambda *a, **k: _on_device(value(*a, **k)))


class _HostCupy(types.ModuleType):
    """What the backend's rules get for ``cupy`` on the host: numpy's functions, whose
    arrays come back as `_DeviceArray`, and the kernel classes above for CuPy's."""

    ElementwiseKernel = HostElementwiseKernel
    ReductionKernel = HostReductionKernel
    RawKernel = HostKernel
    ndarray = _DeviceArray
    cuda = types.SimpleNamespace(Device=lambda device=0: _HostDevice())
    linalg = _HostLinalg()

    @staticmethod
    def asnumpy(a) -> np.ndarray:
        return np.array(a)

    def __getattr__(self, name):
        value = getattr(np, name)
        if callable(value) and not isinstance(value, type):
            return functools.wraps(value)(lambda *a, **k: _on_device(value(*a, **k)))
        return value


_HOST_CUPY = _HostCupy("cupy_on_host")
#: ``cupyx`` on the host: its scatter-add is numpy's unbuffered add
_HOST_CUPYX = types.ModuleType("cupyx_on_host")
_HOST_CUPYX.scatter_add = lambda a, where, values: np.add.at(a, where, values)
#: ``cupyx.scipy.linalg`` on the host: SciPy's triangular solve
_HOST_CUPYX_LINALG = types.ModuleType("cupyx_on_host.scipy.linalg")


def _host_solve_triangular(a, b, lower=False):
    from scipy.linalg import solve_triangular

    a, b = np.asarray(a), np.asarray(b)
    return _on_device(solve_triangular(a, b, lower=lower, check_finite=False))


_HOST_CUPYX_LINALG.solve_triangular = _host_solve_triangular
_HOST_CUPYX.scipy = types.SimpleNamespace(linalg=_HOST_CUPYX_LINALG)


def host_rules(monkeypatch):
    """Make the backend's rules run on the host (numpy for cupy, raw kernels as C++) for
    the rest of a test; a function ``run(backend, node, *values)``. Test modules wrap it
    in a fixture."""
    from croton_cupy import kernels, runtime

    monkeypatch.setattr(runtime, "load_cupy", lambda: _HOST_CUPY)
    monkeypatch.setitem(sys.modules, "cupyx", _HOST_CUPYX)
    monkeypatch.setitem(sys.modules, "cupyx.scipy", _HOST_CUPYX.scipy)
    monkeypatch.setitem(sys.modules, "cupyx.scipy.linalg", _HOST_CUPYX_LINALG)
    monkeypatch.setattr(kernels, "_objects", {})  # (CuPy's kernel objects other tests made)

    def run(backend, node, *values):
        """The output(s) of ``node`` on ``values`` through ``backend``'s rule for it."""
        rule = backend.registry.lookup(node.op)
        return rule(node.op, node)(*values)

    return run


@pytest.fixture(name="host_rules")
def host_rules_fixture(monkeypatch):
    """The fixture ``host_rules``: `host_rules` in force for the test; a test module
    imports it to use it."""
    return host_rules(monkeypatch)


def reference(node, *values):
    """The output(s) of ``node`` on ``values`` through the numpy reference backend's rule."""
    return reference_backend().registry.lookup(node.op)(node.op, node)(*values)


def assert_same(actual, expected, rtol: float, atol: float = 0.0) -> None:
    """``actual`` has ``expected``'s dtype and shape and, within tolerance, its values."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def _hosted(rule):
    """A cupy rule whose kernels take and give host arrays (as `_DeviceArray` inside)."""

    def hosted_rule(op, node):
        kernel = rule(op, node)
        return lambda *args: _on_host(kernel(*_on_device(args)))

    return hosted_rule


def simulated_device(monkeypatch):
    """Make the cupy backend run whole functions on the host for the rest of a test, as
    if the host were its GPU: `host_rules`, `_DeviceArray` for device arrays, and the
    backend available. Returns the stand-in for the ``cupy`` module."""
    from croton_cupy import runtime

    host_rules(monkeypatch)
    monkeypatch.setattr(runtime, "unavailable_reason", lambda: None)
    monkeypatch.setattr(runtime, "is_device_array", lambda value: isinstance(value, _DeviceArray))
    return _HOST_CUPY


class HostBackend(Backend):
    """A backend for the host made of the reference backend's rules, except for the op
    classes ``own``, which get the cupy backend's rules (run as `host_rules` makes them).

    With it, whole conformance cases run through the cupy rules of those ops on a machine
    without a GPU; inner graphs (scan, ifelse) compile with it too.
    """

    name = "cupy-on-host"

    def __init__(self, own):
        from croton_cupy.backend import CupyBackend

        super().__init__()
        reference = reference_backend().registry
        for op_class in reference.op_classes:
            self.registry.register(op_class, reference.lookup_class(op_class))
        device = CupyBackend.shared().registry
        for op_class in own:
            self.registry.register(op_class, _hosted(device.lookup_class(op_class)), replace=True)

    def compile(self, fgraph, *, allow_fallback: bool = False):
        from croton_numpy.backend import NumpyExecutable

        nodes = fgraph.toposort()
        rules = resolve_rules(nodes, self, allow_fallback)
        kernels = [rule(node.op, node) for node, (rule, _) in zip(nodes, rules)]
        program = Program(fgraph.inputs, fgraph.outputs, nodes, kernels)
        return NumpyExecutable(program, self.name)


def host_backend(monkeypatch, own):
    """A `HostBackend` for ``own``, installed as the cupy backend's shared instance (inner
    graphs compile with it) for the rest of a test, with `host_rules` in force."""
    from croton_cupy.backend import CupyBackend

    host_rules(monkeypatch)
    host = HostBackend(own)
    monkeypatch.setattr(CupyBackend, "shared", classmethod(lambda cls: host))
    return host
