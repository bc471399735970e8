"""The CuPy backend object and its executables."""

from __future__ import annotations

import importlib.metadata

import numpy as np

from croton.backend import Backend, resolve_rules
from croton.compile.program import Program, reraise_with_node
from croton_cupy import runtime


class CupyExecutable:
    """A compiled graph: a Python program launching one device kernel (or library call) per node.

    Compiling generates every kernel's source and makes the kernel objects, without
    touching a device (so the compile tier can check the source on a machine without a
    GPU). Constants move to the device on the first call, when the program is laid out.
    """

    def __init__(self, nodes, kernels, inputs, outputs, backend_name: str):
        self._nodes = nodes
        self._kernels = kernels
        self._inputs = inputs
        self._outputs = outputs
        self._backend_name = backend_name
        self._program: Program | None = None

    def _lay_out(self) -> Program:
        cupy = runtime.load_cupy()
        self._program = Program(
            self._inputs,
            self._outputs,
            self._nodes,
            self._kernels,
            constant_value=lambda c: cupy.asarray(c.data),
        )
        return self._program

    def __call__(self, *args):
        program = self._program or self._lay_out()
        try:
            return program.function(*args)
        except Exception as err:
            reraise_with_node(err, program.failed_node(err), self._backend_name)

    def source(self) -> str:
        program = self._program or self._lay_out()
        return program.source


def _installed_version() -> str:
    for distribution in ("cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x", "cupy"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


class CupyBackend(Backend):
    """Runs graphs on an NVIDIA GPU: generated CUDA kernels through CuPy, cuBLAS for products.

    Values are ``cupy.ndarray``; shared variables a function uses stay on the device
    between calls. Never chosen automatically: ask for it with ``backend="cupy"``,
    ``croton.config.backend = "cupy"`` or ``CROTON_BACKEND=cupy``.
    """

    name = "cupy"
    priority = 20
    device = "gpu"
    lowerings = "croton_cupy.lowering"

    def __init__(self):
        super().__init__()
        self.version = _installed_version()

    @classmethod
    def shared(cls) -> CupyBackend:
        """The registered instance (inner graphs of loops and conditions compile with it)."""
        from croton.backend import _discover

        return _discover()["cupy"]

    def unavailable_reason(self) -> str | None:
        return runtime.unavailable_reason()

    @property
    def uses_numpy_arrays(self) -> bool:
        return False

    def compile(self, fgraph, *, allow_fallback: bool = False) -> CupyExecutable:
        nodes = fgraph.toposort()
        rules = resolve_rules(nodes, self, allow_fallback)
        kernels = [rule(node.op, node) for node, (rule, _) in zip(nodes, rules)]
        return CupyExecutable(nodes, kernels, fgraph.inputs, fgraph.outputs, self.name)

    def to_backend(self, array):
        """A device array holding a copy of ``array`` (device arrays pass unchanged)."""
        if runtime.is_device_array(array):
            return array
        return runtime.load_cupy().asarray(np.asarray(array))

    def native_value(self, value, type):
        if not runtime.is_device_array(value):
            return None
        if value.dtype.name != type.dtype or value.ndim != type.ndim:
            return None
        if any(s is not None and s != n for s, n in zip(type.shape, value.shape)):
            return None
        return value

    def to_numpy(self, value) -> np.ndarray:
        """A numpy copy of ``value`` (copied from the device)."""
        if runtime.is_device_array(value):
            return value.get()
        return np.array(value, copy=True)
