"""Running the backend's raw CUDA kernels on the host, to check their values without a GPU.

The raw kernels of pooling, convolution and uniform draws are grid-stride loops in plain
C++ (their few CUDA intrinsics sit behind ``#ifdef __CUDA_ARCH__``, with host spellings),
so the same source compiled by the host's C++ compiler, with one block of one thread,
computes every element: a launch becomes a function call. `host_rules`
runs a lowering rule that way, with numpy standing in for cupy, so its host code (the
shapes, the copies, the matmuls) runs too. What this cannot see: races between threads,
and anything CUDA-specific (NVRTC checks that the source compiles for the device).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

from croton.backend import Backend, reference_backend, resolve_rules
from croton.compile.program import Program

# one block of one thread: the grid-stride loop visits every element in order
_PRELUDE = """
#define __global__
struct croton_dim3 { unsigned int x, y, z; };
static const croton_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static const croton_dim3 blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
"""

_directory = None
_libraries: dict[str, ctypes.CDLL] = {}


class HostKernel:
    """A raw kernel compiled for the host; called like a ``cupy.RawKernel``."""

    def __init__(self, code: str, name: str):
        global _directory
        if shutil.which("g++") is None:
            pytest.skip("running kernels on the host needs a C++ compiler (g++)")
        self.name, self.code = name, code
        digest = hashlib.sha1(code.encode()).hexdigest()[:16]
        if digest not in _libraries:
            _directory = _directory or tempfile.mkdtemp(prefix="croton-host-cuda-")
            source = os.path.join(_directory, f"{digest}.cpp")
            library = os.path.join(_directory, f"{digest}.so")
            with open(source, "w") as file:
                file.write(_PRELUDE + code)
            done = subprocess.run(
                ["g++", "-O1", "-shared", "-fPIC", "-o", library, source],
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, f"{done.stderr}\n{code}"
            _libraries[digest] = ctypes.CDLL(library)
        self._function = getattr(_libraries[digest], name)
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
        self._function(*converted)


def host_rules(monkeypatch):
    """Make the backend's rules run on the host (numpy for cupy, raw kernels as C++) for
    the rest of a test; a function ``run(backend, node, *values)``. Test modules wrap it
    in a fixture."""
    from croton_cupy import kernels, runtime

    def raw(code: str):
        name = kernels._name("raw", (code,))
        return HostKernel(kernels.named_source(code, name), name)

    monkeypatch.setattr(runtime, "load_cupy", lambda: np)
    monkeypatch.setattr(kernels, "raw", raw)

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
            self.registry.register(op_class, device.lookup_class(op_class), replace=True)

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
