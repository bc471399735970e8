"""CuPy, imported only when the backend is used, and why it cannot run here.

Importing croton (or discovering this backend) never imports cupy: `load_cupy` does, the
first time a function is compiled or an array converted.
"""

from __future__ import annotations

import functools
import importlib.util

#: how to get CuPy, for error messages
INSTALL_HINT = 'install it with `pip install "croton[cupy]"`'


def cupy_installed() -> bool:
    """Whether CuPy can be imported, found without importing it.

    A directory called ``cupy`` on the path without CuPy in it (a namespace package,
    which has no origin) is not CuPy.
    """
    try:
        spec = importlib.util.find_spec("cupy")
    except (ImportError, ValueError):  # ValueError: blocked in sys.modules
        return False
    return spec is not None and spec.origin is not None


@functools.cache
def load_cupy():
    """The ``cupy`` module (imported on first use)."""
    import cupy

    return cupy


@functools.cache
def unavailable_reason() -> str | None:
    """Why kernels cannot run here ("cupy not installed", "no CUDA device"), or None."""
    if not cupy_installed():
        return f"cupy not installed ({INSTALL_HINT})"
    try:
        cupy = load_cupy()
    except Exception as err:  # a broken install: a missing CUDA library, say
        return f"cupy cannot be imported: {err}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # no driver: cudaErrorInsufficientDriver and friends
        return f"no CUDA device (the CUDA runtime says: {err})"
    if count == 0:
        return "no CUDA device"
    return None


def is_device_array(value) -> bool:
    """Whether ``value`` is a ``cupy.ndarray``, decided without importing cupy."""
    return type(value).__module__.startswith("cupy") and hasattr(value, "__cuda_array_interface__")
