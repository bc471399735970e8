"""The jax backend object."""

from __future__ import annotations

import importlib.metadata
import importlib.util

import numpy as np

from croton.backend import Backend
from croton_jax.lazy_jax import load_jax


def _missing_module() -> str | None:
    """The first of jax and jaxlib that cannot be found, without importing either."""
    for name in ("jax", "jaxlib"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):  # ValueError: blocked in sys.modules
            spec = None
        if spec is None:
            return name
    return None


def _installed_version() -> str:
    try:
        return importlib.metadata.version("jax")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class JaxBackend(Backend):
    """Compiles a whole graph into one ``jax.jit`` function; arrays live on jax's device.

    jax is imported, with ``jax_enable_x64`` switched on, when the backend is first used
    (compiling, or converting an array), not when croton discovers it.
    """

    name = "jax"
    # below the numpy backend: installing the plugin does not change croton's default
    priority = -10
    unsupported = {
        "elemwise.clip/complex128/*": "jax.numpy.clip does not order complex numbers",
        **{
            f"elemwise.{name}/complex128/special": "complex infinities and nan follow XLA's "
            "rules, not numpy's C99 ones"
            for name in ("sign", "exp2", "expm1", "log2", "pow", "minimum", "maximum")
        },
    }
    known_failures = {
        "Reduce.max/float64/special": "XLA's max reduction may keep 0.0 where numpy's "
        "sequential maximum ends on -0.0",
    }
    device = "cpu"
    lowerings = "croton_jax.lowering"

    def __init__(self):
        super().__init__()
        self.version = _installed_version()

    def unavailable_reason(self) -> str | None:
        missing = _missing_module()
        return None if missing is None else f"{missing} not installed"

    @property
    def uses_numpy_arrays(self) -> bool:
        return False

    def compile(self, fgraph, *, allow_fallback: bool = False):
        """One jitted function over ``fgraph`` (see `croton_jax.program`)."""
        from croton_jax.compiler import lower_graph
        from croton_jax.program import JaxExecutable

        load_jax()
        nodes = fgraph.toposort()
        plan = lower_graph(fgraph.inputs, fgraph.outputs, nodes, self, allow_fallback)
        return JaxExecutable(plan)

    def to_backend(self, array):
        """A jax array on the default device holding a copy of ``array``."""
        jax = load_jax()
        if isinstance(array, jax.Array):
            return array
        return jax.device_put(np.asarray(array))

    def copy(self, value):
        """``value`` itself: jax arrays are immutable, so sharing one is safe."""
        return value

    def to_numpy(self, value) -> np.ndarray:
        """A writable numpy copy of ``value``."""
        return np.array(value, copy=True)
