"""jax, imported on first use, with 64-bit types switched on.

Importing croton or this plugin must not import jax (discovery only registers), so the
rules refer to ``jnp`` and ``lax`` through proxies that import jax the first time an
attribute is read. Importing jax here also enables ``jax_enable_x64``: croton's dtypes
are numpy's, and without it jax would turn every float64 into a float32.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

_lock = threading.Lock()
_loaded: ModuleType | None = None


def load_jax() -> ModuleType:
    """The ``jax`` module, imported once with ``jax_enable_x64`` set.

    The setting is process-wide: jax code outside croton sees 64-bit types too.
    """
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                import jax

                jax.config.update("jax_enable_x64", True)
                _loaded = jax
    return _loaded


class LazyModule:
    """Stands for a jax module until an attribute is read, then imports it."""

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str):
        module = self._module
        if module is None:
            load_jax()
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazily imported {self._name}>"


jax = LazyModule("jax")
jnp = LazyModule("jax.numpy")
lax = LazyModule("jax.lax")
special = LazyModule("jax.scipy.special")
scipy_linalg = LazyModule("jax.scipy.linalg")


def is_traced(value) -> bool:
    """True for a value jax is tracing (its contents are unknown until the call runs)."""
    return isinstance(value, jax.core.Tracer)
