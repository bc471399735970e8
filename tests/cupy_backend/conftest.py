"""Tiers of the CuPy backend's tests: what runs anywhere, and what needs a GPU.

Tests that run kernels on a device take the ``gpu`` fixture: it gives the ``cupy`` module
where a device is present and skips the test, saying why, where there is none.
"""

from __future__ import annotations

import pytest

from croton_cupy import runtime


@pytest.fixture(autouse=True, scope="module")
def _cupy_installed(request):
    """Most of these tests make CuPy kernel objects: they skip, saying why, without CuPy.

    A module that tests the backend where CuPy is missing sets ``RUNS_WITHOUT_CUPY = True``.
    """
    if not getattr(request.module, "RUNS_WITHOUT_CUPY", False) and not runtime.cupy_installed():
        pytest.skip(f"needs CuPy (no GPU needed): {runtime.INSTALL_HINT}")


@pytest.fixture(params=["device", "host"])
def gpu(request, monkeypatch):
    """The ``cupy`` module on a machine with a CUDA device (skips the test elsewhere); and,
    in a second run of the test, on the host: `host_cuda.simulated_device`, whose kernels
    are compiled for the CPU (the test skips where there is no C++ compiler)."""
    if request.param == "host":
        import host_cuda

        return host_cuda.simulated_device(monkeypatch)
    reason = runtime.unavailable_reason()
    if reason is not None:
        pytest.skip(f"needs a GPU: the cupy backend is unavailable here ({reason})")
    return runtime.load_cupy()


@pytest.fixture
def nvrtc():
    """`croton_cupy.compile_tier` where NVRTC and the CUDA headers are installed; skips elsewhere."""
    from croton_cupy import compile_tier

    reason = compile_tier.unavailable_reason()
    if reason is not None:
        pytest.skip(f"the CUDA compile tier cannot run here: {reason}")
    return compile_tier


@pytest.fixture(scope="session")
def cupy_backend():
    """The registered cupy backend object (compiling needs no device; calling does)."""
    from croton.backend import _discover

    return _discover()["cupy"]
