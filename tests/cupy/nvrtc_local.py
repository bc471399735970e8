"""Compiling a raw kernel's source with NVRTC, without a device (for the cupy tests).

A small stand-in for the backend's compile tier: the source CuPy would hand to NVRTC for
a ``RawKernel`` is the source as written, so compiling it here for ``sm_80`` and ``sm_90``
checks what a GPU would build.
"""

from __future__ import annotations

import os

import pytest

ARCHS = ("sm_80", "sm_90")


def _include_dirs() -> list[str]:
    import cupy
    import nvidia.cuda_nvrtc
    import nvidia.cuda_runtime

    dirs = [os.path.join(p, "include") for p in nvidia.cuda_runtime.__path__]
    dirs += [os.path.join(p, "include") for p in nvidia.cuda_nvrtc.__path__]
    dirs.append(os.path.join(os.path.dirname(cupy.__file__), "_core", "include"))
    return dirs


def compile_raw(code: str, name: str, arch: str) -> bytes:
    """The cubin of ``code`` for ``arch``; raises with the compiler's log on an error."""
    nvrtc = pytest.importorskip("cupy_backends.cuda.libs.nvrtc")
    pytest.importorskip("nvidia.cuda_nvrtc")
    pytest.importorskip("nvidia.cuda_runtime")
    program = nvrtc.createProgram(code, f"{name}.cu", [], [])
    options = [f"--gpu-architecture={arch}", "-std=c++17"]
    options += [f"-I{d}" for d in _include_dirs()]
    try:
        nvrtc.compileProgram(program, options)
    except nvrtc.NVRTCError as err:
        log = nvrtc.getProgramLog(program)
        raise AssertionError(f"{name} does not compile for {arch}:\n{log}\n{code}") from err
    try:
        return nvrtc.getCUBIN(program)
    finally:
        nvrtc.destroyProgram(program)


def compile_generated(names, archs=ARCHS) -> int:
    """Compile every raw kernel among ``names`` (keys of `kernels.GENERATED`); their count."""
    from croton_cupy import kernels

    count = 0
    for name in names:
        source = kernels.GENERATED[name]
        if source.kind != "raw":
            continue
        code = source.parts[0].replace("KERNEL", name)
        for arch in archs:
            assert compile_raw(code, name, arch)
        count += 1
    return count
